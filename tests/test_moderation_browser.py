"""A moderator clears a queue of three recordings in a real browser without touching the mouse."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from contributions import services
from contributions.models import ModerationDecision, Recording
from contributions.tasks import recording_transcribe
from testkit.browser import REVIEW_SHOWN, chromium
from testkit.media import CHINESE_POEM, ENGLISH_CLIP


def submit(passage, resident, clip) -> Recording:
    upload = SimpleUploadedFile(clip.name, clip.read_bytes())
    return services.recording_submit(contributor=resident, passage=passage, upload=upload)


def log_in(page, base_url: str, username: str, password: str, next_url: str) -> None:
    page.goto(f"{base_url}/accounts/login/?next={next_url}")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: url.endswith(next_url) and "/accounts/login/" not in url)


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_moderator_clears_the_queue_with_the_keyboard_only(
    asgi_live_server, festival, resident, moderator, groups, chromium_path
):
    from accounts.models import User

    curator = User.objects.create_user(
        "curator",
        password="curator-pass-1",
        display_name="Zhao Lei",
    )
    curator.groups.add(groups["curators"])
    festival["event"].curators.add(curator)
    first = submit(festival["chinese"], resident, CHINESE_POEM)
    second = submit(festival["english"], resident, ENGLISH_CLIP)
    third = submit(festival["chinese"], resident, CHINESE_POEM)
    # What the speech worker does when a recording arrives (the real task, with the real Whisper).
    for recording in (first, second):
        recording_transcribe(str(recording.id))

    with chromium(chromium_path) as browser:
        page = browser.new_page()
        log_in(page, asgi_live_server.url, "moderator", "moderator-pass-1", "/moderation/")

        # The oldest recording opens first, with its transcript compared to the passage.
        page.wait_for_function(REVIEW_SHOWN.format(first.id), timeout=15_000)
        assert page.locator("#passage-text").inner_text().replace("\n", "").startswith("床前明月光")
        assert "%" in page.locator("#match-score").inner_text()
        page.wait_for_function("() => document.getElementById('clock').textContent.endsWith('5.5 s')", timeout=15_000)
        assert page.locator("#figure-language").inner_text() == "zh"

        # Approving before listening is refused; at 1.5x the clip is heard in under four seconds.
        page.keyboard.press("a")
        assert "Listen to the whole reading" in page.locator("#toast").inner_text()
        page.keyboard.press("s")
        page.wait_for_function("() => document.getElementById('player').playbackRate === 1.5")
        page.wait_for_function("() => document.getElementById('player').ended", timeout=15_000)
        page.keyboard.press("a")

        # Second: skip ahead and back, then reject for background noise (reason 2).
        page.wait_for_function(REVIEW_SHOWN.format(second.id), timeout=15_000)
        assert page.locator("#passage-text").get_attribute("lang") == "en"
        page.keyboard.press("j")
        page.wait_for_function(REVIEW_SHOWN.format(third.id), timeout=15_000)
        # The third recording has no transcript yet; the console says so rather than showing nothing.
        assert "still listening" in page.locator("#transcript-text").inner_text()
        page.keyboard.press("k")
        page.wait_for_function(REVIEW_SHOWN.format(second.id), timeout=15_000)
        page.keyboard.press("r")
        page.keyboard.press("2")

        # Third: reject as "other" with a note typed on the keyboard, undo it, then reject as cut off.
        page.wait_for_function(REVIEW_SHOWN.format(third.id), timeout=15_000)
        page.keyboard.press("r")
        page.keyboard.press("7")
        page.wait_for_function("() => document.activeElement.id === 'note'")
        page.keyboard.type("Please read the whole poem.")
        page.keyboard.press("Enter")
        page.wait_for_function("() => !document.getElementById('empty').hidden", timeout=15_000)
        page.keyboard.press("u")
        page.wait_for_function(REVIEW_SHOWN.format(third.id), timeout=15_000)
        page.keyboard.press("r")
        page.keyboard.press("6")
        page.wait_for_function("() => !document.getElementById('empty').hidden", timeout=15_000)
        assert page.locator("#queue-count").inner_text() == "0"

        for recording in (first, second, third):
            recording.refresh_from_db()
        assert first.status == Recording.Status.APPROVED
        assert (second.status, second.rejection_reason) == (Recording.Status.REJECTED, "noise")
        assert (third.status, third.rejection_reason, third.rejection_note) == (
            Recording.Status.REJECTED,
            "cut_off",
            "",
        )
        decisions = list(ModerationDecision.objects.order_by("id"))
        assert [(decision.recording_id, decision.verdict, decision.reason) for decision in decisions] == [
            (first.id, "approve", ""),
            (second.id, "reject", "noise"),
            (third.id, "reject", "other"),
            (third.id, "undo", ""),
            (third.id, "reject", "cut_off"),
        ]
        assert decisions[2].note == "Please read the whole poem." and decisions[2].reversed_at is not None
        assert all(decision.moderator == moderator for decision in decisions)
        assert decisions[0].listened_seconds >= 0.9 * first.duration_seconds

        # The curator's audit log shows every decision, the undone one struck through.
        curator_page = browser.new_page()
        log_in(curator_page, asgi_live_server.url, "curator", "curator-pass-1", "/moderation/audit/")
        rows = curator_page.locator("#audit tbody tr")
        assert rows.count() == 5
        assert "Wang Fang" in rows.nth(0).inner_text()
        assert "The reading is cut off" in rows.nth(0).inner_text()
        assert "superseded" in curator_page.locator(f"#decision-{decisions[2].id}").get_attribute("class")

        # The resident sees why two readings were turned down.
        resident_page = browser.new_page()
        log_in(resident_page, asgi_live_server.url, "resident", "resident-pass-1", "/me/recordings/")
        mine = resident_page.locator(f"[data-recording-id='{second.id}']").inner_text()
        assert "Too much background noise" in mine
        assert "The reading is cut off" in resident_page.locator(f"[data-recording-id='{third.id}']").inner_text()
        assert "Approved" in resident_page.locator(f"[data-recording-id='{first.id}']").inner_text()


def make_film(folder, painting_image, voice) -> None:
    """A film made by the product's own engine (mesh-warp render, streaming H.264/AAC encode, WebVTT) from
    the painting and the poem's first line, with the first line's timing given (no Whisper needed)."""
    import subprocess

    from animation.engine.pipeline import animate
    from testkit.media import ffmpeg

    folder.mkdir(parents=True, exist_ok=True)
    clip = folder / "voice.wav"
    subprocess.run([ffmpeg(), "-v", "error", "-y", "-i", str(voice), "-t", "2.4", "-ac", "1", str(clip)], check=True)
    units = [
        {"text": character, "start": 0.25 + 0.38 * index, "end": 0.58 + 0.38 * index, "confidence": 1.0}
        for index, character in enumerate("床前明月光")
    ]
    animate(
        painting_path=painting_image,
        audio_path=clip,
        alignment={"language": "zh", "units": units, "phrases": [{"start": 0.25, "end": 2.1}]},
        out_path=folder / "film.mp4",
        size=256,
    )
    clip.unlink()


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_moderator_reviews_finished_films_with_the_keyboard(
    asgi_live_server, festival, resident, moderator, chromium_path, settings
):
    from animation.models import Animation
    from catalogue.models import Event

    Event.objects.filter(id=festival["event"].id).update(publish_mode=Event.PublishMode.REVIEW)
    import shutil

    films = []
    for number in range(2):
        recording = submit(festival["chinese"], resident, CHINESE_POEM)
        Recording.objects.filter(id=recording.id).update(status=Recording.Status.APPROVED)
        animation = Animation.objects.create(recording=recording, event=festival["event"])
        folder = settings.MEDIA_ROOT / "animations" / str(animation.id)
        if number == 0:
            make_film(folder, festival["painting"].image.path, CHINESE_POEM)
            engine_film = folder
        else:
            shutil.copytree(engine_film, folder)
        Animation.objects.filter(id=animation.id).update(
            status=Animation.Status.READY,
            progress=1.0,
            video=f"animations/{animation.id}/film.mp4",
            subtitles=f"animations/{animation.id}/film.vtt",
        )
        films.append(animation)

    with chromium(chromium_path) as browser:
        page = browser.new_page()
        log_in(page, asgi_live_server.url, "moderator", "moderator-pass-1", "/moderation/films/")
        shown = "() => document.getElementById('review').dataset.animationId === '{}'"
        page.wait_for_function(shown.format(films[0].id), timeout=15_000)
        page.keyboard.press("a")
        assert "Watch the whole film" in page.locator("#toast").inner_text()
        # The console plays the engine's H.264 film itself, to the end, with its true length.
        page.wait_for_function("() => document.getElementById('film').ended", timeout=15_000)
        played = page.evaluate(
            """() => { const film = document.getElementById('film');
                       return {duration: film.duration, width: film.videoWidth, source: film.currentSrc}; }"""
        )
        assert played["source"].endswith("/film.mp4") and played["width"] == 256, played
        assert 2.0 < played["duration"] < 4.0, played
        page.keyboard.press("a")
        page.wait_for_function(shown.format(films[1].id), timeout=15_000)
        page.keyboard.press("r")
        page.keyboard.press("1")
        page.wait_for_function("() => !document.getElementById('empty').hidden", timeout=15_000)

    assert Animation.objects.get(id=films[0].id).status == Animation.Status.PUBLISHED
    held = Animation.objects.get(id=films[1].id)
    assert held.status == Animation.Status.FAILED
    assert "The mouth looks uncanny" in held.error
    reviews = list(
        ModerationDecision.objects.order_by("id").values_list("subject", "animation_id", "verdict", "reason")
    )
    assert reviews == [
        ("animation", films[0].id, "approve", ""),
        ("animation", films[1].id, "reject", "uncanny_mouth"),
    ]
