"""The organisers' dashboard of a festival (issue 26): its figures from real rows, who may open it, its
CSV (nothing personal), the anonymous funnel of the recording flow, and the page itself in Chromium on a
phone and a laptop, refreshing its numbers by itself when a moderator decides."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from animation.models import Animation
from contributions.models import ModerationDecision, Recording, RecordingFunnelCount
from contributions.selectors import consent_current

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def reading(passage, contributor, *, status, created, duration, reason=""):
    recording = Recording.objects.create(
        passage=passage,
        contributor=contributor,
        consent=consent_current(user=contributor),
        status=status,
        duration_seconds=duration,
        rejection_reason=reason,
    )
    Recording.objects.filter(id=recording.id).update(created_at=created)
    recording.refresh_from_db()
    return recording


def decide(recording, moderator, verdict, *, after, reason="", reversed_at=None):
    decision = ModerationDecision.objects.create(
        recording=recording, moderator=moderator, verdict=verdict, reason=reason, reversed_at=reversed_at
    )
    ModerationDecision.objects.filter(id=decision.id).update(created_at=recording.created_at + timedelta(seconds=after))
    return decision


def film(recording, *, status, stage_seconds=None, created=None, published=None):
    animation = Animation.objects.create(
        recording=recording, event=recording.passage.event, status=status, stage_seconds=stage_seconds or {}
    )
    Animation.objects.filter(id=animation.id).update(created_at=created or recording.created_at, published_at=published)
    return animation


@pytest.fixture
def curator(db, groups, festival):
    from accounts.models import User

    user = User.objects.create_user("curator", password="curator-pass-1", email="curator@example.org")
    user.groups.add(groups["curators"])
    festival["event"].curators.add(user)  # curators are per festival
    return user


@pytest.fixture
def other_moderator(db, groups):
    """A moderator of another festival only."""
    from accounts.models import User
    from catalogue.models import Event

    user = User.objects.create_user("elsewhere", password="elsewhere-pass-1")
    user.groups.add(groups["moderators"])
    Event.objects.create(slug="elsewhere", title="Elsewhere").moderators.add(user)
    return user


@pytest.fixture
def season(festival, resident, other_resident, moderator):
    """Ten readings of the festival in every state, their decisions and films, and one of another festival."""
    from catalogue.models import Event, Passage

    resident.email = "li.ming@example.org"
    resident.save()
    chinese, english = festival["chinese"], festival["english"]
    day_1, day_2 = datetime(2026, 12, 1, tzinfo=UTC), datetime(2026, 12, 2, tzinfo=UTC)
    pending, approved, rejected = Recording.Status.PENDING, Recording.Status.APPROVED, Recording.Status.REJECTED
    approve, reject = ModerationDecision.Verdict.APPROVE, ModerationDecision.Verdict.REJECT
    rows = {}
    rows["waiting_2h"] = reading(chinese, resident, status=pending, created=NOW - timedelta(hours=2), duration=10)
    rows["waiting_30m"] = reading(
        english, other_resident, status=pending, created=NOW - timedelta(minutes=30), duration=20
    )
    rows["waiting_10m"] = reading(
        chinese, other_resident, status=pending, created=NOW - timedelta(minutes=10), duration=30
    )

    rows["published"] = reading(chinese, resident, status=approved, created=day_2 + timedelta(hours=10), duration=40)
    decide(rows["published"], moderator, approve, after=600)
    film(rows["published"], status=Animation.Status.FAILED, stage_seconds={"prepare_voice": 99.0})
    film(
        rows["published"],
        status=Animation.Status.PUBLISHED,
        stage_seconds={"prepare_voice": 1.0, "align": 2.0, "fetch_inputs": 0.5, "render_task": 10.0},
        created=rows["published"].created_at + timedelta(seconds=601),
        published=rows["published"].created_at + timedelta(seconds=600 + 120),
    )
    rows["held"] = reading(english, resident, status=approved, created=day_2 + timedelta(hours=11), duration=50)
    decide(rows["held"], moderator, approve, after=1200)
    film(
        rows["held"],
        status=Animation.Status.READY,
        stage_seconds={"prepare_voice": 1.0, "align": 3.0, "render_task": 20.0},
    )
    rows["rendering"] = reading(chinese, other_resident, status=approved, created=NOW - timedelta(hours=3), duration=60)
    decide(rows["rendering"], moderator, approve, after=100)
    film(rows["rendering"], status=Animation.Status.RENDERING)

    rows["noise_1"] = reading(
        chinese, resident, status=rejected, reason="noise", created=day_1 + timedelta(hours=9), duration=5
    )
    decide(rows["noise_1"], moderator, reject, reason="noise", after=300)
    rows["noise_2"] = reading(
        english,
        other_resident,
        status=rejected,
        reason="noise",
        created=day_1 + timedelta(hours=9, minutes=30),
        duration=6,
    )
    decide(rows["noise_2"], moderator, reject, reason="noise", after=900)
    rows["misread"] = reading(
        chinese, resident, status=rejected, reason="misread", created=NOW - timedelta(hours=4), duration=7
    )
    decide(rows["misread"], moderator, reject, reason="misread", after=60)
    # A later approval that was taken back: the rejection before it is the decision in force.
    decide(rows["misread"], moderator, approve, after=500, reversed_at=NOW)
    rows["withdrawn"] = reading(
        chinese, resident, status=Recording.Status.WITHDRAWN, created=day_2 + timedelta(hours=12), duration=8
    )

    other = Event.objects.create(slug="another-festival", title="Another")
    other_passage = Passage.objects.create(
        event=other, painting=festival["painting"], title="x", text="x", language="en"
    )
    reading(other_passage, resident, status=pending, created=NOW - timedelta(days=5), duration=1000)
    return rows  # fmt: skip


# ---------------------------------------------------------------------------------------------------
# Figures


@pytest.mark.django_db
def test_the_figures_count_every_reading_film_and_wait_of_the_festival_only(festival, season):
    from gallery.dashboard import event_figures

    figures = event_figures(event=festival["event"], now=NOW)

    assert figures["readings"] == {"received": 10, "pending": 3, "approved": 3, "rejected": 3, "withdrawn": 1}
    reasons = {row["reason"]: row for row in figures["rejections"]}
    assert set(reasons) == set(Recording.RejectionReason.values)
    assert reasons["noise"] == {"reason": "noise", "label": "Too much background noise", "count": 2}
    assert reasons["misread"]["count"] == 1 and reasons["misread"]["label"] == "The text was misread"
    assert sum(row["count"] for row in figures["rejections"]) == 3
    assert figures["voice_seconds"] == {"approved": 150.0, "total": 236.0}
    assert figures["films"] == {"in_progress": 1, "held": 1, "published": 1, "failed": 1, "removed": 0, "made": 2}
    assert figures["queue"] == {
        "waiting": 3,
        "oldest_seconds": 7200.0,
        "median_wait_seconds": 1800.0,
        "decided": 6,
        # 60, 100, 300, 600, 900, 1200 s from submission to the decision in force
        "median_decision_seconds": 450.0,
    }
    render = figures["render"]
    # prepare_voice + align + render_task: 13 s and 24 s (the failed film is not counted)
    assert render["films"] == 2
    assert render["median_seconds"] == pytest.approx(18.5)
    assert render["p90_seconds"] == pytest.approx(22.9)
    assert render["published"] == 1
    assert render["to_publish_median_seconds"] == pytest.approx(120.0)
    assert render["to_publish_p90_seconds"] == pytest.approx(120.0)
    assert figures["per_day"] == [
        {"day": "2026-12-01", "received": 2},
        {"day": "2026-12-02", "received": 3},
        {"day": "2026-12-03", "received": 5},
    ]


@pytest.mark.django_db
def test_the_funnel_counts_each_step_and_the_share_that_dropped_out(festival):
    from contributions.services import recording_funnel_count
    from gallery.dashboard import event_figures

    for step, times in [("opened", 4), ("microphone_ready", 3), ("recording_started", 3), ("take_recorded", 2)]:
        for _ in range(times):
            recording_funnel_count(passage=festival["chinese"], step=step)
    recording_funnel_count(passage=festival["chinese"], step="submitted")
    recording_funnel_count(passage=festival["english"], step="opened", day=datetime(2026, 11, 30).date())

    funnel = event_figures(event=festival["event"])["funnel"]

    assert [(row["step"], row["count"]) for row in funnel] == [
        ("opened", 5),
        ("microphone_ready", 3),
        ("recording_started", 3),
        ("take_recorded", 2),
        ("submitted", 1),
    ]
    assert [row["dropped"] for row in funnel] == [None, pytest.approx(0.4), 0.0, pytest.approx(1 / 3), 0.5]
    assert funnel[0]["label"] == "Opened the recording page"
    # One row per passage, step and day: the four "opened" of one day are one row counting 4.
    assert RecordingFunnelCount.objects.get(passage=festival["chinese"], step="opened").count == 4
    assert RecordingFunnelCount.objects.count() == 6
    with pytest.raises(ValueError):
        recording_funnel_count(passage=festival["chinese"], step="looked")


@pytest.mark.django_db
def test_an_empty_festival_shows_dashes_not_errors(festival, curator):
    client = Client()
    client.force_login(curator)
    response = client.get(f"/curation/events/{festival['event'].slug}/dashboard/")
    assert response.status_code == 200
    assert "No reading yet." in response.content.decode()
    data = client.get(f"/curation/events/{festival['event'].slug}/dashboard.json").json()
    assert data["figures"]["queue"]["oldest_seconds"] is None
    assert data["figures"]["render"]["median_seconds"] is None
    assert data["figures"]["per_day"] == []


# ---------------------------------------------------------------------------------------------------
# Who may see it


@pytest.mark.django_db
@pytest.mark.parametrize("suffix", ["dashboard/", "dashboard.json", "dashboard.csv"])
def test_only_curators_and_the_festivals_own_moderators_open_the_dashboard(
    festival, resident, moderator, other_moderator, curator, suffix
):
    url = f"/curation/events/{festival['event'].slug}/{suffix}"

    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    answers = {}
    for name, user in [
        ("resident", resident),
        ("other", other_moderator),
        ("moderator", moderator),
        ("curator", curator),
    ]:
        client = Client()
        client.force_login(user)
        answers[name] = client.get(url).status_code
    assert answers == {"resident": 403, "other": 403, "moderator": 200, "curator": 200}

    client = Client()
    client.force_login(curator)
    assert client.get(f"/curation/events/no-such-festival/{suffix}").status_code == 404
    assert client.post(url).status_code == 405


@pytest.mark.django_db
def test_the_curation_page_of_a_festival_links_to_its_dashboard(festival, curator):
    client = Client()
    client.force_login(curator)
    page = client.get(f"/curation/events/{festival['event'].slug}/").content.decode()
    assert f'href="/curation/events/{festival["event"].slug}/dashboard/"' in page


@pytest.mark.django_db
def test_the_moderation_console_links_each_moderated_festival_to_its_dashboard(festival, moderator, other_moderator):
    link = f'href="/curation/events/{festival["event"].slug}/dashboard/"'
    client = Client()
    client.force_login(moderator)
    page = client.get("/moderation/").content.decode()
    assert link in page
    dashboard = client.get(f"/curation/events/{festival['event'].slug}/dashboard/")
    assert dashboard.status_code == 200 and festival["event"].title in dashboard.content.decode()

    # A moderator of another festival is linked to theirs only, and this one stays closed to them.
    client.force_login(other_moderator)
    page = client.get("/moderation/").content.decode()
    assert link not in page and 'href="/curation/events/elsewhere/dashboard/"' in page
    assert client.get(f"/curation/events/{festival['event'].slug}/dashboard/").status_code == 403


# ---------------------------------------------------------------------------------------------------
# The page, its JSON and its CSV


@pytest.mark.django_db
def test_the_page_draws_its_charts_with_tables_and_the_json_carries_the_same_figures(festival, season, curator):
    client = Client()
    client.force_login(curator)
    page = client.get(f"/curation/events/{festival['event'].slug}/dashboard/").content.decode()
    data = client.get(f"/curation/events/{festival['event'].slug}/dashboard.json").json()

    assert page.count('class="bar-chart"') == 4  # statuses, reasons, films, funnel
    assert page.count('class="column-chart"') == 1
    assert page.count("<table>") == 5  # each chart's text alternative
    assert "Too much background noise" in page
    assert '<div class="dashboard-card" data-figure="waiting"><dt>Waiting for review</dt><dd>3</dd></div>' in page
    assert data["figures"]["readings"]["pending"] == 3
    # The JSON's figures are drawn by the page's own template: the part a refresh swaps is the page's part.
    assert data["html"].strip() in page
    assert "static/js/event_dashboard.js" in page and "css/dashboard.css" in page


@pytest.mark.django_db
def test_the_page_speaks_chinese(festival, season, curator):
    client = Client()
    client.force_login(curator)
    client.cookies["django_language"] = "zh-hans"
    page = client.get(f"/curation/events/{festival['event'].slug}/dashboard/").content.decode()
    assert "等待审核" in page and "背景噪音太大" in page
    assert "Waiting for review" not in page


@pytest.mark.django_db
def test_the_csv_has_one_row_per_reading_and_nothing_about_the_readers(festival, season, moderator, curator):
    from catalogue.models import Passage

    Passage.objects.filter(id=festival["english"].id).update(title="=HYPERLINK(1)")
    client = Client()
    client.force_login(moderator)
    response = client.get(f"/curation/events/{festival['event'].slug}/dashboard.csv")

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="test-festival-readings.csv"'
    text = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == [
        "reading",
        "status",
        "rejection_reason",
        "rejection_reason_label",
        "duration_seconds",
        "submitted_at",
        "decided_at",
        "film_status",
        "published_at",
        "passage",
        "painting",
        "language",
    ]
    by_id = {row[0]: row for row in rows[1:]}
    assert len(rows) == 11 and len(by_id) == 10
    noise = by_id[str(season["noise_1"].id)]
    assert noise[1:5] == ["rejected", "noise", "Too much background noise", "5.00"]
    assert noise[5] == "2026-12-01T09:00:00+00:00" and noise[6] == "2026-12-01T09:05:00+00:00"
    assert noise[7:] == ["", "", "静夜思", "Portrait of a Young Woman", "zh"]
    published = by_id[str(season["published"].id)]
    assert published[7:9] == ["published", "2026-12-02T10:12:00+00:00"]
    assert by_id[str(season["held"].id)][7:10] == ["ready", "", "'=HYPERLINK(1)"]  # no formula for spreadsheets
    assert by_id[str(season["waiting_2h"].id)][1] == "pending" and by_id[str(season["waiting_2h"].id)][6] == ""
    from accounts.models import User

    for user in User.objects.all():
        for personal in (user.username, user.email, user.display_name):
            if personal:
                assert personal not in text, personal
        assert str(user.pk) not in {value for row in rows[1:] for value in row}


# ---------------------------------------------------------------------------------------------------
# The funnel endpoint


@pytest.mark.django_db
def test_the_funnel_endpoint_counts_a_known_step_and_refuses_the_rest(festival):
    client = Client()
    passage = festival["chinese"]

    def send(body, **extra):
        return client.post("/api/funnel/", data=body, content_type="application/json", **extra)

    assert send({"passage": str(passage.id), "step": "opened"}).status_code == 204
    assert send({"passage": str(passage.id), "step": "opened"}).status_code == 204
    row = RecordingFunnelCount.objects.get()
    assert (row.passage_id, row.event_id, row.step, row.count) == (passage.id, festival["event"].id, "opened", 2)

    bad_step = send({"passage": str(passage.id), "step": "looked_around"})
    assert bad_step.status_code == 400 and bad_step.json()["code"] == "step"
    assert send({"passage": str(uuid.uuid4()), "step": "opened"}).status_code == 404
    assert send({"passage": "not-an-id", "step": "opened"}).status_code == 404
    assert client.post("/api/funnel/", data="{not json", content_type="application/json").status_code == 400
    assert send(["opened"]).status_code == 400
    assert client.get("/api/funnel/").status_code == 405
    assert RecordingFunnelCount.objects.get().count == 2
    # Nothing but the passage, the step, the day and the count is kept.
    assert {field.name for field in RecordingFunnelCount._meta.get_fields()} == {
        "id",
        "event",
        "passage",
        "step",
        "day",
        "count",
    }


@pytest.mark.django_db
def test_the_funnel_endpoint_wants_the_pages_csrf_token(festival, resident):
    client = Client(enforce_csrf_checks=True)
    client.force_login(resident)
    body = {"passage": str(festival["chinese"].id), "step": "submitted"}
    refused = client.post("/api/funnel/", data=body, content_type="application/json")
    assert refused.status_code == 403
    client.get("/")  # every page sets the CSRF cookie (the language form)
    token = client.cookies["csrftoken"].value
    accepted = client.post("/api/funnel/", data=body, content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 204
    assert RecordingFunnelCount.objects.get().step == "submitted"


@pytest.mark.django_db
def test_the_funnel_endpoint_is_rate_limited_per_address(festival, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "funnel": "2/h"}
    client = Client(REMOTE_ADDR=f"2001:db8::{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}")  # a fresh window
    body = {"passage": str(festival["chinese"].id), "step": "opened"}
    answers = [client.post("/api/funnel/", data=body, content_type="application/json").status_code for _ in range(3)]
    assert answers == [204, 204, 429]
    assert RecordingFunnelCount.objects.get().count == 2


# ---------------------------------------------------------------------------------------------------
# In the browser


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_dashboard_fits_a_phone_and_a_laptop_and_refreshes_when_a_reading_is_approved(
    asgi_live_server, festival, resident, moderator, groups, chromium_path
):
    from accounts.models import User
    from testkit.browser import LAPTOP, PHONE, PageWatch, chromium, horizontal_overflow, log_in
    from testkit.live_server import api_client, in_another_thread

    curator = User.objects.create_user("curator", password="curator-pass-1")
    curator.groups.add(groups["curators"])
    festival["event"].curators.add(curator)
    now = datetime.now(tz=UTC)
    waiting = [
        reading(
            festival["chinese"],
            resident,
            status=Recording.Status.PENDING,
            created=now - timedelta(minutes=m),
            duration=12,
        )
        for m in (5, 50)
    ]
    noise = reading(
        festival["english"],
        resident,
        status=Recording.Status.REJECTED,
        reason="noise",
        created=now - timedelta(days=1),
        duration=3,
    )
    decide(noise, moderator, ModerationDecision.Verdict.REJECT, reason="noise", after=60)
    base = asgi_live_server.url
    path = f"/curation/events/{festival['event'].slug}/dashboard/"

    def card(page, key):
        return page.locator(f'[data-figure="{key}"] dd').inner_text()

    with chromium(chromium_path) as browser:
        for device, (username, password), approve in [
            (PHONE, ("moderator", "moderator-pass-1"), waiting[0]),
            (LAPTOP, ("curator", "curator-pass-1"), waiting[1]),
        ]:
            context = browser.new_context(**device)
            page = context.new_page()
            log_in(page, base, username=username, password=password, next_path=path)
            watch = PageWatch().attach(page)
            page.goto(base + path, wait_until="networkidle")
            assert page.locator(".bar-chart").count() == 4
            assert page.locator(".column-chart rect.column").count() == 2  # yesterday and today
            for chart in page.locator(".bar-chart, .column-chart").all():
                box = chart.bounding_box()
                assert box and box["width"] > 200 and box["height"] > 20
            assert page.locator(".bar-reason-noise .bar-value").inner_text() == "1"
            assert horizontal_overflow(page) == 0, f"{device['viewport']} scrolls sideways"
            page.locator('details[data-key="dashboard-readings"] summary').click()  # a table a reader opened
            before = {"waiting": card(page, "waiting"), "approved": card(page, "approved")}
            page.evaluate("window.notReloaded = true")

            response = in_another_thread(
                api_client(moderator).post, f"/api/moderation/recordings/{approve.id}/approve/"
            )
            assert response.status_code == 200, response.content
            page.wait_for_function(
                "(before) => document.querySelector('[data-figure=\"waiting\"] dd').textContent.trim()"
                " === String(Number(before) - 1)",
                arg=before["waiting"],
                timeout=30_000,
            )
            assert card(page, "approved") == str(int(before["approved"]) + 1)
            assert page.evaluate("window.notReloaded") is True  # refreshed in place, not reloaded
            assert page.locator('details[data-key="dashboard-readings"]').get_attribute("open") is not None
            assert horizontal_overflow(page) == 0
            watch.assert_clean()
            context.close()


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_funnel_js_counts_each_step_once_per_visit_through_the_csrf_check(
    asgi_live_server, festival, resident, chromium_path
):
    """static/js/funnel.js on the recording page (added here as the page will load it): "opened" as it
    loads, every later step once however often it is called, past Django's CSRF check."""
    from testkit.browser import PageWatch, chromium, log_in, wait_until

    passage = festival["chinese"]
    path = f"/record/{passage.id}/"
    with chromium(chromium_path) as browser:
        page = browser.new_page()
        log_in(page, asgi_live_server.url, username="resident", password="resident-pass-1", next_path=path)
        watch = PageWatch().attach(page)
        if not page.evaluate("typeof window.recordFunnel === 'function'"):  # once the page loads it itself
            page.add_script_tag(url="/static/js/funnel.js")
        page.evaluate("""() => { recordFunnel("opened"); recordFunnel("microphone_ready");
                                 recordFunnel("microphone_ready"); recordFunnel("not_a_step"); }""")

        def counts():
            return dict(RecordingFunnelCount.objects.filter(passage=passage).values_list("step", "count"))

        wait_until(lambda: counts() == {"opened": 1, "microphone_ready": 1}, timeout=15, message=str(counts()))
        watch.assert_clean()


@pytest.mark.django_db
def test_a_long_festival_shows_its_last_sixty_days_with_a_few_day_labels(festival, resident):
    from catalogue.models import Event
    from gallery.curation.dashboard_page import columns
    from gallery.dashboard import PER_DAY_LIMIT, event_figures

    Event.objects.filter(id=festival["event"].id).update(ends_on=datetime(2026, 11, 1).date())
    festival["event"].refresh_from_db()
    first = datetime(2026, 8, 1, 12, tzinfo=UTC)
    for day in range(0, 80, 2):  # a reading every other day, 1 August to 18 October
        reading(
            festival["chinese"],
            resident,
            status=Recording.Status.PENDING,
            created=first + timedelta(days=day),
            duration=5,
        )

    per_day = event_figures(event=festival["event"], now=NOW)["per_day"]

    assert len(per_day) == PER_DAY_LIMIT == 60
    # The festival is over: the chart ends on its last reading, not today.
    assert per_day[-1] == {"day": "2026-10-18", "received": 1}
    assert per_day[0]["day"] == "2026-08-20" and sum(day["received"] for day in per_day) == 30
    chart = columns(per_day)
    labelled = [column for column in chart["columns"] if column["show_label"]]
    assert 2 <= len(labelled) <= 7
    assert labelled[0]["anchor"] == "start"  # kept inside the chart at its left edge
    assert chart["numbers"] is False  # too many columns for a number over each: tooltips and the table
    assert chart["columns"][-1]["title"] == "10/18: 1 reading"
