"""Run the whole platform on this machine: Redis, a Celery worker (with the sweeper) and the ASGI server.

    python platform/shuohua_run.py        (what `make run` calls, once the virtualenv is ready)

Embedded defaults: SQLite and media under var/, a SECRET_KEY generated once into var/secret_key, an
embedded Redis unless REDIS_URL is set. Ctrl-C stops every process this started.
"""

from __future__ import annotations

import contextlib
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


STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def _die_with_parent() -> None:
    """In the child before exec: a SIGTERM when this runner dies, even by SIGKILL (Linux prctl); and the
    stop signals back to normal (the runner holds them while it starts a child, see Children.start)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: the process groups below still stop everything on Ctrl-C
    for stop_signal in STOP_SIGNALS:
        signal.signal(stop_signal, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


class Children:
    """The processes this runner started, each the leader of its own process group.

    A terminal's Ctrl-C reaches only this runner (and make): the children hear nothing until it stops
    them, in the reverse of their start order, so the worker and beat still find Redis while they shut
    down. Each group is then killed whole, which takes grandchildren too (Celery's pool, an ffmpeg).
    """

    def __init__(self) -> None:
        self.started: list[subprocess.Popen] = []

    def start(self, command: list[str], **options: object) -> subprocess.Popen:
        # A Ctrl-C between creating the child and noting it down would leave it running for good (it is
        # in a session of its own): the stop signals wait until it is noted, then interrupt as usual.
        held = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        try:
            child = subprocess.Popen(command, start_new_session=True, preexec_fn=_die_with_parent, **options)
            self.started.append(child)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
        return child

    def adopt(self, child: subprocess.Popen) -> None:
        self.started.append(child)

    @staticmethod
    def _signal_group(child: subprocess.Popen, stop_signal: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, stop_signal)

    def stop_all(self, grace_seconds: float = 8.0) -> None:
        for child in reversed(self.started):
            if child.poll() is None:
                self._signal_group(child, signal.SIGTERM)
                try:
                    child.wait(timeout=grace_seconds)
                except subprocess.TimeoutExpired:
                    name = Path(child.args[0]).name
                    print(f"shuohua: {name} did not stop in {grace_seconds:.0f} s: killed", flush=True)
            # The leader may be gone while its pool processes or an ffmpeg still run: the group goes whole.
            self._signal_group(child, signal.SIGKILL)
            child.wait()


def main() -> int:
    # First thing: a Ctrl-C or a SIGTERM during start-up (migrate, the demo) stops what started so far.
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, _interrupt)
    VAR.mkdir(parents=True, exist_ok=True)
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "8000"))
    environment = dict(os.environ)
    environment.setdefault("SECRET_KEY", secret_key())
    environment.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # This machine, plain HTTP on 127.0.0.1: no HTTPS redirect (password-reset mail goes to the console).
    environment.setdefault("HTTPS", "0")
    environment["PYTHONUNBUFFERED"] = "1"
    environment["SHUOHUA_VAR_DIR"] = str(VAR)
    children = Children()

    def run_to_end(command: list[str]) -> None:
        # Its own group too: a Ctrl-C here interrupts this runner, which stops the step and then the rest.
        step = children.start(command, env=environment, cwd=ROOT)
        if step.wait() != 0:
            raise subprocess.CalledProcessError(step.returncode, command)
        children.started.remove(step)

    try:
        if not environment.get("REDIS_URL"):
            redis_process, environment["REDIS_URL"] = embedded_redis.start(
                workdir=VAR / "redis", preferred_port=6380, new_session=True
            )
            children.adopt(redis_process)
            print(f"shuohua: embedded Redis at {environment['REDIS_URL']}", flush=True)
        manage = [str(BIN / "python"), str(ROOT / "manage.py")]
        run_to_end([*manage, "migrate", "--noinput", "-v", "0"])
        run_to_end([*manage, "load_demo"])
        children.start(
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
        children.start(
            [str(BIN / "daphne"), "-b", host, "-p", str(port), *DAPHNE_WEBSOCKET_CAPS, "config.asgi:application"],
            env=environment,
            cwd=ROOT,
        )
        base = f"http://{host}:{port}"
        print(
            f"\nshuohua is running:\n  gallery      {base}/events/spring-reading/\n  record       {base}/passages/\n"
            f"  moderation   {base}/moderation/\n  wall         {base}/events/spring-reading/wall/\n"
            f"  API docs     {base}/api/docs/\n  admin        {base}/admin/\nPress Ctrl-C to stop.\n",
            flush=True,
        )
        while all(child.poll() is None for child in children.started):
            time.sleep(0.5)
        failed = next(child for child in children.started if child.poll() is not None)
        print(f"shuohua: {failed.args[0]} stopped (exit {failed.returncode}); stopping the rest", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nshuohua: stopping", flush=True)
        return 0
    except subprocess.CalledProcessError as error:
        print(f"shuohua: {' '.join(map(str, error.cmd[1:3]))} failed (exit {error.returncode})", file=sys.stderr)
        return 1
    finally:
        # A second Ctrl-C while stopping must not leave the rest running.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        children.stop_all()
        print("shuohua: stopped", flush=True)


if __name__ == "__main__":
    sys.exit(main())
