"""Every page a visitor, a resident or a reading room sees, in Debian's Chromium on the product's own
ASGI server, in English and Chinese: no sideways scrolling on a 390 px phone, no console error, no
failed or missing request (favicon, manifest, fonts, posters), share cards and a description on every
page, the language switch without a button, error pages in the visitor's language."""

from __future__ import annotations

import pytest

from testkit.browser import PHONE, WALL_4K, WALL_HD, PageWatch, chromium, horizontal_overflow, publish_still_film

LANGUAGES = {"en": "Read a poem", "zh-hans": "朗读一首诗"}


def page_paths(festival, film) -> dict[str, str]:
    return {
        "home": "/",
        "event": f"/events/{festival['event'].slug}/",
        "film": f"/animations/{film.id}/",
        "painting": f"/paintings/{festival['painting'].id}/",
        "passages": "/passages/",
        "record": f"/record/{festival['chinese'].id}/",
        "my recordings": "/me/recordings/",
        "my account": "/me/account/",
        "consent": "/consent/",
        "password reset": "/accounts/password_reset/",
    }


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_every_page_fits_a_phone_and_loads_cleanly_in_both_languages(
    asgi_live_server, festival, resident, chromium_path
):
    film = publish_still_film(festival=festival, resident=resident)
    base = asgi_live_server.url
    with chromium(chromium_path) as browser:
        for language, call_to_action in LANGUAGES.items():
            context = browser.new_context(**PHONE)
            context.add_cookies([{"name": "django_language", "value": language, "url": base}])
            page = context.new_page()
            page.goto(f"{base}/accounts/login/")
            page.fill("#id_username", "resident")
            page.fill("#id_password", "resident-pass-1")
            page.click("main form button[type=submit]")
            page.wait_for_load_state()
            # Logged in for real: a broken login would turn every page below into the login page.
            assert "/accounts/login/" not in page.url, page.url
            watch = PageWatch().attach(page)
            for name, path in page_paths(festival, film).items():
                watch.console_errors.clear()
                watch.failed_requests.clear()
                page.goto(base + path, wait_until="networkidle")
                assert "/accounts/login/" not in page.url, f"{name}: sent to the login page"
                assert page.locator("form[action='/accounts/logout/']").count() == 1, f"{name}: not logged in"
                assert horizontal_overflow(page) == 0, f"{name} ({language}) scrolls sideways"
                assert page.locator("html").get_attribute("lang") == language
                assert page.locator('meta[name="description"]').get_attribute("content"), name
                assert page.locator('meta[property="og:image"]').get_attribute("content"), name
                assert call_to_action in page.locator(".site-header").inner_text(), name
                # The phone header is compact: the menu is one scrolling line under the brand.
                assert page.locator(".site-header").bounding_box()["height"] < 120, name
                watch.assert_clean()
            # The site's own icon, manifest and serif font are served (no CDN).
            for asset in (
                "/static/icons/seal.svg",
                "/static/site.webmanifest",
                "/static/fonts/noto-serif-sc-subset.woff2",
            ):
                assert page.request.get(base + asset).status == 200, asset
            context.close()


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_language_menu_switches_at_once_and_errors_speak_the_visitors_language(
    asgi_live_server, festival, chromium_path
):
    base = asgi_live_server.url
    with chromium(chromium_path) as browser:
        page = browser.new_page()
        page.goto(f"{base}/events/{festival['event'].slug}/")
        assert (
            page.locator("#language-form button").count() == 0 or not page.locator("#language-form button").is_visible()
        )
        with page.expect_navigation():
            page.select_option("#language-select", "zh-hans")
        assert page.locator("html").get_attribute("lang") == "zh-hans"
        assert page.url.endswith(f"/events/{festival['event'].slug}/")
        response = page.goto(f"{base}/no-such-page/")
        assert response.status == 404
        assert "找不到这个页面" in page.locator("h1").inner_text()
        assert "Not Found" not in page.content()
        response = page.goto(f"{base}/accounts/password_reset/")
        assert "Django" not in page.content() and "重设密码" in page.locator("h1").inner_text()


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_wall_reads_from_across_the_room_and_invites_with_a_qr_code(
    asgi_live_server, festival, resident, chromium_path
):
    publish_still_film(festival=festival, resident=resident)
    base = asgi_live_server.url
    with chromium(chromium_path) as browser:
        for size in (WALL_HD, WALL_4K):
            page = browser.new_context(**size).new_page()
            watch = PageWatch().attach(page)
            page.goto(f"{base}/events/{festival['event'].slug}/wall/")
            page.wait_for_function("() => document.getElementById('wall-video').currentTime > 0.3", timeout=20_000)
            height = size["viewport"]["height"]
            title = page.locator(".wall-title")
            assert "静夜思" in title.inner_text() and "Li Ming" in page.locator(".wall-credit").inner_text()
            # Large type: the title at least 5 % of the screen's height (54 px on 1080p, 108 px on 4K).
            assert float(title.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")) >= 0.05 * height
            assert page.evaluate("getComputedStyle(document.body).cursor") == "none"
            qr = page.locator(".wall-qr svg")
            assert qr.bounding_box()["height"] >= 0.15 * height
            assert base + "/passages/" in qr.locator("title").text_content()
            assert horizontal_overflow(page) == 0
            watch.assert_clean()


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_passage_chosen_before_signing_up_is_waiting_after_consent(asgi_live_server, festival, chromium_path):
    """A newcomer picks a poem, is asked to log in, creates an account, agrees to the consent and lands
    on the poem they chose (it was once lost at sign-up and again after consent)."""
    from accounts.models import User

    base = asgi_live_server.url
    passage = festival["chinese"]
    with chromium(chromium_path) as browser:
        page = browser.new_context(**PHONE).new_page()
        watch = PageWatch().attach(page)
        page.goto(f"{base}/passages/")
        page.click(f"a[href='/record/{passage.id}/']")
        page.wait_for_url("**/accounts/login/**")
        page.click("main a[href^='/accounts/signup/']")
        page.fill("#id_username", "newcomer")
        page.fill("#id_display_name", "Zhou Xin")
        page.fill("#id_email", "newcomer@example.org")
        page.fill("#id_password1", "a-long-festival-pass-9")
        page.fill("#id_password2", "a-long-festival-pass-9")
        page.click("main form button[type=submit]")
        page.wait_for_url("**/consent/**")
        page.check("#id_public_animation")
        page.click("main form.consent button[type=submit]")
        page.wait_for_url(f"**/record/{passage.id}/")
        assert page.locator(".passage-text").inner_text().startswith("床前明月光")
        # Back on the consent page, what was agreed stays ticked, and the date reads cleanly.
        page.goto(f"{base}/consent/")
        assert page.locator("#id_public_animation").is_checked()
        assert "p.m.." not in page.content()
        watch.assert_clean()
    assert User.objects.get(username="newcomer").display_name == "Zhou Xin"
