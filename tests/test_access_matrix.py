"""Every URL and websocket route against every role, with an expected status per cell.

The routes are walked from the URLconf and the websocket router, so a new view without a line in
EXPECTED (or a removed one still listed) fails the test: nobody can add a page and forget to decide
who may open it. Objects belong to resident A on event X unless said otherwise; moderator X is
assigned to event X, moderator Y to event Y only.
"""

from __future__ import annotations

import asyncio

import pytest
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from testkit.roles import PASSWORDS, ROLES, build_world

A, RA, RB, MX, MY, CU = ROLES  # anonymous, resident A, resident B, moderator X, moderator Y, curator


def row(anonymous, resident_a, resident_b, moderator_x, moderator_y, curator) -> dict[str, int]:
    return dict(zip(ROLES, (anonymous, resident_a, resident_b, moderator_x, moderator_y, curator), strict=True))


def same(status: int) -> dict[str, int]:
    return row(*[status] * 6)


LOGIN = 302  # to the login page
# GET of every non-admin route: {route name: {role: status}}.
EXPECTED_GET = {
    "home": same(200),
    "event": same(200),
    "wall": same(200),
    "animation": same(404),  # film A is not published: its page does not exist for anyone
    "painting": same(200),
    # A deep-zoom tile of a painting's pyramid: a redirect to the storage's URL of it, for anyone (as the
    # painting's page); tiles outside the pyramid are 404 (tests/test_storage_s3.py).
    "painting-tile": same(302),
    # The festival as an event (issue 26): its programme, as a page and as calendar files, is public.
    "event-programme": same(200),
    "event-programme-ics": same(200),
    "programme-item-ics": same(200),
    "curation": row(LOGIN, 403, 403, 403, 403, 200),
    "curation-event-new": row(LOGIN, 403, 403, 403, 403, 200),
    "curation-event": row(LOGIN, 403, 403, 403, 403, 200),
    # The festival's dashboard: curators and the festival's own moderators (X), not Y's.
    "curation-event-dashboard": row(LOGIN, 403, 403, 200, 403, 200),
    "curation-event-dashboard-data": row(LOGIN, 403, 403, 200, 403, 200),
    "curation-event-dashboard-csv": row(LOGIN, 403, 403, 200, 403, 200),
    # The open dataset's releases (issue 26): the festival's curators; every festival's: superusers only.
    "curation-event-dataset": row(LOGIN, 403, 403, 403, 403, 200),
    "curation-datasets": row(LOGIN, 403, 403, 403, 403, 403),
    "curation-dataset-download": row(LOGIN, 403, 403, 403, 403, 200),
    # Its programme and curators' choice: the festival's curators.
    "curation-programme": row(LOGIN, 403, 403, 403, 403, 200),
    "curation-programme-item": row(LOGIN, 403, 403, 403, 403, 200),
    "curation-programme-item-delete": row(LOGIN, 403, 403, 403, 403, 405),
    "curation-featured": row(LOGIN, 403, 403, 403, 403, 200),
    "curation-featured-item": row(LOGIN, 403, 403, 403, 403, 405),
    "curation-painting": row(LOGIN, 403, 403, 403, 403, 200),
    "curation-painting-detect": row(LOGIN, 403, 403, 403, 403, 405),
    "curation-landmarks": row(LOGIN, 403, 403, 403, 403, 200),
    "curation-figure": row(LOGIN, 403, 403, 403, 403, 405),
    "curation-landmarks-fit": row(LOGIN, 403, 403, 403, 403, 405),
    "curation-passage": row(LOGIN, 403, 403, 403, 403, 200),
    "curation-passage-open": row(LOGIN, 403, 403, 403, 403, 405),
    "curation-preview-file": row(LOGIN, 403, 403, 403, 403, 200),
    "passages": same(200),
    "record": row(LOGIN, 200, 200, 302, 302, 302),  # staff have not given consent: sent to the consent page
    "consent": row(LOGIN, 200, 200, 200, 200, 200),
    "consent-withdraw": row(LOGIN, 405, 405, 405, 405, 405),
    "my-recordings": row(LOGIN, 200, 200, 200, 200, 200),
    "account": row(LOGIN, 200, 200, 200, 200, 200),
    "account-download": row(LOGIN, 200, 200, 200, 200, 200),  # each downloads their own
    "withdraw": row(LOGIN, 405, 405, 405, 405, 405),
    "recording-open-dataset": row(LOGIN, 405, 405, 405, 405, 405),  # POST only, by the reader
    "recording-audio": row(LOGIN, 200, 404, 200, 404, 404),
    # Recording A has no camera video; who may play one is tested in tests/test_camera_recording.py.
    "recording-video": row(LOGIN, 404, 404, 404, 404, 404),
    "moderation": row(LOGIN, 403, 403, 200, 200, 403),
    "moderation-decide": row(LOGIN, 403, 403, 405, 405, 403),
    "moderation-films": row(LOGIN, 403, 403, 200, 200, 403),
    "moderation-audit": row(LOGIN, 403, 403, 403, 403, 200),
    "moderation-reverse": row(LOGIN, 403, 403, 403, 403, 405),
    "signup": same(200),
    "login": same(200),
    "logout": same(405),
    "password_change": row(LOGIN, 200, 200, 200, 200, 200),
    "password_change_done": row(LOGIN, 200, 200, 200, 200, 200),
    "password_reset": same(200),
    "password_reset_done": same(200),
    "password_reset_confirm": same(200),  # the page saying the link expired (A logged in since)
    "password_reset_complete": same(200),
    "set_language": same(302),
    "api-passages": same(200),  # open passages are public, as on the passages page
    "api-consent": row(403, 200, 200, 404, 404, 404),
    "api-recordings": row(403, 200, 200, 200, 200, 200),
    "api-recording": row(403, 200, 404, 404, 404, 404),
    "api-funnel": same(405),  # POST only: anonymous counts of the recording flow
    "api-moderation-queue": row(403, 403, 403, 200, 200, 403),
    "api-moderation-claim-next": row(403, 403, 403, 405, 405, 403),
    "api-review": row(403, 403, 403, 200, 403, 403),  # curators are not moderators
    "api-claim": row(403, 403, 403, 405, 405, 403),
    "api-release": row(403, 403, 403, 405, 405, 403),
    "api-approve": row(403, 403, 403, 405, 405, 403),
    "api-reject": row(403, 403, 403, 405, 405, 403),
    "api-audit": row(403, 403, 403, 403, 403, 200),
    "api-undo": row(403, 403, 403, 405, 405, 403),
    "api-reverse": row(403, 403, 403, 403, 403, 405),
    "api-film-queue": row(403, 403, 403, 200, 200, 403),
    "api-film-publish": row(403, 403, 403, 405, 405, 403),
    "api-film-reject": row(403, 403, 403, 405, 405, 403),
    "api-event-animations": same(200),
    "api-schema": same(200),
    "api-docs": same(200),
    "health-live": same(200),
    "health-ready": same(200),
    # Open by design (health/views.py): the operators' proxy (platform/nginx.conf) keeps it off the public site.
    "metrics": same(200),
    "public-media": row(404, 200, 404, 200, 404, 200),  # film A's video, not yet published
}

# POST with an empty body to every route that changes something, in this order of roles, so that
# the statuses are those of a fresh state for the refused roles (a refusal changes nothing).
EXPECTED_POST = {
    "api-moderation-claim-next": row(403, 403, 403, 200, 204, 403),  # Y's queue is empty
    "api-claim": row(403, 403, 403, 200, 403, 403),
    "api-release": row(403, 403, 403, 204, 403, 403),
    "api-approve": row(403, 403, 403, 200, 403, 403),
    "api-reject": row(403, 403, 403, 400, 403, 403),  # no reason given
    "api-undo": row(403, 403, 403, 200, 403, 403),  # moderator X undoes their rejection of B's reading
    "api-reverse": row(403, 403, 403, 403, 403, 409),  # already undone
    "api-film-publish": row(403, 403, 403, 200, 403, 403),
    "api-film-reject": row(403, 403, 403, 400, 403, 403),  # no reason given
    "moderation-decide": row(LOGIN, 403, 403, 302, 403, 403),
    "moderation-reverse": row(LOGIN, 403, 403, 403, 403, 302),
    "curation-painting-detect": row(LOGIN, 403, 403, 403, 403, 302),
    "curation-figure": row(LOGIN, 403, 403, 403, 403, 302),
    "curation-landmarks-fit": row(LOGIN, 403, 403, 403, 403, 400),  # no box or point: says so
    "curation-passage-open": row(LOGIN, 403, 403, 403, 403, 302),
    "curation-programme": row(LOGIN, 403, 403, 403, 403, 200),  # nothing filled in: the form says what
    "curation-programme-item": row(LOGIN, 403, 403, 403, 403, 200),
    "curation-featured": row(LOGIN, 403, 403, 403, 403, 302),  # no film named: back to the page, saying so
    "curation-featured-item": row(LOGIN, 403, 403, 403, 403, 400),  # no action
    "curation-programme-item-delete": row(LOGIN, 403, 403, 403, 403, 302),
    "api-recording": same(405) | {"anonymous": 403},  # read or delete only
    "api-funnel": same(400),  # open to every visitor; an empty body names no step
    # Before "withdraw": only the reader opts a reading in or out (an empty body: out).
    "recording-open-dataset": row(LOGIN, 302, 404, 404, 404, 404),
    "withdraw": row(LOGIN, 302, 404, 404, 404, 404),
    "curation-event-dataset": row(LOGIN, 403, 403, 403, 403, 302),  # back to the page: nothing ready to release
    "curation-datasets": row(LOGIN, 403, 403, 403, 403, 403),
    "consent-withdraw": row(LOGIN, 302, 302, 302, 302, 302),  # each withdraws their own
    "account": row(LOGIN, 200, 200, 200, 200, 200),  # no password: the page says so, nothing is deleted
}

# Websocket routes: whether the connection is accepted.
EXPECTED_SOCKETS = {
    "ws/events/<uuid:event_id>/": row(True, True, True, True, True, True),
    "ws/recordings/<uuid:recording_id>/": row(False, True, False, False, False, False),
    "ws/moderation/": row(False, False, False, True, True, False),
}


def admin_expectation(name: str) -> dict[str, int]:
    """Nobody here is staff: the admin shows its login page and sends everything else there."""
    if name == "login":
        return same(200)
    return same(302)


def walk(patterns, namespace=None):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from walk(pattern.url_patterns, pattern.namespace or namespace)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield namespace, pattern


def url_for(namespace, pattern: URLPattern, values: dict) -> str:
    if pattern.name == "public-media":
        return f"/media/{values['media_path']}"
    names = list(pattern.pattern.regex.groupindex)
    kwargs = {name: values[name] for name in names}
    return reverse(f"{namespace}:{pattern.name}" if namespace else pattern.name, kwargs=kwargs)


@pytest.fixture
def world(festival, resident, other_resident, groups):
    from django.contrib.auth.tokens import default_token_generator
    from django.core.files.base import ContentFile
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    from contributions import services
    from gallery.models import PassagePreview

    world = build_world(festival, resident, other_resident, groups)
    services.recording_reject(recording=world.recording_b, moderator=world.users["moderator_x"], reason="noise")
    preview = PassagePreview.objects.create(passage=world.passage_x, status=PassagePreview.Status.READY)
    preview.sample_voice.save("voice.flac", ContentFile(b"fLaC"), save=False)
    preview.video.save(f"previews/{preview.id}/film.mp4", ContentFile(world.film_a.video.read()), save=False)
    preview.save()
    from catalogue.models import Figure

    figure = Figure.objects.create(
        painting=world.painting_x, face={"box": [10, 10, 40, 40], "score": 1.0, "landmarks": {}}, origin="placed"
    )
    from animation.models import DatasetRelease

    release = DatasetRelease.objects.create(event=world.event_x, version=1, status=DatasetRelease.Status.READY)
    release.archive.save(f"datasets/{world.event_x.id}/1/release.zip", ContentFile(b"PK\x05\x06" + bytes(18)))
    from django.utils import timezone

    from gallery.models import FeaturedFilm, ProgrammeItem

    item = ProgrammeItem.objects.create(event=world.event_x, title="读诗", venue="阅览室", starts_at=timezone.now())
    featured = FeaturedFilm.objects.create(event=world.event_x, animation=world.film_a)
    from catalogue.models import Painting

    tiles_folder = "0123456789ab"
    Painting.objects.filter(id=world.painting_x.id).update(
        tiles={
            "width": 200, "height": 100, "tile_size": 256, "format": "jpg",
            "levels": [{"level": 0, "width": 200, "height": 100, "columns": 1, "rows": 1}],
            "prefix": f"paintings/{world.painting_x.id}/tiles/{tiles_folder}",
        }
    )  # fmt: skip
    world.values = {
        "item_id": item.id,
        "featured_id": featured.id,
        "figure_id": figure.id,
        "slug": world.event_x.slug,
        "animation_id": world.film_a.id,
        "painting_id": world.painting_x.id,
        "passage_id": world.passage_x.id,
        "recording_id": world.recording_a.id,
        "event_id": world.event_x.id,
        "decision_id": _last_decision_id(),
        "preview_id": preview.id,
        "folder": tiles_folder,
        "level": 0,
        "column": 0,
        "row": 0,
        "extension": "jpg",
        "release_id": release.id,
        "kind": "video",
        "uidb64": urlsafe_base64_encode(force_bytes(resident.pk)),
        "token": default_token_generator.make_token(resident),
        "media_path": f"animations/{world.film_a.id}/film.mp4",
        # The admin's own parameters.
        "app_label": "accounts",
        "object_id": str(resident.pk),
        "id": str(resident.pk),
        "content_type_id": "1",
        "url": "x",
    }
    return world


def _last_decision_id() -> int:
    from contributions.models import ModerationDecision

    return ModerationDecision.objects.latest("id").id


@pytest.mark.django_db
def test_every_url_answers_every_role_as_expected(world):
    routes = list(walk(get_resolver().url_patterns))
    public = {pattern.name for namespace, pattern in routes if namespace is None}
    assert public == set(EXPECTED_GET), (
        f"routes without an expectation: {sorted(public - set(EXPECTED_GET))}; "
        f"expectations without a route: {sorted(set(EXPECTED_GET) - public)}"
    )
    clients = {role: world.client(role) for role in ROLES}
    mismatches = []
    seen = set()
    for namespace, pattern in routes:
        key = (namespace, pattern.name)
        if key in seen:  # django.contrib.auth.urls repeats login and logout
            continue
        seen.add(key)
        url = url_for(namespace, pattern, world.values)
        expected = admin_expectation(pattern.name) if namespace == "admin" else EXPECTED_GET[pattern.name]
        got = {role: clients[role].get(url).status_code for role in ROLES}
        if got != expected:
            mismatches.append(f"GET {url} ({pattern.name}): expected {expected}, got {got}")
    assert not mismatches, "\n".join(mismatches)
    assert len(seen) > 100


@pytest.mark.django_db
def test_every_change_is_refused_to_roles_that_may_not_make_it(world):
    routes = {pattern.name: pattern for namespace, pattern in walk(get_resolver().url_patterns) if namespace is None}
    mismatches = []
    for name, expected in EXPECTED_POST.items():
        url = url_for(None, routes[name], world.values)
        got = {}
        for role in ROLES:
            client = world.client(role)
            got[role] = client.post(url, content_type="application/json", data={}).status_code
        if got != expected:
            mismatches.append(f"POST {url} ({name}): expected {expected}, got {got}")
    assert not mismatches, "\n".join(mismatches)


def session_header(role: str, world) -> list[tuple[bytes, bytes]]:
    if role == "anonymous":
        return []
    client = Client()
    response = client.post("/accounts/login/", {"username": world.users[role].username, "password": PASSWORDS[role]})
    assert response.status_code == 302, role
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    return [(b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode())]


@pytest.mark.django_db(transaction=True)
def test_every_websocket_route_answers_every_role_as_expected(world):
    from config.asgi import application
    from gallery.routing import websocket_urlpatterns

    routes = {str(pattern.pattern) for pattern in websocket_urlpatterns}
    assert routes == set(EXPECTED_SOCKETS), f"websocket routes without an expectation: {routes ^ set(EXPECTED_SOCKETS)}"
    headers = {role: session_header(role, world) for role in ROLES}
    origin = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]

    async def connected(path: str, role: str) -> bool:
        communicator = WebsocketCommunicator(application, path, headers=origin + headers[role])
        accepted, _ = await communicator.connect()
        await communicator.disconnect()
        return accepted

    async def scenario() -> dict:
        results = {}
        for route in EXPECTED_SOCKETS:
            path = "/" + route.replace("<uuid:event_id>", str(world.event_x.id)).replace(
                "<uuid:recording_id>", str(world.recording_a.id)
            )
            results[route] = {role: await connected(path, role) for role in ROLES}
        return results

    assert asyncio.run(scenario()) == EXPECTED_SOCKETS


# ---------------------------------------------------------------------------------------------------
# The holes a route walk over one state cannot show: a festival nobody moderates, a moderator's own
# reading, another festival's curation, a deleted account, a film whose reading was withdrawn mid-render.


@pytest.fixture
def cases(world, groups, settings, django_capture_on_commit_callbacks):
    """WORLD plus the states of the special rows, each made through the code residents and workers run."""
    from accounts.models import User
    from animation.models import Animation
    from catalogue.models import Event, Figure, Painting, Passage
    from contributions import services
    from testkit.mid_render import approved_reading_with_alignment, render_withdrawn_mid_way
    from testkit.roles import make_film, submit

    settings.ANIMATION_SIZE = 128
    users = world.users
    # A festival created without moderators: its readings wait for an assignment, reviewed by nobody.
    event_z = Event.objects.create(slug="unassigned-festival", title="Nobody moderates this")
    painting_z = Painting.objects.create(event=event_z, title="Z", image=world.painting_x.image.name)
    passage_z = Passage.objects.create(
        event=event_z, painting=painting_z, title="静夜思", text=world.passage_x.text, language="zh", max_seconds=30
    )
    unassigned = submit(passage_z, users["resident_a"])
    # Moderator X reads on the festival they moderate.
    services.consent_give(user=users["moderator_x"], public_animation=True, open_dataset=False)
    own = submit(world.passage_x, users["moderator_x"])
    # Resident C had a published film, then deleted the account through the account page.
    resident_c = User.objects.create_user("resident-c", password="resident-c-pass-1", display_name="C")
    services.consent_give(user=resident_c, public_animation=True, open_dataset=False)
    deleted_reading = submit(world.passage_x, resident_c)
    deleted_film = Animation.objects.create(
        recording=deleted_reading, event=world.event_x, status=Animation.Status.PUBLISHED, published_at=timezone_now()
    )
    make_film(deleted_film)
    client_c = Client()
    login = {"username": "resident-c", "password": "resident-c-pass-1"}
    assert client_c.post("/accounts/login/", login).status_code == 302
    with django_capture_on_commit_callbacks(execute=True):  # the erasure deletes files after the commit
        assert client_c.post("/me/account/", {"password": "resident-c-pass-1"}).status_code == 302
    # Resident A's second reading, approved; the real render task withdraws it at its first frame, as a
    # resident pressing "withdraw" while the worker renders would.
    # The world's placed figure has no key points: the render looks for the face itself.
    Figure.objects.filter(painting=world.painting_x).update(hidden=True)
    withdrawn = approved_reading_with_alignment(world.passage_x, users["resident_a"])
    with django_capture_on_commit_callbacks(execute=True):  # the erasure deletes files after the commit
        withdrawn_film = render_withdrawn_mid_way(withdrawn, world.event_x)
    return {
        "unassigned": unassigned,
        "event_z": event_z,
        "own": own,
        "client_c": client_c,
        "deleted_reading": deleted_reading,
        "deleted_film": deleted_film,
        "withdrawn": withdrawn,
        "withdrawn_film": withdrawn_film,
    }


def timezone_now():
    from django.utils import timezone

    return timezone.now()


@pytest.mark.slow
@pytest.mark.django_db
def test_the_special_cases_answer_every_role_as_expected(world, cases):
    from core import storage

    deleted, withdrawn = cases["deleted_film"].id, cases["withdrawn_film"].id

    def audio(key: str) -> str:
        return reverse("recording-audio", kwargs={"recording_id": cases[key].id})

    def review(key: str, action: str = "") -> str:
        return reverse("api-review", kwargs={"recording_id": cases[key].id}) + (f"{action}/" if action else "")

    def film_page(animation_id) -> str:
        return reverse("animation", kwargs={"animation_id": animation_id})

    def curation(slug: str, page: str = "curation-event") -> str:
        return reverse(page, kwargs={"slug": slug})

    expected = {
        # Nobody is assigned to festival Z: no moderator may open its reading, only its reader may hear it.
        review("unassigned"): row(403, 403, 403, 403, 403, 403),
        audio("unassigned"): row(LOGIN, 200, 404, 404, 404, 404),
        curation(cases["event_z"].slug, "curation-event-dashboard"): row(LOGIN, 403, 403, 403, 403, 403),
        # Moderator X's own reading: never theirs to review; Y does not moderate festival X.
        review("own"): row(403, 403, 403, 403, 403, 403),
        # Festival Y is not the curator's: its curation pages are refused to them; its moderator sees
        # its dashboard.
        curation(world.event_y.slug): row(LOGIN, 403, 403, 403, 403, 403),
        curation(world.event_y.slug, "curation-event-dashboard"): row(LOGIN, 403, 403, 403, 200, 403),
        # Resident C deleted the account: the published film, its files and the voice are gone for all.
        film_page(deleted): same(410),  # gone: the page says the film was taken down
        f"/media/animations/{deleted}/film.mp4": same(404),
        f"/media/animations/{deleted}/poster.jpg": same(404),
        audio("deleted_reading"): row(LOGIN, 404, 404, 404, 404, 404),
        # Withdrawn while its film rendered: nothing the render stored can be fetched, by anyone.
        film_page(withdrawn): same(410),
        f"/media/animations/{withdrawn}/film.mp4": same(404),
        f"/media/animations/{withdrawn}/poster.jpg": same(404),
        f"/media/animations/{withdrawn}/subtitles.vtt": same(404),
        audio("withdrawn"): row(LOGIN, 404, 404, 404, 404, 404),
    }
    clients = {role: world.client(role) for role in ROLES}
    mismatches = []
    for url, wanted in expected.items():
        got = {role: clients[role].get(url).status_code for role in ROLES}
        if got != wanted:
            mismatches.append(f"GET {url}: expected {wanted}, got {got}")
    posts = {
        review("unassigned", "claim"): row(403, 403, 403, 403, 403, 403),
        review("own", "claim"): row(403, 403, 403, 403, 403, 403),
        review("own", "approve"): row(403, 403, 403, 403, 403, 403),
    }
    for url, wanted in posts.items():
        got = {role: clients[role].post(url, content_type="application/json", data={}).status_code for role in ROLES}
        if got != wanted:
            mismatches.append(f"POST {url}: expected {wanted}, got {got}")
    assert not mismatches, "\n".join(mismatches)
    # Nobody's queue holds the unassigned reading or moderator X's own.
    for role in ("moderator_x", "moderator_y"):
        queued = {item["id"] for item in clients[role].get("/api/moderation/queue/").json()["results"]}
        assert not queued & {str(cases["unassigned"].id), str(cases["own"].id)}, role
    # The deleted account's session ended and its password no longer logs in.
    assert cases["client_c"].get("/me/recordings/").status_code == LOGIN
    answer = Client().post("/accounts/login/", {"username": "resident-c", "password": "resident-c-pass-1"})
    assert answer.status_code == 200
    # What the render stored after the withdrawal erased the folder is gone from storage too.
    assert storage.list_names(f"animations/{withdrawn}") == []
    assert storage.list_names(f"animations/{deleted}") == []
    assert cases["withdrawn_film"].status == "removed"
