"""File responses that phones can play: HTTP byte ranges and the right media types."""

import mimetypes
import re
from pathlib import Path

from django.http import FileResponse, HttpResponse

# Browsers guess poorly from octet-stream, and Safari plays nothing without a proper audio/video type.
MEDIA_TYPES = {
    ".vtt": "text/vtt; charset=utf-8",
    ".webm": "audio/webm",
    ".ogg": "audio/ogg",
    ".m4a": "audio/mp4",
    ".flac": "audio/flac",
    ".wav": "audio/wav",
    ".mp3": "audio/mpeg",
}


BYTE_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def ranged_file_response(request, file_path: Path) -> FileResponse | HttpResponse:
    size = file_path.stat().st_size
    content_type = (
        MEDIA_TYPES.get(file_path.suffix) or mimetypes.guess_type(file_path.name)[0] or "application/octet-stream"
    )
    match = BYTE_RANGE.match(request.headers.get("Range", ""))
    if match is None or not any(match.groups()):
        response = FileResponse(file_path.open("rb"), content_type=content_type)
        response["Accept-Ranges"] = "bytes"
        return response
    first, last = match.groups()
    if first:
        start, end = int(first), min(int(last) if last else size - 1, size - 1)
    else:  # "bytes=-N": the last N bytes
        start, end = max(0, size - int(last)), size - 1
    if start >= size or start > end:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return response
    with file_path.open("rb") as handle:
        handle.seek(start)
        body = handle.read(end - start + 1)
    response = HttpResponse(body, status=206, content_type=content_type)
    response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Accept-Ranges"] = "bytes"
    return response
