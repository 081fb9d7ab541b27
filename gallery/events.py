"""Every live update leaves through this module, after the database commit.

Payloads are small JSON objects with ids and the fields a page needs to draw itself; the pages fetch
anything else over HTTP. Groups: ``event.<uuid>`` (public), ``recording.<uuid>`` (its owner only).
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from core.media import served_url

logger = logging.getLogger(__name__)


def event_group(event_id: Any) -> str:
    return f"event.{event_id}"


def moderation_group(event_id: Any) -> str:
    return f"moderation.{event_id}"


def recording_group(recording_id: Any) -> str:
    return f"recording.{recording_id}"


def _send_now(group: str, message: dict) -> None:
    layer = get_channel_layer()
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception:
        # A live update is a courtesy: pages catch up over HTTP, so a broken Redis must not fail
        # the database work that already committed.
        logger.exception("could not broadcast %s to %s", message.get("type"), group)


def send_after_commit(group: str, message: dict) -> None:
    transaction.on_commit(lambda: _send_now(group, message))


def animation_card(animation) -> dict:
    """The fields a gallery card needs; shared by the socket payload and the catch-up API."""
    recording = animation.recording
    passage = recording.passage
    # A dialogue credits every voice, with the role it read (issue 22).
    voices = [{"reader": voice.recording.credit, "role": voice.role.name} for voice in animation.voices.all()]
    reader = "、".join(f"{voice['reader']} ({voice['role']})" for voice in voices) if voices else recording.credit
    return {
        "id": str(animation.id),
        "url": f"/animations/{animation.id}/",
        "video_url": served_url(animation.video),
        "poster_url": served_url(animation.poster),
        "subtitles_url": served_url(animation.subtitles),
        "painting_id": str(passage.painting_id),
        "painting_title": passage.painting.title,
        "passage_title": passage.title,
        "passage_title_en": passage.title_en if passage.title_en != passage.title else "",
        "painting_title_en": passage.painting.title_en if passage.painting.title_en != passage.painting.title else "",
        "language": passage.language,
        "reader": reader,
        "published_at": animation.published_at.isoformat() if animation.published_at else None,
        # A plain date the card prints as is: the page needs no date library to draw a new card.
        "published_on": animation.published_at.date().isoformat() if animation.published_at else "",
    }


def broadcast_animation_published(animation) -> None:
    send_after_commit(
        event_group(animation.event_id), {"type": "animation.published", "animation": animation_card(animation)}
    )


def broadcast_animation_removed(*, animation_id: Any, event_id: Any) -> None:
    send_after_commit(event_group(event_id), {"type": "animation.removed", "animation_id": str(animation_id)})


# The last "being animated right now" count each festival's sockets were sent, in the shared cache.
PROGRESS_SENT_KEY = "live:in-progress-sent:{event_id}"
PROGRESS_SENT_SECONDS = 24 * 3600


def broadcast_event_progress(*, event_id: Any, in_progress: int) -> None:
    """The festival's counter, to every open gallery page, only when it changed.

    Every progress tick of every render reports here; sending the same count each time multiplied the
    messages each of a reading room's sockets gets by the ticks of every film (and doubled the work of
    each publication). A count lost with the cache is sent again at the next change; pages that
    reconnect read it over HTTP.
    """

    def send_if_changed() -> None:
        from django.core.cache import cache

        key = PROGRESS_SENT_KEY.format(event_id=event_id)
        try:
            unchanged = cache.get(key) == in_progress
            if not unchanged:
                cache.set(key, in_progress, timeout=PROGRESS_SENT_SECONDS)
        except Exception:  # the cache down: send, as before
            unchanged = False
        if not unchanged:
            _send_now(event_group(event_id), {"type": "animation.progress", "in_progress": in_progress})

    transaction.on_commit(send_if_changed)


def broadcast_recording_status(*, recording_id: Any, payload: dict) -> None:
    send_after_commit(recording_group(recording_id), {"type": "recording.status", **payload})


def broadcast_queue_changed(*, event_id: Any) -> None:
    """Moderators' consoles refresh their count, and an empty console looks for the new reading."""
    send_after_commit(moderation_group(event_id), {"type": "queue.changed", "event_id": str(event_id)})
