"""The shipped edge, as an attacker meets it: nginx from platform/nginx/ in front of Daphne started with
the exact command of platform/systemd/shuohua-web@.service (--proxy-headers, frame caps), production
settings, a shared Redis for the counters.

A client that invents a new X-Forwarded-For on every request must still be one address: the login
lockout, the login rate limit and the websocket limit all key on the address nginx saw.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

from testkit.cluster import start_nginx

REPO = Path(__file__).resolve().parent.parent
SOCKETS_PER_ADDRESS = 6
LOGIN_RATE = "12/10m"
FAILURE_LIMIT = 5


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def shipped_daphne_command(port: int) -> list[str]:
    """ExecStart of the systemd web unit, with this checkout's virtualenv and PORT for %i."""
    unit = (REPO / "platform" / "systemd" / "shuohua-web@.service").read_text()
    command = shlex.split(re.search(r"^ExecStart=(.+)$", unit, re.MULTILINE).group(1))
    assert command[0].endswith("/daphne")
    return [str(Path(sys.executable).parent / "daphne"), *[part.replace("%i", str(port)) for part in command[1:]]]


def wait_http(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=2)
            return
        except requests.RequestException:
            time.sleep(0.2)
    pytest.fail(f"{url} never answered")


def fake_address(number: int) -> str:
    return f"203.0.{number // 250}.{number % 250 + 1}"


def start_web(folder: Path, **settings: str) -> tuple[subprocess.Popen, int, uuid.UUID]:
    """Migrate a fresh SQLite database with production settings (plus SETTINGS), add a resident and a
    festival, and start the systemd unit's own Daphne command; returns it, its port and the event's id."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DJANGO_SETTINGS_MODULE", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE", "DATABASE_URL", "CACHE_URL"}
    }
    environment.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "0",
            "SECRET_KEY": "edge-test-" + "k" * 50,
            "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
            "SHUOHUA_VAR_DIR": str(folder / "var"),
            "MEDIA_ROOT": str(folder / "media"),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "LOGIN_RATE": LOGIN_RATE,
            "LOGIN_FAILURE_LIMIT": str(FAILURE_LIMIT),
            # Its own counters: a prefix no other test shares (the cache is the shared Redis).
            "CACHE_KEY_PREFIX": f"edge-{uuid.uuid4().hex}",
            **settings,
        }
    )
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], cwd=REPO, env=environment, check=True, timeout=300)
    event_id = uuid.uuid4()
    setup = (
        "from accounts.models import User; from catalogue.models import Event; "
        "User.objects.create_user('resident', password='resident-pass-1'); "
        f"Event.objects.create(id='{event_id}', slug='edge', title='Edge')"
    )
    subprocess.run([*manage, "shell", "-c", setup], cwd=REPO, env=environment, check=True, timeout=120)
    web_port = free_port()
    daphne = subprocess.Popen(
        shipped_daphne_command(web_port),
        cwd=REPO,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    return daphne, web_port, event_id


def render_nginx_config(folder: Path, *, listen: str, web_port: int, **tls) -> Path:
    sys.path.insert(0, str(REPO / "platform"))
    try:
        import render_nginx
    finally:
        sys.path.remove(str(REPO / "platform"))
    return render_nginx.render(
        prefix=folder / "nginx",
        listen=listen,
        web=[f"127.0.0.1:{web_port}"],
        static_root=folder / "static",
        max_body_bytes=26 * 1024 * 1024,
        sockets_per_address=SOCKETS_PER_ADDRESS,
        **tls,
    )


@pytest.fixture(scope="module")
def edge(tmp_path_factory):
    if not shutil.which("nginx"):
        pytest.fail("nginx is missing: platform/install_system_packages.sh installs Debian's nginx")
    folder = tmp_path_factory.mktemp("edge")
    daphne, web_port, event_id = start_web(folder)
    proxy_port = free_port()
    nginx = start_nginx(render_nginx_config(folder, listen=f"127.0.0.1:{proxy_port}", web_port=web_port))
    try:
        wait_http(f"http://127.0.0.1:{web_port}/health/live/")
        wait_http(f"http://127.0.0.1:{proxy_port}/health/live/")
        yield {"base": f"http://127.0.0.1:{proxy_port}", "port": proxy_port, "event": event_id}
    finally:
        for process in (nginx, daphne):
            process.terminate()
            process.wait(timeout=20)


def login_form(session: requests.Session, base: str, address: str) -> str:
    page = session.get(f"{base}/accounts/login/", headers={"X-Forwarded-For": address}, timeout=10)
    assert page.status_code == 200, page.status_code
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)


def try_login(base: str, username: str, password: str, address: str) -> int:
    session = requests.Session()
    token = login_form(session, base, address)
    answer = session.post(
        f"{base}/accounts/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": token},
        headers={"X-Forwarded-For": address, "Referer": f"{base}/accounts/login/"},
        allow_redirects=False,
        timeout=10,
    )
    return answer.status_code


@pytest.mark.slow
def test_a_new_forwarded_address_on_every_wrong_password_still_meets_the_lockout(edge):
    answers = [try_login(edge["base"], "resident", "wrong", fake_address(number)) for number in range(12)]
    assert 429 in answers, answers
    tries_before_lockout = answers.index(429)
    assert tries_before_lockout == FAILURE_LIMIT - 1, answers  # the 5th failure is answered with the lockout
    assert set(answers[tries_before_lockout:]) == {429}, answers
    # The right password from yet another invented address is refused too: the lockout is the real address's.
    assert try_login(edge["base"], "resident", "resident-pass-1", fake_address(99)) == 429


@pytest.mark.slow
def test_a_new_forwarded_address_on_every_login_post_still_meets_the_rate_limit(edge):
    limit = int(LOGIN_RATE.split("/")[0])
    answers = [try_login(edge["base"], f"nobody{number}", "wrong", fake_address(200 + number)) for number in range(20)]
    # Failures for unknown names do not lock any account; what stops the flood is the address's rate.
    assert 429 in answers, answers
    assert answers.index(429) <= limit, answers


def open_socket(port: int, path: str, address: str) -> tuple[socket.socket, bytes]:
    connection = socket.create_connection(("127.0.0.1", port), timeout=10)
    connection.sendall(
        (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
            f"Origin: http://127.0.0.1:{port}\r\nX-Forwarded-For: {address}\r\n\r\n"
        ).encode()
    )
    answer = b""
    while b"\r\n\r\n" not in answer:
        data = connection.recv(4096)
        if not data:
            break
        answer += data
    return connection, answer.split(b"\r\n", 1)[0]


@pytest.mark.slow
def test_one_address_cannot_hold_more_than_its_share_of_sockets_whatever_it_forwards(edge):
    path = f"/ws/events/{edge['event']}/"
    held, statuses = [], []
    try:
        for number in range(SOCKETS_PER_ADDRESS * 3):
            connection, status = open_socket(edge["port"], path, fake_address(400 + number))
            statuses.append(status)
            held.append(connection)
        opened = [status for status in statuses if b" 101 " in status]
        assert len(opened) == SOCKETS_PER_ADDRESS, statuses
        assert all(b" 429 " in status for status in statuses if b" 101 " not in status), statuses
    finally:
        for connection in held:
            connection.close()
    # Once they are closed, the address may open sockets again.
    deadline = time.monotonic() + 10
    while True:
        connection, status = open_socket(edge["port"], path, fake_address(999))
        connection.close()
        if b" 101 " in status or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert b" 101 " in status, status


# ---------------------------------------------------------------------------------------------------
# TLS in the shipped template: nginx terminates it, the plain port only redirects, Django knows it is
# served over https (secure cookies, HSTS, CSRF) from nginx's own X-Forwarded-Proto.


@pytest.fixture(scope="module")
def tls_edge(tmp_path_factory):
    if not shutil.which("nginx") or not shutil.which("openssl"):
        pytest.fail("nginx and openssl are needed: platform/install_system_packages.sh installs Debian's nginx")
    folder = tmp_path_factory.mktemp("tls-edge")
    certificate, key = folder / "certificate.pem", folder / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1"),
            *("-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(certificate)),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    # Production as shipped behind nginx: HTTPS on (the default with DEBUG off), nginx trusted.
    daphne, web_port, _ = start_web(
        folder,
        HTTPS="1",
        TRUSTED_PROXY_COUNT="1",
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
    )
    plain_port, tls_port = free_port(), free_port()
    config = render_nginx_config(
        folder,
        listen=f"127.0.0.1:{plain_port}",
        web_port=web_port,
        tls_certificate=certificate,
        tls_key=key,
        tls_listen=f"127.0.0.1:{tls_port}",
    )
    nginx = start_nginx(config)
    try:
        wait_http(f"http://127.0.0.1:{web_port}/health/live/")
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"https://127.0.0.1:{tls_port}/health/live/", verify=str(certificate), timeout=2)
                break
            except requests.RequestException:
                if time.monotonic() > deadline:
                    pytest.fail(f"nginx never served TLS: {(folder / 'nginx' / 'error.log').read_text()[-2000:]}")
                time.sleep(0.2)
        yield {
            "https": f"https://127.0.0.1:{tls_port}",
            "http": f"http://127.0.0.1:{plain_port}",
            "certificate": str(certificate),
            "tls_port": tls_port,
        }
    finally:
        for process in (nginx, daphne):
            process.terminate()
            process.wait(timeout=20)


@pytest.mark.slow
def test_the_shipped_template_serves_tls_and_django_knows_it(tls_edge):
    session = requests.Session()
    trust = tls_edge["certificate"]  # per request: requests lets REQUESTS_CA_BUNDLE override a session's
    page = session.get(f"{tls_edge['https']}/accounts/login/", verify=trust, timeout=10)
    assert page.status_code == 200, page.status_code
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")
    cookie = next(cookie for cookie in session.cookies if cookie.name == "csrftoken")
    assert cookie.secure
    # A login over TLS passes Django's HTTPS checks (CSRF's referer check, the redirect): Django sees https.
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    answer = session.post(
        f"{tls_edge['https']}/accounts/login/",
        data={"username": "resident", "password": "resident-pass-1", "csrfmiddlewaretoken": token},
        headers={"Referer": f"{tls_edge['https']}/accounts/login/"},
        allow_redirects=False,
        verify=trust,
        timeout=10,
    )
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/"), answer.status_code
    assert next(cookie for cookie in session.cookies if cookie.name == "sessionid").secure


@pytest.mark.slow
def test_plain_http_on_the_tls_template_only_redirects_to_https(tls_edge):
    answer = requests.get(f"{tls_edge['http']}/accounts/login/?next=/me/", allow_redirects=False, timeout=10)
    assert answer.status_code == 301
    assert answer.headers["Location"] == "https://127.0.0.1/accounts/login/?next=/me/"
    # Nothing of the site is served in the clear through nginx, not an upload, not the health check.
    upload = requests.post(f"{tls_edge['http']}/api/recordings/", data=b"x", allow_redirects=False, timeout=10)
    assert upload.status_code == 301
    health = requests.get(f"{tls_edge['http']}/health/live/", allow_redirects=False, timeout=10)
    assert health.status_code == 301
    # A client that offers only TLS 1.1 is refused.
    import ssl

    context = ssl.create_default_context(cafile=tls_edge["certificate"])
    context.minimum_version = context.maximum_version = ssl.TLSVersion.TLSv1_1
    with (
        socket.create_connection(("127.0.0.1", tls_edge["tls_port"]), timeout=10) as connection,
        pytest.raises(ssl.SSLError),
    ):
        context.wrap_socket(connection, server_hostname="127.0.0.1").close()
