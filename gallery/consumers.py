"""Read-only websockets: the server pushes, clients never write through a socket."""

from __future__ import annotations

import contextlib

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from contributions import selectors as contribution_selectors
from core import counters
from gallery import events, selectors

CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
# RFC 6455 "policy violation": these sockets only push, so any frame from a client is a misuse.
CLOSE_READ_ONLY = 1008
# Too many sockets from one address ("try again later" is 1013; 4429 says why, like HTTP's 429).
CLOSE_TOO_MANY = 4429
# A count outlives a web process that died without closing its sockets by at most this long (from the
# address's first socket: two round trips per connect, no third to refresh it).
SOCKET_COUNT_SECONDS = 3600


class ReadOnlySocket(AsyncJsonWebsocketConsumer):
    """Closes the connection on any inbound frame, before decoding it: clients never write here.

    Frames are also capped in size by the server (Daphne's --websocket-max-frame-size in make run), and
    one address holds at most WEBSOCKETS_PER_ADDRESS sockets across every web process (counted in the
    shared cache), also where no nginx stands in front (`make run`); nginx has the same cap of its own.
    """

    counted_as: str = ""

    async def websocket_connect(self, message) -> None:
        from django.conf import settings

        address = (self.scope.get("client") or ["unknown"])[0]
        key = f"websockets:address:{address}"
        try:
            held = await counters.aadd_and_count(key, 1, timeout=SOCKET_COUNT_SECONDS)
        except Exception:  # the cache down: the socket is a courtesy, never refused for that
            held = 0
        else:
            self.counted_as = key
        if held > settings.WEBSOCKETS_PER_ADDRESS:
            await self.close(code=CLOSE_TOO_MANY)
            await self._uncount()
            return
        await super().websocket_connect(message)

    async def websocket_disconnect(self, message) -> None:
        await self._uncount()
        await super().websocket_disconnect(message)

    async def _uncount(self) -> None:
        key, self.counted_as = self.counted_as, ""
        if key:
            with contextlib.suppress(Exception):
                await counters.aadd_and_count(key, -1, timeout=SOCKET_COUNT_SECONDS)

    async def websocket_receive(self, message) -> None:
        await self.close(code=CLOSE_READ_ONLY)


class EventConsumer(ReadOnlySocket):
    """Public stream of one festival: published, removed, and how many animations are being made."""

    async def connect(self) -> None:
        event_id = self.scope["url_route"]["kwargs"]["event_id"]
        if not await database_sync_to_async(selectors.event_exists)(event_id=event_id):
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.group_name = events.event_group(event_id)
        await self.channel_layer.group_add(self.group_name, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group_name"):
            await self.channel_layer.group_discard(self.group_name, self.channel_name)

    async def animation_published(self, message: dict) -> None:
        await self.send_json(message)

    async def animation_removed(self, message: dict) -> None:
        await self.send_json(message)

    async def animation_progress(self, message: dict) -> None:
        await self.send_json(message)


class RecordingConsumer(ReadOnlySocket):
    """A resident's own progress stream for one recording; nobody else may listen."""

    async def connect(self) -> None:
        recording_id = self.scope["url_route"]["kwargs"]["recording_id"]
        user = self.scope.get("user")
        allowed = user is not None and user.is_authenticated
        if allowed:
            allowed = await database_sync_to_async(contribution_selectors.recording_owned_by)(
                recording_id=recording_id, user_id=user.pk
            )
        if not allowed:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.group_name = events.recording_group(recording_id)
        await self.channel_layer.group_add(self.group_name, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group_name"):
            await self.channel_layer.group_discard(self.group_name, self.channel_name)

    async def recording_status(self, message: dict) -> None:
        await self.send_json(message)


class ModerationConsumer(ReadOnlySocket):
    """Queue changes for the events a moderator reviews; closed to everyone else."""

    async def connect(self) -> None:
        user = self.scope.get("user")
        event_ids = []
        if user is not None and user.is_authenticated:
            event_ids = await database_sync_to_async(_moderated_event_ids)(user)
        if not event_ids:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.group_names = [events.moderation_group(event_id) for event_id in event_ids]
        for group_name in self.group_names:
            await self.channel_layer.group_add(group_name, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        for group_name in getattr(self, "group_names", []):
            await self.channel_layer.group_discard(group_name, self.channel_name)

    async def queue_changed(self, message: dict) -> None:
        await self.send_json(message)


def _moderated_event_ids(user) -> list[str]:
    return [
        str(event_id)
        for event_id in contribution_selectors.moderated_events(moderator=user).values_list("id", flat=True)
    ]
