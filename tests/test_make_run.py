"""`make run` itself: it starts the platform with embedded defaults, serves the gallery, and stops on Ctrl-C."""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DEMO_LOGIN_LINE = re.compile(r"^\s+(resident|moderator|curator)\s+password (\S+)", re.MULTILINE)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def snapshot(folder: Path) -> dict[str, float]:
    """Every file under a folder with its modification time (empty when the folder does not exist)."""
    if not folder.exists():
        return {}
    return {str(path.relative_to(folder)): path.stat().st_mtime for path in folder.rglob("*") if path.is_file()}


def start_make_run(port: int, var_dir: Path) -> subprocess.Popen:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "SECRET_KEY"}
        and not key.startswith("DEMO_")
    }
    environment["PORT"] = str(port)
    environment["WORKER_CONCURRENCY"] = "1"
    environment["SHUOHUA_VAR_DIR"] = str(var_dir)
    return subprocess.Popen(
        ["make", "run"],
        cwd=REPO,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        text=True,
    )


def wait_for_page(process: subprocess.Popen, url: str) -> str | None:
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (http on loopback)
                return response.read().decode()
        except OSError:
            time.sleep(1)
    return None


def stop_with_ctrl_c(process: subprocess.Popen) -> str:
    # Ctrl-C in a terminal signals the whole foreground group: do the same.
    os.killpg(process.pid, signal.SIGINT)
    try:
        output, _ = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        pytest.fail(f"make run did not stop within 60 s of Ctrl-C:\n{output[-3000:]}")
    return output


def log_in(base: str, username: str, password: str) -> bool:
    """Log in through the real login form (CSRF cookie and token); True when the session is authenticated."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(f"{base}/accounts/login/", timeout=10) as response:
        form = response.read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    body = urllib.parse.urlencode({"username": username, "password": password, "csrfmiddlewaretoken": token}).encode()
    request = urllib.request.Request(  # noqa: S310 (http on loopback)
        f"{base}/accounts/login/", data=body, headers={"Referer": f"{base}/accounts/login/"}
    )
    with opener.open(request, timeout=10):
        pass
    return any(cookie.name == "sessionid" for cookie in jar)


@pytest.mark.slow
def test_make_run_serves_the_gallery_and_stops_cleanly_on_ctrl_c(tmp_path):
    port = 8000 if not port_open(8000) else free_port()
    var_dir = tmp_path / "var"
    developer_var = snapshot(REPO / "var")
    process = start_make_run(port, var_dir)
    output = ""
    try:
        page = wait_for_page(process, f"http://127.0.0.1:{port}/events/spring-reading/")
        assert page is not None, "make run never answered on its port"
        assert "Spring Reading Festival" in page
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/js/gallery.js", timeout=5) as response:
            assert response.status == 200
    finally:
        output = stop_with_ctrl_c(process)
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
    assert (var_dir / "db.sqlite3").exists(), "make run did not write into SHUOHUA_VAR_DIR"
    assert snapshot(REPO / "var") == developer_var, "the suite touched the developer's own var/"
    first_logins = dict(DEMO_LOGIN_LINE.findall(output))
    assert set(first_logins) == {"resident", "moderator", "curator"}, output[-3000:]
    logins_file = var_dir / "demo-logins.txt"
    assert logins_file.stat().st_mode & 0o077 == 0, "demo passwords must be readable by their owner only"

    # A second start prints the same logins, and they still work.
    port = free_port()
    process = start_make_run(port, var_dir)
    try:
        assert wait_for_page(process, f"http://127.0.0.1:{port}/events/spring-reading/") is not None
        assert log_in(f"http://127.0.0.1:{port}", "moderator", first_logins["moderator"])
        assert not log_in(f"http://127.0.0.1:{port}", "moderator", first_logins["moderator"] + "x")
    finally:
        output = stop_with_ctrl_c(process)
    assert dict(DEMO_LOGIN_LINE.findall(output)) == first_logins


@pytest.mark.slow
def test_manage_py_works_in_a_checkout_where_make_run_has_run(tmp_path):
    """The generated secret is read from the var folder: no variables exported by hand."""
    var_dir = tmp_path / "var"
    var_dir.mkdir()
    (var_dir / "secret_key").write_text("k" * 50)
    environment = {
        key: value for key, value in os.environ.items() if key not in {"SECRET_KEY", "DEBUG", "DJANGO_SETTINGS_MODULE"}
    }
    environment["SHUOHUA_VAR_DIR"] = str(var_dir)
    environment.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert (var_dir / "db.sqlite3").exists()
    (var_dir / "secret_key").unlink()
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr
