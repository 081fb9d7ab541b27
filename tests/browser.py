"""Debian's Chromium driven by Playwright (never `playwright install`), with a fake microphone.

Browser tests run against the product's own ASGI server (``asgi_live_server``: Daphne with the real
channel layer, websockets and the product's /media/ gate), never pytest-django's WSGI live server.
"""

from __future__ import annotations

import contextlib
import os
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
def chromium(executable: str, *, fake_microphone_wav: Path | None = None) -> Iterator:
    """Yield a Playwright browser. FAKE_MICROPHONE_WAV must be plain 16-bit PCM, or the take is silent."""
    from playwright.sync_api import sync_playwright

    flags = list(BASE_FLAGS)
    if fake_microphone_wav is not None:
        flags += [
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-audio-capture={fake_microphone_wav}",
        ]
    # Playwright's sync API runs an event loop in this thread; the test's database calls stay synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=flags, headless=True)
        try:
            yield browser
        finally:
            browser.close()


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
        # A media element that stops downloading after its metadata is not a failure a visitor sees.
        if request.failure and "ERR_ABORTED" in request.failure and request.resource_type == "media":
            return
        self.failed_requests.append((request.failure, request.url))

    def assert_clean(self) -> None:
        assert not self.console_errors, f"console errors: {self.console_errors}"
        assert not self.failed_requests, f"failed requests: {self.failed_requests}"


def horizontal_overflow(page) -> int:
    """How many CSS pixels the page is wider than the viewport (0 when nothing scrolls sideways)."""
    return page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")


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
