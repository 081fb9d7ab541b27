"""The film is ready before the moderator stops listening (#25): each pending reading's film is made
privately while it waits, seen by nobody, and the approval only publishes it.

The first tests drive the services and tasks as the workers call them (a film's files stand in for a
render where the engine adds nothing to what is checked); the slow ones at the end run the real worker,
real Whisper and the real engine, from the upload to the published film.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.test import APIClient

from testkit import cluster
from testkit.media import CHINESE_POEM

FILM_FILES = {"video": "film.mp4", "poster": "poster.jpg", "subtitles": "subtitles.vtt", "curves": "curves.json"}


# ---------------------------------------------------------------------------------------------------
# Helpers


def submit(festival, resident, passage: str = "chinese"):
    from contributions import services

    upload = SimpleUploadedFile("take.flac", CHINESE_POEM.read_bytes())
    return services.recording_submit(contributor=resident, passage=festival[passage], upload=upload)


def arrive(recording):
    """What the workers do while the reading waits (without Whisper: the text's alignment is given):
    the 48 kHz voice copy, then the early alignment task, which starts the private film."""
    from animation.models import Alignment
    from animation.tasks import recording_align_early
    from contributions.tasks import recording_prepare_voice
    from core.speech_models import whisper_model_for

    recording_prepare_voice(str(recording.id))
    language = recording.passage.language
    Alignment.objects.create(
        recording=recording,
        text=recording.text_to_read,
        language=language,
        model_name=whisper_model_for(language),
        units=[{"text": "床", "start": 0.1, "end": 0.4}],
        phrases=[],
        webvtt="WEBVTT\n\n00:00.100 --> 00:00.400\n床\n",
    )
    recording_align_early(str(recording.id))  # the alignment is current: no Whisper, the film starts
    recording.refresh_from_db()
    return recording


def film_of(recording):
    from animation.models import Animation

    films = list(Animation.objects.filter(recording_id=recording.id))
    assert len(films) == 1, films
    return films[0]


def render_privately(animation, *, finish: bool = True) -> str:
    """As the render worker does it: claim, store the files, record the film (unless FINISH is False:
    the worker is then mid-render). Returns the claim's token."""
    from animation import services
    from animation.models import Animation

    token = services.animation_claim(animation_id=animation.id, status=Animation.Status.RENDERING, worker="test:1")
    assert token, "the render worker could not claim the film made before the approval"
    if finish:
        record_files(animation, token=token)
    return token


def record_files(animation, *, token: str) -> bool:
    from animation import services
    from core import storage

    prefix = storage.animation_prefix(animation.id)
    placed = {
        key: storage.save_bytes(b"\x00\x00\x00\x18ftypisom" + b"\x00" * 20_000, f"{prefix}/{name}")
        for key, name in FILM_FILES.items()
    }
    recording = animation.recording
    return services.animation_record_film(
        animation_id=animation.id,
        files=placed,
        frame_count=25,
        stage_seconds={"render_task": 2.0},
        token=token,
        motion={"source": "voice", "note": ""},
        inputs_digest=services.film_inputs_digest(recording=recording),
    )


def stored(animation_id) -> list[str]:
    from core import storage

    return storage.list_names(storage.animation_prefix(animation_id))


class Announcements:
    """Every animation signal sent (what the gallery's sockets would be told), while in use."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def __enter__(self):
        from animation import signals

        self.receivers = []
        for name in ("animation_progress", "animation_published", "animation_removed", "event_progress_changed"):
            signal = getattr(signals, name)

            def receiver(sender, name=name, **arguments):
                animation = arguments.get("animation")
                self.sent.append((name, str(animation.status) if animation is not None else ""))

            signal.connect(receiver, weak=False)
            self.receivers.append((signal, receiver))
        return self

    def __exit__(self, *exc) -> None:
        for signal, receiver in self.receivers:
            signal.disconnect(receiver)

    def of(self, name: str) -> list[str]:
        return [status for sent, status in self.sent if sent == name]


# ---------------------------------------------------------------------------------------------------
# Arrival: the private film starts once everything it needs is there


@pytest.mark.django_db
def test_a_pending_reading_gets_its_film_started_privately_once_voice_and_alignment_are_there(festival, resident):
    from animation.models import Animation
    from animation.tasks import recording_align_early

    recording = submit(festival, resident)
    with Announcements() as told:
        recording = arrive(recording)
        animation = film_of(recording)
        assert animation.status == Animation.Status.RENDERING_PRIVATE
        recording_align_early(str(recording.id))  # a duplicated message starts nothing more
        assert Animation.objects.filter(recording=recording).count() == 1
    assert told.sent == [], "a film made before the approval was announced to the sockets"


@pytest.mark.django_db
def test_with_the_setting_off_nothing_is_rendered_before_the_approval(festival, resident, moderator, settings):
    from animation.models import Animation
    from contributions import services

    settings.ANIMATION_RENDER_BEFORE_APPROVAL = False
    recording = arrive(submit(festival, resident))
    assert not Animation.objects.filter(recording=recording).exists()
    services.recording_approve(recording=recording, moderator=moderator)
    assert film_of(recording).status == Animation.Status.QUEUED  # the render starts now, as before


@pytest.mark.django_db
def test_a_camera_reading_starts_its_private_film_only_after_its_motion_curves(festival, resident):
    from animation.models import Animation
    from contributions import services
    from contributions.models import Recording

    recording = submit(festival, resident)
    # As a camera reading arrives: a private video whose curves are not extracted yet.
    Recording.objects.filter(id=recording.id).update(video=f"recordings/{recording.id}/video.webm")
    recording = arrive(Recording.objects.get(id=recording.id))
    assert not Animation.objects.filter(recording=recording).exists(), "rendered before the reader's curves"
    services.recording_record_motion(recording_id=recording.id, curves={"usable": False}, note="no face")
    assert film_of(recording).status == Animation.Status.RENDERING_PRIVATE


@pytest.mark.django_db
def test_a_private_film_is_seen_by_nobody_but_the_events_moderators_and_curators(festival, resident, moderator, groups):
    from accounts.models import User
    from animation.models import Animation
    from catalogue.models import Event

    recording = arrive(submit(festival, resident))
    animation = film_of(recording)
    with Announcements() as told:
        render_privately(animation)
    animation.refresh_from_db()
    assert animation.status == Animation.Status.RENDERED_PRIVATE
    assert sorted(name.rsplit("/", 1)[1] for name in stored(animation.id)) == sorted(FILM_FILES.values())
    assert told.sent == []
    recording.refresh_from_db()
    assert recording.motion_source == "", "the reader was told about a film that is not theirs yet"

    curator = User.objects.create_user("curator")
    curator.groups.add(groups["curators"])
    festival["event"].curators.add(curator)
    elsewhere = User.objects.create_user("elsewhere")
    elsewhere.groups.add(groups["moderators"])
    Event.objects.create(slug="elsewhere", title="Elsewhere").moderators.add(elsewhere)

    def fetch(user, url):
        client = Client()
        if user is not None:
            client.force_login(user)
        return client.get(url)

    for name in FILM_FILES.values():
        if name == "curves.json":
            continue  # never served at all
        url = f"/media/animations/{animation.id}/{name}"
        assert fetch(None, url).status_code == 404, url
        assert fetch(resident, url).status_code == 404, f"the reader fetched the unapproved {name}"
        assert fetch(elsewhere, url).status_code == 404, url
        assert fetch(moderator, url).status_code == 200, url
        assert fetch(curator, url).status_code == 200, url
    assert fetch(None, f"/animations/{animation.id}/").status_code == 404
    listing = fetch(None, f"/api/events/{festival['event'].id}/animations/").json()
    assert listing["animations"] == [] and listing["in_progress"] == 0
    reader = APIClient()
    reader.force_authenticate(resident)
    mine = reader.get("/api/recordings/").json()
    assert [entry["animations"] for entry in mine] == [[]]
    assert mine[0]["motion_source"] == ""
    page = fetch(resident, "/me/recordings/").content.decode()
    assert str(animation.id) not in page and "waiting for approval" not in page


# ---------------------------------------------------------------------------------------------------
# Approval


@pytest.fixture
def stages_sent(monkeypatch) -> list[tuple[str, str]]:
    """The stages handed to the workers (animation.services._enqueue_stage), instead of the broker."""
    from animation import services

    sent: list[tuple[str, str]] = []

    def enqueue(animation_id, status) -> bool:
        sent.append((str(animation_id), str(status)))
        return True

    monkeypatch.setattr(services, "_enqueue_stage", enqueue)
    return sent


@pytest.mark.django_db
def test_approval_publishes_the_finished_private_film_at_once_without_a_render(
    festival, resident, moderator, django_capture_on_commit_callbacks, stages_sent
):
    from animation.models import Animation
    from contributions import services

    recording = arrive(submit(festival, resident))
    animation = film_of(recording)
    render_privately(animation)
    stages_sent.clear()
    with Announcements() as told, django_capture_on_commit_callbacks(execute=True):
        clock = time.monotonic()
        services.recording_approve(recording=recording, moderator=moderator)
        seconds = time.monotonic() - clock
    animation = film_of(recording)  # the same row: one film per approved reading
    assert animation.status == Animation.Status.PUBLISHED and animation.published_at is not None
    assert told.of("animation_published") == ["published"]
    assert "rendering" not in told.of("animation_progress")
    assert stages_sent == [], "the approval sent work to the workers: the film was ready"
    recording.refresh_from_db()
    assert recording.motion_source == "voice"
    assert seconds < 2.0, seconds


@pytest.mark.django_db
def test_in_a_festival_that_reviews_films_the_private_film_waits_at_the_film_gate(festival, resident, moderator):
    from animation import selectors
    from animation.models import Animation
    from contributions import services

    festival["event"].publish_mode = "review"
    festival["event"].save()
    recording = arrive(submit(festival, resident))
    render_privately(film_of(recording))
    with Announcements() as told:
        services.recording_approve(recording=recording, moderator=moderator)
    animation = film_of(recording)
    assert animation.status == Animation.Status.READY
    assert told.of("animation_published") == []
    assert list(selectors.films_for_review(moderator=moderator)) == [animation]


@pytest.mark.django_db
def test_approval_while_the_private_render_runs_publishes_it_once_when_the_render_ends(festival, resident, moderator):
    from animation.models import Animation
    from contributions import services

    recording = arrive(submit(festival, resident))
    animation = film_of(recording)
    token = render_privately(animation, finish=False)
    with Announcements() as told:
        services.recording_approve(recording=recording, moderator=moderator)
        animation.refresh_from_db()
        # The reader's film now, still in the worker's hands (same claim): counted and shown in progress.
        assert animation.status == Animation.Status.RENDERING and animation.claim_token == token
        assert told.of("animation_published") == []
        assert told.of("animation_progress") == ["rendering"]
        assert record_files(animation, token=token)
        assert not record_files(animation, token=token), "a second record of the same render was accepted"
    assert film_of(recording).status == Animation.Status.PUBLISHED
    assert told.of("animation_published") == ["published"]


@pytest.mark.django_db
def test_approval_before_the_private_render_was_taken_renders_once_as_today(festival, resident, moderator):
    from animation import services as animation_services
    from animation.models import Animation
    from contributions import services

    # The render workers are slow: the private film waits in the queue when the moderator approves.
    recording = arrive(submit(festival, resident))
    services.recording_approve(recording=recording, moderator=moderator)
    animation = film_of(recording)
    assert animation.status == Animation.Status.RENDERING and animation.claimed_at is None
    # Its message, already in the queue, is the render; a duplicate finds nothing to claim.
    token = animation_services.animation_claim(animation_id=animation.id, status="rendering", worker="test:1")
    assert token and animation_services.animation_claim(animation_id=animation.id, status="rendering") is None
    assert record_files(animation, token=token)
    assert film_of(recording).status == Animation.Status.PUBLISHED

    # The speech worker is down: approved before the early alignment, the film is made from the start.
    late = submit(festival, resident)
    services.recording_approve(recording=late, moderator=moderator)
    assert film_of(late).status == Animation.Status.QUEUED
    arrive(late)  # the early alignment arrives after the approval: no second film
    assert film_of(late).status == Animation.Status.QUEUED


@pytest.mark.django_db
def test_a_private_film_whose_message_the_broker_never_took_is_sent_at_the_approval(
    festival, resident, moderator, django_capture_on_commit_callbacks, stages_sent
):
    from animation.models import Animation
    from contributions import services

    recording = arrive(submit(festival, resident))
    animation = film_of(recording)
    assert animation.enqueued_at is None  # the broker never had it (here: no commit ran)
    with django_capture_on_commit_callbacks(execute=True):
        services.recording_approve(recording=recording, moderator=moderator)
    assert film_of(recording).status == Animation.Status.RENDERING
    assert stages_sent == [(str(animation.id), "rendering")]


# ---------------------------------------------------------------------------------------------------
# Rejection, undo, reversal, withdrawal, changes, failures, the sweeper


@pytest.mark.django_db
def test_a_rejection_deletes_the_private_film_and_a_reversal_renders_as_today(
    festival, resident, moderator, groups, django_capture_on_commit_callbacks
):
    from accounts.models import User
    from animation.models import Alignment, Animation
    from contributions import services
    from contributions.models import ModerationDecision

    recording = arrive(submit(festival, resident))
    animation = film_of(recording)
    render_privately(animation)
    with django_capture_on_commit_callbacks(execute=True):
        services.recording_reject(recording=recording, moderator=moderator, reason="noise")
    assert not Animation.objects.filter(recording=recording).exists()
    assert stored(animation.id) == []
    assert Alignment.objects.filter(recording=recording).exists(), "the voice's alignment is kept for a reversal"

    curator = User.objects.create_user("curator")
    curator.groups.add(groups["curators"])
    festival["event"].curators.add(curator)
    services.decision_reverse(decision=ModerationDecision.objects.get(id=decision_id(recording)), curator=curator)
    reversed_film = film_of(recording)
    assert reversed_film.status == Animation.Status.QUEUED and reversed_film.id != animation.id


def decision_id(recording) -> int:
    from contributions.models import ModerationDecision

    return ModerationDecision.objects.filter(recording=recording, reversed_at__isnull=True).latest("id").id


@pytest.mark.django_db
def test_a_rejection_undone_leaves_no_film_and_the_approval_renders_as_today(
    festival, resident, moderator, django_capture_on_commit_callbacks
):
    from animation.models import Animation
    from contributions import services
    from contributions.models import ModerationDecision

    recording = arrive(submit(festival, resident))
    animation = film_of(recording)
    render_privately(animation)
    with django_capture_on_commit_callbacks(execute=True):
        services.recording_reject(recording=recording, moderator=moderator, reason="noise")
    services.decision_undo(decision=ModerationDecision.objects.get(id=decision_id(recording)), moderator=moderator)
    assert not Animation.objects.filter(recording=recording).exists() and stored(animation.id) == []
    services.recording_approve(recording=recording, moderator=moderator)
    assert film_of(recording).status == Animation.Status.QUEUED


@pytest.mark.django_db
@pytest.mark.parametrize("when", ["before", "during", "after"])
def test_withdrawal_erases_the_private_film_whenever_it_comes(
    festival, resident, when, django_capture_on_commit_callbacks
):
    from animation import services as animation_services
    from animation.models import Alignment, Animation
    from contributions import services

    recording = arrive(submit(festival, resident))
    animation = film_of(recording)
    token = render_privately(animation, finish=when == "after") if when != "before" else ""
    with django_capture_on_commit_callbacks(execute=True):
        services.recording_withdraw(recording=recording)
    assert not Animation.objects.filter(recording=recording).exists()
    assert not Alignment.objects.filter(recording=recording).exists()
    assert stored(animation.id) == []
    if when == "before":
        assert animation_services.animation_claim(animation_id=animation.id, status="rendering") is None
    if when == "during":
        # The worker finishes and stores its files into the erased folder: the record refuses the film,
        # and the worker deletes what it stored (animation_render does so when the film is removed).
        assert not record_files(animation, token=token)
        assert animation_services.animation_is_removed(animation_id=animation.id)


@pytest.mark.django_db
def test_a_passage_changed_after_the_private_render_makes_the_approval_render_again(
    festival, resident, moderator, django_capture_on_commit_callbacks
):
    from animation.models import Animation
    from catalogue import services as catalogue_services
    from contributions import services

    recording = arrive(submit(festival, resident))
    animation = film_of(recording)
    render_privately(animation)
    with django_capture_on_commit_callbacks(execute=True):
        catalogue_services.passage_update(passage=festival["chinese"], push_in=True)
    assert not Animation.objects.filter(recording=recording).exists() and stored(animation.id) == []
    services.recording_approve(recording=recording, moderator=moderator)
    assert film_of(recording).status == Animation.Status.QUEUED


@pytest.mark.django_db
def test_a_private_film_of_inputs_changed_without_a_signal_is_not_published(
    festival, resident, moderator, django_capture_on_commit_callbacks
):
    from animation.models import Animation
    from catalogue.models import Painting
    from contributions import services

    recording = arrive(submit(festival, resident))
    animation = film_of(recording)
    render_privately(animation)
    # The painting's picture replaced behind the catalogue's back: the film shows the old one.
    Painting.objects.filter(id=festival["painting"].id).update(image="paintings/another.jpg")
    with Announcements() as told, django_capture_on_commit_callbacks(execute=True):
        services.recording_approve(recording=recording, moderator=moderator)
    film = film_of(recording)
    assert film.id != animation.id and film.status == Animation.Status.QUEUED
    assert told.of("animation_published") == []
    assert stored(animation.id) == []


@pytest.mark.django_db
def test_a_private_render_that_failed_records_why_and_the_approval_tries_again(festival, resident, moderator):
    from animation import services as animation_services
    from animation.models import Animation
    from contributions import services

    recording = arrive(submit(festival, resident))
    animation = film_of(recording)
    render_privately(animation, finish=False)
    with Announcements() as told:
        animation_services.animation_fail(animation_id=animation.id, reason="The painting could not be animated.")
    animation.refresh_from_db()
    assert animation.status == Animation.Status.FAILED_PRIVATE
    assert animation.error == "The painting could not be animated." and not animation.claim_token
    assert told.sent == [], "the reader was told of a failure of a film that is not theirs yet"
    services.recording_approve(recording=recording, moderator=moderator)
    again = film_of(recording)
    assert again.status == Animation.Status.QUEUED and again.error == "" and again.attempts == 0


@pytest.mark.django_db(transaction=True)
def test_the_sweeper_takes_back_a_dead_private_render_and_sends_one_the_broker_never_took(festival, resident):
    from datetime import timedelta

    from django.utils import timezone

    from animation import services as animation_services
    from animation.models import Animation

    recording = arrive(submit(festival, resident))
    animation = film_of(recording)
    Animation.objects.filter(id=animation.id).update(enqueued_at=None)
    later = timezone.now() + timedelta(seconds=60)
    assert animation_services.animation_sweep_stuck(now=later) == [str(animation.id)]
    render_privately(animation, finish=False)
    dead = timezone.now() + timedelta(seconds=600)
    assert animation_services.animation_sweep_stuck(now=dead) == [str(animation.id)]
    animation.refresh_from_db()
    assert animation.status == Animation.Status.RENDERING_PRIVATE
    assert animation.attempts == 1 and animation.claimed_at is None


# ---------------------------------------------------------------------------------------------------
# The real worker, Whisper and engine


def upload_through_the_api(resident, festival) -> str:
    client = APIClient()
    client.force_authenticate(resident)
    with CHINESE_POEM.open("rb") as handle:
        response = client.post(
            "/api/recordings/", {"passage": str(festival["chinese"].id), "audio": handle}, format="multipart"
        )
    assert response.status_code == 201, response.content
    return response.json()["id"]


def approve_through_the_api(moderator, recording_id: str) -> None:
    client = APIClient()
    client.force_authenticate(moderator)
    response = client.post(f"/api/moderation/recordings/{recording_id}/approve/")
    assert response.status_code == 200, response.content


def wait_for_status(recording_id, statuses, *, timeout: float = 300):
    from animation.models import Animation

    def reached():
        film = Animation.objects.filter(recording_id=recording_id).first()
        return film if film is not None and film.status in statuses else None

    return cluster.wait_until(reached, timeout=timeout, interval=0.2, what=f"a film in {statuses}")


@pytest.mark.slow
def test_the_film_is_made_while_the_reading_waits_and_the_approval_publishes_it(
    festival, resident, moderator, celery_worker, settings
):
    from animation.models import Animation

    settings.ANIMATION_SIZE = 256
    gallery = cluster.EventListener(f"event.{festival['event'].id}")
    try:
        recording_id = upload_through_the_api(resident, festival)
        reader = cluster.EventListener(f"recording.{recording_id}")
        try:
            animation = wait_for_status(recording_id, {"rendered_private", "failed_private"})
            assert animation.status == Animation.Status.RENDERED_PRIVATE, animation.error
            assert animation.video.size > 10_000 and animation.stage_seconds["render_task"] > 0
            assert Client().get(f"/media/{animation.video.name}").status_code == 404
            time.sleep(1)
            assert gallery.messages == [] and reader.messages == [], (gallery.messages, reader.messages)

            clock = time.monotonic()
            approve_through_the_api(moderator, recording_id)
            seconds = time.monotonic() - clock
            animation.refresh_from_db()
            assert animation.status == Animation.Status.PUBLISHED, "the approval did not publish the film itself"
            cluster.wait_until(lambda: gallery.published_ids(), timeout=30, what="the publication message")
            time.sleep(cluster.GRACE_SECONDS / 2)  # a duplicate would arrive within it
            assert gallery.published_ids() == [str(animation.id)]
            assert Animation.objects.filter(recording_id=recording_id).count() == 1
            assert Client().get(f"/media/{animation.video.name}").status_code == 200
            print(f"approval -> published (request and commit): {seconds:.3f} s")
        finally:
            reader.close()
    finally:
        gallery.close()


@pytest.fixture
def render_gate(monkeypatch):
    """Holds the render worker at its first progress report until released: "mid-render", for certain."""
    from animation import services

    reached, release = threading.Event(), threading.Event()
    report = services.ProgressReporter.__call__

    def held(self, stage, fraction):
        if not reached.is_set():
            reached.set()
            release.wait(120)
        return report(self, stage, fraction)

    monkeypatch.setattr(services.ProgressReporter, "__call__", held)
    yield reached, release
    release.set()


@pytest.mark.slow
def test_approved_while_its_private_render_runs_the_film_is_published_once_when_it_ends(
    festival, resident, moderator, celery_worker, settings, render_gate
):
    from animation.models import Animation

    settings.ANIMATION_SIZE = 128
    reached, release = render_gate
    gallery = cluster.EventListener(f"event.{festival['event'].id}")
    try:
        recording_id = upload_through_the_api(resident, festival)
        assert reached.wait(300), "the private render never started"
        animation = Animation.objects.get(recording_id=recording_id)
        assert animation.status == Animation.Status.RENDERING_PRIVATE and animation.claimed_at, animation.status
        approve_through_the_api(moderator, recording_id)
        animation.refresh_from_db()
        assert animation.status == Animation.Status.RENDERING, (animation.status, animation.error)
        release.set()
        animation = wait_for_status(recording_id, {"published", "failed"})
        assert animation.status == Animation.Status.PUBLISHED, animation.error
        cluster.wait_until(lambda: gallery.published_ids(), timeout=30, what="the publication message")
        time.sleep(cluster.GRACE_SECONDS / 2)
        assert gallery.published_ids() == [str(animation.id)], gallery.messages
        assert Animation.objects.filter(recording_id=recording_id).count() == 1
        assert animation.attempts == 0, (animation.attempts, animation.worker)
    finally:
        gallery.close()


@pytest.mark.slow
def test_a_reading_withdrawn_while_its_private_film_renders_leaves_nothing(
    festival, resident, celery_worker, settings, render_gate
):
    from animation.models import Animation
    from contributions import services
    from contributions.models import Recording

    settings.ANIMATION_SIZE = 128
    reached, release = render_gate
    recording_id = upload_through_the_api(resident, festival)
    assert reached.wait(300), "the private render never started"
    animation_id = Animation.objects.get(recording_id=recording_id).id
    services.recording_withdraw(recording=Recording.objects.get(id=recording_id))
    release.set()
    # The worker stores its files after the erasure, finds the film gone and deletes them.
    from core import storage

    cluster.wait_until(
        lambda: not list(storage.scratch_root().glob(f"render-{animation_id}-*")),
        timeout=180,
        what="the worker to finish the withdrawn reading's render",
    )
    time.sleep(2)  # the worker deletes right after its conditional record refused the film
    assert stored(animation_id) == []
    assert not Animation.objects.filter(recording_id=recording_id).exists()
