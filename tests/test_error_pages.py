"""Every error page a visitor can meet (400, 403, 404, 500) is the festival's own, in their language,
with no trace of the code behind it (#19 §3: only the 404 page was rendered before)."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import path

from config.urls import urlpatterns as project_urlpatterns


def broken_view(request):
    raise RuntimeError("a bug the visitor must never read about")


# This module is the URL configuration of the tests below: the project's, and one view that fails.
urlpatterns = [*project_urlpatterns, path("broken/", broken_view)]

HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.urls(__name__)
@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_each_error_page_is_the_festivals_own_in_the_visitors_language(festival, resident, language, settings):
    settings.DEBUG = False
    resident_client = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE=language)
    resident_client.force_login(resident)
    visitor = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE=language)
    pages = {
        400: visitor.get(f"/events/{festival['event'].slug}/?painting=not-an-id"),
        403: resident_client.get("/moderation/"),
        404: visitor.get("/no-such-page/"),
        500: visitor.get("/broken/"),
    }
    for status, response in pages.items():
        body = response.content.decode()
        assert response.status_code == status, (status, body[:200])
        assert response["Content-Type"].startswith("text/html"), status
        assert f'<html lang="{language}"' in body, (status, body[:200])
        assert "Traceback" not in body and "RuntimeError" not in body and "never read about" not in body
        assert 'href="/"' in body, f"{status}: no way back to the festival"
        heading = re.search(r"<h1[^>]*>(.*?)</h1>", body, re.S).group(1)
        assert bool(HAN.search(heading)) == (language == "zh-hans"), (status, language, heading)
