"""An ASGI live server for browser tests: daphne in a thread of the test process.

A thread, not a subprocess, because the test database (SQLite in memory, shared cache) lives in this
process; a server in another process would see an empty database. Twisted's reactor runs once per
process, so the server is started once per test session and kept; tests reach it through the
``asgi_live_server`` fixture and may drop its sockets or stop it listening for a while to test how
pages recover.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest


@dataclass
class AsgiLiveServer:
    server: object
    host: str
    port: int
    ports: list = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _call(self, function, *arguments):
        from twisted.internet import reactor
        from twisted.internet.threads import blockingCallFromThread

        return blockingCallFromThread(reactor, function, *arguments)

    def drop_websockets(self) -> int:
        """Abort every open websocket, as a crashed server or a cut network would. Returns how many."""
        from daphne.ws_protocol import WebSocketProtocol

        def abort_all() -> int:
            sockets = [
                protocol for protocol in list(self.server.connections) if isinstance(protocol, WebSocketProtocol)
            ]
            for protocol in sockets:
                protocol.transport.abortConnection()
            return len(sockets)

        return self._call(abort_all)

    def open_applications(self) -> int:
        """How many connections' application instances (consumers, views) have not finished yet."""

        def count() -> int:
            return sum(
                1
                for details in list(self.server.connections.values())
                if details.get("application_instance") is not None and not details["application_instance"].done()
            )

        return self._call(count)

    def close_websockets(self, *, timeout: float = 10) -> None:
        """Abort every open websocket and wait until every consumer has finished.

        A consumer left running in the server's event loop keeps receiving on the process's channel
        layer; a later test that receives from another loop would then trip channels-redis' "two event
        loops" guard. So each test leaves the server with nothing running.
        """
        import time

        self.drop_websockets()
        deadline = time.monotonic() + timeout
        while self.open_applications() and time.monotonic() < deadline:
            time.sleep(0.05)

    def stop_listening(self) -> None:
        def stop():
            from twisted.internet import defer

            listening, self.ports[:] = list(self.ports), []
            return defer.gatherResults([port.stopListening() for port in listening])

        self._call(stop)

    def start_listening(self) -> None:
        def listen() -> None:
            from twisted.internet import reactor

            self.ports.append(reactor.listenTCP(self.port, self.server.http_factory, interface=self.host))

        self._call(listen)


def start_asgi_live_server(application, *, host: str = "127.0.0.1") -> AsgiLiveServer:
    from daphne.server import Server

    ready = threading.Event()
    ports: list = []

    class ThreadedServer(Server):
        def listen_success(self, port) -> None:
            ports.append(port)
            super().listen_success(port)
            ready.set()

    server = ThreadedServer(
        application=application,
        endpoints=[f"tcp:port=0:interface={host}"],
        signal_handlers=False,  # only the main thread may install them
        verbosity=0,
    )
    threading.Thread(target=server.run, name="asgi-live-server", daemon=True).start()
    if not ready.wait(timeout=20):
        raise RuntimeError("the ASGI live server did not start listening within 20 s")
    return AsgiLiveServer(server=server, host=host, port=ports[0].getHost().port, ports=ports)


_session_server: AsgiLiveServer | None = None


@pytest.fixture
def asgi_live_server(transactional_db) -> Iterator[AsgiLiveServer]:
    """The session's ASGI server (HTTP + websockets), listening, for a test that writes real rows."""
    global _session_server
    if _session_server is None:
        from config.asgi import application

        _session_server = start_asgi_live_server(application)
    elif not _session_server.ports:
        _session_server.start_listening()
    yield _session_server
    _session_server.close_websockets()


def api_client(user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user)
    return client


def in_another_thread(function, *arguments, **keywords):
    """Run FUNCTION as another client would, off this thread: Playwright's sync API keeps an event
    loop running in the test's thread, and the broadcasts a request makes cannot start from there."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    def call():
        try:
            return function(*arguments, **keywords)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result()


def submit_and_approve(*, take, passage, resident, moderator) -> str:
    """A reading through the public API, approved by a moderator: the real worker takes it from here."""
    return in_another_thread(_submit_and_approve, take=take, passage=passage, resident=resident, moderator=moderator)


def withdraw(*, recording_id, resident) -> None:
    response = in_another_thread(api_client(resident).delete, f"/api/recordings/{recording_id}/")
    assert response.status_code == 204, response.content


def _submit_and_approve(*, take, passage, resident, moderator) -> str:
    with open(take, "rb") as handle:
        response = api_client(resident).post(
            "/api/recordings/", {"passage": str(passage.id), "audio": handle}, format="multipart"
        )
    assert response.status_code == 201, response.content
    recording_id = response.json()["id"]
    response = api_client(moderator).post(f"/api/moderation/recordings/{recording_id}/approve/")
    assert response.status_code == 200, response.content
    return recording_id


def wait_for_published(recording_id: str, *, timeout: float = 240):
    """The animation of RECORDING_ID once the worker published it; fails with the job's error."""
    import time

    from animation.models import Animation

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        animation = Animation.objects.filter(recording_id=recording_id).first()
        if animation is not None and animation.status == Animation.Status.PUBLISHED:
            return animation
        if animation is not None and animation.status == Animation.Status.FAILED:
            raise AssertionError(f"the animation failed: {animation.error}")
        time.sleep(0.2)
    raise AssertionError(f"no published animation for {recording_id} after {timeout} s")
