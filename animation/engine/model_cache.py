"""One process-wide cache for the models the engine loads: each is built once, on first use.

Workers keep their models between tasks (a mediapipe graph, the landmark network, a Whisper model
take seconds to build). ``cached_model(key, loader)`` returns the model stored under KEY, calling
LOADER the first time; threads asking for the same key at once wait for one load (a lock per key),
while different models load side by side. A loader that raises stores nothing: the next call tries
again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")

_models: dict[Hashable, Any] = {}
_locks: dict[Hashable, threading.Lock] = {}
_locks_lock = threading.Lock()


def cached_model(key: Hashable, loader: Callable[[], T]) -> T:
    """The model under KEY, loaded by LOADER on the first call (once per process, also across threads)."""
    try:
        return _models[key]
    except KeyError:
        pass
    with _locks_lock:
        lock = _locks.setdefault(key, threading.Lock())
    with lock:
        if key not in _models:
            _models[key] = loader()
        return _models[key]
