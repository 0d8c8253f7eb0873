"""Sources, stocks, source items, reservations and the salable quantity (Magento's MSI).

A leaf app: it never imports ``sales``. The sales services call it with plain values (SKUs,
quantities, the order's id and number) inside their own transaction; it refers to orders only
through a reservation's metadata. Its refusals are ``inventory.errors`` exceptions, which the
caller maps to its own domain errors.
"""
