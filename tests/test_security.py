"""Abuse: oversized bodies, password guessing, floods, socket misuse, hostile sample voices, headers.

Every limit is exercised against the real stack: Django's middleware and ASGI application, a real
Daphne process, real sessions, real ffmpeg.
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from asgiref.testing import ApplicationCommunicator
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from testkit.media import CHINESE_POEM, DEMO, REPO, ffmpeg

ORIGIN = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
HUGE = str(5 * 1024**3)  # a declared 5 GB body


# ---------------------------------------------------------------------------------------------------
# Body limits


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/accounts/login/",
        "/accounts/signup/",
        "/api/recordings/",
        "/api/moderation/queue/",
        f"/record/{uuid.uuid4()}/",
        "/media/paintings/x/y.jpg",
        "/no/such/page/",
        "/admin/login/",
    ],
)
def test_an_oversized_body_is_refused_before_sessions_or_authentication(url, django_assert_num_queries):
    with django_assert_num_queries(0):  # no session, no user, no view: refused on the declared length
        response = Client().generic(
            "POST", url, b"x" * 100, content_type="application/octet-stream", CONTENT_LENGTH=HUGE
        )
    assert response.status_code == 413
    assert b"25 MB" in response.content or b"26 MB" in response.content


@pytest.mark.django_db
def test_the_refusal_is_json_for_the_api_and_in_the_clients_language():
    response = Client().generic(
        "POST", "/api/recordings/", b"", CONTENT_LENGTH=HUGE, HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9"
    )
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert "请求大于" in response.json()["detail"]
    page = Client().generic("POST", "/accounts/login/", b"", CONTENT_LENGTH=HUGE, HTTP_ACCEPT_LANGUAGE="en")
    assert page["Content-Type"].startswith("text/plain")
    assert "larger than" in page.content.decode()


def http_scope(path: str, headers: list[tuple[bytes, bytes]]) -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


@pytest.mark.django_db(transaction=True)
def test_the_asgi_application_stops_reading_a_streamed_body_at_the_cap(settings):
    """No Content-Length (chunked): Django would spool all of it to disk before any middleware ran."""
    from config.asgi import application

    settings.REQUEST_MAX_BYTES = 256 * 1024
    chunk = b"\0" * 65536

    async def scenario():
        communicator = ApplicationCommunicator(application, http_scope("/api/recordings/", []))
        for _ in range(64):  # 4 MiB offered
            await communicator.send_input({"type": "http.request", "body": chunk, "more_body": True})
        start = await communicator.receive_output(timeout=10)
        body = await communicator.receive_output(timeout=10)
        unread = communicator.input_queue.qsize()
        await communicator.wait(timeout=10)
        return start, body, unread

    start, body, unread = asyncio.run(scenario())
    assert start["status"] == 413
    assert b"too_large" in body["body"]
    assert unread >= 64 - 256 // 64 - 1  # it read just past the cap and no further


@pytest.mark.django_db(transaction=True)
def test_the_asgi_application_refuses_a_declared_length_without_reading_anything():
    from config.asgi import application

    async def scenario():
        communicator = ApplicationCommunicator(
            application, http_scope("/accounts/login/", [(b"content-length", HUGE.encode())])
        )
        start = await communicator.receive_output(timeout=10)  # nothing was sent: it must not wait
        await communicator.receive_output(timeout=10)
        await communicator.wait(timeout=10)
        return start

    assert asyncio.run(scenario())["status"] == 413


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def daphne_server(tmp_path):
    """The same Daphne command make run starts (platform/shuohua_run.py), with production settings."""
    sys.path.insert(0, str(REPO / "platform"))
    try:
        from shuohua_run import DAPHNE_WEBSOCKET_CAPS
    finally:
        sys.path.remove(str(REPO / "platform"))
    media = tmp_path / "media"
    painting = media / "paintings" / str(uuid.uuid4())
    painting.mkdir(parents=True)
    (painting / "image.jpg").write_bytes((DEMO / "paintings" / "art_2.jpg").read_bytes())
    port = free_port()
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "0",
        "SECRET_KEY": "daphne-test-" + "k" * 50,
        "MEDIA_ROOT": str(media),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "SHUOHUA_VAR_DIR": str(tmp_path / "var"),
        "REQUEST_MAX_BYTES": str(1024 * 1024),
    }
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "daphne"),
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            *DAPHNE_WEBSOCKET_CAPS,
            "config.asgi:application",
        ],
        cwd=REPO,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail("daphne did not start")
    yield {"port": port, "painting": f"/media/paintings/{painting.name}/image.jpg"}
    process.terminate()
    process.wait(timeout=20)


def raw_request(port: int, request: bytes, *, then: bytes = b"", repeat: int = 0) -> tuple[bytes, int]:
    """Send REQUEST, then THEN up to REPEAT times until the server answers; the answer and the bytes sent."""
    import select

    with socket.create_connection(("127.0.0.1", port), timeout=20) as connection:
        connection.sendall(request)
        sent = 0
        for _ in range(repeat):
            if select.select([connection], [], [], 0)[0]:
                break  # the server has answered: stop sending, as a browser does
            try:
                connection.sendall(then)
            except OSError:
                break
            sent += len(then)
        answer = b""
        try:
            while data := connection.recv(65536):
                answer += data
        except (ConnectionResetError, TimeoutError):
            pass
        return answer, sent


def fetch(url: str, **headers: str):
    import urllib.request

    return urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=20)  # noqa: S310 (loopback)


@pytest.mark.slow
def test_daphne_serves_static_and_public_media_and_refuses_oversized_bodies(daphne_server):
    base = f"http://127.0.0.1:{daphne_server['port']}"
    with fetch(f"{base}/static/js/site.js") as response:
        assert response.status == 200
        assert response.read() == (REPO / "static" / "js" / "site.js").read_bytes()
    with fetch(f"{base}{daphne_server['painting']}") as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "image/jpeg"
        assert response.read() == (DEMO / "paintings" / "art_2.jpg").read_bytes()
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    with fetch(f"{base}{daphne_server['painting']}", Range="bytes=0-9") as response:
        assert response.status == 206
        assert response.read() == (DEMO / "paintings" / "art_2.jpg").read_bytes()[:10]

    port = daphne_server["port"]
    declared = f"POST /api/recordings/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {HUGE}\r\n\r\n".encode()
    answer, _ = raw_request(port, declared)
    assert answer.startswith(b"HTTP/1.1 413")
    # Chunked, no length: 64 MiB offered, the server answers once it has passed its 1 MiB cap.
    chunked = b"POST /accounts/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
    piece = b"10000\r\n" + b"\0" * 65536 + b"\r\n"
    answer, sent = raw_request(port, chunked, then=piece, repeat=1024)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert sent < 16 * 1024 * 1024  # answered long before the 64 MiB were through
    # ...and keeps serving everyone else.
    with fetch(f"{base}/static/js/site.js") as response:
        assert response.status == 200


# ---------------------------------------------------------------------------------------------------
# Logins, floods, API authentication


def login(client: Client, username: str, password: str, **extra):
    return client.post("/accounts/login/", {"username": username, "password": password}, **extra)


@pytest.mark.django_db
def test_failed_logins_lock_the_username_from_that_address_and_say_so_in_chinese(resident, other_resident):
    from axes.models import AccessAttempt

    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert login(client, "resident", "wrong-password").status_code == 200  # the form again, with an error
    locked = login(client, "resident", "wrong-password", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert locked.status_code == 429
    assert "登录失败次数过多" in locked.content.decode()
    # Even the right password is refused now...
    assert login(Client(), "resident", "resident-pass-1").status_code == 429
    assert "_auth_user_id" not in client.session
    assert AccessAttempt.objects.filter(username="resident").exists()
    # ...while another resident at the same address logs in normally.
    assert login(Client(), "neighbour", "neighbour-pass-1").status_code == 302


@pytest.mark.django_db
def test_wrong_passwords_from_many_addresses_lock_the_account_itself(resident, other_resident):
    """An attacker with a new address for every try never meets the per-address lockout: the account's
    own count does (accounts/login_limits.py), and the right password is refused from any address."""
    limit = settings.ACCOUNT_LOGIN_FAILURE_LIMIT
    assert limit > settings.AXES_FAILURE_LIMIT
    answers = [
        login(Client(), "resident", "wrong-password", REMOTE_ADDR=f"198.51.100.{number + 1}").status_code
        for number in range(limit + 3)
    ]
    assert answers[:limit] == [200] * limit  # every address is new: axes never locks one
    assert answers[limit:] == [429] * 3
    refused = login(Client(), "Resident", "resident-pass-1", REMOTE_ADDR="192.0.2.7", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert refused.status_code == 429 and "登录失败次数过多" in refused.content.decode()
    # The neighbour's account is untouched.
    assert login(Client(), "neighbour", "neighbour-pass-1", REMOTE_ADDR="198.51.100.1").status_code == 302


@pytest.mark.django_db
def test_a_successful_login_clears_earlier_failures(resident):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        login(client, "resident", "wrong-password")
    assert login(client, "resident", "resident-pass-1").status_code == 302
    assert login(Client(), "resident", "wrong-password").status_code == 200


@pytest.mark.django_db
def test_signup_and_password_reset_are_rate_limited_per_address(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "signup": "3/h", "password_reset": "2/h"}
    client = Client()
    for number in range(3):
        response = client.post("/accounts/signup/", {"username": f"flood{number}"})
        assert response.status_code == 200  # the form again (incomplete), not a refusal
    refused = client.post("/accounts/signup/", {"username": "flood3"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert "尝试次数过多" in refused.content.decode()
    assert client.get("/accounts/signup/").status_code == 200  # reading the form is never limited
    for _ in range(2):
        assert client.post("/accounts/password_reset/", {"email": "a@example.org"}).status_code == 302
    assert client.post("/accounts/password_reset/", {"email": "a@example.org"}).status_code == 429
    # Another address is not affected.
    assert (
        Client(REMOTE_ADDR="10.0.0.9").post("/accounts/password_reset/", {"email": "a@example.org"}).status_code == 302
    )


@pytest.mark.django_db
def test_the_upload_form_is_rate_limited_per_resident(festival, resident, other_resident, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "record": "2/h"}
    url = f"/record/{festival['chinese'].id}/"
    client = Client()
    client.force_login(resident)
    for _ in range(2):
        response = client.post(url, {"audio": SimpleUploadedFile("x.webm", b"not audio at all")})
        assert response.status_code == 200  # the form with the refusal
    assert client.post(url, {"audio": SimpleUploadedFile("x.webm", b"not audio")}).status_code == 429
    neighbour = Client()
    neighbour.force_login(other_resident)
    assert neighbour.post(url, {"audio": SimpleUploadedFile("x.webm", b"not audio")}).status_code == 200


@pytest.mark.django_db
def test_the_api_upload_is_throttled_at_the_configured_rate(festival, resident):
    from rest_framework.test import APIClient

    limit = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["uploads"].split("/")[0])
    client = APIClient()
    client.force_authenticate(resident)
    statuses = [
        client.post(
            "/api/recordings/",
            {"passage": str(festival["chinese"].id), "audio": SimpleUploadedFile("x.webm", b"")},
            format="multipart",
        ).status_code
        for _ in range(limit + 1)
    ]
    assert 429 not in statuses[:limit]
    assert statuses[limit] == 429


@pytest.mark.django_db
def test_the_api_takes_no_http_basic_credentials(resident):
    token = base64.b64encode(b"resident:resident-pass-1").decode()
    response = Client().get("/api/recordings/", HTTP_AUTHORIZATION=f"Basic {token}")
    assert response.status_code in {401, 403}
    assert "Basic" not in response.get("WWW-Authenticate", "")


# ---------------------------------------------------------------------------------------------------
# Websockets: real session cookies, read-only


def session_cookie(username: str, password: str) -> tuple[bytes, bytes]:
    client = Client()
    assert login(client, username, password).status_code == 302
    return (b"cookie", f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode())


@pytest.mark.django_db(transaction=True)
def test_sockets_know_users_by_their_session_cookie_and_close_on_any_inbound_frame(festival, resident, moderator):
    from config.asgi import application
    from contributions.services import recording_submit

    recording = recording_submit(
        contributor=resident,
        passage=festival["chinese"],
        upload=SimpleUploadedFile("t.flac", CHINESE_POEM.read_bytes()),
    )
    resident_cookie = session_cookie("resident", "resident-pass-1")
    moderator_cookie = session_cookie("moderator", "moderator-pass-1")

    async def connect(path, cookie=None):
        headers = ORIGIN + ([cookie] if cookie else [])
        communicator = WebsocketCommunicator(application, path, headers=headers)
        connected, _ = await communicator.connect()
        return communicator, connected

    async def scenario():
        results = {}
        own = f"/ws/recordings/{recording.id}/"
        for name, path, cookie in (
            ("anonymous-own", own, None),
            ("moderator-own", own, moderator_cookie),
            ("resident-moderation", "/ws/moderation/", resident_cookie),
        ):
            communicator, connected = await connect(path, cookie)
            results[name] = connected
            await communicator.disconnect()
        for name, path, cookie, frame in (
            ("resident-own", own, resident_cookie, {"text_data": "hello"}),
            ("moderator-queue", "/ws/moderation/", moderator_cookie, {"bytes_data": b"\0" * 10}),
            ("public-event", f"/ws/events/{festival['event'].id}/", None, {"text_data": '{"type": "x"}'}),
        ):
            communicator, connected = await connect(path, cookie)
            results[name] = connected
            await communicator.send_to(**frame)
            closed = await communicator.receive_output(timeout=5)
            results[f"{name}-after-frame"] = (closed["type"], closed.get("code"))
            await communicator.disconnect()  # what the server sends once the close handshake is done
        return results

    results = asyncio.run(scenario())
    assert results["anonymous-own"] is False
    assert results["moderator-own"] is False  # a resident's progress is theirs alone
    assert results["resident-moderation"] is False
    for name in ("resident-own", "moderator-queue", "public-event"):
        assert results[name] is True, name
        assert results[f"{name}-after-frame"] == ("websocket.close", 1008), name


def test_daphne_is_started_with_small_websocket_frame_caps():
    sys.path.insert(0, str(REPO / "platform"))
    try:
        from shuohua_run import DAPHNE_WEBSOCKET_CAPS
    finally:
        sys.path.remove(str(REPO / "platform"))
    caps = dict(zip(DAPHNE_WEBSOCKET_CAPS[::2], DAPHNE_WEBSOCKET_CAPS[1::2], strict=True))
    assert 0 < int(caps["--websocket-max-frame-size"]) <= 65536
    assert 0 < int(caps["--websocket-max-message-size"]) <= 65536
    source = (REPO / "platform" / "shuohua_run.py").read_text()
    assert "*DAPHNE_WEBSOCKET_CAPS" in source
    # Every other shipped Daphne command (process manager, systemd) carries the same caps.
    shipped = [
        line
        for path in [REPO / "platform" / "Procfile", *(REPO / "platform" / "systemd").glob("*.service")]
        for line in path.read_text().splitlines()
        if "/daphne " in line and not line.lstrip().startswith("#")
    ]
    assert len(shipped) >= 3, shipped
    for line in shipped:
        for flag, value in caps.items():
            assert f"{flag} {value}" in line, line


# ---------------------------------------------------------------------------------------------------
# Curators' sample voices


@pytest.fixture
def curator(db, groups, festival):
    from accounts.models import User

    user = User.objects.create_user("curator", password="curator-pass-1")
    user.groups.add(groups["curators"])
    festival["event"].curators.add(user)  # curators are per festival
    return user


def playlist_beside(folder: Path) -> bytes:
    """An HLS playlist naming a resident's reading stored next to it: ffmpeg's HLS reader would play it."""
    subprocess.run([ffmpeg(), "-v", "error", "-y", "-i", str(CHINESE_POEM), str(folder / "original.mp3")], check=True)
    return b"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:6,\noriginal.mp3\n#EXT-X-ENDLIST\n"


def test_the_engine_never_opens_a_playlist_even_one_named_m3u8(tmp_path):
    from animation.engine import audio
    from animation.engine.errors import EngineInputError

    playlist = tmp_path / "voice.m3u8"
    playlist.write_bytes(playlist_beside(tmp_path))
    with pytest.raises(EngineInputError):
        audio.probe_audio(playlist)
    # The allow-list still reads every container a browser or a phone records.
    for arguments, suffix in ((["-c:a", "libopus"], "webm"), (["-c:a", "aac"], "m4a"), ([], "mp3"), ([], "wav")):
        made = tmp_path / f"take.{suffix}"
        subprocess.run([ffmpeg(), "-v", "error", "-y", "-i", str(CHINESE_POEM), *arguments, str(made)], check=True)
        nameless = made.rename(tmp_path / f"nameless-{suffix}")
        assert audio.probe_audio(nameless).duration_seconds == pytest.approx(5.5, abs=0.3), suffix


def test_the_film_writer_never_opens_a_playlist_for_its_voice(tmp_path):
    import numpy as np

    from animation.engine.encode import FilmWriter
    from animation.engine.errors import EngineInputError

    playlist = tmp_path / "voice.wav"
    playlist.write_bytes(playlist_beside(tmp_path))
    film = tmp_path / "film.mp4"
    with (
        pytest.raises(EngineInputError, match="voice recording cannot be used"),
        FilmWriter(film, width=64, height=48, fps=25, frame_count=25, audio_path=playlist) as writer,
    ):
        for _ in range(25):
            writer.write(np.zeros((48, 64, 3), np.uint8))
    assert not film.exists()


@pytest.mark.django_db
def test_a_sample_voice_playlist_is_refused_and_a_real_voice_is_stored_under_a_fixed_name(
    festival, curator, tmp_path, settings
):
    from gallery.models import PassagePreview

    client = Client()
    client.force_login(curator)
    url = f"/curation/passages/{festival['chinese'].id}/"
    hostile = SimpleUploadedFile("voice.m3u8", playlist_beside(tmp_path), content_type="application/vnd.apple.mpegurl")
    page = client.post(url, {"action": "preview", "sample_voice": hostile}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 200
    assert "示范朗读须为" in page.content.decode()
    assert not PassagePreview.objects.exists()
    assert not (settings.MEDIA_ROOT / "previews").exists()

    disguised = SimpleUploadedFile("../../evil.m3u8", CHINESE_POEM.read_bytes())
    assert client.post(url, {"action": "preview", "sample_voice": disguised}).status_code == 302
    preview = PassagePreview.objects.get()
    assert preview.sample_voice.name == f"previews/{preview.id}/voice.flac"


# ---------------------------------------------------------------------------------------------------
# Headers and deployment settings


@pytest.mark.django_db
def test_pages_carry_a_csp_without_inline_script_and_the_other_security_headers():
    response = Client().get("/")
    assert response.status_code == 200
    policy = {
        directive.split()[0]: directive.split()[1:]
        for directive in response["Content-Security-Policy"].split(";")
        if directive.strip()
    }
    assert policy["script-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in policy.get("default-src", [])
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    secure = Client().get("/", secure=True)
    assert secure["Strict-Transport-Security"].startswith("max-age=31536000")


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)


def test_no_template_has_inline_script_or_event_handler_attributes():
    """The CSP blocks them: a page using one would silently break. Scripts live in static/js/."""
    folders = [REPO / "templates", *(REPO / app / "templates" for app in ("gallery", "contributions", "accounts"))]
    templates = [path for folder in folders if folder.exists() for path in folder.rglob("*.html")]
    assert len(templates) >= 20
    offending = [
        f"{path.relative_to(REPO)}: {match.group(0)[:60]}"
        for path in templates
        for pattern in (INLINE_SCRIPT, EVENT_HANDLER)
        for match in pattern.finditer(path.read_text(encoding="utf-8"))
    ]
    assert not offending, offending


PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "p" * 20 + "roduction-secret-key-with-enough-entropy-0123456789",
    "ALLOWED_HOSTS": "shuohua.example.org",
    "CSRF_TRUSTED_ORIGINS": "https://shuohua.example.org",
    "HTTPS": "1",
    "SECURE_HSTS_PRELOAD": "1",
    "SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO,https",
    "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
    "EMAIL_HOST": "mail.example.org",
}


def manage(*arguments: str, environment: dict) -> subprocess.CompletedProcess:
    # DJANGO_ALLOW_ASYNC_UNSAFE belongs to the browser tests' process (Playwright's loop), not to a deployment.
    clean = {
        key: value
        for key, value in os.environ.items()
        # HTTPS=0 is the suite's own (config/test_settings.py): a deployment here says what it says.
        if key not in {"DJANGO_SETTINGS_MODULE", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE", "HTTPS", "EMAIL_BACKEND"}
    }
    return subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=REPO,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **environment},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    environment = {**PRODUCTION, "SHUOHUA_VAR_DIR": str(tmp_path)}
    result = manage("check", "--deploy", "--fail-level", "WARNING", environment=environment)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
    # Without HTTPS the same check names what is missing: the test above can fail.
    plain = manage("check", "--deploy", "--fail-level", "WARNING", environment={**environment, "HTTPS": "0"})
    assert plain.returncode != 0
    assert "security.W012" in plain.stdout + plain.stderr  # SESSION_COOKIE_SECURE


def test_production_settings_come_from_the_environment(tmp_path):
    code = (
        "from django.conf import settings as s;"
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS,"
        " s.SECURE_PROXY_SSL_HEADER, 'csp.middleware.CSPMiddleware' in s.MIDDLEWARE)"
    )
    result = manage("shell", "-c", code, environment={**PRODUCTION, "SHUOHUA_VAR_DIR": str(tmp_path)})
    expected = "True True True 31536000 ('HTTP_X_FORWARDED_PROTO', 'https') True"
    assert result.stdout.strip().splitlines()[-1] == expected, result.stderr


# ---------------------------------------------------------------------------------------------------
# Fuzzing (bounded; bench/bench_fuzz.py sends 10,000 uploads and 1,000 paintings)


@pytest.mark.slow
@pytest.mark.django_db
def test_malformed_uploads_and_paintings_get_a_clear_refusal_and_leave_nothing_behind(
    festival, resident, curator, settings
):
    from rest_framework.test import APIClient

    from testkit.fuzz_inputs import run_painting_fuzz, run_upload_fuzz

    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"uploads": "100000/hour"},  # the throttle has its own test
    }
    from rest_framework.throttling import ScopedRateThrottle

    rates = ScopedRateThrottle.THROTTLE_RATES
    ScopedRateThrottle.THROTTLE_RATES = {"uploads": "100000/hour"}
    try:
        uploader = APIClient()
        uploader.force_authenticate(resident)
        uploads = run_upload_fuzz(
            uploader, passage_id=festival["chinese"].id, media_root=settings.MEDIA_ROOT, count=100
        )
    finally:
        ScopedRateThrottle.THROTTLE_RATES = rates
    curator_client = Client()
    curator_client.force_login(curator)
    paintings = run_painting_fuzz(
        curator_client, event_slug=festival["event"].slug, media_root=settings.MEDIA_ROOT, count=30
    )
    for counts in (uploads, paintings):
        assert counts["server_errors"] == 0, counts
        assert counts["unclear"] == 0, counts
        assert counts["stored_on_refusal"] == 0, counts
        assert counts["refused"] + counts["accepted"] == counts["sent"], counts
    print(uploads, paintings)
    # What is not audio, or too short, or a bomb, is always refused; a bit-flipped reading that still
    # plays, or a header that lies about a length the decoder then measures, may rightly be accepted.
    for kind in ("wrong_container", "bomb", "tiny"):
        assert uploads["by_kind"][kind]["accepted"] == 0, (kind, uploads["by_kind"])
    assert paintings["accepted"] <= paintings["sent"] // 6, paintings  # only some bit-flipped JPEGs decode
    # ...and the server still answers normally.
    assert Client().get("/").status_code == 200
    assert uploader.get("/api/passages/").status_code == 200


# ---------------------------------------------------------------------------------------------------
# Malformed filters


BAD_FILTERS = [
    ("moderator", "/api/moderation/queue/?event=not-an-id"),
    ("moderator", "/api/moderation/queue/?painting=1%27%20OR%201=1"),
    ("moderator", "/api/moderation/films/?event=12"),
    ("curator", "/api/moderation/decisions/?event=xyz"),
    ("curator", "/api/moderation/decisions/?moderator=abc"),
    ("curator", "/moderation/audit/?event=xyz"),
    ("curator", "/moderation/audit/?moderator=%D9%A1"),
    ("public", "/events/{slug}/?painting=not-an-id"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("who", "url"), BAD_FILTERS)
def test_a_filter_that_is_not_an_id_is_a_400_not_a_500(who, url, festival, moderator, curator):
    client = Client(raise_request_exception=False)
    if who != "public":
        client.force_login({"moderator": moderator, "curator": curator}[who])
    answer = client.get(url.format(slug=festival["event"].slug))
    assert answer.status_code == 400, (url, answer.status_code)
    if url.startswith("/api/"):
        assert answer["Content-Type"].startswith("application/json")
    # The same route with a well-formed filter answers.
    good = (
        url.split("?")[0]
        + "?"
        + url.split("?")[1].split("=")[0]
        + "="
        + ("7" if "moderator=" in url else "00000000-0000-0000-0000-000000000000")
    )
    assert client.get(good.format(slug=festival["event"].slug)).status_code == 200, good


@pytest.mark.django_db
def test_a_moderator_can_neither_see_claim_nor_decide_their_own_reading(festival, moderator, groups):
    from accounts.models import User
    from contributions import selectors, services
    from contributions.models import Recording
    from testkit.roles import submit

    services.consent_give(user=moderator, public_animation=True, open_dataset=False)
    own = submit(festival["chinese"], moderator)
    assert own.status == Recording.Status.PENDING
    assert not selectors.moderation_queue(moderator=moderator).filter(id=own.id).exists()
    assert services.recording_claim(recording=own, moderator=moderator) is False
    client = Client()
    client.force_login(moderator)
    answer = client.post(f"/api/moderation/recordings/{own.id}/approve/", {}, content_type="application/json")
    assert answer.status_code == 403, answer.content
    with pytest.raises(PermissionDenied):
        services.recording_approve(recording=own, moderator=moderator)
    own.refresh_from_db()
    assert own.status == Recording.Status.PENDING
    # Another moderator reviews it as any other reading.
    colleague = User.objects.create_user("colleague", password="colleague-pass-1")
    colleague.groups.add(groups["moderators"])
    own.passage.event.moderators.add(colleague)
    assert selectors.moderation_queue(moderator=colleague).filter(id=own.id).exists()
    services.recording_approve(recording=own, moderator=colleague)
    own.refresh_from_db()
    assert own.status == Recording.Status.APPROVED


def test_production_is_secure_when_nothing_else_is_said(tmp_path):
    """DEBUG off and no word on HTTPS: secure cookies, the HTTPS redirect and HSTS are on (W008, W012,
    W016 absent), and behind the shipped nginx (TRUSTED_PROXY_COUNT=1) its X-Forwarded-Proto is believed."""
    said = {key: PRODUCTION[key] for key in ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "EMAIL_BACKEND", "EMAIL_HOST")}
    environment = {**said, "TRUSTED_PROXY_COUNT": "1", "SHUOHUA_VAR_DIR": str(tmp_path)}
    result = manage("check", "--deploy", environment=environment)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    for warning in ("security.W008", "security.W012", "security.W016", "security.W004"):
        assert warning not in output, output
    code = "from django.conf import settings as s; print(s.SECURE_SSL_REDIRECT, s.SECURE_PROXY_SSL_HEADER)"
    shown = manage("shell", "-c", code, environment=environment).stdout.strip().splitlines()[-1]
    assert shown == "True ('HTTP_X_FORWARDED_PROTO', 'https')"


def test_a_public_deployment_refuses_to_start_with_mail_nobody_reads(tmp_path):
    """Password-reset links printed on a server's console reach nobody: with DEBUG off and HTTPS on, the
    console backend (the default) stops the start with a sentence saying what to set."""
    said = {key: PRODUCTION[key] for key in ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS")}
    result = manage("check", environment={**said, "SHUOHUA_VAR_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "EMAIL_BACKEND" in result.stderr and "password-reset" in result.stderr
    # A closed network without TLS says so, and may keep the console (as `make run` does).
    closed = manage("check", environment={**said, "HTTPS": "0", "SHUOHUA_VAR_DIR": str(tmp_path)})
    assert closed.returncode == 0, closed.stderr


@pytest.mark.django_db
def test_a_curators_heavy_work_is_rate_limited_per_curator(festival, groups, settings):
    """Key-point fits and face searches run the face networks, a test film a whole render: each curator
    has a budget of them (429 beyond), a colleague behind the same address their own, and plain edits none."""
    from accounts.models import User

    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "curation_fit": "2/h", "curation_render": "1/h"}
    clients = []
    for name in ("curator-a", "curator-b"):
        user = User.objects.create_user(name, password=f"{name}-pass-1")
        user.groups.add(groups["curators"])
        festival["event"].curators.add(user)
        client = Client()
        client.force_login(user)
        clients.append(client)
    first, colleague = clients
    painting, passage = festival["painting"], festival["chinese"]
    fit = f"/curation/paintings/{painting.id}/landmarks/fit/"
    assert [first.post(fit).status_code for _ in range(2)] == [400, 400]  # no box or point: the page says so
    refused = first.post(fit)
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert first.post(f"/curation/paintings/{painting.id}/detect/").status_code == 429  # the same budget
    assert colleague.post(fit).status_code == 400
    editor = f"/curation/passages/{passage.id}/"
    assert first.post(editor, {"action": "preview"}).status_code != 429
    assert first.post(editor, {"action": "preview"}).status_code == 429
    assert first.post(editor, {"title": passage.title}).status_code != 429  # editing the passage is never limited


def test_a_public_bucket_domain_is_refused_with_the_reason(tmp_path):
    """S3_PUBLIC_DOMAIN's unsigned URLs need a public-read bucket: recordings and held-back films would be
    public. The platform refuses it and serves films through /media/ (tests/test_storage_s3.py)."""
    said = {key: PRODUCTION[key] for key in ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "EMAIL_BACKEND", "EMAIL_HOST")}
    environment = {**said, "S3_PUBLIC_DOMAIN": "cdn.example.org", "SHUOHUA_VAR_DIR": str(tmp_path)}
    result = manage("check", environment=environment)
    assert result.returncode != 0 and "S3_PUBLIC_DOMAIN" in result.stderr and "public-read" in result.stderr
