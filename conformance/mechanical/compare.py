"""Compare the verdicts of two campaigns (``python -m conformance.mechanical.compare A B``).

Each argument is a campaign directory or its ``results.jsonl``. The mutants both judged are
compared by verdict and by the case that killed them; the exit code is 1 if any differs. Used to
show that a campaign on a dask cluster of separate scheduler and worker processes gives the same
verdicts as the local run.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def load(path: Path) -> dict[str, dict[str, Any]]:
    """Return the results of a campaign directory or results file, by mutant ID."""
    file = path / "results.jsonl" if path.is_dir() else path
    rows = [json.loads(line) for line in file.read_text(encoding="utf-8").splitlines() if line]
    return {row["id"]: row for row in rows}


def compare(first: dict[str, dict[str, Any]], second: dict[str, dict[str, Any]]) -> list[str]:
    """Return one line per mutant judged by both whose verdict or killing case differs."""
    differences = []
    for mutant_id in sorted(first.keys() & second.keys()):
        a, b = first[mutant_id], second[mutant_id]
        if (a["verdict"], a["killed_by"]) != (b["verdict"], b["killed_by"]):
            differences.append(
                f"{mutant_id}: {a['verdict']} ({a['killed_by']}) "
                f"vs {b['verdict']} ({b['killed_by']})"
            )
    return differences


def main() -> None:
    """Print the comparison of the two campaigns named on the command line."""
    first, second = load(Path(sys.argv[1])), load(Path(sys.argv[2]))
    both = sorted(first.keys() & second.keys())
    differences = compare(first, second)
    workers = sorted({second[i]["worker"].split(":")[0] + ":pid" for i in both})
    print(f"{len(both)} mutants judged by both; {len(differences)} differ")
    for mutant_id in both:
        row = second[mutant_id]
        print(f"  {row['verdict']:<11} {row['killed_by'] or '-':<70} {mutant_id}")
    for line in differences:
        print(f"DIFFERS {line}")
    print(f"second campaign's workers: {', '.join(workers)}")
    sys.exit(1 if differences else 0)


if __name__ == "__main__":
    main()
