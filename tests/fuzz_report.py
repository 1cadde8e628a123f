"""Run the fuzz tests and print their counts: inputs tried, handled cleanly and crashed, per category.

python -m tests.fuzz_report                  # the CI inputs; exits 1 when a fuzz test fails
python -m tests.fuzz_report --keep-going     # count crashes instead of stopping at the first (old versions)
python -m tests.fuzz_report --scale 10 --explore   # ten times as many inputs, new ones each run
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
ARTIFACT = REPO_ROOT / "artifacts" / "fuzz-counts.json"
MAIN = ("tried", "handled cleanly", "crashed")


def table(counts: dict[str, dict[str, int]]) -> str:
    """The counts as a markdown table, then how each category's inputs were handled."""
    lines = ["| category | tried | handled cleanly | crashed |", "|---|---:|---:|---:|"]
    lines += [f"| {name} | {c['tried']} | {c['handled cleanly']} | {c['crashed']} |" for name, c in counts.items()]
    for name, category in counts.items():
        detail = ", ".join(f"{key} {value}" for key, value in category.items() if key not in MAIN)
        lines.append(f"\n{name}: {detail}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz_report", description=__doc__.splitlines()[0])
    parser.add_argument("--keep-going", action="store_true", help="count crashes instead of failing on the first")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the number of inputs tried")
    parser.add_argument("--explore", action="store_true", help="new random inputs (default: the fixed CI ones)")
    args = parser.parse_args(argv)
    env = dict(os.environ, FUZZ_SCALE=str(args.scale), PYTHONPATH=str(REPO_ROOT))
    if args.keep_going:
        env["FUZZ_KEEP_GOING"] = "1"
    if args.explore:
        env["HYPOTHESIS_PROFILE"] = "explore"
    ARTIFACT.unlink(missing_ok=True)
    command = [sys.executable, "-m", "pytest", "-m", "fuzz", "-q", "-p", "no:cacheprovider", "tests"]
    done = subprocess.run(command, cwd=REPO_ROOT, env=env, check=False)
    if not ARTIFACT.is_file():
        print("no counts were written (did the fuzz tests run?)", file=sys.stderr)
        return 1
    print(table(json.loads(ARTIFACT.read_text(encoding="utf-8"))))
    return 0 if done.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
