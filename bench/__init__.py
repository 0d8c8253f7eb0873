"""The benchmarks, run as modules from the repository root: ``python -m bench.seed_invoices`` etc. (see README.md)."""
