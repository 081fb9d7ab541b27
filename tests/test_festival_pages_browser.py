"""What a first-time visitor meets on the festival's own pages (issue 26), in Debian's Chromium at a
laptop's, a wall screen's and a phone's size: the poem wraps and nothing of it is cut off, the wall's
lines never collide, the phone menu shows every item, the public never sees the curator's tools."""

from __future__ import annotations

import pytest

from testkit.browser import LAPTOP, PHONE, WALL_HD, PageWatch, chromium, horizontal_overflow, publish_still_film

SIZES = {"laptop": LAPTOP, "wall": WALL_HD, "phone": PHONE}
# A classical passage as curators paste it: long runs without a comma (Fan Zhongyan's 岳阳楼记).
LONG_CHINESE = "先天下之忧而忧后天下之乐而乐噫微斯人吾谁与归。\n时六年九月十五日不以物喜不以己悲居庙堂之高则忧其民。"


def boxes_overlap(first: dict, second: dict) -> bool:
    return not (
        first["x"] + first["width"] <= second["x"]
        or second["x"] + second["width"] <= first["x"]
        or first["y"] + first["height"] <= second["y"]
        or second["y"] + second["height"] <= first["y"]
    )


def characters_outside(page, selector: str) -> list[str]:
    """Characters of SELECTOR drawn outside its own box or past the viewport (cut off or overlapping)."""
    return page.evaluate(
        """(selector) => {
          const root = document.querySelector(selector);
          const outer = root.getBoundingClientRect();
          const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
          const outside = [];
          while (walker.nextNode()) {
            const node = walker.currentNode;
            for (let i = 0; i < node.length; i++) {
              if (!node.data[i].trim()) continue;
              const range = document.createRange();
              range.setStart(node, i); range.setEnd(node, i + 1);
              const box = range.getBoundingClientRect();
              if (box.width === 0) continue;
              if (box.left < outer.left - 1 || box.right > outer.right + 1 || box.top < outer.top - 1
                  || box.bottom > outer.bottom + 1 || box.right > window.innerWidth) outside.push(node.data[i]);
            }
          }
          return outside;
        }""",
        selector,
    )


def log_in(page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert "/accounts/login/" not in page.url, page.url


@pytest.fixture
def long_poem_film(festival, resident):
    from catalogue.models import Passage

    festival["long"] = Passage.objects.create(
        event=festival["event"],
        painting=festival["painting"],
        title="岳阳楼记",
        title_en="On Yueyang Tower",
        text=LONG_CHINESE,
        translation="Be the first to worry for the world, and the last to enjoy its pleasures.",
        language="zh",
        max_seconds=30,
    )
    return publish_still_film(festival=festival, resident=resident, passage_key="long")


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_film_page_wraps_a_long_chinese_passage_and_cuts_nothing_off(
    asgi_live_server, long_poem_film, chromium_path
):
    base = asgi_live_server.url
    with chromium(chromium_path) as browser:
        for name, size in SIZES.items():
            page = browser.new_context(**size).new_page()
            watch = PageWatch().attach(page)
            page.goto(f"{base}/animations/{long_poem_film.id}/", wait_until="networkidle")
            assert horizontal_overflow(page) == 0, f"{name}: the film page scrolls sideways"
            assert characters_outside(page, "#passage-text") == [], f"{name}: characters cut off"
            # Both titles, Chinese first; the translation beside the poem; pinyin on request.
            assert page.locator("h1").inner_text().splitlines() == ["岳阳楼记", "On Yueyang Tower"], name
            assert page.locator("#passage-translation").is_visible()
            assert not page.locator("#passage-text rt").first.is_visible()
            page.click("#pinyin-toggle")
            assert page.locator("#passage-text rt").first.inner_text() == "xiān"
            assert page.locator("#passage-text rt").first.is_visible()
            assert horizontal_overflow(page) == 0, f"{name}: pinyin widens the page"
            page.click("#pinyin-toggle")
            page.click("#translation-toggle")
            assert page.locator("#passage-translation").is_hidden()
            # Upright columns: the text stays in its own box, clear of the reader's line below it.
            page.click("#vertical-toggle")
            assert "vertical" in page.locator("#passage-text").get_attribute("class")
            assert characters_outside(page, "#passage-text") == [], f"{name}: vertical characters overflow"
            credit = page.locator("#film-credit").bounding_box()
            assert not boxes_overlap(page.locator("#passage-text").bounding_box(), credit), name
            assert horizontal_overflow(page) == 0, f"{name}: vertical text widens the page"
            watch.assert_clean()
            page.context.close()


WALL_PARTS = ("#wall-subtitle", "#wall-caption", ".wall-invite", ".wall-help", ".wall-festival")


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_wall_keeps_subtitles_credit_and_hints_apart_and_shows_a_sound_control(
    asgi_live_server, festival, resident, chromium_path
):
    publish_still_film(festival=festival, resident=resident)
    base = asgi_live_server.url
    with chromium(chromium_path) as browser:
        for name, size in SIZES.items():
            page = browser.new_context(**size).new_page()
            watch = PageWatch().attach(page)
            page.goto(f"{base}/events/{festival['event'].slug}/wall/")
            # The subtitle line shows the cue being read, karaoke-style (characters still to come marked).
            page.wait_for_function(
                "() => document.querySelector('#wall-subtitle span[data-start]')"
                " && document.getElementById('wall-video').currentTime > 0.5",
                timeout=20_000,
            )
            assert "床前明月光" in page.locator("#wall-subtitle").inner_text(), name
            boxes = {part: page.locator(part).bounding_box() for part in WALL_PARTS}
            viewport = size["viewport"]
            for part, box in boxes.items():
                assert box and box["width"] > 0, f"{name}: {part} is not shown"
                assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"] + 1, f"{name}: {part} cut off"
                for other, other_box in boxes.items():
                    if other < part:
                        assert not boxes_overlap(box, other_box), f"{name}: {part} collides with {other}"
            if name == "phone":
                # Read in the hand, not across a room: phone-sized type that fits the screen.
                size_px = page.locator(".wall-subtitle-line").evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
                assert 18 <= size_px <= 32, size_px
                assert page.locator("#wall-video").bounding_box()["width"] >= 0.9 * viewport["width"]
            else:
                video = page.locator("#wall-video").bounding_box()
                assert video["y"] + video["height"] <= boxes["#wall-caption"]["y"] + 1, f"{name}: credit over film"
            # A visible sound control: the film starts muted (autoplay), one click turns the sound on.
            sound = page.locator("#wall-sound")
            assert sound.is_visible() and sound.get_attribute("aria-pressed") == "false"
            sound.click()
            assert page.evaluate("document.getElementById('wall-video').muted") is False
            assert sound.get_attribute("aria-pressed") == "true"
            assert horizontal_overflow(page) == 0, name
            watch.assert_clean()
            page.context.close()


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_every_menu_item_is_on_a_phones_screen_and_no_label_reads_full_stop_colon(
    asgi_live_server, festival, moderator, chromium_path
):
    from django.contrib.auth.models import Group

    moderator.groups.add(Group.objects.get_or_create(name="curators")[0])
    festival["event"].curators.add(moderator)
    base = asgi_live_server.url
    with chromium(chromium_path) as browser:
        for language in ("zh-hans", "en"):
            context = browser.new_context(**PHONE)
            context.add_cookies([{"name": "django_language", "value": language, "url": base}])
            page = context.new_page()
            log_in(page, base, "moderator", "moderator-pass-1")
            for path in ("/", "/consent/", "/passages/"):
                page.goto(base + path, wait_until="networkidle")
                items = page.locator(".site-nav a, .site-nav button")
                assert items.count() == 6, [items.nth(i).inner_text() for i in range(items.count())]
                for index in range(items.count()):
                    box = items.nth(index).bounding_box()
                    label = items.nth(index).inner_text()
                    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["viewport"]["width"], label
                    assert box["y"] + box["height"] <= PHONE["viewport"]["height"], label
                text = page.locator("body").inner_text()
                assert "。：" not in text and "。:" not in text and ".:" not in text, path
            context.close()


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_handscroll_is_shown_as_a_scroll_and_the_public_never_sees_face_boxes(
    asgi_live_server, festival, chromium_path, tmp_path
):
    from django.core.files import File
    from PIL import Image

    from catalogue.models import Painting

    scroll = Painting(event=festival["event"], title="韩熙载夜宴图", artist="顾闳中")
    Image.new("RGB", (2400, 300), (200, 180, 150)).save(tmp_path / "scroll.jpg", "JPEG")
    with (tmp_path / "scroll.jpg").open("rb") as handle:
        scroll.image.save("scroll.jpg", File(handle), save=False)
    scroll.faces = [{"box": [100, 50, 40, 40], "landmarks": {}}]
    scroll.save()
    base = asgi_live_server.url
    with chromium(chromium_path) as browser:
        for name, size in SIZES.items():
            page = browser.new_context(**size).new_page()
            page.goto(f"{base}/events/{festival['event'].slug}/", wait_until="networkidle")
            thumbnail = page.locator(f".painting-strip a[href='/paintings/{scroll.id}/'] img").bounding_box()
            assert thumbnail["width"] >= 4 * thumbnail["height"], f"{name}: the scroll is cropped to {thumbnail}"
            portrait = page.locator(f".painting-strip a[href='/paintings/{festival['painting'].id}/'] img")
            box = portrait.bounding_box()
            assert abs(box["height"] - thumbnail["height"]) <= 1, name
            assert horizontal_overflow(page) == 0, name
            page.goto(f"{base}/paintings/{scroll.id}/", wait_until="networkidle")
            assert page.locator(".face-box").count() == 0, name
            assert "face" not in page.locator("main").inner_text().lower(), name
            page.context.close()


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_front_pages_newest_films_are_live_and_a_long_name_wraps_in_its_card(
    asgi_live_server, festival, resident, chromium_path
):
    from testkit.live_server import withdraw

    resident.display_name = "Ouyang-Xiu-Reads-the-Drunken-Old-Mans-Pavilion-Aloud"
    resident.save(update_fields=["display_name"])
    film = publish_still_film(festival=festival, resident=resident)
    base = asgi_live_server.url
    with chromium(chromium_path) as browser:
        for name, size in (("phone", PHONE), ("laptop", LAPTOP)):
            page = browser.new_context(**size).new_page()
            page.goto(base + "/", wait_until="networkidle")
            page.wait_for_function("() => document.documentElement.dataset.live === 'open'")
            card = f"#animation-grid [data-animation-id='{film.id}']"
            assert characters_outside(page, f"{card} .card-reader") == [], f"{name}: the name is cut off"
            assert characters_outside(page, card) == [], f"{name}: the card clips its text"
            if name == "laptop":
                # Withdrawn while the front page is open: the card goes without a reload.
                withdraw(recording_id=film.recording_id, resident=resident)
                page.wait_for_selector(card, state="detached", timeout=10_000)
                assert page.locator("#empty-note").is_visible()
            page.context.close()


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_my_recordings_shows_each_painting_and_lines_up_the_players(
    asgi_live_server, festival, resident, chromium_path
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from contributions import services
    from testkit.media import CHINESE_POEM

    publish_still_film(festival=festival, resident=resident)
    for key in ("english", "chinese"):
        services.recording_submit(
            contributor=resident,
            passage=festival[key],
            upload=SimpleUploadedFile("take.flac", CHINESE_POEM.read_bytes()),
        )
    base = asgi_live_server.url
    with chromium(chromium_path) as browser:
        for name, size in SIZES.items():
            page = browser.new_context(**size).new_page()
            log_in(page, base, "resident", "resident-pass-1")
            page.goto(base + "/me/recordings/", wait_until="networkidle")
            items = page.locator(".recordings > li")
            assert items.count() == 3
            players = []
            for index in range(3):
                item = items.nth(index)
                thumbnail = item.locator("img")
                assert thumbnail.get_attribute("src").endswith(".jpg"), name
                assert thumbnail.evaluate("img => img.complete && img.naturalWidth > 0"), name
                assert festival["painting"].title in item.inner_text(), name
                players.append(item.locator("audio").bounding_box())
            assert len({round(box["x"]) for box in players}) == 1, f"{name}: players start at different places"
            assert len({round(box["width"]) for box in players}) == 1, f"{name}: players of different widths"
            assert horizontal_overflow(page) == 0, name
            page.context.close()
