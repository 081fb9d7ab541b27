"""A dialogue in the browser (issue 22): a curator writes it, casts its roles and watches its test film
(the real render: each cast figure's mouth moves in its own lines), two residents each read
a role into their microphone, a moderator approves each reading in the moderation console (the whole
script beside it, the other role's approved voice to hear), and the film arrives live on the festival's
page with both readers credited."""

from __future__ import annotations

import pytest
from django.core.files import File

from animation.models import Animation
from catalogue import selectors as catalogue_selectors
from catalogue.models import Passage
from contributions.models import Recording
from testkit.browser import (
    LAPTOP,
    PHONE,
    REVIEW_SHOWN,
    approve_after_listening,
    chromium,
    horizontal_overflow,
    log_in,
    record_take,
)
from testkit.media import (
    CHINESE_POEM,
    PORTRAIT_PAIR,
    grey_frames,
    portraits_side_by_side,
    region_motion,
    transcode,
    voice_spans,
)
from tests.test_dialogue_film import SCRIPT, halves_of_the_poem


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_dialogue_is_written_cast_read_by_two_residents_and_arrives_live(
    asgi_live_server, festival, groups, resident, other_resident, moderator, chromium_path, tmp_path
):
    from accounts.models import User
    from animation import tasks as animation_tasks
    from animation.engine.faces import find_faces
    from catalogue import tasks as catalogue_tasks
    from gallery import tasks as gallery_tasks
    from gallery.models import PassagePreview
    from testkit.live_server import in_another_thread

    curator = User.objects.create_user("curator", password="curator-pass-1")
    curator.groups.add(groups["curators"])
    festival["event"].curators.add(curator)
    pair = portraits_side_by_side(tmp_path / "pair.jpg", PORTRAIT_PAIR, height=400)
    painting = festival["painting"]
    with (tmp_path / "pair.jpg").open("rb") as handle:
        painting.image.save("pair.jpg", File(handle), save=True)
    catalogue_tasks.painting_detect_faces(str(painting.id))
    catalogue_tasks.painting_make_figure_thumbnails(str(painting.id))
    first_figure, second_figure = catalogue_selectors.painting_figures(painting=painting)
    base = asgi_live_server.url

    # The curator writes the dialogue on the painting's page and casts each role on the passage's page.
    with chromium(chromium_path) as browser:
        page = browser.new_page(**LAPTOP)
        log_in(
            page, base, username="curator", password="curator-pass-1", next_path=f"/curation/paintings/{painting.id}/"
        )
        form = page.locator("form:has(input[name=action][value=passage])")
        form.locator("input[name=title]").fill("静夜思 · 对读")
        form.locator("select[name=kind]").select_option("dialogue")
        form.locator("textarea[name=text]").fill(SCRIPT)
        form.locator("select[name=camera]").select_option("wide")
        form.locator("button[type=submit]").click()
        page.wait_for_url("**/curation/passages/**")
        passage = Passage.objects.get(title="静夜思 · 对读")
        for role, figure in zip(passage.roles.order_by("order"), (first_figure, second_figure), strict=True):
            cast = page.locator(f"#role-{role.id} form")
            cast.locator("select[name=figure]").select_option(str(figure.id))
            with page.expect_navigation():
                cast.locator("button[type=submit]").click()
        # The test film: a sample voice reads the whole script, each line spoken by its role's figure.
        test_film = page.locator("form:has(input[name=action][value=preview])")
        test_film.locator("input[type=file][name=sample_voice]").set_input_files(str(CHINESE_POEM))
        with page.expect_navigation():
            test_film.locator("button[type=submit]").click()
        assert "being made" in page.locator("main").inner_text()
        preview = PassagePreview.objects.get(passage=passage)
        in_another_thread(gallery_tasks.passage_preview_render, str(preview.id))  # what the render worker runs
        page.reload()
        assert page.get_attribute("#preview-status", "data-status") == "ready", PassagePreview.objects.get().error
        page.wait_for_function("() => document.querySelector('.preview-video').readyState >= 1", timeout=15_000)
        subtitles = page.request.get(base + page.get_attribute(".preview-video track", "src")).text()
        film_url = base + page.get_attribute(".preview-video source", "src")
        film_path = tmp_path / "test-film.mp4"
        film_path.write_bytes(page.request.get(film_url).body())
        # By byte ranges, as a curator's phone plays it.
        first_bytes = page.request.get(film_url, headers={"Range": "bytes=0-1023"})
        assert first_bytes.status == 206 and first_bytes.body()[4:8] == b"ftyp"
        spans = voice_spans(subtitles)
        assert list(spans) == ["宝玉", "黛玉"], subtitles  # both roles' cues, in the script's order
        assert spans["宝玉"][1] <= spans["黛玉"][0]
        # Each cast figure's mouth moves in its own turn and rests in the other's.
        frames, fps = grey_frames(film_path)
        scale = frames.shape[2] / pair.width
        _, found = find_faces(tmp_path / "pair.jpg")
        mouths = sorted((face.landmarks["mouth_outer"] for face in found), key=lambda points: points[:, 0].mean())
        turns = [slice(int(start * fps), int(end * fps) + 1) for start, end in spans.values()]
        for mouth, own, other in ((mouths[0], turns[0], turns[1]), (mouths[1], turns[1], turns[0])):
            assert region_motion(frames, mouth, scale=scale, part=own) > 2 * region_motion(
                frames, mouth, scale=scale, part=other
            )
        with page.expect_navigation():
            page.locator("form[action$='/open/'] button[type=submit]").click()
    passage.refresh_from_db()
    assert passage.is_open
    assert {role.name: role.figure_id for role in passage.roles.all()} == {
        "宝玉": first_figure.id, "黛玉": second_figure.id,
    }  # fmt: skip

    # Two residents, each with their own microphone, read one role each.
    first, second = halves_of_the_poem(tmp_path)
    for user, password, role_name, take, size in (
        (resident, "resident-pass-1", "宝玉", first, LAPTOP),
        (other_resident, "neighbour-pass-1", "黛玉", second, PHONE),
    ):
        microphone = transcode(take, tmp_path / f"{role_name}.wav", "-ac", "1", "-ar", "48000", "-c:a", "pcm_s16le")
        with chromium(chromium_path, fake_microphone_wav=microphone) as browser:
            page = browser.new_page(**size)
            log_in(page, base, username=user.username, password=password, next_path=f"/record/{passage.id}/")
            page.locator("#role-choice a", has_text=role_name).click()
            page.wait_for_selector("#recorder")
            assert page.locator(".dialogue-lines .is-mine").count() == 1
            assert role_name in page.locator("#speaker").inner_text() or page.locator("#speaker").count() == 1
            assert horizontal_overflow(page) == 0
            record_take(page, 3.2)
            page.click("#submit-button")
            page.wait_for_url("**/me/recordings/", timeout=60_000)
    readings = {recording.role.name: recording for recording in Recording.objects.filter(passage=passage)}
    assert set(readings) == {"宝玉", "黛玉"}

    # The moderator approves each role's reading in the console, hearing the whole script's other voice
    # beside it, while a visitor has the festival's page open.
    with chromium(chromium_path) as browser:
        visitor = browser.new_page(**LAPTOP)
        visitor.goto(f"{base}/events/{festival['event'].slug}/", wait_until="networkidle")
        visitor.wait_for_function("() => document.documentElement.dataset.live === 'open'")
        visitor.evaluate("window.sameLoad = true")
        console = browser.new_page(**LAPTOP)
        log_in(console, base, username="moderator", password="moderator-pass-1", next_path="/moderation/")
        first_reading, second_reading = readings["宝玉"], readings["黛玉"]

        # The first reading: only its role's lines to compare, the whole script with its line marked, and
        # no other voice approved yet.
        console.wait_for_function(REVIEW_SHOWN.format(first_reading.id), timeout=15_000)
        assert not console.locator("#dialogue-block").is_hidden()
        assert "宝玉" in console.locator("#dialogue-role").inner_text()
        assert console.locator("#passage-text").inner_text().replace("\n", "") == first_reading.role.text().replace(
            "\n", ""
        )
        script = console.locator("#dialogue-lines li")
        assert script.count() == 2
        assert "mine" in (script.nth(0).get_attribute("class") or "") and "床前明月光" in script.nth(0).inner_text()
        assert "mine" not in (script.nth(1).get_attribute("class") or "") and "黛玉" in script.nth(1).inner_text()
        voices = console.locator("#dialogue-voices li")
        assert voices.count() == 1 and "黛玉" in voices.inner_text() and voices.locator("audio").count() == 0
        assert horizontal_overflow(console) == 0
        approve_after_listening(console, first_reading.id)

        # The second: the first role's approved voice is there to hear beside it.
        console.wait_for_function(REVIEW_SHOWN.format(second_reading.id), timeout=15_000)
        assert "黛玉" in console.locator("#dialogue-role").inner_text()
        assert "mine" in (console.locator("#dialogue-lines li").nth(1).get_attribute("class") or "")
        other = console.locator("#dialogue-voices li")
        assert "宝玉" in other.inner_text() and resident.display_name in other.inner_text()
        assert other.locator("audio").get_attribute("src") == f"/recordings/{first_reading.id}/audio/"
        heard = other.locator("audio").evaluate(
            """audio => new Promise((resolve) => {
                 audio.addEventListener('loadedmetadata', () => resolve(audio.duration), {once: true});
                 audio.addEventListener('error', () => resolve(-1), {once: true});
                 audio.load();
               })"""
        )
        assert heard > 2, heard  # the moderator can play the other role's voice
        approve_after_listening(console, second_reading.id)
        console.wait_for_function("() => !document.getElementById('empty').hidden", timeout=15_000)
        for recording in readings.values():
            recording.refresh_from_db()
            assert recording.status == Recording.Status.APPROVED

        # Both roles approved: one film of the two voices, made by the workers (here, off the browser's
        # thread), arrives live on the visitor's page crediting both readers.
        film = Animation.objects.filter(recording__passage=passage, voices__isnull=False).distinct().get()
        in_another_thread(animation_tasks.animation_align, str(film.id))
        in_another_thread(animation_tasks.animation_render, str(film.id))
        film.refresh_from_db()
        assert film.status == Animation.Status.PUBLISHED, film.error
        card = visitor.locator(f"[data-animation-id='{film.id}']")
        card.wait_for(timeout=15_000)
        credit = card.locator(".card-reader").inner_text()
        assert "宝玉" in credit and "黛玉" in credit
        assert visitor.evaluate("window.sameLoad") is True  # live, without a reload
