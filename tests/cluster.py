"""Real platform processes for tests and benchmarks: Celery workers and beat as separate OS processes.

Each process gets the environment of a separate "host": the same database, broker and storage, its own
scratch folder. Workers start in their own session so that a test can kill a whole worker (the main
process and its pool children) the way a machine dies: os.killpg(SIGKILL).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def process_environment(*, database_url: str, media_root: Path, extra: dict[str, str] | None = None) -> dict:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST", "DJANGO_")) and key not in ("DATABASE_URL",)
    }
    environment.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "SECRET_KEY": os.environ.get("SECRET_KEY", "test-suite-only-key"),
            "DATABASE_URL": database_url,
            "MEDIA_ROOT": str(media_root),
            "CHANNELS_PREFIX": "shuohua-test",
            "WHISPER_MODEL_ENGLISH": "tiny.en",
            "PYTHONUNBUFFERED": "1",
            "LOG_LEVEL": "WARNING",
        }
    )
    environment.update(extra or {})
    return environment


def database_url_of(settings_dict: dict) -> str:
    """DATABASE_URL for the database the test process is connected to (the test database)."""
    engine, name = settings_dict["ENGINE"], settings_dict["NAME"]
    if engine.endswith("sqlite3"):
        return f"sqlite:///{Path(name).resolve()}"
    user, password = settings_dict.get("USER") or "", settings_dict.get("PASSWORD") or ""
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host, port = settings_dict.get("HOST") or "127.0.0.1", settings_dict.get("PORT") or "5432"
    return f"postgres://{credentials}{host}:{port}/{name}"


class PlatformProcess:
    def __init__(self, name: str, command: list[str], environment: dict, log_folder: Path) -> None:
        self.name = name
        log_folder.mkdir(parents=True, exist_ok=True)
        self.log_path = log_folder / f"{name}.log"
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            command, cwd=REPO, env=environment, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill_hard(self) -> None:
        """SIGKILL to the process and its pool children: a machine lost mid-job."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def terminate(self) -> None:
        """SIGTERM to the main process only, as a service manager stops a worker."""
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGTERM)

    def stop(self, grace: float = 20) -> None:
        if self.alive():
            self.terminate()
            try:
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.kill_hard()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)  # pool children left behind, if any
        self._log.close()

    def log_tail(self, characters: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-characters:]
        except OSError:
            return ""


def celery_worker(
    name: str, queues: str, environment: dict, log_folder: Path, *, pool: str = "prefork", concurrency: int = 1
) -> PlatformProcess:
    command = [
        sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queues, "-P", pool, "-c", str(concurrency),
        "-n", f"{name}@%h", "--without-gossip", "--without-mingle", "-l", "WARNING",
    ]  # fmt: skip
    return PlatformProcess(name, command, environment, log_folder)


def celery_beat(environment: dict, folder: Path) -> PlatformProcess:
    command = [
        sys.executable, "-m", "celery", "-A", "config", "beat", "-l", "WARNING",
        "-s", str(folder / "beat-schedule"), "--pidfile", "",
    ]  # fmt: skip
    return PlatformProcess("beat", command, environment, folder)


class EventListener:
    """Every message sent to a group, received in a thread of its own from the real channel layer."""

    def __init__(self, group: str) -> None:
        self.group = group
        self.messages: list[dict] = []
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._listen()), daemon=True)
        self._thread.start()
        if not self._ready.wait(15):
            raise RuntimeError("the channel layer did not answer")

    async def _listen(self) -> None:
        from channels.layers import get_channel_layer

        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.group_add(self.group, channel)
        self._ready.set()
        try:
            while not self._stop.is_set():
                with contextlib.suppress(asyncio.TimeoutError):
                    self.messages.append(await asyncio.wait_for(layer.receive(channel), timeout=0.5))
        finally:
            await layer.group_discard(self.group, channel)

    def published_ids(self) -> list[str]:
        return [m["animation"]["id"] for m in self.messages if m.get("type") == "animation.published"]

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


def wait_until(condition, *, timeout: float, interval: float = 0.2, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
