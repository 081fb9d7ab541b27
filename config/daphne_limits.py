"""The request-body cap (config/body_limits.py) applied inside Daphne itself."""

from __future__ import annotations

from config.body_limits import request_max_bytes, too_large_body


def limit_daphne_request_bodies() -> None:
    """Refuse oversized bodies inside Daphne itself, as they arrive.

    Daphne (Twisted) receives a request's whole body, spooled to a temporary file, before the
    application hears of the request, so BodyLimitASGI alone would act only after a multi-GB upload
    had filled the disk. Called from config/asgi.py when Daphne is the server. The refusal is a 413,
    then the write side is closed; what the client still sends is discarded, and the connection is
    dropped a few seconds later.
    """
    from daphne.http_protocol import WebRequest
    from twisted.internet import reactor

    if getattr(WebRequest, "shuohua_body_limit", False):
        return
    original_got_length = WebRequest.gotLength
    original_content_chunk = WebRequest.handleContentChunk
    original_process = WebRequest.process

    def refuse(request, status: int) -> None:
        request.shuohua_refused = True
        path = request.uri.decode("latin-1", "replace").split("?")[0]
        accept_language = (request.getHeader(b"accept-language") or b"").decode("latin-1")
        content, content_type = too_large_body(path=path, accept_language=accept_language)
        reason = b"Payload Too Large" if status == 413 else b"Bad Request"
        head = b"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % (
            status,
            reason,
            content_type.encode(),
            len(content),
        )
        transport = request.channel.transport
        transport.write(head + content)
        if hasattr(transport, "loseWriteConnection"):
            transport.loseWriteConnection()
        reactor.callLater(5, transport.loseConnection)

    def got_length(request, length):
        request.shuohua_received = 0
        request.shuohua_refused = False
        if length is not None and length > request_max_bytes():
            original_got_length(request, 0)
            refuse(request, 413)
            return
        original_got_length(request, length)

    def content_chunk(request, data):
        if getattr(request, "shuohua_refused", False):
            return
        request.shuohua_received = getattr(request, "shuohua_received", 0) + len(data)
        if request.shuohua_received > request_max_bytes():
            refuse(request, 413)
            return
        original_content_chunk(request, data)

    def process(request):
        if getattr(request, "shuohua_refused", False):
            return None
        return original_process(request)

    WebRequest.gotLength = got_length
    WebRequest.handleContentChunk = content_chunk
    WebRequest.process = process
    WebRequest.shuohua_body_limit = True
