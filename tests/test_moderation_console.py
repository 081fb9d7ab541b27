"""The moderation console's server side: claims, the keyboard path's API, undo, the film gate, the
audit log and reversal by curators, and who may touch any of it."""

from __future__ import annotations

import sys
import threading
import time
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from animation.models import Animation
from contributions import services
from contributions.models import ModerationDecision, Recording
from testkit.media import CHINESE_POEM, ENGLISH_CLIP


def submit(passage, resident, clip=CHINESE_POEM) -> Recording:
    upload = SimpleUploadedFile(clip.name, clip.read_bytes())
    return services.recording_submit(contributor=resident, passage=passage, upload=upload)


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def make_user(name: str, *groups):
    from accounts.models import User
    from catalogue.models import Event

    user = User.objects.create_user(name, password=f"{name}-pass-1", display_name=name.title())
    for group in groups:
        user.groups.add(group)
        if group.name == "moderators":
            # A curator assigns each moderator to the festivals they review (nobody reviews the others).
            for event in Event.objects.all():
                event.moderators.add(user)
    return user


def claim_next(user, **filters):
    return api(user).post("/api/moderation/claim/", filters, format="json")


def purge_broker() -> None:
    from config.celery import app

    with app.connection_for_write() as connection:
        for queue in ("default", "speech", "render"):
            connection.default_channel.queue_purge(queue)


def queued_tasks(queue: str) -> list[tuple[str, list]]:
    """The task messages waiting in QUEUE of the real broker (taken off it): (task name, arguments)."""
    from config.celery import app

    found = []
    with app.connection_for_write() as connection, connection.SimpleQueue(queue) as waiting:
        while True:
            try:
                message = waiting.get(timeout=0.5)
            except waiting.Empty:
                return found
            arguments, _keywords, _embed = message.decode()
            found.append((message.headers["task"], list(arguments)))
            message.ack()


def finished_film(recording, settings, *, status=Animation.Status.READY) -> Animation:
    """A film as the render pipeline leaves it: files on disk, the row pointing at them."""
    animation = Animation.objects.filter(recording=recording).first() or Animation.objects.create(
        recording=recording, event_id=recording.passage.event_id
    )
    folder = settings.MEDIA_ROOT / "animations" / str(animation.id)
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("film.mp4", "poster.jpg", "subtitles.vtt"):
        (folder / name).write_bytes(b"film bytes")
    Animation.objects.filter(id=animation.id).update(
        status=status,
        video=f"animations/{animation.id}/film.mp4",
        poster=f"animations/{animation.id}/poster.jpg",
        subtitles=f"animations/{animation.id}/subtitles.vtt",
        progress=1.0,
        published_at=timezone.now() if status == Animation.Status.PUBLISHED else None,
    )
    animation.refresh_from_db()
    return animation


@pytest.mark.django_db
def test_the_queue_is_oldest_first_and_filters_by_event_painting_and_language(festival, resident, moderator):
    from catalogue.models import Event

    chinese = submit(festival["chinese"], resident)
    english = submit(festival["english"], resident, ENGLISH_CLIP)
    later_chinese = submit(festival["chinese"], resident)
    other_event = Event.objects.create(slug="other", title="Other")

    def ids(**filters) -> list[str]:
        response = api(moderator).get("/api/moderation/queue/", filters)
        assert response.status_code == 200
        return [item["id"] for item in response.json()["results"]]

    assert ids() == [str(chinese.id), str(english.id), str(later_chinese.id)]
    assert ids(language="en") == [str(english.id)]
    assert ids(language="zh") == [str(chinese.id), str(later_chinese.id)]
    assert ids(painting=str(festival["painting"].id)) == ids()
    assert ids(event=str(festival["event"].id)) == ids()
    assert ids(event=str(other_event.id)) == []
    # The claim follows the same filter: an English-only moderator gets the English reading first.
    response = claim_next(moderator, language="en")
    assert response.json()["id"] == str(english.id)
    # The queue shows nobody's name: a decision is about the reading. The name appears once, as the credit
    # the film will carry in public, which is approved with the reading (issue 19).
    detail = response.json()
    assert detail.pop("credited_as") == "Li Ming"
    assert "Li Ming" not in str(detail)
    assert "Li Ming" not in api(moderator).get("/api/moderation/queue/").content.decode()


@pytest.mark.django_db
def test_opening_claims_the_recording_and_a_second_moderator_gets_the_next_one(festival, resident, moderator, groups):
    second = make_user("second", groups["moderators"])
    first_recording = submit(festival["chinese"], resident)
    second_recording = submit(festival["chinese"], resident)

    mine = claim_next(moderator).json()
    theirs = claim_next(second).json()
    assert mine["id"] == str(first_recording.id)
    assert theirs["id"] == str(second_recording.id)
    queue = api(second).get("/api/moderation/queue/").json()["results"]
    assert [item["claimed_by"] for item in queue] == ["Wang Fang", "Second"]
    # Nothing else is free, and a recording someone holds cannot be taken or decided by another.
    assert claim_next(second, after=theirs["id"]).status_code == 204
    refused = api(second).post(f"/api/moderation/recordings/{first_recording.id}/claim/")
    assert refused.status_code == 409 and refused.json()["code"] == "claimed"
    decided = api(second).post(f"/api/moderation/recordings/{first_recording.id}/reject/", {"reason": "noise"})
    assert decided.status_code == 409
    assert "Wang Fang" in decided.json()["detail"]
    assert Recording.objects.get(id=first_recording.id).status == Recording.Status.PENDING


@pytest.mark.django_db
def test_an_expired_claim_returns_the_recording_to_the_queue(festival, resident, moderator, groups):
    second = make_user("second", groups["moderators"])
    recording = submit(festival["chinese"], resident)
    assert claim_next(moderator).json()["id"] == str(recording.id)
    assert claim_next(second).status_code == 204

    # The first moderator walked away; their claim runs out.
    Recording.objects.filter(id=recording.id).update(claimed_until=timezone.now() - timedelta(seconds=1))
    assert claim_next(second).json()["id"] == str(recording.id)
    late = api(moderator).post(f"/api/moderation/recordings/{recording.id}/approve/")
    assert late.status_code == 409
    assert api(second).post(f"/api/moderation/recordings/{recording.id}/approve/").status_code == 200


@pytest.mark.django_db
def test_claims_last_a_few_minutes_and_releasing_hands_the_recording_on(festival, resident, moderator, groups):
    second = make_user("second", groups["moderators"])
    recording = submit(festival["chinese"], resident)
    before = timezone.now()
    claim_next(moderator)
    claimed_until = Recording.objects.get(id=recording.id).claimed_until
    assert timedelta(minutes=2) < claimed_until - before < timedelta(minutes=5)
    assert api(moderator).post(f"/api/moderation/recordings/{recording.id}/release/").status_code == 204
    assert claim_next(second).json()["id"] == str(recording.id)


@pytest.mark.django_db
def test_two_moderators_racing_for_the_same_recording_cannot_both_win(festival, resident, groups):
    first, second = (make_user(f"moderator{index}", groups["moderators"]) for index in range(2))
    oldest, newer = submit(festival["chinese"], resident), submit(festival["chinese"], resident)
    # Both consoles read the queue at the same instant and both go for the oldest recording.
    assert services.recording_claim(recording=oldest, moderator=first) is True
    assert services.recording_claim(recording=oldest, moderator=second) is False
    # The loser's console moves on by itself.
    assert claim_next(second).json()["id"] == str(newer.id)
    assert Recording.objects.get(id=oldest.id).claimed_by == first


def retry_while_locked(call):
    """Call CALL again while the database answers "locked". The suite's SQLite database (in memory, shared
    cache) refuses a second writer at once where a file database (timeout=20 in settings) or PostgreSQL
    waits; retrying is that wait, and changes nothing about who wins."""
    from django.db import OperationalError

    deadline = time.monotonic() + 30
    while True:
        try:
            return call()
        except OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.001)


def race(workers: int, rounds: int, work) -> list[list]:
    """Run WORK(index, round) in WORKERS real threads, ROUNDS times, all released together each round;
    return each round's results. The interpreter switches threads as often as it can meanwhile, so a
    read-then-write claim is caught between its read and its write."""
    from django.db import connection

    barrier = threading.Barrier(workers)
    results: list[list] = [[None] * workers for _ in range(rounds)]
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            for round_number in range(rounds):
                barrier.wait(timeout=60)
                results[round_number][index] = work(index, round_number)
                barrier.wait(timeout=60)
        except BaseException as error:
            errors.append(error)
            barrier.abort()
        finally:
            connection.close()

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=run, args=(index,)) for index in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
    finally:
        sys.setswitchinterval(interval)
    assert not errors, errors
    return results


@pytest.mark.django_db(transaction=True)
def test_moderators_racing_in_threads_for_the_same_recording_never_both_win(festival, resident, groups):
    """Real threads, each with its own database connection, on whatever database the suite runs on."""
    moderators = [make_user(f"moderator{index}", groups["moderators"]) for index in range(4)]
    recording = submit(festival["chinese"], resident)

    def claim(index: int, _round: int) -> bool:
        return retry_while_locked(
            lambda: services.recording_claim(recording=Recording(id=recording.id), moderator=moderators[index])
        )

    winners_per_round = []
    for _batch in range(20):
        results = race(len(moderators), 1, claim)
        winners = [moderators[index].username for index, won in enumerate(results[0]) if won]
        holder = Recording.objects.get(id=recording.id).claimed_by.username
        winners_per_round.append((winners, holder))
        Recording.objects.filter(id=recording.id).update(claimed_by=None, claimed_until=None)
    for winners, holder in winners_per_round:
        # Exactly one moderator is told they have it, and it is the one the row names.
        assert winners == [holder], winners_per_round


@pytest.mark.django_db(transaction=True)
def test_two_moderators_opening_the_queue_at_once_never_get_the_same_recording(festival, resident, groups):
    moderators = [make_user(f"moderator{index}", groups["moderators"]) for index in range(2)]
    recordings = [submit(festival["chinese"], resident) for _ in range(6)]
    clients = [api(moderator) for moderator in moderators]

    def open_next_and_decide(index: int, _round: int) -> str | None:
        response = retry_while_locked(lambda: clients[index].post("/api/moderation/claim/", {}, format="json"))
        recording_id = response.json()["id"] if response.status_code == 200 else None
        if recording_id:
            decided = retry_while_locked(
                lambda: clients[index].post(f"/api/moderation/recordings/{recording_id}/reject/", {"reason": "noise"})
            )
            assert decided.status_code == 200, decided.content
        return recording_id

    seen = race(2, 4, open_next_and_decide)
    for first, second in seen:
        assert first is None or first != second
    claimed = [recording_id for pair in seen for recording_id in pair if recording_id]
    assert sorted(claimed) == sorted(str(recording.id) for recording in recordings)
    assert ModerationDecision.objects.count() == 6


@pytest.mark.django_db
def test_approving_starts_the_animation_and_undo_within_30_seconds_takes_it_back(
    festival, resident, moderator, settings, django_capture_on_commit_callbacks
):
    recording = submit(festival["chinese"], resident)
    claim_next(moderator)
    purge_broker()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api(moderator).post(
            f"/api/moderation/recordings/{recording.id}/approve/", {"listened_seconds": 5.4}, format="json"
        )
    assert response.status_code == 200
    decision = response.json()["decision"]
    assert decision["verdict"] == "approve" and decision["listened_seconds"] == 5.4
    animation = Animation.objects.get(recording=recording)
    assert animation.status == Animation.Status.QUEUED
    # Nothing is sent before the commit; the commit's callbacks send exactly one job: this film's alignment.
    assert queued_tasks("speech") == []
    assert callbacks, "approval must hand the animation to the workers after the commit"
    for callback in callbacks:
        callback()
    assert queued_tasks("speech") == [("animation.tasks.animation_align", [str(animation.id)])]

    undone = api(moderator).post(f"/api/moderation/decisions/{decision['id']}/undo/")
    assert undone.status_code == 200
    assert undone.json()["recording"]["id"] == str(recording.id)
    recording.refresh_from_db()
    assert recording.status == Recording.Status.PENDING
    assert recording.claimed_by == moderator  # back in front of the moderator who undid it
    assert Animation.objects.get(id=animation.id).status == Animation.Status.REMOVED
    # Undo works once; the log keeps both rows.
    assert api(moderator).post(f"/api/moderation/decisions/{decision['id']}/undo/").status_code == 409
    verdicts = list(ModerationDecision.objects.order_by("id").values_list("verdict", "reversed_at"))
    assert [verdict for verdict, _ in verdicts] == ["approve", "undo"]
    assert verdicts[0][1] is not None

    rejected = api(moderator).post(
        f"/api/moderation/recordings/{recording.id}/reject/", {"reason": "cut_off", "note": "stops mid-line"}
    )
    assert rejected.status_code == 200
    ModerationDecision.objects.filter(id=rejected.json()["decision"]["id"]).update(
        created_at=timezone.now() - timedelta(seconds=31)
    )
    too_late = api(moderator).post(f"/api/moderation/decisions/{rejected.json()['decision']['id']}/undo/")
    assert too_late.status_code == 409
    assert Recording.objects.get(id=recording.id).status == Recording.Status.REJECTED


@pytest.mark.django_db
def test_only_the_deciding_moderator_can_undo(festival, resident, moderator, groups):
    second = make_user("second", groups["moderators"])
    recording = submit(festival["chinese"], resident)
    decision = api(moderator).post(f"/api/moderation/recordings/{recording.id}/reject/", {"reason": "noise"})
    response = api(second).post(f"/api/moderation/decisions/{decision.json()['decision']['id']}/undo/")
    assert response.status_code == 409
    assert Recording.objects.get(id=recording.id).status == Recording.Status.REJECTED


@pytest.mark.django_db
def test_a_curator_reverses_an_approval_which_takes_the_film_down_then_reverses_back(
    festival, resident, moderator, groups, settings, django_capture_on_commit_callbacks
):
    curator = make_user("curator", groups["curators"])
    festival["event"].curators.add(curator)
    recording = submit(festival["chinese"], resident)
    with django_capture_on_commit_callbacks(execute=False):
        approval = api(moderator).post(f"/api/moderation/recordings/{recording.id}/approve/").json()["decision"]
    film = finished_film(recording, settings, status=Animation.Status.PUBLISHED)
    event_api = f"/api/events/{festival['event'].id}/animations/"
    assert [card["id"] for card in Client().get(event_api).json()["animations"]] == [str(film.id)]

    # A moderator cannot reverse; a curator must give the resident a reason to reject.
    assert api(moderator).post(f"/api/moderation/decisions/{approval['id']}/reverse/").status_code == 403
    assert api(curator).post(f"/api/moderation/decisions/{approval['id']}/reverse/").status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        reversal = api(curator).post(
            f"/api/moderation/decisions/{approval['id']}/reverse/",
            {"reason": "offensive", "note": "reported by a visitor"},
        )
    assert reversal.status_code == 200, reversal.content
    recording.refresh_from_db()
    assert (recording.status, recording.rejection_reason) == (Recording.Status.REJECTED, "offensive")
    assert Animation.objects.get(id=film.id).status == Animation.Status.REMOVED
    assert not (settings.MEDIA_ROOT / "animations" / str(film.id)).exists()
    assert Client().get(event_api).json()["animations"] == []
    assert Client().get(f"/media/animations/{film.id}/film.mp4").status_code == 404
    assert (settings.MEDIA_ROOT / recording.original.name).exists()  # rejection deletes no audio
    resident_view = api(resident).get(f"/api/recordings/{recording.id}/").json()
    assert (resident_view["status"], resident_view["rejection_note"]) == ("rejected", "reported by a visitor")

    # The reversal was a mistake: reversing it approves again, and a new animation is queued.
    rejection = reversal.json()
    assert (rejection["verdict"], rejection["reverses"], rejection["reason"]) == ("reject", approval["id"], "offensive")
    assert api(curator).post(f"/api/moderation/decisions/{approval['id']}/reverse/").status_code == 409
    with django_capture_on_commit_callbacks(execute=False):
        back = api(curator).post(f"/api/moderation/decisions/{rejection['id']}/reverse/")
    assert back.status_code == 200, back.content
    assert Recording.objects.get(id=recording.id).status == Recording.Status.APPROVED
    assert Animation.objects.filter(recording=recording, status=Animation.Status.QUEUED).count() == 1

    log = api(curator).get("/api/moderation/decisions/").json()["results"]
    assert [(entry["verdict"], entry["moderator_name"]) for entry in log] == [
        ("approve", "Curator"),
        ("reject", "Curator"),
        ("approve", "Wang Fang"),
    ]
    assert [entry["reversed_at"] is not None for entry in log] == [False, True, True]


@pytest.mark.django_db
def test_the_film_gate_publishes_or_holds_back_with_a_reason_the_resident_sees(
    festival, resident, moderator, groups, settings, django_capture_on_commit_callbacks
):
    from catalogue.models import Event

    curator = make_user("curator", groups["curators"])
    festival["event"].curators.add(curator)
    Event.objects.filter(id=festival["event"].id).update(publish_mode=Event.PublishMode.REVIEW)
    good, bad = submit(festival["chinese"], resident), submit(festival["chinese"], resident)
    with django_capture_on_commit_callbacks(execute=False):
        for recording in (good, bad):
            services.recording_approve(recording=recording, moderator=moderator)
    good_film, bad_film = finished_film(good, settings), finished_film(bad, settings)

    queue = api(moderator).get("/api/moderation/films/").json()["results"]
    assert [film["id"] for film in queue] == [str(good_film.id), str(bad_film.id)]
    assert queue[0]["video_url"].endswith(f"/animations/{good_film.id}/film.mp4")
    assert api(resident).get("/api/moderation/films/").status_code == 403

    with django_capture_on_commit_callbacks(execute=True):
        assert api(moderator).post(f"/api/moderation/films/{good_film.id}/publish/").status_code == 200
        held = api(moderator).post(
            f"/api/moderation/films/{bad_film.id}/reject/", {"reason": "uncanny_mouth", "note": ""}
        )
    assert held.status_code == 200
    assert Animation.objects.get(id=good_film.id).status == Animation.Status.PUBLISHED
    bad_film.refresh_from_db()
    assert bad_film.status == Animation.Status.FAILED
    assert "The mouth looks uncanny" in bad_film.error
    assert api(moderator).get("/api/moderation/films/").json()["results"] == []
    published = Client().get(f"/api/events/{festival['event'].id}/animations/").json()["animations"]
    assert [card["id"] for card in published] == [str(good_film.id)]
    resident_page = Client()
    resident_page.force_login(resident)
    assert "The mouth looks uncanny" in resident_page.get("/me/recordings/").content.decode()

    # A curator disagrees: the held-back film goes public.
    with django_capture_on_commit_callbacks(execute=True):
        response = api(curator).post(f"/api/moderation/decisions/{held.json()['id']}/reverse/")
    assert response.status_code == 200
    assert Animation.objects.get(id=bad_film.id).status == Animation.Status.PUBLISHED


@pytest.mark.django_db
def test_residents_visitors_and_moderators_of_another_event_are_kept_out_everywhere(
    festival, resident, other_resident, moderator, groups, settings, django_capture_on_commit_callbacks
):
    outsider = make_user("outsider", groups["moderators"])
    festival["event"].moderators.remove(outsider)  # a moderator, but not of this festival
    recording = submit(festival["chinese"], resident)
    with django_capture_on_commit_callbacks(execute=False):
        approved = submit(festival["chinese"], resident)
        decision = services.recording_approve(recording=approved, moderator=moderator).decisions.get()
    film = finished_film(approved, settings)

    pages = ["/moderation/", "/moderation/films/", "/moderation/audit/"]
    for url in pages:
        response = Client().get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url
    for user in (resident, other_resident):
        client = Client()
        client.force_login(user)
        for url in pages:
            assert client.get(url).status_code == 403, (user, url)
    reverse_page = f"/moderation/audit/{decision.id}/reverse/"
    for client_user, expected in ((None, 302), (resident, 403), (moderator, 403), (outsider, 403)):
        client = Client()
        if client_user is not None:
            client.force_login(client_user)
        assert client.post(reverse_page, {"reason": "noise"}).status_code == expected

    writes = [
        "/api/moderation/claim/",
        f"/api/moderation/recordings/{recording.id}/claim/",
        f"/api/moderation/recordings/{recording.id}/release/",
        f"/api/moderation/recordings/{recording.id}/approve/",
        f"/api/moderation/recordings/{recording.id}/reject/",
        f"/api/moderation/decisions/{decision.id}/undo/",
        f"/api/moderation/decisions/{decision.id}/reverse/",
        f"/api/moderation/films/{film.id}/publish/",
        f"/api/moderation/films/{film.id}/reject/",
    ]
    reads = [
        "/api/moderation/queue/",
        f"/api/moderation/recordings/{recording.id}/",
        "/api/moderation/films/",
        "/api/moderation/decisions/",
    ]
    for user in (None, resident):
        for url in writes:
            assert api(user).post(url, {"reason": "noise"}).status_code in {401, 403}, (user, url)
        for url in reads:
            assert api(user).get(url).status_code in {401, 403}, (user, url)

    # A moderator of another event sees an empty queue and is refused every recording and film here.
    outsider_page = Client()
    outsider_page.force_login(outsider)
    assert outsider_page.get("/moderation/").status_code == 200
    assert outsider_page.get("/moderation/audit/").status_code == 403
    assert outsider_page.get(f"/recordings/{recording.id}/audio/").status_code == 404
    assert api(outsider).get("/api/moderation/queue/").json()["results"] == []
    assert api(outsider).get("/api/moderation/films/").json()["results"] == []
    assert claim_next(outsider).status_code == 204
    for url in writes[1:]:
        assert api(outsider).post(url, {"reason": "noise"}).status_code == 403, url
    assert api(outsider).get(f"/api/moderation/recordings/{recording.id}/").status_code == 403
    assert api(outsider).get("/api/moderation/decisions/").status_code == 403

    assert Recording.objects.get(id=recording.id).status == Recording.Status.PENDING
    assert Recording.objects.get(id=recording.id).claimed_by is None
    assert Animation.objects.get(id=film.id).status == Animation.Status.READY
    assert ModerationDecision.objects.count() == 1


@pytest.mark.django_db
def test_the_console_flags_quiet_clipped_and_wrong_language_recordings(festival, resident, moderator):
    recording = submit(festival["chinese"], resident)
    Recording.objects.filter(id=recording.id).update(
        audio_stats={**recording.audio_stats, "loudness_lufs": -41.0, "clipped_ratio": 0.02},
        transcript="The holidays are a time of celebrating",
        transcript_language="en",
        match_score=0.0,
        transcribed_at=timezone.now(),
    )
    detail = api(moderator).get(f"/api/moderation/recordings/{recording.id}/").json()
    codes = {warning["code"] for warning in detail["facts"]["warnings"]}
    assert {"quiet", "clipped", "language", "match"} <= codes
    assert "silence" not in codes and "cut_off" not in codes
    assert detail["facts"]["error_rate"] == 1.0
    assert detail["facts"]["unit"] == "character"


@pytest.mark.django_db
def test_the_name_the_gallery_credits_is_reviewed_with_the_reading(festival, resident, moderator, settings):
    """A display name goes public only as the moderator saw it: the reading's credit is kept from its
    arrival, shown in the review, and a name that cannot be published is a reason to reject."""
    from gallery.events import animation_card

    resident.display_name = "Li Bai"
    resident.save()
    kept = submit(festival["chinese"], resident)
    detail = api(moderator).post(f"/api/moderation/recordings/{kept.id}/claim/").json()
    assert detail["credited_as"] == "Li Bai"
    # The resident (or anyone with the account) renames it after the review: the film keeps "Li Bai".
    services.recording_approve(recording=kept, moderator=moderator)
    resident.display_name = "City Hall – call 555-0100 for refunds"
    resident.save()
    film = finished_film(kept, settings, status=Animation.Status.PUBLISHED)
    assert animation_card(Animation.objects.get(id=film.id))["reader"] == "Li Bai"

    named = submit(festival["chinese"], resident)
    claimed = api(moderator).post(f"/api/moderation/recordings/{named.id}/claim/").json()
    assert claimed["credited_as"] == "City Hall – call 555-0100 for refunds"
    refused = api(moderator).post(f"/api/moderation/recordings/{named.id}/reject/", {"reason": "name"}, format="json")
    assert refused.status_code == 200, refused.content
    named.refresh_from_db()
    assert named.status == Recording.Status.REJECTED and named.rejection_reason == "name"
