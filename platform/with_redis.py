"""Run a command with REDIS_URL pointing at a Redis: the one given, or an embedded one started here.

    python platform/with_redis.py COMMAND [ARGS...]

The embedded server lives exactly as long as the command; the command's exit code is returned.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import embedded_redis

ROOT = Path(__file__).resolve().parent.parent


def main(command: list[str]) -> int:
    if not command:
        print(__doc__, file=sys.stderr)
        return 2
    environment = dict(os.environ)
    server = None
    if not environment.get("REDIS_URL"):
        server, environment["REDIS_URL"] = embedded_redis.start(workdir=Path(tempfile.mkdtemp(prefix="shuohua-redis-")))
        print(f"with_redis: started an embedded Redis at {environment['REDIS_URL']}", flush=True)
    try:
        return subprocess.call(command, env=environment)
    except KeyboardInterrupt:
        return 130
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
