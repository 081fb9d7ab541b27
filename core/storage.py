"""Every stored file, through Django's storage API: the same code on the local disk and on S3.

Workers share no disk. A task copies its inputs from storage into a scratch folder of its own
(``scratch_folder``), the engine works on plain local paths there, and finished files go back to
storage under fixed names (``put``). Rows point at those names only once every file is in place.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

logger = logging.getLogger(__name__)


def animation_prefix(animation_id) -> str:
    return f"animations/{animation_id}"


def scratch_root() -> Path:
    root = Path(settings.WORKER_SCRATCH_DIR or tempfile.gettempdir()) / "shuohua-scratch"
    root.mkdir(parents=True, exist_ok=True)
    return root


@contextlib.contextmanager
def scratch_folder(label: str) -> Iterator[Path]:
    """A private local folder for one task run, removed afterwards.

    A worker killed mid-run leaves its folder behind: the next run with the same LABEL on this machine
    removes it first (the caller holds the job's claim, so any such folder is a dead worker's).
    """
    root = scratch_root()
    for leftover in root.glob(f"{label}-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    folder = Path(tempfile.mkdtemp(prefix=f"{label}-", dir=root))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def fetch(name: str, folder: Path, *, as_name: str | None = None) -> Path:
    """Copy the stored file NAME into FOLDER and return the local path."""
    target = folder / (as_name or Path(name).name)
    with default_storage.open(name, "rb") as source, target.open("wb") as destination:
        shutil.copyfileobj(source, destination, length=1024 * 1024)
    return target


def fetch_if_present(name: str, destination: Path) -> bool:
    """Copy the stored file NAME to the local path DESTINATION; False when it is gone (withdrawn)."""
    try:
        with default_storage.open(name, "rb") as source, destination.open("wb") as target:
            shutil.copyfileobj(source, target, length=1024 * 1024)
    except FileNotFoundError:
        return False
    return True


def save(path: Path, name: str) -> str:
    """Store the local file PATH under NAME, or the free name storage picks beside it; returns the name."""
    with path.open("rb") as handle:
        return default_storage.save(name, File(handle, name=Path(name).name))


def put(path: Path, name: str) -> str:
    """Store the local file PATH under exactly NAME, replacing what was there (a rerun of the same job)."""
    if default_storage.exists(name):
        default_storage.delete(name)
    with path.open("rb") as handle:
        stored = default_storage.save(name, File(handle, name=Path(name).name))
    if stored != name:
        # Another writer got in between delete and save: ours is a duplicate, theirs stays.
        default_storage.delete(stored)
        raise FileExistsError(name)
    return stored


def delete(*names: str) -> None:
    """Delete each stored file NAME; one already gone is not an error."""
    for name in names:
        if name:
            default_storage.delete(name)


def copy_to(name: str, target) -> None:
    """Stream the stored file NAME into the open binary file TARGET, a megabyte at a time."""
    with default_storage.open(name, "rb") as source:
        shutil.copyfileobj(source, target, length=1024 * 1024)


def read_bytes(name: str) -> bytes:
    with default_storage.open(name, "rb") as handle:
        return handle.read()


def save_bytes(content: bytes, name: str) -> str:
    """Store CONTENT under NAME, or the free name storage picks beside it; returns the name."""
    return default_storage.save(name, ContentFile(content, name=Path(name).name))


def exists(name: str) -> bool:
    return bool(name) and default_storage.exists(name)


def list_names(prefix: str) -> list[str]:
    """Every stored file under PREFIX (a folder name, no trailing slash)."""
    names: list[str] = []
    try:
        folders, files = default_storage.listdir(prefix)
    except (FileNotFoundError, NotADirectoryError):
        return names
    names.extend(f"{prefix}/{file}" for file in files)
    for folder in folders:
        names.extend(list_names(f"{prefix}/{folder}"))
    return names


def delete_prefix(prefix: str) -> int:
    """Delete every stored file under PREFIX; returns how many. Safe to call twice."""
    names = list_names(prefix)
    for name in names:
        default_storage.delete(name)
    with contextlib.suppress(NotImplementedError):
        # The local disk keeps empty folders behind; object storage has none.
        local = Path(default_storage.path(prefix))
        if local.is_dir():
            shutil.rmtree(local, ignore_errors=True)
    return len(names)
