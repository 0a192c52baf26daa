"""Write a bench run's JSON into docs/performance.md, between its ``latest-run`` markers.

The section says when and where the run was made (date, commit, load average, command) and
holds the table exactly as the run printed it, so the docs never show a figure that no run
produced.

Usage: python benchmarks/report.py bench.json [docs/performance.md]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from harness import Row
from run import table

START, END = "<!-- latest-run:start -->", "<!-- latest-run:end -->"
ROOT = Path(__file__).resolve().parent.parent


def section(report: dict[str, Any]) -> str:
    """The markdown of one run: where it came from, then its table."""
    rows = [Row(**{k: v for k, v in r.items() if k != "ratio"}) for r in report["rows"]]
    lines = [
        START,
        f"Run on {report['date']} at commit `{report.get('commit', '?')}`, "
        f"{report['cpus']} CPUs, Python {report['python']}, "
        f"load average {report.get('loadavg', '?')} when it started:",
        "",
        "```bash",
        # Paths as they are typed in the checkout, not where this one happened to be.
        str(report.get("command", "realtime-nb bench --size full")).replace(f"{ROOT}/", ""),
        "```",
        "",
        table(rows),
        END,
    ]
    return "\n".join(lines)


def main(json_path: Path, doc: Path) -> int:
    report = json.loads(json_path.read_text())
    text = doc.read_text()
    if START not in text or END not in text:
        print(f"{doc} has no {START} ... {END} section", file=sys.stderr)
        return 1
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    doc.write_text(head + section(report) + tail)
    return 0


if __name__ == "__main__":
    here = Path(__file__).resolve().parent
    doc = Path(sys.argv[2]) if len(sys.argv) > 2 else here.parent / "docs" / "performance.md"
    sys.exit(main(Path(sys.argv[1]), doc))
