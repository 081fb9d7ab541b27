"""Run the whole platform on this machine: Redis, a Celery worker (with the sweeper) and the ASGI server.

    python platform/shuohua_run.py        (what `make run` calls, once the virtualenv is ready)

Embedded defaults: SQLite and media under var/, a SECRET_KEY generated once into var/secret_key, an
embedded Redis unless REDIS_URL is set. Ctrl-C stops every process this started.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import embedded_redis

# Sockets only push: a client frame is closed on arrival (gallery/consumers.py); cap what Daphne buffers.
DAPHNE_WEBSOCKET_CAPS = ["--websocket-max-frame-size", "4096", "--websocket-max-message-size", "4096"]

ROOT = Path(__file__).resolve().parent.parent
# SHUOHUA_VAR_DIR moves everything this writes (the suite runs make run against a scratch folder).
VAR = Path(os.environ.get("SHUOHUA_VAR_DIR") or ROOT / "var")
BIN = Path(sys.executable).parent


def secret_key() -> str:
    path = VAR / "secret_key"
    if not path.exists():
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    VAR.mkdir(parents=True, exist_ok=True)
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "8000"))
    environment = dict(os.environ)
    environment.setdefault("SECRET_KEY", secret_key())
    environment.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    environment["PYTHONUNBUFFERED"] = "1"
    environment["SHUOHUA_VAR_DIR"] = str(VAR)
    children: list[subprocess.Popen] = []

    def stop_all(*_: object) -> None:
        for child in reversed(children):
            if child.poll() is None:
                child.terminate()
        deadline = time.monotonic() + 15
        for child in reversed(children):
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()

    try:
        if not environment.get("REDIS_URL"):
            redis_process, environment["REDIS_URL"] = embedded_redis.start(workdir=VAR / "redis", preferred_port=6380)
            children.append(redis_process)
            print(f"shuohua: embedded Redis at {environment['REDIS_URL']}", flush=True)
        manage = [str(BIN / "python"), str(ROOT / "manage.py")]
        subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=environment, cwd=ROOT, check=True)
        subprocess.run([*manage, "load_demo"], env=environment, cwd=ROOT, check=True)
        children.append(
            subprocess.Popen(
                [
                    str(BIN / "celery"),
                    "-A",
                    "config",
                    "worker",
                    "-B",
                    "-Q",
                    "default,speech,render",
                    "--concurrency",
                    os.environ.get("WORKER_CONCURRENCY", "2"),
                    "--loglevel",
                    "INFO",
                    "-s",
                    str(VAR / "celerybeat-schedule"),
                ],
                env=environment,
                cwd=ROOT,
            )
        )
        children.append(
            subprocess.Popen(
                [str(BIN / "daphne"), "-b", host, "-p", str(port), *DAPHNE_WEBSOCKET_CAPS, "config.asgi:application"],
                env=environment,
                cwd=ROOT,
            )
        )
        base = f"http://{host}:{port}"
        print(
            f"\nshuohua is running:\n  gallery      {base}/events/spring-reading/\n  record       {base}/passages/\n"
            f"  moderation   {base}/moderation/\n  wall         {base}/events/spring-reading/wall/\n"
            f"  API docs     {base}/api/docs/\n  admin        {base}/admin/\nPress Ctrl-C to stop.\n",
            flush=True,
        )
        # Explicit for both: a shell script that starts us in the background leaves SIGINT ignored.
        for stop_signal in (signal.SIGINT, signal.SIGTERM):
            signal.signal(stop_signal, _interrupt)
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        failed = next(child for child in children if child.poll() is not None)
        print(f"shuohua: {failed.args[0]} stopped (exit {failed.returncode}); stopping the rest", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nshuohua: stopping", flush=True)
        return 0
    finally:
        stop_all()


if __name__ == "__main__":
    sys.exit(main())
