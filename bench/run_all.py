"""Run every benchmark in turn and print their figures (what `make bench` runs).

    python platform/with_redis.py .venv/bin/python bench/run_all.py [NAME ...]

    python platform/with_redis.py .venv/bin/python bench/run_all.py --record [NAME ...]

NAME picks benchmarks by name (spine, align, render, animate, moderation, live, capture, lipsync, trust, ...);
none means all.
Each runs in its own process, so one's warm caches and memory never flatter another's figures.

The regression guard: every headline figure a benchmark reports (testkit/figures.py) is printed at the
end beside its floor and the last recorded value (bench/figures-last.json, committed with the code, with
the commit and load it was measured at). A figure worse than the last recorded one by more than its
tolerance is named and makes the run fail (BENCH_ALLOW_REGRESSION=1 only prints); one on the wrong side
of its issue's floor is named too (a target still open, not a failure of the run). `--record` writes
this run's figures into bench/figures-last.json: do it on a quiet machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))

from testkit.figures import FIGURES_FILE_VARIABLE, compare, read_figures, recorded_with  # noqa: E402

LAST = BENCH / "figures-last.json"
BENCHMARKS = {
    "spine": "bench_spine.py",
    "align": "bench_align.py",
    "render": "bench_render.py",
    "animate": "bench_animate.py",
    "moderation": "bench_moderation.py",
    "live": "bench_live.py",
    "faces_chinese": "bench_faces_chinese.py",
    "capture": "bench_capture.py",
    "lipsync": "bench_lipsync.py",
    # SIGKILL/SIGTERM render workers, Redis and PostgreSQL restarts, a full media disk (bench_faults.py).
    "faults": "bench_faults.py",
    # Redis stopped during 50 uploads and approvals, then started again: readings kept, transcribed, films queued.
    "faults_uploads": "bench_faults_uploads.py",
    # Lighthouse (mobile) and axe-core on every page a visitor or resident sees, in both languages.
    "lighthouse": "bench_lighthouse.py",
    # 10,000 malformed uploads, 1,000 malformed paintings, schemathesis as every role (bench_fuzz.py).
    "fuzz": "bench_fuzz.py",
    # Logins before lockout with spoofed addresses, sockets per address, 5xx over fuzzed filtered routes.
    "trust": "bench_trust.py",
}


def last_recorded() -> dict:
    return json.loads(LAST.read_text(encoding="utf-8")) if LAST.exists() else {"figures": {}}


def record(figures: list, last: dict) -> None:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True)
    kept = recorded_with(figures, last, commit=commit.stdout.strip() or "unknown")
    LAST.write_text(json.dumps(kept, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"recorded {len(figures)} figures in {LAST.relative_to(REPO)}")


def main(arguments: list[str]) -> int:
    recording = "--record" in arguments
    names = [name for name in arguments if name != "--record"]
    unknown = set(names) - set(BENCHMARKS)
    if unknown:
        print(f"unknown benchmark(s): {', '.join(sorted(unknown))}; choose from {', '.join(BENCHMARKS)}")
        return 2
    failed = []
    with tempfile.TemporaryDirectory(prefix="shuohua-figures-") as scratch:
        figures_file = Path(scratch) / "figures.jsonl"
        environment = {**os.environ, FIGURES_FILE_VARIABLE: str(figures_file)}
        for name in names or list(BENCHMARKS):
            print(f"\n===== {name} ({BENCHMARKS[name]}) =====", flush=True)
            started = time.monotonic()
            code = subprocess.call([sys.executable, str(BENCH / BENCHMARKS[name])], cwd=REPO, env=environment)
            print(f"===== {name}: exit {code}, {time.monotonic() - started:.0f} s =====", flush=True)
            if code != 0:
                failed.append(name)
        figures = read_figures(figures_file)
    last = last_recorded()
    regressed, below, lines = compare(figures, last)
    print("\n".join(lines))
    if recording:
        record(figures, last)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    if below:
        print(f"\nstill below their issue's floor: {', '.join(below)}")
    if regressed:
        print(f"\nREGRESSED against the last recorded figures: {', '.join(regressed)}")
        if os.environ.get("BENCH_ALLOW_REGRESSION") == "1":
            regressed = []
    return 1 if failed or regressed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
