"""Anonymous gallery pages from the cache (issue 25): served again without rendering, each visitor with
their own CSRF token, retired the moment a film or the catalogue changes, never for a logged-in user."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from catalogue import services as catalogue_services
from testkit.browser import publish_still_film


def token_of(page: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


@pytest.mark.django_db
def test_the_second_visitor_gets_the_cached_page_with_a_token_of_their_own(festival):
    url = f"/events/{festival['event'].slug}/"
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    rendered = first.get(url)
    served = second.get(url)
    assert rendered["X-Page-Cache"] == "miss" and served["X-Page-Cache"] == "hit"
    assert served.content.decode().replace(token_of(served.content.decode()), "") == rendered.content.decode().replace(
        token_of(rendered.content.decode()), ""
    )
    assert "__shuohua_csrf_token__" not in served.content.decode()
    # The token the cached page carries is the second visitor's: their language switch goes through.
    switched = second.post(
        "/i18n/setlang/", {"language": "zh-hans", "next": url, "csrfmiddlewaretoken": token_of(served.content.decode())}
    )
    assert switched.status_code == 302
    # And the other visitor's token is refused to them, as without the cache.
    stolen = Client(enforce_csrf_checks=True)
    stolen.get("/")
    refused = stolen.post(
        "/i18n/setlang/", {"language": "zh-hans", "csrfmiddlewaretoken": token_of(served.content.decode())}
    )
    assert refused.status_code == 403


@pytest.mark.django_db
def test_each_language_has_its_own_page(festival):
    url = f"/events/{festival['event'].slug}/"
    english = Client().get(url, HTTP_ACCEPT_LANGUAGE="en")
    chinese = Client().get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert chinese["X-Page-Cache"] == "miss" and 'lang="zh-hans"' in chinese.content.decode()
    assert Client().get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")["X-Page-Cache"] == "hit"
    assert 'lang="en"' in english.content.decode()
    assert "Vary" in english and "Accept-Language" in english["Vary"]


@pytest.mark.django_db(transaction=True)
def test_a_published_or_withdrawn_film_and_an_edited_painting_show_at_once(festival, resident):
    from contributions import services as contribution_services

    url = f"/events/{festival['event'].slug}/"
    assert Client().get(url)["X-Page-Cache"] == "miss"
    assert Client().get(url)["X-Page-Cache"] == "hit"
    film = publish_still_film(festival=festival, resident=resident)
    page = Client().get(url)
    assert page["X-Page-Cache"] == "miss" and f"/animations/{film.id}/" in page.content.decode()
    assert Client().get(f"/animations/{film.id}/").status_code == 200

    catalogue_services.painting_update(painting=festival["painting"], title="夜宴图")
    assert "夜宴图" in Client().get(url).content.decode()

    contribution_services.recording_withdraw(recording=film.recording)
    assert f"/animations/{film.id}/" not in Client().get(url).content.decode()
    assert Client().get(f"/animations/{film.id}/").status_code == 410


@pytest.mark.django_db
def test_a_logged_in_visitor_never_gets_a_cached_page(festival, resident):
    url = f"/events/{festival['event'].slug}/"
    Client().get(url)
    member = Client()
    member.force_login(resident)
    page = member.get(url)
    assert "X-Page-Cache" not in page and "Log out" in page.content.decode()
    assert "Log out" not in Client().get(url).content.decode()


@pytest.mark.django_db
def test_with_the_cache_off_every_page_is_rendered(festival, settings):
    settings.GALLERY_PAGE_CACHE_SECONDS = 0
    url = f"/events/{festival['event'].slug}/"
    Client().get(url)
    assert "X-Page-Cache" not in Client().get(url)
