"""Screenshots of every page at phone, laptop and wall sizes, in English and Chinese, in one command.

    .venv/bin/python bench/screenshots.py [--out bench/out/screenshots]

Serves a throwaway demo festival (bench/site_fixture.py: the product's Daphne, its own database and
media) and photographs it with Debian's Chromium. Prints each file with the page's horizontal overflow
and console errors, so a layout that breaks on phones shows up in the output, not only in the image.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.site_fixture import demo_site

SIZES = {
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
    },
    "laptop": {"viewport": {"width": 1366, "height": 768}},
    "wall": {"viewport": {"width": 1920, "height": 1080}},
}
LANGUAGES = {"en": "en", "zh": "zh-hans"}


def pages(site) -> dict[str, str]:
    """Name -> path (every context carries the resident's session: pages look as a resident sees them)."""
    zh_passage = site.passage_ids.get("zh")
    return {
        "home": "/",
        "event": f"/events/{site.event_slug}/",
        "film": f"/animations/{site.film_ids[0]}/",
        "painting": f"/paintings/{site.painting_id}/",
        "wall": f"/events/{site.event_slug}/wall/",
        "passages": "/passages/",
        "login": "/accounts/login/",
        "signup": "/accounts/signup/",
        "password-reset": "/accounts/password_reset/",
        "not-found": "/no-such-page/",
        "record": f"/record/{zh_passage}/",
        "my-recordings": "/me/recordings/",
        "consent": "/consent/",
        "programme": f"/events/{site.event_slug}/programme/",
        "moderation": "/moderation/",
        "dashboard": f"/curation/events/{site.event_slug}/dashboard/",
        "curation-painting": f"/curation/paintings/{site.painting_id}/",
    }


# Pages only staff see, photographed with that role's session instead of the resident's.
STAFF_PAGES = {"moderation": "moderator", "dashboard": "curator", "curation-painting": "curator"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="bench/out/screenshots")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--pages", default="", help="comma-separated page names (default: every page)")
    arguments = parser.parse_args()
    out = Path(arguments.out)
    out.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    problems = 0
    with demo_site() as site, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=arguments.chromium,
            args=["--no-sandbox", "--disable-gpu", "--autoplay-policy=no-user-gesture-required"],
        )
        for language, code in LANGUAGES.items():
            for size_name, size in SIZES.items():
                context = browser.new_context(**size, locale=code)
                context.add_cookies(
                    [
                        {"name": "django_language", "value": code, "url": site.url},
                        {"name": "sessionid", "value": site.session_cookie, "url": site.url},
                    ]
                )
                wanted = set(filter(None, arguments.pages.split(",")))
                for name, path in pages(site).items():
                    if wanted and name not in wanted:
                        continue
                    if name in STAFF_PAGES:
                        cookie = site.staff_cookies[STAFF_PAGES[name]]
                        context.add_cookies([{"name": "sessionid", "value": cookie, "url": site.url}])
                    page = context.new_page()
                    errors: list[str] = []
                    page.on(
                        "console",
                        lambda message, errors=errors: message.type == "error" and errors.append(message.text),
                    )
                    page.on("pageerror", lambda error, errors=errors: errors.append(str(error)))
                    page.goto(site.url + path, wait_until="networkidle")
                    page.wait_for_timeout(300)
                    overflow = page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")
                    file = out / f"{name}-{size_name}-{language}.png"
                    page.screenshot(path=str(file), full_page=name not in {"wall"})
                    expected_errors = [e for e in errors if name == "not-found" and "404" in e]
                    unexpected = [e for e in errors if e not in expected_errors]
                    flag = "" if overflow <= 0 and not unexpected else "  <-- CHECK"
                    problems += bool(flag)
                    print(f"{file}  overflow {overflow:+d} px  console errors {len(unexpected)}{flag}")
                    for error in unexpected:
                        print(f"    {error}")
                    page.close()
                    if name in STAFF_PAGES:
                        context.add_cookies([{"name": "sessionid", "value": site.session_cookie, "url": site.url}])
                context.close()
        browser.close()
    print(f"{problems} page(s) to check")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
