"""Schemathesis over the API for every role: the schema, a role's browser credentials, the fuzz run."""

from __future__ import annotations

import schemathesis
from django.conf import settings
from django.test import Client
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import content_type_conformance, not_a_server_error, response_schema_conformance

CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
CSRF_SECRET = "schemathesisschemathesisschemat"  # 32 characters: Django accepts it as cookie and header


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
