"""`make run` itself: it starts the platform with embedded defaults, serves the gallery, and stops on Ctrl-C."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.slow
def test_make_run_serves_the_gallery_and_stops_cleanly_on_ctrl_c():
    port = 8000 if not port_open(8000) else free_port()
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "SECRET_KEY"}
    }
    environment["PORT"] = str(port)
    environment["WORKER_CONCURRENCY"] = "1"
    process = subprocess.Popen(
        ["make", "run"],
        cwd=REPO,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        text=True,
    )
    output = ""
    try:
        deadline = time.monotonic() + 240
        page = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/events/spring-reading/", timeout=5) as response:
                    page = response.read().decode()
                    break
            except OSError:
                time.sleep(1)
        assert page is not None, "make run never answered on its port"
        assert "Spring Reading Festival" in page
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/js/gallery.js", timeout=5) as response:
            assert response.status == 200
    finally:
        # Ctrl-C in a terminal signals the whole foreground group: do the same.
        os.killpg(process.pid, signal.SIGINT)
        try:
            output, _ = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            output, _ = process.communicate()
            pytest.fail(f"make run did not stop within 60 s of Ctrl-C:\n{output[-3000:]}")
    assert "shuohua is running" in output
    assert f"http://127.0.0.1:{port}/events/spring-reading/" in output
    assert not port_open(port), "the ASGI server still listens after Ctrl-C"
    deadline = time.monotonic() + 10
    while True:
        leftovers = subprocess.run(
            ["ps", "-o", "pid=,args=", "-g", str(process.pid)], capture_output=True, text=True
        ).stdout.strip()
        if not leftovers or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert leftovers == "", f"processes left running after Ctrl-C:\n{leftovers}"
