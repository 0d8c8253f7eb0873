"""The per-module score of the last ``make mutate`` (mutmut 3's results under mutants/).

    python tests/mutation/score.py [--min 95]

A mutant listed in tests/mutation/equivalent.md (a line ``- `name`: reason``) behaves as the code does and
counts neither way. Score = killed / (tested - equivalent); a timeout counts as killed (the tests noticed).
Exits 1 when a tested module scores under --min or a survivor is neither killed nor listed.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tomllib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EQUIVALENT_FILE = Path(__file__).with_name("equivalent.md")
# mutmut 3's exit codes (mutmut/stats.py)
KILLED = {1, 3, 24, -24, 36, 152, 255}
SURVIVED = {0}
NO_TESTS = {5, 33}
NOT_CHECKED = {None}


def modules() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
    return config["only_mutate"]


def equivalents() -> dict[str, str]:
    listed = re.findall(r"^- `([^`]+)`: (.+)$", EQUIVALENT_FILE.read_text(), flags=re.MULTILINE)
    return dict(listed)


def module_results(path: str) -> dict[str, int | None]:
    meta = ROOT / "mutants" / f"{path}.meta"
    if not meta.exists():
        return {}
    return json.loads(meta.read_text())["exit_code_by_key"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min", type=float, default=95.0, help="the lowest acceptable score per module, in %%")
    minimum = parser.parse_args().min
    listed = equivalents()
    failed = False
    print(f"{'module':<24} {'mutants':>7} {'killed':>6} {'equiv':>5} {'surv':>4} {'untested':>8} {'score':>7}")
    for path in modules():
        results = module_results(path)
        counts = Counter()
        unexplained = []
        for name, code in results.items():
            if code in NOT_CHECKED:
                counts["not checked"] += 1
            elif code in KILLED:
                counts["killed"] += 1
            elif name in listed:
                counts["equivalent"] += 1
            elif code in SURVIVED or code in NO_TESTS:
                counts["survived" if code in SURVIVED else "no tests"] += 1
                unexplained.append(name)
            else:  # suspicious, segfault, skipped: the tests did not give a verdict
                counts["other"] += 1
                unexplained.append(name)
        tested = len(results) - counts["not checked"]
        if not tested:
            print(f"{path:<24} {'not run':>7}")
            continue
        judged = tested - counts["equivalent"]
        score = 100 * counts["killed"] / judged if judged else 100.0
        untested = counts["no tests"] + counts["other"] + counts["not checked"]
        print(
            f"{path:<24} {len(results):>7} {counts['killed']:>6} {counts['equivalent']:>5} {counts['survived']:>4}"
            f" {untested:>8} {score:>6.1f}%"
        )
        for name in sorted(unexplained):
            print(f"    survivor not in {EQUIVALENT_FILE.name}: {name}  (mutmut show {name})")
        failed |= score < minimum or bool(unexplained)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
