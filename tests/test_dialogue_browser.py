"""A dialogue in the browser (issue 22): a curator writes it and casts its roles, two residents each read
a role into their microphone, a moderator approves both, and the film arrives live on the festival's
page with both readers credited."""

from __future__ import annotations

import pytest
from django.core.files import File

from animation.models import Animation
from catalogue import selectors as catalogue_selectors
from catalogue.models import Passage
from contributions.models import Recording
from testkit.browser import LAPTOP, PHONE, chromium, horizontal_overflow, log_in, record_take
from testkit.media import PORTRAIT_PAIR, portraits_side_by_side, transcode
from tests.test_dialogue_film import SCRIPT, halves_of_the_poem


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_dialogue_is_written_cast_read_by_two_residents_and_arrives_live(
    asgi_live_server, festival, groups, resident, other_resident, moderator, chromium_path, tmp_path
):
    from accounts.models import User
    from animation import tasks as animation_tasks
    from catalogue import tasks as catalogue_tasks
    from gallery.models import PassagePreview
    from testkit.live_server import api_client, in_another_thread

    curator = User.objects.create_user("curator", password="curator-pass-1")
    curator.groups.add(groups["curators"])
    festival["event"].curators.add(curator)
    portraits_side_by_side(tmp_path / "pair.jpg", PORTRAIT_PAIR, height=400)
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
            cast.locator("button[type=submit]").click()
            page.wait_for_load_state()
        # (The test film of a dialogue is made in tests/test_dialogue_film.py; here one is ready.)
        PassagePreview.objects.create(passage=passage, status=PassagePreview.Status.READY)
        page.reload()
        page.locator("form[action$='/open/'] button[type=submit]").click()
        page.wait_for_load_state()
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

    # The moderator's console shows each reading with only its role's lines; both are approved.
    moderation = api_client(moderator)
    for name, recording in readings.items():
        review = in_another_thread(moderation.get, f"/api/moderation/recordings/{recording.id}/")
        assert review.status_code == 200
        assert review.json()["role"] == name and review.json()["passage_text"] == recording.role.text()
    with chromium(chromium_path) as browser:
        page = browser.new_page(**LAPTOP)
        page.goto(f"{base}/events/{festival['event'].slug}/", wait_until="networkidle")
        page.wait_for_function("() => document.documentElement.dataset.live === 'open'")
        for recording in readings.values():
            approved = in_another_thread(moderation.post, f"/api/moderation/recordings/{recording.id}/approve/")
            assert approved.status_code == 200, approved.content
        film = Animation.objects.filter(recording__passage=passage, voices__isnull=False).distinct().get()
        # What the workers run, off the browser's thread.
        in_another_thread(animation_tasks.animation_align, str(film.id))
        in_another_thread(animation_tasks.animation_render, str(film.id))
        film.refresh_from_db()
        assert film.status == Animation.Status.PUBLISHED, film.error
        card = page.locator(f"[data-animation-id='{film.id}']")
        card.wait_for(timeout=15_000)
        credit = card.locator(".card-reader").inner_text()
        assert "宝玉" in credit and "黛玉" in credit
