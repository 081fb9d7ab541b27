"""Fuzzing under abuse: ``python platform/with_redis.py .venv/bin/python bench/bench_fuzz.py``.

1. 10,000 malformed readings through the upload API as a logged-in resident (truncated, bit-flipped,
   wrong container, lying headers, huge durations, bomb-like; testkit/fuzz_inputs.py), and
2. 1,000 malformed paintings through the curators' upload form,
through Django's full request stack in this process, on a scratch SQLite database and media folder.
Prints: server errors (must be 0), refusals without a clear message (0), refusals that left a row or a
file behind (0), how many were accepted because they still decode, and the public pages' answers and
slowest answer time, checked every 250 requests while the flood runs.
3. schemathesis over the OpenAPI schema as each of six roles, BENCH_FUZZ_EXAMPLES examples per operation.

BENCH_FUZZ_UPLOADS, BENCH_FUZZ_PAINTINGS and BENCH_FUZZ_EXAMPLES change the counts.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from testkit.scratch_site import use_scratch_site  # noqa: E402

SCRATCH = Path(tempfile.mkdtemp(prefix="shuohua-bench-fuzz-"))
use_scratch_site(SCRATCH, var_dir=True, log_level="ERROR")
os.environ["CHANNELS_PREFIX"] = "shuohua-bench-fuzz"
# The flood is one resident's: the upload throttle (tested on its own) would stop it at 30.
os.environ["UPLOAD_THROTTLE_RATE"] = "1000000/hour"

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

# Responses carry their template context (the refused form and its message), as under the test runner.
setup_test_environment()

UPLOADS = int(os.environ.get("BENCH_FUZZ_UPLOADS", "10000"))
PAINTINGS = int(os.environ.get("BENCH_FUZZ_PAINTINGS", "1000"))
EXAMPLES = int(os.environ.get("BENCH_FUZZ_EXAMPLES", "50"))
HEALTH_EVERY = 250


def festival():
    from django.contrib.auth.models import Group

    from accounts.models import User
    from contributions.services import consent_give
    from testkit.roles import poem_festival

    place = poem_festival(slug="fuzz-festival", title="Fuzz Festival")
    groups = {name: Group.objects.get_or_create(name=name)[0] for name in ("moderators", "curators")}
    resident = User.objects.create_user("resident", password="resident-pass-1")
    consent_give(user=resident, public_animation=True, open_dataset=False)
    neighbour = User.objects.create_user("neighbour", password="neighbour-pass-1")
    consent_give(user=neighbour, public_animation=True, open_dataset=False)
    return place, resident, neighbour, groups


class Watch:
    """Every HEALTH_EVERY requests: do the public pages still answer, and how fast?"""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.checks = 0
        self.failures = 0
        self.slowest = 0.0

    def __call__(self, number: int) -> None:
        if number % HEALTH_EVERY:
            return
        for url in ("/", "/api/passages/", "/events/fuzz-festival/"):
            started = time.perf_counter()
            status = self.client.get(url).status_code
            self.slowest = max(self.slowest, time.perf_counter() - started)
            self.checks += 1
            self.failures += status != 200


def print_counts(title: str, counts: dict, seconds: float, watch: Watch) -> None:
    print(f"\n{title}: {counts['sent']} sent in {seconds:.0f} s ({counts['sent'] / seconds:.1f}/s)")
    for key in ("server_errors", "unclear", "stored_on_refusal", "refused", "accepted"):
        print(f"  {key:<18} {counts[key]}")
    for kind, tally in sorted(counts.get("by_kind", {}).items()):
        print(f"    {kind:<16} refused {tally['refused']:>5}  accepted (still decodes) {tally['accepted']:>5}")
    print(
        f"  public pages during the flood: {watch.checks} checks, {watch.failures} not 200,"
        f" slowest {watch.slowest:.2f} s"
    )


def main() -> int:
    from rest_framework.test import APIClient

    from accounts.models import User
    from testkit.fuzz_inputs import run_painting_fuzz, run_upload_fuzz

    call_command("migrate", verbosity=0)
    media = Path(os.environ["MEDIA_ROOT"])
    media.mkdir(parents=True, exist_ok=True)
    place, resident, neighbour, groups = festival()
    watch = Watch(Client())
    uploader = APIClient()
    uploader.force_authenticate(resident)
    started = time.perf_counter()
    uploads = run_upload_fuzz(
        uploader, passage_id=place["chinese"].id, media_root=media, count=UPLOADS, on_progress=watch
    )
    print_counts("Malformed readings (upload API)", uploads, time.perf_counter() - started, watch)

    curator = User.objects.create_user("fuzz-curator", password="curator-pass-1")
    curator.groups.add(groups["curators"])
    place["event"].curators.add(curator)
    curator_client = Client()
    curator_client.force_login(curator)
    painting_watch = Watch(Client())
    started = time.perf_counter()
    paintings = run_painting_fuzz(
        curator_client, event_slug=place["event"].slug, media_root=media, count=PAINTINGS, on_progress=painting_watch
    )
    seconds = time.perf_counter() - started
    print_counts("Malformed paintings (curators' form)", paintings, seconds, painting_watch)

    failures = schemathesis_roles(place, resident, neighbour, groups)
    bad = uploads["server_errors"] + uploads["unclear"] + uploads["stored_on_refusal"]
    bad += paintings["server_errors"] + paintings["unclear"] + paintings["stored_on_refusal"]
    bad += watch.failures + painting_watch.failures + failures
    print(f"\nfuzz: {'OK' if bad == 0 else f'{bad} problems'}")
    return 0 if bad == 0 else 1


def schemathesis_roles(place, resident, neighbour, groups) -> int:
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    from testkit.api_fuzz import credentials, fuzz, load_schema
    from testkit.roles import ROLES, build_world

    # One connection for the in-process handler and this script (as Django's test client does).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    world = build_world(place, resident, neighbour, groups)
    schema = load_schema()
    total = 0
    print(f"\nschemathesis, {EXAMPLES} examples per operation:")
    for role in ROLES:
        started = time.perf_counter()
        failures, calls = fuzz(schema, credentials(world, role), examples=EXAMPLES)
        total += len(failures)
        print(
            f"  {role:<12} {calls:>6} calls  {len(failures)} failing operations  {time.perf_counter() - started:.0f} s"
        )
        for failure in failures:
            print(f"    {failure[:300]}")
    return total


if __name__ == "__main__":
    sys.exit(main())
