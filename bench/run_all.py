"""Run every benchmark in turn and print their figures (what `make bench` runs).

    python platform/with_redis.py .venv/bin/python bench/run_all.py [NAME ...]

NAME picks benchmarks by name (spine, align, render, animate, moderation, live, capture, lipsync, trust, ...);
none means all.
Each runs in its own process, so one's warm caches and memory never flatter another's figures.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
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
    # Lighthouse (mobile) and axe-core on home, event, film and record pages in both languages.
    "lighthouse": "bench_lighthouse.py",
    # 10,000 malformed uploads, 1,000 malformed paintings, schemathesis as every role (bench_fuzz.py).
    "fuzz": "bench_fuzz.py",
    # Logins before lockout with spoofed addresses, sockets per address, 5xx over fuzzed filtered routes.
    "trust": "bench_trust.py",
}


def main(names: list[str]) -> int:
    unknown = set(names) - set(BENCHMARKS)
    if unknown:
        print(f"unknown benchmark(s): {', '.join(sorted(unknown))}; choose from {', '.join(BENCHMARKS)}")
        return 2
    failed = []
    for name in names or list(BENCHMARKS):
        print(f"\n===== {name} ({BENCHMARKS[name]}) =====", flush=True)
        started = time.monotonic()
        code = subprocess.call([sys.executable, str(BENCH / BENCHMARKS[name])], cwd=BENCH.parent)
        print(f"===== {name}: exit {code}, {time.monotonic() - started:.0f} s =====", flush=True)
        if code != 0:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
