"""``bench/results.py``: each benchmark owns one section of RESULTS.md and leaves the others alone."""

from __future__ import annotations

import pytest

from bench import results as bench_results


@pytest.fixture
def results(tmp_path, monkeypatch):
    monkeypatch.setattr(bench_results, "RESULTS", tmp_path / "RESULTS.md")
    monkeypatch.setattr(bench_results, "REPO", tmp_path)
    return bench_results


def test_a_benchmark_replaces_its_own_section_in_place_and_keeps_the_others(results):
    results.RESULTS.write_text(
        "# Benchmark results\n\n## A (a.py)\n\nold A\n\n## B (b.py)\n\nold B\n\n## History\n\nkept\n"
    )

    results.write_section("B (b.py)", "new B\n\n| x |\n|---|\n| 1 |")

    assert results.RESULTS.read_text() == (
        "# Benchmark results\n\n## A (a.py)\n\nold A\n\n## B (b.py)\n\nnew B\n\n| x |\n|---|\n| 1 |\n\n"
        "## History\n\nkept\n"
    )


def test_a_section_not_there_yet_is_appended_and_the_last_one_is_replaced_to_the_end(results):
    results.RESULTS.write_text("# Benchmark results\n\n## A (a.py)\n\nold A\n")

    results.write_section("C (c.py)", "first C")
    results.write_section("C (c.py)", "second C")

    assert results.RESULTS.read_text() == "# Benchmark results\n\n## A (a.py)\n\nold A\n\n## C (c.py)\n\nsecond C\n"


def test_a_title_that_only_prefixes_another_sections_title_is_not_mistaken_for_it(results):
    results.RESULTS.write_text("# Benchmark results\n\n## Worker memory: web (history)\n\nkept\n")

    results.write_section("Worker memory: web", "new")

    assert results.RESULTS.read_text() == (
        "# Benchmark results\n\n## Worker memory: web (history)\n\nkept\n\n## Worker memory: web\n\nnew\n"
    )
