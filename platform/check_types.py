"""mypy on the engine and the services and selectors of every app, against a baseline that only shrinks.

    .venv/bin/python platform/check_types.py            # make lint runs this
    .venv/bin/python platform/check_types.py --update   # after fixing errors: write the smaller baseline

mypy-baseline.txt holds the errors that were there when the check began, without line numbers (they move
with every edit), one per line. A new error fails; one that disappeared is reported, and --update takes
it off the list. --update refuses to add errors (only the very first run, with no baseline, writes them all).
"""

from __future__ import annotations

import collections
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BASELINE = REPO / "mypy-baseline.txt"
CHECKED = ["animation/engine", "core"]
CHECKED_FILES = ("services.py", "selectors.py")
ERROR = re.compile(r"^(?P<path>[^:]+):\d+(?::\d+)?: error: (?P<message>.*)$")


def targets() -> list[str]:
    files = [
        str(path.relative_to(REPO))
        for app in ("accounts", "catalogue", "contributions", "animation", "gallery")
        for name in CHECKED_FILES
        for path in [REPO / app / name]
        if path.exists()
    ]
    return [*CHECKED, *files]


def current_errors() -> collections.Counter[str]:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-error-summary", *targets()],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode not in (0, 1):
        sys.exit(f"mypy did not run:\n{result.stdout}{result.stderr}")
    errors: collections.Counter[str] = collections.Counter()
    for line in result.stdout.splitlines():
        match = ERROR.match(line)
        if match:
            errors[f"{match['path']}: {match['message']}"] += 1
    return errors


def baseline() -> collections.Counter[str]:
    if not BASELINE.exists():
        return collections.Counter()
    lines = [line for line in BASELINE.read_text().splitlines() if line and not line.startswith("#")]
    return collections.Counter(lines)


def main(argv: list[str]) -> int:
    errors, allowed = current_errors(), baseline()
    new = errors - allowed
    fixed = allowed - errors
    if new and not (argv == ["--update"] and not BASELINE.exists()):  # the first baseline takes them all
        print(f"{sum(new.values())} new mypy error(s) (not in {BASELINE.name}):")
        for line in sorted(new.elements()):
            print(f"  {line}")
        return 1
    if "--update" in argv:
        header = "# mypy errors allowed to remain (platform/check_types.py); this list may only shrink.\n"
        BASELINE.write_text(header + "".join(f"{line}\n" for line in sorted(errors.elements())))
        print(f"{BASELINE.name}: {sum(errors.values())} error(s) ({sum(fixed.values())} fixed since)")
        return 0
    print(f"mypy: {sum(errors.values())} known error(s), none new", end="")
    print(f"; {sum(fixed.values())} fixed: run with --update to shrink the baseline" if fixed else "")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
