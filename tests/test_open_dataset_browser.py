"""The open dataset's opt-in in a real browser (issue 26): the box above the recorder travels with the take
the recorder sends (static/js/recorder.js), and "My recordings" takes the reading out again."""

from __future__ import annotations

import pytest

from contributions.models import Recording
from testkit.browser import LAPTOP, chromium, horizontal_overflow, log_in, record_take
from testkit.media import CHINESE_POEM, transcode


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_recorder_sends_the_readings_own_opt_in_and_my_recordings_takes_it_out(
    tmp_path, asgi_live_server, festival, resident, chromium_path
):
    # Chromium's fake capture reads plain 16-bit PCM only; anything else records silence.
    microphone = transcode(CHINESE_POEM, tmp_path / "microphone.wav", "-ac", "1", "-ar", "48000", "-c:a", "pcm_s16le")
    passage = festival["chinese"]
    with chromium(chromium_path, fake_microphone_wav=microphone) as browser:
        page = browser.new_context(**LAPTOP).new_page()
        path = f"/record/{passage.id}/"
        log_in(page, asgi_live_server.url, username="resident", password="resident-pass-1", next_path=path)
        box = page.locator("#dataset-optin")
        assert box.is_visible() and not box.is_checked()
        box.check()
        page.evaluate("() => document.activeElement.blur()")  # the r key records only outside a field
        record_take(page, 2.5)
        page.click("#submit-button")
        page.wait_for_url("**/me/recordings/", timeout=60_000)
        recording = Recording.objects.get(contributor=resident)
        assert recording.open_dataset

        leave = page.get_by_role("button", name="Leave it out of the open dataset")
        assert leave.is_visible() and horizontal_overflow(page) == 0
        leave.click()
        page.wait_for_load_state()
        assert page.get_by_role("button", name="Give it to the open dataset").is_visible()
        recording.refresh_from_db()
        assert not recording.open_dataset

        # A second take without ticking the box stays out of the dataset.
        page.goto(asgi_live_server.url + path)
        record_take(page, 2.0)
        page.click("#submit-button")
        page.wait_for_url("**/me/recordings/", timeout=60_000)
    assert list(Recording.objects.filter(contributor=resident).values_list("open_dataset", flat=True)) == [False] * 2
