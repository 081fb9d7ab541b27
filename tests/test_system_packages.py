"""The install script `make test` and .ci/run share: it installs what is missing, or says in one line what to
install where it cannot (not root, no apt-get)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "platform" / "install_system_packages.sh"


def test_everything_the_suite_needs_is_installed_here():
    # `make test` ran the script before pytest: nothing may be missing now, and a second run is a no-op.
    result = subprocess.run([shutil.which("bash"), str(SCRIPT)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and result.stderr == ""
    for command in ("chromium", "espeak-ng", "nginx"):
        assert shutil.which(command), command


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root to drop to nobody")
def test_without_root_it_stops_with_one_line_naming_the_packages(tmp_path):
    # An empty PATH: every needed command looks missing, and nobody cannot install.
    result = subprocess.run(
        [
            shutil.which("setpriv"),
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            shutil.which("bash"),
            str(SCRIPT),
        ],
        env={"PATH": str(tmp_path / "empty")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "apt-get install" in lines[0]
    for package in ("chromium", "espeak-ng", "nginx"):
        assert package in lines[0]
