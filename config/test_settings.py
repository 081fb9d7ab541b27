"""The settings module for the test suite: the real settings with a test key and scratch media."""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "test-suite-only-key")
# The suite's servers (and the processes it starts, which inherit this) speak plain HTTP on loopback;
# production's secure defaults are tested on their own (tests/test_security.py).
os.environ.setdefault("HTTPS", "0")
# The suite never reads or writes a developer's own var/ (database, media, secret, demo logins).
os.environ.setdefault("SHUOHUA_VAR_DIR", tempfile.mkdtemp(prefix="shuohua-test-var-"))

from config.settings import *  # noqa: F403

MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="shuohua-test-media-"))  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Fast tests use the small English model; Chinese alignment needs the multilingual one all the same.
WHISPER_MODEL_ENGLISH = os.environ.get("WHISPER_MODEL_ENGLISH", "tiny.en")
CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = "shuohua-test"  # noqa: F405
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A test database in a file, not SQLite's shared in-memory cache: threads then wait for each other's
    # writes (the memory cache fails at once with "table is locked"), and worker processes started by a
    # test (tests/test_render_faults.py) can open the same database.
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": str(Path(tempfile.mkdtemp(prefix="shuohua-test-db-")) / "test.sqlite3")  # noqa: F405
    }
