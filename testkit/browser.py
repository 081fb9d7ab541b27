"""Debian's Chromium driven by Playwright (never `playwright install`), with a fake microphone.

Browser tests run against the product's own ASGI server (``asgi_live_server``: Daphne with the real
channel layer, websockets and the product's /media/ gate), never pytest-django's WSGI live server.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

BASE_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
LAPTOP = {"viewport": {"width": 1366, "height": 768}}
WALL_HD = {"viewport": {"width": 1920, "height": 1080}}
WALL_4K = {"viewport": {"width": 3840, "height": 2160}}


@contextlib.contextmanager
def chromium(
    executable: str, *, fake_microphone_wav: Path | None = None, fake_camera_y4m: Path | None = None
) -> Iterator:
    """Yield a Playwright browser. FAKE_MICROPHONE_WAV must be plain 16-bit PCM, or the take is silent;
    FAKE_CAMERA_Y4M (raw YUV 4:2:0 frames) is what its fake camera films."""
    from playwright.sync_api import sync_playwright

    flags = list(BASE_FLAGS)
    if fake_microphone_wav is not None or fake_camera_y4m is not None:
        flags += ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]
    if fake_microphone_wav is not None:
        flags.append(f"--use-file-for-fake-audio-capture={fake_microphone_wav}")
    if fake_camera_y4m is not None:
        flags.append(f"--use-file-for-fake-video-capture={fake_camera_y4m}")
    # Playwright's sync API runs an event loop in this thread; the test's database calls stay synchronous.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable, args=flags, headless=True)
            try:
                yield browser
            finally:
                browser.close()
    finally:
        # Only for the browser's lifetime: later tests (and their subprocesses) keep Django's async checks.
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def log_in(page, base_url: str, *, username: str, password: str, next_path: str) -> None:
    """Log in through the real login form and land on NEXT_PATH."""
    page.goto(f"{base_url}/accounts/login/?next={next_path}")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("main form button[type=submit]")
    page.wait_for_url(f"**{next_path}")


@dataclass
class PageWatch:
    """What a visitor's browser would complain about: console errors and failed or missing requests."""

    console_errors: list = field(default_factory=list)
    failed_requests: list = field(default_factory=list)

    def attach(self, page) -> PageWatch:
        page.on("console", lambda message: message.type == "error" and self.console_errors.append(message.text))
        page.on("pageerror", lambda error: self.console_errors.append(str(error)))
        page.on(
            "response",
            lambda response: response.status >= 400 and self.failed_requests.append((response.status, response.url)),
        )
        page.on(
            "requestfailed",
            lambda request: self._failed(request),
        )
        return self

    def _failed(self, request) -> None:
        # A download the browser cancels itself (a video that stops after its metadata, an image still
        # loading when the visitor moves on) is not a failure a visitor sees; HTTP errors are caught apart.
        if request.failure and "ERR_ABORTED" in request.failure:
            return
        self.failed_requests.append((request.failure, request.url))

    def assert_clean(self) -> None:
        assert not self.console_errors, f"console errors: {self.console_errors}"
        assert not self.failed_requests, f"failed requests: {self.failed_requests}"


def start_take(page) -> None:
    """Start a take on the record page with the keyboard, as a resident does ("r"), and wait until the
    count-in is over and it records."""
    page.keyboard.press("r")
    page.wait_for_function("() => document.getElementById('record-status').textContent.includes('Recording')")


def stop_take(page) -> None:
    """Stop the take being recorded ("r" again) and wait until it can be sent."""
    page.keyboard.press("r")
    page.wait_for_function("() => !document.getElementById('submit-button').disabled", timeout=10_000)


def record_take(page, seconds: float) -> None:
    """Record a take of SECONDS on the record page with the keyboard and wait until it can be sent."""
    start_take(page)
    page.wait_for_timeout(int(seconds * 1000))
    stop_take(page)


def show_figure_from_its_thumb(page, figure_id) -> None:
    """On the curation painting page, click the figure's face crop in the strip and wait until the
    overview has brought its box inside the frame; the box is then the current one."""
    page.click(f"#figure-{figure_id} .figure-thumb")
    page.wait_for_function(
        """(id) => { const box = document.getElementById('box-' + id).getBoundingClientRect();
                     const frame = document.getElementById('painting-overview').getBoundingClientRect();
                     return box.left >= frame.left && box.right <= frame.right; }""",
        arg=str(figure_id),
        timeout=5_000,
    )
    assert "is-current" in page.get_attribute(f"#box-{figure_id}", "class")


def horizontal_overflow(page) -> int:
    """How many CSS pixels the page reaches past the viewport's right edge: what scrolls sideways, and
    also what is cut off at the edge (an element wider than the screen inside a box that clips it).
    Content of a box that scrolls on purpose (a menu or a strip with overflow-x: auto) is not counted, nor
    the tiles of a deep-zoom viewer ([data-deep-zoom]: it draws a painting larger than itself, clipped)."""
    return page.evaluate(
        """() => {
          const width = window.innerWidth;
          let reach = document.scrollingElement.scrollWidth;
          const scrolls = new Map();
          const insideScroller = element => {
            for (let node = element.parentElement; node && node !== document.body; node = node.parentElement) {
              if (!scrolls.has(node)) {
                const scrolling = ['auto', 'scroll'].includes(getComputedStyle(node).overflowX);
                scrolls.set(node, scrolling || node.hasAttribute('data-deep-zoom'));
              }
              if (scrolls.get(node)) return true;
            }
            return false;
          };
          for (const element of document.body.querySelectorAll('*')) {
            const box = element.getBoundingClientRect();
            if (box.width === 0 || box.right <= width || insideScroller(element)) continue;
            if (getComputedStyle(element).position === 'fixed') continue;
            reach = Math.max(reach, Math.ceil(box.right + window.scrollX));
          }
          return Math.max(0, reach - width);
        }"""
    )


def takes_kept(page) -> int:
    """How many takes the recording studio keeps in IndexedDB (waiting to be sent)."""
    return page.evaluate(
        """() => new Promise((resolve, reject) => {
            const opening = indexedDB.open('shuohua-takes', 1);
            opening.onupgradeneeded = () => opening.result.createObjectStore('takes');
            opening.onerror = () => reject(opening.error);
            opening.onsuccess = () => {
              const count = opening.result.transaction('takes', 'readonly').objectStore('takes').count();
              count.onsuccess = () => { opening.result.close(); resolve(count.result); };
              count.onerror = () => reject(count.error);
            };
        })"""
    )


def publish_still_film(*, festival: dict, resident, passage_key: str = "chinese"):
    """A published film without a render worker: the painting over the demo voice, encoded by ffmpeg as
    the product's encoder writes films (H.264 + AAC, faststart), stored through the storage API, with an
    alignment row so the page's karaoke has its units. For page tests, not for the engine's output."""
    import subprocess
    import tempfile

    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from animation.models import Alignment, Animation
    from contributions import services
    from contributions.models import Recording
    from testkit.media import CHINESE_POEM, ffmpeg

    passage = festival[passage_key]
    recording = services.recording_submit(
        contributor=resident, passage=passage, upload=SimpleUploadedFile("take.flac", CHINESE_POEM.read_bytes())
    )
    Recording.objects.filter(id=recording.id).update(status=Recording.Status.APPROVED)
    animation = Animation.objects.create(recording=recording, event=festival["event"])
    folder = f"animations/{animation.id}"
    with tempfile.TemporaryDirectory() as scratch:
        film, poster = Path(scratch) / "film.mp4", Path(scratch) / "poster.jpg"
        with festival["painting"].image.open("rb") as handle:
            painting = Path(scratch) / "painting.jpg"
            painting.write_bytes(handle.read())
        subprocess.run(
            [ffmpeg(), "-v", "error", "-y", "-loop", "1", "-i", str(painting), "-i", str(CHINESE_POEM), "-t", "5",
             "-vf", "scale=256:256,format=yuv420p", "-c:v", "libx264", "-preset", "veryfast", "-c:a", "aac",
             "-movflags", "+faststart", str(film)],
            check=True,
        )  # fmt: skip
        subprocess.run(
            [ffmpeg(), "-v", "error", "-y", "-i", str(painting), "-vf", "scale=256:256", str(poster)], check=True
        )
        default_storage.save(f"{folder}/film.mp4", ContentFile(film.read_bytes()))
        default_storage.save(f"{folder}/poster.jpg", ContentFile(poster.read_bytes()))
    characters = [character for character in passage.text if character.strip() and character not in "，。"]
    units = [{"text": c, "start": 0.3 + 0.3 * i, "end": 0.55 + 0.3 * i} for i, c in enumerate(characters)]
    cues = "".join(f"<00:00:{unit['start']:06.3f}>{unit['text']}" for unit in units)
    default_storage.save(
        f"{folder}/subtitles.vtt", ContentFile(f"WEBVTT\n\n00:00.000 --> 00:05.000\n{cues}\n".encode())
    )
    Alignment.objects.create(recording=recording, language=passage.language, units=units, webvtt="WEBVTT\n")
    Animation.objects.filter(id=animation.id).update(
        status=Animation.Status.PUBLISHED,
        progress=1.0,
        published_at=timezone.now(),
        video=f"{folder}/film.mp4",
        poster=f"{folder}/poster.jpg",
        subtitles=f"{folder}/subtitles.vtt",
    )
    # Published behind the services' back (no signal): the cached public pages are retired by hand.
    from gallery.page_cache import pages_changed

    pages_changed()
    return Animation.objects.get(id=animation.id)


def line_breaks(page, selector: str) -> list[tuple[str, str]]:
    """Where the text of SELECTOR wraps: (last character of a line, first character of the next), over
    the visible text only (pinyin in <rt> left out), measured from each character's box."""
    return page.evaluate(
        """(selector) => {
          const root = document.querySelector(selector);
          const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {
            acceptNode: node => node.parentElement.closest('rt')
              ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT});
          const characters = [];
          for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            for (let i = 0; i < node.data.length; i++) {
              if (!node.data[i].trim()) continue;
              const range = document.createRange();
              range.setStart(node, i); range.setEnd(node, i + 1);
              const box = range.getBoundingClientRect();
              characters.push({text: node.data[i], top: box.top, bottom: box.bottom});
            }
          }
          const breaks = [];
          for (let i = 1; i < characters.length; i++) {
            if (characters[i].top >= characters[i - 1].bottom - 2) {
              breaks.push([characters[i - 1].text, characters[i].text]);
            }
          }
          return breaks;
        }""",
        selector,
    )


# The moderation console shows recording {} (format with its id) in its review panel.
REVIEW_SHOWN = (
    "() => document.getElementById('review').dataset.recordingId === '{}' && !document.getElementById('review').hidden"
)


def approve_after_listening(page, recording_id) -> None:
    """In the moderation console, wait until it shows RECORDING_ID, hear the whole reading at 1.5x (the
    console plays it on its own and refuses to approve before the end) and approve it with "a"."""
    page.wait_for_function(REVIEW_SHOWN.format(recording_id), timeout=15_000)
    page.click("button.speed[data-speed='1.5']")  # not "s": it toggles, and the console keeps the last speed
    page.wait_for_function("() => document.getElementById('player').ended", timeout=30_000)
    page.keyboard.press("a")
    page.wait_for_function(
        "(id) => document.getElementById('review').dataset.recordingId !== id"
        " || document.getElementById('review').hidden",
        arg=str(recording_id),
        timeout=15_000,
    )


def wait_until(condition, *, timeout: float, message: str):
    """CONDITION's first truthy value, polled from the test's thread (the server and worker run elsewhere)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(message)
