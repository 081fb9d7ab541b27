"""What an attacker gets from the platform (#19 §4).

    python platform/with_redis.py .venv/bin/python bench/bench_trust.py

Through Django's full request stack in this process (production middleware, axes, the rate limits in the
shared Redis cache) on a scratch SQLite database, behind one trusted proxy (TRUSTED_PROXY_COUNT=1, as
with the shipped nginx, which writes X-Forwarded-For itself):

1. Wrong passwords for one account, each from a new invented address, until the account is refused.
2. Sockets one address opens to the gallery until Daphne's own cap refuses the next (no nginx in front).
3. Server errors (5xx) over the HTML routes that take filters, with BENCH_FUZZ_CASES fuzzed parameters
   each (non-ids, huge numbers, other scripts, control characters), as every role.

4. Objects left in storage after BENCH_WITHDRAWALS (20) readings withdrawn in the middle of their
   film's render: the real render task in this process, the withdrawal at its first frame
   (testkit/mid_render.py; with a separate render worker process: tests/test_render_faults.py).

Each figure is printed beside its floor. The nginx side (its own socket cap, a spoofed header ignored,
TLS) is tested by tests/test_proxy_edge.py; schemathesis over the API by bench/bench_fuzz.py.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from testkit.figures import report  # noqa: E402
from testkit.scratch_site import use_scratch_site  # noqa: E402

SCRATCH = Path(tempfile.mkdtemp(prefix="shuohua-bench-trust-"))
use_scratch_site(SCRATCH, var_dir=True, log_level="ERROR")
os.environ["TRUSTED_PROXY_COUNT"] = "1"
os.environ["CACHE_KEY_PREFIX"] = f"bench-trust-{os.getpid()}"
os.environ.setdefault("ANIMATION_SIZE", "128")  # the withdrawals, not the pictures, are measured
os.environ.setdefault("ANIMATION_RENDER_BEFORE_APPROVAL", "0")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

FUZZ_CASES = int(os.environ.get("BENCH_FUZZ_CASES", "60"))
WITHDRAWALS = int(os.environ.get("BENCH_WITHDRAWALS", "20"))
FUZZ_VALUES = ["not-an-id", "1' OR 1=1", "9" * 40, "-1", "", "%00", "\u0000", "一二三", "🙂", "../" * 20, "a" * 5000]


def spoofed_logins() -> int:
    """Wrong passwords from new invented addresses until the login is refused (429); returns how many."""
    from accounts.models import User

    User.objects.create_user("target", password="the-real-password-1")
    client = Client()
    for attempt in range(1, 201):
        address = f"198.51.{attempt // 250}.{attempt % 250 + 1}"
        answer = client.post(
            "/accounts/login/",
            {"username": "target", "password": f"guess-{attempt}"},
            HTTP_X_FORWARDED_FOR=address,
            REMOTE_ADDR="127.0.0.1",
        )
        if answer.status_code == 429:
            return attempt - 1
    return 200


def sockets_held() -> int:
    """Gallery sockets one address opens before Daphne's cap (WEBSOCKETS_PER_ADDRESS) refuses one."""
    from channels.testing import WebsocketCommunicator

    from catalogue.models import Event
    from config.asgi import application

    event = Event.objects.create(slug="trust", title="Trust")
    path = f"/ws/events/{event.id}/"
    headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]

    async def flood() -> int:
        opened = []
        try:
            for _ in range(500):
                socket = WebsocketCommunicator(application, path, headers=headers)
                socket.scope["client"] = ("203.0.113.9", 40000)
                accepted, _code = await socket.connect()
                if not accepted:
                    break
                opened.append(socket)
            return len(opened)
        finally:
            for socket in opened:
                await socket.disconnect()

    return asyncio.run(flood())


def fuzzed_route_errors() -> tuple[int, int]:
    """(server errors, requests) over the HTML routes that take filters, as anonymous, moderator, curator."""
    from django.contrib.auth.models import Group

    from accounts.models import User
    from catalogue.models import Event

    event = Event.objects.create(slug="fuzz", title="Fuzz")
    clients = {"anonymous": Client(raise_request_exception=False)}
    for role, group in (("moderator", "moderators"), ("curator", "curators")):
        user = User.objects.create_user(f"fuzz-{role}", password="x-pass-1")
        user.groups.add(Group.objects.get_or_create(name=group)[0])
        event.moderators.add(user)
        event.curators.add(user)
        clients[role] = Client(raise_request_exception=False)
        clients[role].force_login(user)
    routes = {
        f"/events/{event.slug}/": ("painting", "language", "page"),
        "/moderation/": ("event", "painting", "language"),
        "/moderation/films/": ("event",),
        "/moderation/audit/": ("event", "moderator", "page"),
        "/api/moderation/queue/": ("event", "painting", "language"),
        "/api/moderation/films/": ("event",),
        "/api/moderation/decisions/": ("event", "moderator"),
    }
    chance = random.Random(19)
    errors = requests = 0
    for route, names in routes.items():
        for _ in range(FUZZ_CASES):
            query = {name: chance.choice(FUZZ_VALUES) for name in names if chance.random() < 0.8}
            for client in clients.values():
                requests += 1
                if client.get(route, query).status_code >= 500:
                    errors += 1
    return errors, requests


def objects_left_after_mid_render_withdrawals(count: int) -> tuple[int, int]:
    """(objects left in storage under the films' and readings' folders, withdrawals made)."""
    from accounts.models import User
    from contributions.services import consent_give
    from contributions.services import recording_folder_name as reading_folder
    from core import storage
    from testkit.mid_render import approved_reading_with_alignment, render_withdrawn_mid_way
    from testkit.roles import poem_festival

    place = poem_festival(slug="withdrawals", title="Withdrawals", painting_file="art_10.jpg")
    event, passage = place["event"], place["chinese"]
    reader = User.objects.create_user("withdrawing-reader", password="reader-pass-1")
    consent_give(user=reader, public_animation=True, open_dataset=False)
    left = 0
    for _ in range(count):
        recording = approved_reading_with_alignment(passage, reader)
        film = render_withdrawn_mid_way(recording, event)
        left += len(storage.list_names(storage.animation_prefix(film.id)))
        left += len(storage.list_names(reading_folder(recording.id)))
    return left, count


def main() -> None:
    import logging

    # Each refused parameter is a 400 that Django logs as a warning with its traceback: the count is the figure.
    logging.disable(logging.WARNING)
    call_command("migrate", verbosity=0)
    load = os.getloadavg()[0]
    print(f"\nTrust benchmark (load average {load:.2f}, 2 cores), behind one trusted proxy")
    from django.conf import settings

    logins = spoofed_logins()
    floor = settings.ACCOUNT_LOGIN_FAILURE_LIMIT
    print(f"wrong passwords for one account, a new invented address each: {logins} before refusal (floor <= {floor})")
    held = sockets_held()
    print(
        f"sockets one address holds on Daphne without nginx: {held} "
        f"(cap WEBSOCKETS_PER_ADDRESS = {settings.WEBSOCKETS_PER_ADDRESS})"
    )
    errors, requests = fuzzed_route_errors()
    print(f"server errors over 7 filtered routes with fuzzed parameters, 3 roles: {errors} of {requests} (floor 0)")
    left, withdrawals = objects_left_after_mid_render_withdrawals(WITHDRAWALS)
    print(f"objects left in storage after {withdrawals} readings withdrawn mid-render: {left} (floor 0)")
    report("trust.wrong_passwords_before_lockout", logins, "tries", better="lower", floor=floor, tolerance=0)
    report("trust.sockets_per_address", held, "sockets", better="lower", floor=settings.WEBSOCKETS_PER_ADDRESS)
    report("trust.server_errors_fuzzed_routes", errors, "errors", better="lower", floor=0, tolerance=0)
    report("trust.objects_left_after_withdrawals", left, "objects", better="lower", floor=0, tolerance=0)
    failed = logins > floor or held > settings.WEBSOCKETS_PER_ADDRESS or errors > 0 or left > 0
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
