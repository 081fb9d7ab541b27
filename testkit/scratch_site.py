"""The settings a benchmark's own Django site runs with: a throwaway database and media folder."""

from __future__ import annotations

import os
from pathlib import Path


def use_scratch_site(
    scratch: Path, *, database_url: str | None = None, var_dir: bool = False, log_level: str = "WARNING"
) -> None:
    """Point config.settings at a site in SCRATCH: its SQLite database there (DATABASE_URL where given),
    its media there and, with VAR_DIR, its var folder too. Plain HTTP and a key for benchmarks only,
    unless the caller's environment says otherwise. Call it before django.setup().
    """
    os.environ.setdefault("SECRET_KEY", "bench-only")
    os.environ.setdefault("HTTPS", "0")  # plain HTTP on loopback (production says HTTPS)
    os.environ["DATABASE_URL"] = database_url or f"sqlite:///{scratch / 'bench.sqlite3'}"
    os.environ["MEDIA_ROOT"] = str(scratch / "media")
    if var_dir:
        os.environ["SHUOHUA_VAR_DIR"] = str(scratch / "var")
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ.setdefault("LOG_LEVEL", log_level)
