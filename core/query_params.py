"""Filters read from a query string: an id that is not an id is the client's mistake (400), never a 500."""

from __future__ import annotations

import uuid

from django.core.exceptions import BadRequest


def uuid_param(params, name: str) -> str | None:
    value = params.get(name) or None
    if value is None:
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise BadRequest(f"'{name}' must be an id (a UUID)") from None


def int_param(params, name: str) -> int | None:
    value = params.get(name) or None
    if value is None:
        return None
    if not (value.isascii() and value.isdigit() and len(value) <= 18):
        raise BadRequest(f"'{name}' must be a whole number")
    return int(value)
