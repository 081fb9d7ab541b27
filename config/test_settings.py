"""The settings module for the test suite: the real settings with a test key and scratch media."""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "test-suite-only-key")
# The suite never reads or writes a developer's own var/ (database, media, secret, demo logins).
os.environ.setdefault("SHUOHUA_VAR_DIR", tempfile.mkdtemp(prefix="shuohua-test-var-"))

from config.settings import *  # noqa: F403

MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="shuohua-test-media-"))  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Fast tests use the small English model; Chinese alignment needs the multilingual one all the same.
WHISPER_MODEL_ENGLISH = os.environ.get("WHISPER_MODEL_ENGLISH", "tiny.en")
CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = "shuohua-test"  # noqa: F405
