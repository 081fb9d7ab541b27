"""Debian's Chromium driven by Playwright (never `playwright install`), with a fake microphone."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
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
