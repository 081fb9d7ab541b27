"""A dialogue film's page follows the voices line by line (issue 22): each line of the script lights up,
unit by unit, while its speaker says it, from the film's own subtitles (the "<v 宝玉>" cues), at phone and
laptop widths."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

SCRIPT = "宝玉：床前明月光，疑是地上霜。\n黛玉：举头望明月，低头思故乡。"


def timed(text: str, start: float, step: float) -> dict:
    """An alignment of TEXT's characters (punctuation kept with the one before), STEP seconds each."""
    characters = [character for character in text if character not in "，。"]
    units = [
        {"text": character, "start": round(start + i * step, 3), "end": round(start + (i + 1) * step, 3)}
        for i, character in enumerate(characters)
    ]
    return {"language": "zh", "units": units, "phrases": [{"start": start, "end": units[-1]["end"]}]}


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize("size", ["laptop", "phone"])
@pytest.mark.django_db(transaction=True)
def test_a_dialogue_films_page_lights_up_each_line_as_its_speaker_says_it(
    size, asgi_live_server, festival, resident, chromium_path
):
    from animation.engine.align.subtitles import dialogue_to_webvtt
    from animation.models import Animation
    from catalogue import services as catalogue_services
    from testkit.browser import LAPTOP, PHONE, chromium, horizontal_overflow
    from testkit.roles import make_film, submit

    passage = catalogue_services.passage_create(
        painting=festival["painting"], title="对读", text=SCRIPT, language="zh", max_seconds=30, kind="dialogue"
    )
    baoyu = passage.roles.get(name="宝玉")
    reading = submit(festival["chinese"], resident)
    film = Animation.objects.create(
        recording=reading, event=festival["event"], status=Animation.Status.PUBLISHED, published_at=timezone.now()
    )
    make_film(film)  # a real 2 s H.264 film
    # The recording is of the poem; the page is the dialogue's: point the film at the dialogue passage.
    reading.passage, reading.role = passage, baoyu
    reading.save(update_fields=["passage", "role"])
    # 宝玉's line from 0.0 s, 黛玉's from 1.0 s, a tenth of a second a character: the film's own cues.
    subtitles = dialogue_to_webvtt(
        [("宝玉", timed("床前明月光，疑是地上霜。", 0.0, 0.09)), ("黛玉", timed("举头望明月，低头思故乡。", 1.0, 0.09))]
    )
    default_storage.delete(film.subtitles.name)
    film.subtitles.name = default_storage.save(film.subtitles.name, ContentFile(subtitles.encode()))
    film.save(update_fields=["subtitles"])

    with chromium(chromium_path) as browser:
        page = browser.new_page(**{"laptop": LAPTOP, "phone": PHONE}[size])
        page.goto(f"{asgi_live_server.url}/animations/{film.id}/")
        page.wait_for_function("() => document.getElementById('passage-text').dataset.karaoke", timeout=20_000)
        # Every character of both lines became a unit with its time; the punctuation stayed text.
        assert page.eval_on_selector("#passage-text", "t => t.dataset.karaoke") == "20"
        assert horizontal_overflow(page) == 0

        def at(seconds: float) -> tuple[str, str]:
            page.evaluate(
                """seconds => new Promise(done => { const video = document.getElementById('film');
                     video.addEventListener('seeked', () => setTimeout(done, 50), { once: true });
                     video.currentTime = seconds; })""",
                seconds,
            )
            current = page.locator("#passage-text .unit.current").inner_text()
            line = page.locator("#passage-text li.current-line .dialogue-role").inner_text()
            return current, line

        assert at(0.12) == ("前", "宝玉")  # 0.09-0.18 s: the second character of 宝玉's line
        assert at(1.5) == ("低", "黛玉")  # 1.0 + 5 × 0.09 = 1.45 s: the sixth character of 黛玉's line
        spoken = page.eval_on_selector_all("#passage-text li:first-child .unit.spoken", "units => units.length")
        assert spoken == 10  # 宝玉's line said in full by then
