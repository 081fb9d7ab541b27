"""The festival as an event (issue 26): its programme (readings in the library's reading rooms), the
curators' introduction to each painting (its story) and the curators' choice of films. Real database,
cache and channel layer; the browser test drives Chromium at a phone's and a laptop's width."""

from __future__ import annotations

import datetime
import re
import tempfile
import zoneinfo
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from animation.models import Animation
from catalogue.models import Event
from catalogue.services import CurationError
from gallery import selectors, services
from gallery.models import FeaturedFilm, ProgrammeItem
from tests.test_gallery_pages import curator, film, logged_in  # noqa: F401 (fixtures and helpers)

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
# Screenshots to look at after a run (the system's temporary folder).
SHOTS = Path(tempfile.gettempdir())


@pytest.fixture(autouse=True)
def festival_time_zone(settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    with timezone.override(SHANGHAI):
        yield


def at(year, month, day, hour, minute=0) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def reading(event, starts_at, *, hours=1.5, **fields) -> ProgrammeItem:
    values = {
        "title": "月下读诗",
        "title_en": "Poems by moonlight",
        "venue": "二楼古籍阅览室",
        "venue_en": "Rare books reading room, second floor",
        "description": "馆员与读者一起朗读。",
        "description_en": "Librarians and readers read together.",
        "starts_at": starts_at,
        "ends_at": starts_at + datetime.timedelta(hours=hours),
    } | fields
    return services.programme_item_create(event=event, **values)


@pytest.mark.django_db
def test_the_programme_is_sorted_into_today_upcoming_and_past_in_the_festivals_time_zone(festival):
    event = festival["event"]
    now = at(2026, 12, 5, 10)
    # 00:30 in Shanghai is still yesterday in UTC: it is today's for the visitors of the library.
    early = reading(event, at(2026, 12, 5, 0, 30), title="清晨")
    late_yesterday = reading(event, at(2026, 12, 4, 23, 0), hours=0.5, title="昨夜")
    # Started yesterday evening, still running: today's too.
    running = reading(event, at(2026, 12, 4, 20), hours=16, title="通宵")
    tonight = reading(event, at(2026, 12, 5, 19), title="今晚")
    next_week = reading(event, at(2026, 12, 12, 19), title="下周")
    tomorrow = reading(event, at(2026, 12, 6, 19), title="明天")
    older = reading(event, at(2026, 11, 28, 19), title="上周")
    sections = selectors.programme_sections(event=event, now=now)
    assert sections["today"] == [running, early, tonight]
    assert sections["upcoming"] == [tomorrow, next_week]
    assert sections["past"] == [late_yesterday, older]  # the latest first


@pytest.mark.django_db
def test_an_item_cannot_end_before_it_starts_nor_read_another_festivals_paintings(festival):
    event = festival["event"]
    with pytest.raises(CurationError):
        reading(event, at(2026, 12, 5, 19), hours=-1)
    other = Event.objects.create(slug="other", title="Other")
    with pytest.raises(CurationError):
        services.programme_item_create(
            event=other, title="x", venue="y", starts_at=at(2026, 12, 5, 19), paintings=[festival["painting"]]
        )


@pytest.mark.django_db
def test_a_curator_of_the_festival_writes_edits_and_removes_programme_items(festival, curator, groups):  # noqa: F811
    from accounts.models import User

    event = festival["event"]
    client = logged_in(curator)
    page = client.get(f"/curation/events/{event.slug}/programme/")
    assert page.status_code == 200
    response = client.post(
        f"/curation/events/{event.slug}/programme/",
        {
            "title": "月下读诗",
            "title_en": "Poems by moonlight",
            "venue": "二楼古籍阅览室",
            "venue_en": "Rare books room",
            "starts_at": "2026-12-05T19:00",
            "ends_at": "2026-12-05T20:30",
            "paintings": [str(festival["painting"].id)],
            "passages": [str(festival["chinese"].id)],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    item = ProgrammeItem.objects.get(event=event)
    # The time typed is the festival's: 19:00 in Shanghai is 11:00 UTC.
    assert item.starts_at == datetime.datetime(2026, 12, 5, 11, tzinfo=datetime.UTC)
    assert list(item.paintings.all()) == [festival["painting"]]
    assert list(item.passages.all()) == [festival["chinese"]]
    # Ends before it starts: the form says so, nothing changes.
    refused = client.post(
        f"/curation/programme/{item.id}/",
        {"title": "x", "venue": "y", "starts_at": "2026-12-05T19:00", "ends_at": "2026-12-05T18:00"},
    )
    assert refused.status_code == 200 and "ends before it starts" in refused.content.decode()
    saved = client.post(
        f"/curation/programme/{item.id}/",
        {"title": "月下读诗（二）", "venue": "三楼阅览室", "starts_at": "2026-12-06T19:00"},
    )
    assert saved.status_code == 302
    item.refresh_from_db()
    assert (item.title, item.venue, item.ends_at, list(item.paintings.all())) == (
        "月下读诗（二）",
        "三楼阅览室",
        None,
        [],
    )
    # A curator of another festival may not touch it.
    stranger = User.objects.create_user("stranger", password="x")
    stranger.groups.add(groups["curators"])
    assert logged_in(stranger).get(f"/curation/programme/{item.id}/").status_code == 403
    assert logged_in(stranger).post(f"/curation/programme/{item.id}/delete/").status_code == 403
    assert client.post(f"/curation/programme/{item.id}/delete/").status_code == 302
    assert not ProgrammeItem.objects.exists()


@pytest.mark.django_db
def test_the_festival_page_says_whats_on_in_the_visitors_language_and_a_change_shows_at_once(festival, settings):
    settings.GALLERY_PAGE_CACHE_SECONDS = 30
    event = festival["event"]
    english, chinese = Client(HTTP_ACCEPT_LANGUAGE="en"), Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "What's on" not in english.get(f"/events/{event.slug}/").content.decode()  # cached now
    now = timezone.now()
    tonight = timezone.localtime(now).replace(hour=23, minute=0, second=0, microsecond=0)
    reading(event, tonight, hours=0.5)
    upcoming = reading(event, at(2099, 3, 7, 19), title="春日", title_en="Spring")
    page = english.get(f"/events/{event.slug}/").content.decode()
    assert "What's on" in page and "Today" in page and "Upcoming" in page
    assert "Saturday, March 7, 2099, 7\u00a0p.m. – 8:30\u00a0p.m." in page
    assert "Rare books reading room, second floor" in page and "二楼古籍阅览室" in page
    assert f"/programme/{upcoming.id}.ics" in page
    page = chinese.get(f"/events/{event.slug}/").content.decode()
    assert "2099年3月7日 星期六 19:00–20:30" in page
    assert "今天" in page or "Today" in page  # translated once the catalogue has the string
    programme = english.get(f"/events/{event.slug}/programme/").content.decode()
    assert "Librarians and readers read together." in programme and "Spring" in programme


@pytest.mark.django_db
def test_the_calendar_files_hold_each_reading_in_utc_escaped_and_folded(festival):
    event = festival["event"]
    item = reading(event, at(2026, 12, 5, 19), title="读诗, 对月; 思乡", title_en="Poems, moon; home " * 6)
    reading(event, at(2026, 12, 6, 19), title="第二场")
    one = Client(HTTP_ACCEPT_LANGUAGE="en").get(f"/programme/{item.id}.ics")
    assert one.status_code == 200 and one["Content-Type"].startswith("text/calendar")
    assert "attachment" in one["Content-Disposition"]
    text = one.content.decode()
    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.endswith("END:VCALENDAR\r\n")
    assert text.count("BEGIN:VEVENT") == 1
    assert "DTSTART:20261205T110000Z" in text and "DTEND:20261205T123000Z" in text
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    unfolded = text.replace("\r\n ", "")
    assert "SUMMARY:Poems\\, moon\\; home" in unfolded
    assert "LOCATION:Rare books reading room\\, second floor" in unfolded
    chinese = Client(HTTP_ACCEPT_LANGUAGE="zh-hans").get(f"/programme/{item.id}.ics").content.decode()
    assert "SUMMARY:读诗\\, 对月\\; 思乡" in chinese.replace("\r\n ", "")
    whole = Client().get(f"/events/{event.slug}/programme.ics").content.decode()
    assert whole.count("BEGIN:VEVENT") == 2


@pytest.mark.django_db
def test_curators_feature_only_published_films_in_their_order_with_a_note(festival, resident, curator):  # noqa: F811
    event = festival["event"]
    first, second = film(festival, resident, minutes_ago=5), film(festival, resident, minutes_ago=1)
    waiting = film(festival, resident, status=Animation.Status.READY)
    client = logged_in(curator)
    for chosen in (first, second):
        assert client.post(f"/curation/events/{event.slug}/featured/", {"animation": str(chosen.id)}).status_code == 302
    client.post(f"/curation/events/{event.slug}/featured/", {"animation": str(waiting.id)})
    assert list(FeaturedFilm.objects.values_list("animation_id", flat=True)) == [first.id, second.id]
    with pytest.raises(CurationError):
        services.featured_film_add(event=event, animation=first)  # once only
    entry = FeaturedFilm.objects.get(animation=second)
    client.post(f"/curation/featured/{entry.id}/", {"action": "up"})
    client.post(
        f"/curation/featured/{entry.id}/",
        {"action": "save", f"{entry.id}-note": "月光下的一句。", f"{entry.id}-note_en": "One line by moonlight."},
    )
    assert [chosen.animation_id for chosen in selectors.featured_films(event=event)] == [second.id, first.id]
    page = Client(HTTP_ACCEPT_LANGUAGE="en").get(f"/events/{event.slug}/").content.decode()
    choice = page.index("Curators' choice")
    assert choice < page.index('id="animation-grid"')
    assert page.index(f'data-featured-animation-id="{second.id}"') < page.index(
        f'data-featured-animation-id="{first.id}"'
    )
    assert "月光下的一句。" in page and "One line by moonlight." in page
    home = Client().get("/").content.decode()
    assert home.index("Curators' choice") < home.index("Newest films")
    assert client.post(f"/curation/featured/{entry.id}/", {"action": "remove"}).status_code == 302
    assert [chosen.animation_id for chosen in selectors.featured_films(event=event)] == [first.id]


@pytest.mark.parametrize("how", ["withdrawn by its reader", "taken down"])
@pytest.mark.django_db
def test_a_featured_film_withdrawn_or_taken_down_leaves_the_choice_at_once(festival, resident, settings, how):
    from animation import services as animation_services
    from contributions import services as contribution_services

    settings.GALLERY_PAGE_CACHE_SECONDS = 30
    event = festival["event"]
    chosen = film(festival, resident)
    services.featured_film_add(event=event, animation=chosen, note="选")
    anonymous = Client()
    assert f'data-featured-animation-id="{chosen.id}"' in anonymous.get(f"/events/{event.slug}/").content.decode()
    if how == "taken down":  # as a curator's reversal of the approval does
        animation_services.animation_remove_for_recording(recording=chosen.recording, delete_files=False)
    else:
        contribution_services.recording_withdraw(recording=chosen.recording)
    assert not Animation.objects.filter(id=chosen.id, status=Animation.Status.PUBLISHED).exists()
    for path in (f"/events/{event.slug}/", "/"):
        page = anonymous.get(path).content.decode()
        assert "Curators' choice" not in page and str(chosen.id) not in page


@pytest.mark.django_db
def test_the_curators_introduction_is_the_paintings_story_edited_by_curators_shown_on_its_pages(
    festival,
    resident,
    curator,  # noqa: F811
):
    painting = festival["painting"]
    published = film(festival, resident)
    response = logged_in(curator).post(
        f"/curation/paintings/{painting.id}/",
        {
            "action": "story",
            "title": painting.title,
            "story": "画家以淡墨写出读书人的神情。",
            "story_en": "The painter drew the face of the reader in pale ink.",
            "head_motion": "full",
        },
    )
    assert response.status_code == 302
    for path in (f"/paintings/{painting.id}/", f"/animations/{published.id}/"):
        page = Client().get(path).content.decode()
        assert "画家以淡墨写出读书人的神情。" in page and "The painter drew the face of the reader in pale ink." in page


@pytest.mark.django_db
def test_the_demo_festival_has_a_programme_once_past_today_and_upcoming(django_capture_on_commit_callbacks):
    import io

    from django.core.management import call_command

    with django_capture_on_commit_callbacks(execute=False):
        call_command("load_demo", "--no-films", stdout=io.StringIO())
        call_command("load_demo", "--no-films", stdout=io.StringIO())
    event = Event.objects.get(slug="spring-reading")
    sections = selectors.programme_sections(event=event, now=timezone.localtime().replace(hour=12))
    assert [len(sections[name]) for name in ("past", "today", "upcoming")] == [1, 1, 1]
    assert all(item.venue and item.venue_en and item.title_en for item in selectors.programme_items(event=event))
    page = Client(HTTP_ACCEPT_LANGUAGE="en").get(f"/events/{event.slug}/").content.decode()
    assert "Poems by moonlight" in page and "Rare books reading room, second floor" in page


# ---------------------------------------------------------------------------------------------------
# In Chromium


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_festival_page_shows_its_programme_and_choice_on_a_phone_and_a_laptop_in_both_languages(
    asgi_live_server,
    festival,
    resident,
    chromium_path,
    curator,  # noqa: F811
):
    from testkit.browser import LAPTOP, PHONE, chromium, horizontal_overflow, log_in, publish_still_film
    from testkit.live_server import withdraw

    event = festival["event"]
    now = timezone.localtime(timezone.now())
    reading(event, now.replace(hour=23, minute=30, second=0, microsecond=0), hours=0.4)
    reading(
        event,
        now + datetime.timedelta(days=2),
        title="长卷前的对话：一场很长很长的朗读会标题",
        title_en="A dialogue before the handscroll: a reading with a very long title indeed, to wrap",
        venue="三楼东侧多功能阅览室（近电梯）",
        venue_en="Multi-purpose reading room, third floor, east wing (by the lifts)",
    )
    reading(event, now - datetime.timedelta(days=3), title="开幕")
    films = [publish_still_film(festival=festival, resident=resident) for _ in range(2)]
    for number, chosen in enumerate(films):
        services.featured_film_add(
            event=event,
            animation=chosen,
            note=f"馆员推荐第{number + 1}部。",
            note_en=f"A librarian's pick, number {number + 1}.",
        )
    shots = []
    with chromium(chromium_path) as browser:
        for size, viewport in (("phone", PHONE), ("laptop", LAPTOP)):
            for language in ("en", "zh-hans"):
                context = browser.new_context(
                    **viewport, locale=language, extra_http_headers={"Accept-Language": language}
                )
                page = context.new_page()
                page.goto(f"{asgi_live_server.url}/events/{event.slug}/")
                whats_on = page.locator(".whats-on")
                assert whats_on.is_visible()
                assert page.locator(".whats-on .programme-item:visible").count() == 2  # today, next (past folded)
                assert page.locator(".curators-choice .featured-card").count() == 2
                assert horizontal_overflow(page) == 0, (size, language)
                programme_box = whats_on.bounding_box()
                choice_box = page.locator(".curators-choice").bounding_box()
                grid_box = page.locator("#animation-grid").bounding_box()
                assert programme_box["y"] < choice_box["y"] < grid_box["y"]
                # The text of each item stays inside its box.
                for box in page.eval_on_selector_all(
                    ".programme-item", "items => items.map(i => [i.scrollWidth, i.clientWidth])"
                ):
                    assert box[0] <= box[1], box
                if language == "zh-hans":
                    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日", whats_on.inner_text())
                else:
                    assert re.search(r"[A-Z][a-z]+day, [A-Z][a-z]+\.? \d{1,2}, \d{4}", whats_on.inner_text())
                shot = SHOTS / f"programme-{size}-{language}.png"
                page.screenshot(path=shot, full_page=True)
                shots.append(shot)
                # The front page: the curators' choice before the newest films.
                page.goto(f"{asgi_live_server.url}/")
                assert page.locator(".curators-choice .featured-card").count() == 2
                assert (
                    page.locator(".curators-choice").bounding_box()["y"]
                    < page.locator("#newest-heading").bounding_box()["y"]
                )
                assert horizontal_overflow(page) == 0, (size, language, "home")
                page.screenshot(path=SHOTS / f"programme-home-{size}-{language}.png", full_page=True)
                page.goto(f"{asgi_live_server.url}/events/{event.slug}/programme/")
                assert page.locator(".programme-item").count() == 3
                assert horizontal_overflow(page) == 0, (size, language, "programme")
                page.screenshot(path=SHOTS / f"programme-page-{size}-{language}.png", full_page=True)
                context.close()
        # The curators' pages of both, on a phone and a laptop.
        for size, viewport in (("phone", PHONE), ("laptop", LAPTOP)):
            context = browser.new_context(**viewport)
            page = context.new_page()
            log_in(page, asgi_live_server.url, username="curator", password="curator-pass-1", next_path="/curation/")
            for name in ("programme", "featured"):
                page.goto(f"{asgi_live_server.url}/curation/events/{event.slug}/{name}/")
                assert horizontal_overflow(page) == 0, (size, name)
                page.screenshot(path=SHOTS / f"curation-{name}-{size}.png", full_page=True)
            context.close()
        # Withdrawn while the page is open: the film leaves the choice without a reload.
        page = browser.new_page(**LAPTOP)
        page.goto(f"{asgi_live_server.url}/events/{event.slug}/")
        page.wait_for_function("() => document.documentElement.dataset.live === 'open'")
        withdraw(recording_id=films[0].recording_id, resident=resident)
        page.wait_for_selector(f'[data-featured-animation-id="{films[0].id}"]', state="detached", timeout=10_000)
        assert page.locator(".curators-choice .featured-card").count() == 1
