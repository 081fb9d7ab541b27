"""schemathesis over our OpenAPI schema, as real users of every role: no 500, nothing off-schema.

Requests go through the whole Django stack (middleware, sessions, CSRF, DRF) of the WSGI handler,
against the test database of a festival seen by every role (tests/roles.py). Examples per operation
are bounded here (EXAMPLES); bench/bench_fuzz.py runs many more.
"""

from __future__ import annotations

import re

import pytest
import schemathesis
from django.conf import settings
from django.test import Client
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import content_type_conformance, not_a_server_error, response_schema_conformance

from tests.roles import ROLES, build_world

EXAMPLES = 4
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
CSRF_SECRET = "schemathesisschemathesisschemat"  # 32 characters: Django accepts it as cookie and header


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


def load_schema():
    from django.core.wsgi import get_wsgi_application

    return schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())


def credentials(world, role: str) -> dict[str, str]:
    """Headers of a browser session of ROLE: its session cookie and a matching CSRF pair."""
    cookies = {settings.CSRF_COOKIE_NAME: CSRF_SECRET}
    if role != "anonymous":
        client = Client()
        client.force_login(world.users[role])
        cookies[settings.SESSION_COOKIE_NAME] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return {
        "Cookie": "; ".join(f"{name}={value}" for name, value in cookies.items()),
        "X-CSRFToken": CSRF_SECRET,
        "Accept-Language": "zh-hans",
    }


def fuzz(schema, headers: dict, *, examples: int) -> tuple[list[str], int]:
    """Every operation of SCHEMA with EXAMPLES generated cases; (failures, calls made)."""
    failures: list[str] = []
    calls = [0]
    for result in schema.get_all_operations():
        operation = result.ok()
        try:
            runner(operation, headers, examples, calls)()
        except Exception as error:  # every failure is reported with its operation
            failures.append(f"{operation.method.upper()} {operation.path}: {str(error)[:600]}")
    return failures, calls[0]


def runner(operation, headers: dict, examples: int, calls: list[int]):
    @hypothesis_settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def run(case):
        calls[0] += 1
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS)

    return run


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
