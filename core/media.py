"""Stored files over HTTP: which names are sound, and how they are sent (byte ranges, streamed).

Who may fetch which file is decided by the views that call storage_file_response (gallery.views
for the public media, contributions.views for recordings).

Everything goes through Django's storage API, so the same code serves the local disk and object
storage. Visibility is decided from the cleaned storage name, never from the raw URL: a name with a
".." segment (raw, percent-encoded once or twice, or spelled with backslashes) is refused outright,
whichever prefix it starts with, so ``paintings/../recordings/...`` can never reach a private file.

Bodies are streamed in CHUNK_BYTES pieces and never read whole. Under ASGI (Daphne) the iterator is
asynchronous: Django collects a synchronous iterator into a list before sending it, which would read
a whole film into memory.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import AsyncIterator, Iterator
from urllib.parse import unquote

from asgiref.sync import sync_to_async
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import Storage, default_storage
from django.core.handlers.asgi import ASGIRequest
from django.http import Http404, HttpResponse, StreamingHttpResponse

CHUNK_BYTES = 64 * 1024

# Browsers guess poorly from octet-stream, and Safari plays nothing without a proper audio/video type.
MEDIA_TYPES = {
    ".vtt": "text/vtt; charset=utf-8",
    ".webm": "audio/webm",
    ".ogg": "audio/ogg",
    ".m4a": "audio/mp4",
    ".flac": "audio/flac",
    ".wav": "audio/wav",
    ".mp3": "audio/mpeg",
    ".mp4": "video/mp4",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
}

# ASCII digits of a sane length only: a Range of thousands of digits (int() refuses past 4,300) or of
# other scripts' digits is not a range this server understands, so the whole file is answered (RFC 9110).
BYTE_RANGE = re.compile(r"^bytes=([0-9]{0,18})-([0-9]{0,18})$", re.ASCII)


def clean_media_name(raw: str) -> str | None:
    """The storage name RAW stands for, or None when RAW tries to step out of its folder.

    Decodes repeatedly (a proxy may have decoded once already, ``%252e%252e`` is ``..`` twice over)
    and refuses ``..``, ``.`` and empty segments, backslashes and control characters.
    """
    text = raw
    for _attempt in range(4):
        decoded = unquote(text)
        if decoded == text:
            break
        text = decoded
    else:
        return None
    if "\\" in text or any(ord(character) < 32 for character in text):
        return None
    segments = text.split("/")
    if any(segment in {"", ".", ".."} for segment in segments):
        return None
    return "/".join(segments)


def media_type(name: str) -> str:
    suffix = name[name.rfind(".") :].lower() if "." in name else ""
    return MEDIA_TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"


def storage_file_response(
    request, name: str, *, storage: Storage | None = None, content_type: str | None = None
) -> HttpResponse:
    """NAME from STORAGE (default storage), whole or the one byte range the client asked for.

    404 when the file does not exist. Multiple ranges are answered with the whole file, which
    RFC 9110 allows.
    """
    storage = storage or default_storage
    try:
        size = storage.size(name)
    except (FileNotFoundError, SuspiciousFileOperation, OSError):
        raise Http404 from None
    content_type = content_type or media_type(name)
    match = BYTE_RANGE.match(request.headers.get("Range", ""))
    if match is None or not any(match.groups()):
        start, end, status = 0, size - 1, 200
    else:
        first, last = match.groups()
        if first:
            start, end = int(first), min(int(last) if last else size - 1, size - 1)
        else:  # "bytes=-N": the last N bytes
            start, end = max(0, size - int(last)), size - 1
        if start >= size or start > end:
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{size}"
            return response
        status = 206
    length = max(0, end - start + 1)
    if request.method == "HEAD":
        response = HttpResponse(status=status, content_type=content_type)
    else:
        chunks = _async_chunks if isinstance(request, ASGIRequest) else _sync_chunks
        response = StreamingHttpResponse(chunks(storage, name, start, length), status=status, content_type=content_type)
    response["Content-Length"] = str(length)
    response["Accept-Ranges"] = "bytes"
    if status == 206:
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    return response


def _sync_chunks(storage: Storage, name: str, start: int, length: int) -> Iterator[bytes]:
    with storage.open(name, "rb") as handle:
        handle.seek(start)
        remaining = length
        while remaining > 0:
            chunk = handle.read(min(CHUNK_BYTES, remaining))
            if not chunk:
                return
            remaining -= len(chunk)
            yield chunk


async def _async_chunks(storage: Storage, name: str, start: int, length: int) -> AsyncIterator[bytes]:
    handle = await sync_to_async(storage.open)(name, "rb")
    try:
        await sync_to_async(handle.seek)(start)
        remaining = length
        while remaining > 0:
            chunk = await sync_to_async(handle.read)(min(CHUNK_BYTES, remaining))
            if not chunk:
                return
            remaining -= len(chunk)
            yield chunk
    finally:
        await sync_to_async(handle.close)()


def served_url(file) -> str:
    """The address pages use for a stored file (a FieldFile): /media/<name>, answered by the platform
    itself, which checks who may see it (an unpublished film, a withdrawn one: 404 at once), even
    when the file lives in object storage. Only with SERVE_MEDIA off, the storage's own (presigned) URL."""
    from urllib.parse import quote

    from django.conf import settings

    if not file:
        return ""
    if not settings.SERVE_MEDIA:
        return file.url
    return f"{settings.MEDIA_URL}{quote(file.name)}"


def served_name_url(name: str) -> str:
    """served_url for a stored name that no model field holds (a painting's smaller copies)."""
    from urllib.parse import quote

    from django.conf import settings

    if not name:
        return ""
    if not settings.SERVE_MEDIA:
        return default_storage.url(name)
    return f"{settings.MEDIA_URL}{quote(name)}"


def served_prefix_url(prefix: str) -> str:
    """The address below which the stored files under the folder PREFIX are fetched by appending
    "/<the rest of the name>", or "" when there is none: storage that signs each file's URL on its own
    (S3 with query-string auth, the only S3 the platform allows) has no prefix that can be extended."""
    url = served_name_url(prefix)
    return "" if "?" in url else url
