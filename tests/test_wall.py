"""Wall mode on a library screen: it switches to a new film the moment it is published, and when the
server drops its socket it reconnects by itself and catches up on what it missed."""

from __future__ import annotations

import pytest

from testkit.browser import chromium
from testkit.live_server import asgi_live_server, submit_and_approve, wait_for_published  # noqa: F401
from testkit.media import CHINESE_POEM, transcode


def playing(page) -> str:
    return page.locator("#wall").get_attribute("data-playing")


@pytest.mark.browser
@pytest.mark.slow
def test_the_wall_follows_new_films_and_recovers_after_the_server_drops_it(
    tmp_path,
    asgi_live_server,  # noqa: F811
    festival,
    resident,
    other_resident,
    moderator,
    celery_worker,
    chromium_path,
):
    take = transcode(CHINESE_POEM, tmp_path / "take.ogg", "-c:a", "libopus", "-b:a", "48k")
    passage = festival["chinese"]
    first = wait_for_published(submit_and_approve(take=take, passage=passage, resident=resident, moderator=moderator))

    with chromium(chromium_path) as browser:
        wall = browser.new_page(viewport={"width": 1280, "height": 720})
        wall.goto(f"{asgi_live_server.url}/events/{festival['event'].slug}/wall/")
        wall.wait_for_function("() => document.documentElement.dataset.live === 'open'")
        assert playing(wall) == str(first.id)
        wall.wait_for_function("() => document.getElementById('wall-video').currentTime > 0.5", timeout=20_000)
        assert wall.evaluate("document.getElementById('wall-video').textTracks[0].mode") == "hidden"
        assert wall.locator("#wall-subtitle").inner_text().strip()  # the wall draws the captions itself
        assert wall.locator(".site-header").is_hidden()

        # Published while the wall watches: it switches at once.
        second = wait_for_published(
            submit_and_approve(take=take, passage=passage, resident=other_resident, moderator=moderator)
        )
        wall.wait_for_function(
            f"() => document.getElementById('wall').dataset.playing === '{second.id}'", timeout=10_000
        )

        # The server drops every socket and stops answering; a film is published meanwhile.
        asgi_live_server.stop_listening()
        assert asgi_live_server.drop_websockets() >= 1
        wall.wait_for_function("() => document.documentElement.dataset.live === 'closed'", timeout=10_000)
        third = wait_for_published(
            submit_and_approve(take=take, passage=passage, resident=resident, moderator=moderator)
        )
        wall.wait_for_function("() => Number(document.documentElement.dataset.liveRetries) >= 2", timeout=20_000)
        assert playing(wall) != str(third.id), "the wall cannot know of the film yet"

        asgi_live_server.start_listening()
        # Backoff is at most ~16 s at this point; the catch-up over HTTP brings the missed film.
        wall.wait_for_function("() => document.documentElement.dataset.live === 'open'", timeout=40_000)
        wall.wait_for_function(
            f"() => document.getElementById('wall').dataset.playing === '{third.id}'", timeout=10_000
        )
        wall.wait_for_function("() => document.getElementById('wall-video').currentTime > 0.5", timeout=20_000)

        # And it is live again: a film published now arrives over the new socket.
        fourth = wait_for_published(
            submit_and_approve(take=take, passage=passage, resident=other_resident, moderator=moderator)
        )
        wall.wait_for_function(
            f"() => document.getElementById('wall').dataset.playing === '{fourth.id}'", timeout=10_000
        )
