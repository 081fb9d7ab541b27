"""`make run` itself: it starts the platform with embedded defaults, serves the gallery, and stops on Ctrl-C."""

from __future__ import annotations

import contextlib
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
import uuid
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


# Every process `make run` starts inherits this variable: a survivor is found by it whatever its group.
RUN_MARK = "SHUOHUA_TEST_RUN_MARK"


def processes_marked(mark: str) -> list[str]:
    """'pid command' of every live process whose environment carries RUN_MARK=mark (zombies excluded)."""
    needle = f"{RUN_MARK}={mark}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            if (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                continue
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # gone meanwhile, or not ours to read
        found.append(f"{entry.name} {command.strip()}")
    return found


def descendants(root: int) -> set[int]:
    """Every live process below ROOT, from the parent links (redis-server overwrites its environment
    with its process title, so the mark alone would not find it)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError):
                continue
    found, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> str | None:
    """'pid command' while PID runs (zombies excluded), else None."""
    try:
        if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
            return None
        return f"{pid} " + Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return None


def survivors_after(mark: str, seconds: float, known: set[int]) -> list[str]:
    """What still runs of the marked processes and of KNOWN (taken before the stop signal)."""
    deadline = time.monotonic() + seconds
    while True:
        left = sorted(set(processes_marked(mark)) | {line for pid in known if (line := alive(pid))})
        if not left or time.monotonic() >= deadline:
            return left
        time.sleep(0.2)


def runner_of(process: subprocess.Popen, mark: str, seconds: float = 60) -> int:
    """The pid of platform/shuohua_run.py under this `make run`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for line in processes_marked(mark):
            pid, command = line.split(" ", 1)
            if "shuohua_run.py" in command:
                return int(pid)
        time.sleep(0.05)
    pytest.fail("shuohua_run.py never started")


def start_make_run(port: int, var_dir: Path, mark: str = "") -> subprocess.Popen:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "SECRET_KEY"}
        and not key.startswith("DEMO_")
    }
    environment["PORT"] = str(port)
    environment["WORKER_CONCURRENCY"] = "1"
    environment["SHUOHUA_VAR_DIR"] = str(var_dir)
    environment[RUN_MARK] = mark or uuid.uuid4().hex
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


STOP_SECONDS = 20  # Ctrl-C to the last process gone, grandchildren included (issue 19)


def finish(process: subprocess.Popen, mark: str, what: str, known: set[int]) -> str:
    """Wait for make run to end after a stop signal; fail if it, or anything it started, outlives 20 s.
    KNOWN: the processes under make run just before the signal."""
    started = time.monotonic()
    try:
        output, _ = process.communicate(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        left = survivors_after(mark, 0, known)
        for line in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(line.split()[0]), signal.SIGKILL)
        output, _ = process.communicate()
        pytest.fail(f"make run's output still open {STOP_SECONDS} s after {what}; running: {left}\n{output[-3000:]}")
    left = survivors_after(mark, max(0.0, STOP_SECONDS - (time.monotonic() - started)), known)
    assert left == [], f"processes left running after {what}:\n" + "\n".join(left) + f"\n{output[-2000:]}"
    return output


def stop_with_ctrl_c(process: subprocess.Popen, mark: str) -> str:
    # Ctrl-C in a terminal signals the whole foreground group (make and the runner): do the same.
    known = descendants(process.pid)
    os.killpg(process.pid, signal.SIGINT)
    output = finish(process, mark, "Ctrl-C", known)
    # make waits for the runner (exit 0), then dies of the same signal (a shell's 130); a make started
    # inside another make (make test) returns the runner's 0 instead. Either is a clean stop.
    assert process.returncode in (0, -signal.SIGINT), (process.returncode, output[-2000:])
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
    mark = uuid.uuid4().hex
    process = start_make_run(port, var_dir, mark)
    output = ""
    try:
        page = wait_for_page(process, f"http://127.0.0.1:{port}/events/spring-reading/")
        assert page is not None, "make run never answered on its port"
        assert "Spring Reading Festival" in page
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/js/gallery.js", timeout=5) as response:
            assert response.status == 200
        # Wait for the worker's pool (and beat's process): Ctrl-C must take grandchildren too.
        deadline = time.monotonic() + 120
        while len([line for line in processes_marked(mark) if "celery" in line]) < 3:
            assert time.monotonic() < deadline, processes_marked(mark)
            time.sleep(0.5)
    finally:
        output = stop_with_ctrl_c(process, mark)
    assert "shuohua is running" in output
    assert f"http://127.0.0.1:{port}/events/spring-reading/" in output
    assert "shuohua: stopped" in output
    assert not port_open(port), "the ASGI server still listens after Ctrl-C"
    assert (var_dir / "db.sqlite3").exists(), "make run did not write into SHUOHUA_VAR_DIR"
    assert snapshot(REPO / "var") == developer_var, "the suite touched the developer's own var/"
    first_logins = dict(DEMO_LOGIN_LINE.findall(output))
    assert set(first_logins) == {"resident", "moderator", "curator"}, output[-3000:]
    logins_file = var_dir / "demo-logins.txt"
    assert logins_file.stat().st_mode & 0o077 == 0, "demo passwords must be readable by their owner only"

    # A second start prints the same logins, and they still work.
    port = free_port()
    mark = uuid.uuid4().hex
    process = start_make_run(port, var_dir, mark)
    try:
        assert wait_for_page(process, f"http://127.0.0.1:{port}/events/spring-reading/") is not None
        assert log_in(f"http://127.0.0.1:{port}", "moderator", first_logins["moderator"])
        assert not log_in(f"http://127.0.0.1:{port}", "moderator", first_logins["moderator"] + "x")
    finally:
        # This time the runner alone is told to stop (a service manager's SIGTERM): its own stop_all
        # must stop every child, since none of them heard the signal.
        known = descendants(process.pid)
        os.kill(runner_of(process, mark), signal.SIGTERM)
        output = finish(process, mark, "SIGTERM to shuohua_run.py", known)
    assert process.returncode == 0, output[-2000:]
    assert "shuohua: stopped" in output
    assert dict(DEMO_LOGIN_LINE.findall(output)) == first_logins


@pytest.mark.slow
@pytest.mark.parametrize(
    ("moment", "stop"),
    [
        ("manage.py", "runner"),  # migrating a new database: Ctrl-C to the runner alone
        ("celery", "group"),  # the worker and beat just starting: a terminal's Ctrl-C to everyone
    ],
)
def test_make_run_interrupted_during_start_up_leaves_nothing_running(tmp_path, moment, stop):
    """Ctrl-C while the platform starts: whatever had started (Redis, the migration, a worker still
    connecting) stops with it, within 20 s, and nothing survives."""
    mark = uuid.uuid4().hex
    process = start_make_run(free_port(), tmp_path / "var", mark)
    runner = runner_of(process, mark)
    deadline = time.monotonic() + 120
    while not any(moment in line.split(" ", 2)[-1] for line in processes_marked(mark)):
        assert time.monotonic() < deadline and process.poll() is None, f"make run never reached {moment}"
        time.sleep(0.02)
    known = descendants(process.pid)
    assert any("redis-server" in (alive(pid) or "") for pid in known)
    if stop == "runner":
        os.kill(runner, signal.SIGINT)
    else:
        os.killpg(process.pid, signal.SIGINT)
    output = finish(process, mark, f"Ctrl-C at {moment}", known)
    assert process.returncode in ((0,) if stop == "runner" else (0, -signal.SIGINT)), output[-2000:]
    assert "shuohua: stopped" in output


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
