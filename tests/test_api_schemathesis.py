"""schemathesis over our OpenAPI schema, as real users of every role: no 500, nothing off-schema.

Requests go through the whole Django stack (middleware, sessions, CSRF, DRF) of the WSGI handler,
against the test database of a festival seen by every role (testkit/roles.py). Examples per operation
are bounded here (EXAMPLES); bench/bench_fuzz.py runs many more.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client

from testkit.api_fuzz import credentials, fuzz, load_schema
from testkit.roles import ROLES, build_world

EXAMPLES = 4


@pytest.fixture
def world(festival, resident, other_resident, groups):
    """The festival, with the WSGI handler kept off the test database's connection, as Django's test
    client does (the handler closes connections after each request; the test's transaction lives on it).
    """
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield build_world(festival, resident, other_resident, groups)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_no_operation_fails_or_answers_off_schema_for_any_role(world, role):
    schema = load_schema()
    assert len(list(schema.get_all_operations())) >= 15
    failures, calls = fuzz(schema, credentials(world, role), examples=EXAMPLES)
    assert not failures, "\n".join(failures)
    assert calls >= 15


HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.django_db
def test_api_errors_are_json_in_the_clients_language_never_html(world, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS}
    anonymous = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    resident_b = world.client("resident_b")
    resident_b.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    cases = {
        "unknown API URL": anonymous.get("/api/no-such-thing/"),
        "not logged in": anonymous.get("/api/recordings/"),
        "someone else's recording": resident_b.get(f"/api/recordings/{world.recording_a.id}/"),
        "wrong method": resident_b.put("/api/passages/"),
        "invalid upload": resident_b.post("/api/recordings/", {"passage": "not-a-uuid"}),
        "missing CSRF": Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="zh-hans").post("/api/consent/", {}),
        "oversized": anonymous.generic("POST", "/api/recordings/", b"", CONTENT_LENGTH=str(10**10)),
    }
    for name, response in cases.items():
        assert response.status_code >= 400, name
        assert response["Content-Type"].startswith("application/json"), (name, response["Content-Type"])
        body = response.json()
        text = " ".join(str(value) for value in (body.values() if isinstance(body, dict) else body))
        assert HAN.search(text), (name, body)
    english = Client(HTTP_ACCEPT_LANGUAGE="en").get("/api/no-such-thing/")
    assert english.json() == {"detail": "Not found."}
