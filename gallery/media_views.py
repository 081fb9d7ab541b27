"""The public media under /media/ when Django serves media itself (SERVE_MEDIA): who may fetch what;
and deep-zoom tiles sent on to the storage's own URL where it signs each object's (painting_tile).

How a file is sent (ranges, streaming, refused names) is core.media.
"""

from __future__ import annotations

import uuid

from django.core.files.storage import default_storage
from django.http import Http404, HttpResponseRedirect
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe

from catalogue import selectors as catalogue_selectors
from core.media import clean_media_name, storage_file_response
from gallery import selectors

# The only folders of the media storage that are ever served as files; recordings and curators'
# test films are served by views that check who asks.
PUBLIC_PREFIXES = ("animations", "paintings")
# Never served at all: a film's motion curves may come from the reader's own face (camera readings).
NEVER_SERVED = ("curves.json",)


def public_media(request, path):
    """Films, posters, subtitles and paintings when Django serves media itself (SERVE_MEDIA).

    A film's files are public only once it is published; until then (being made, held for review,
    rejected, withdrawn) only the reader, curators and the moderators of the film's event may fetch
    them, and a film made before its reading was approved only curators and those moderators. Byte
    ranges are honoured, since phones (Safari) refuse to play a video from a server that ignores them.
    """
    name = clean_media_name(path)
    if name is None:
        raise Http404
    parts = name.split("/")
    if parts[0] not in PUBLIC_PREFIXES or len(parts) < 3 or parts[-1] in NEVER_SERVED:
        raise Http404
    if parts[0] == "animations" and not selectors.film_files_visible(folder=parts[1], user=request.user):
        raise Http404
    if parts[0] == "paintings" and not _is_uuid(parts[1]):
        raise Http404
    return storage_file_response(request, name)


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


@require_safe
def painting_tile(request, painting_id, folder, level, column, row, extension):
    """One deep-zoom tile where the storage has no public folder to fetch tiles from (S3 with presigned
    URLs, SERVE_MEDIA off): a redirect to that tile's own presigned URL, only for a tile of a painting's
    current pyramid. Browsers keep the redirect for a third of the presigned URL's lifetime, so a kept
    one always leads to a URL that is still valid; the tile itself never passes through Django."""
    name = catalogue_selectors.painting_tile_name(
        painting_id=painting_id, folder=folder, level=level, column=column, row=row, extension=extension
    )
    if name is None:
        raise Http404
    response = HttpResponseRedirect(default_storage.url(name))
    lifetime = int(getattr(default_storage, "querystring_expire", 0) or 0)
    if lifetime:
        patch_cache_control(response, public=True, max_age=max(1, lifetime // 3))
    else:  # a URL that does not expire (a public folder): as long as an hour
        patch_cache_control(response, public=True, max_age=3600)
    return response
