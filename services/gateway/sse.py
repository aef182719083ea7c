"""Server-streaming RPCs as Server-Sent Events, resumable with Last-Event-ID.

Each message is one event: its id is the message's log position, its name the
message's field that is set, its data the message in JSON. A client that reconnects
with Last-Event-ID gets the stream again from after that position.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from typing import Any

import grpc
from google.protobuf.message import Message

from services.gateway.transcoding import BadRequestError, to_json

# The request field a stream resumes after, and the message field that says where.
RESUME_FIELD = "after_position"
POSITION_FIELD = "position"
KEEP_ALIVE_SECONDS = 15.0
RETRY_MILLISECONDS = 2_000
MAX_POSITION = 2**63 - 1
_POSITION = re.compile(r"[0-9]{1,19}")
_END = object()


def resume_from(message: Message, last_event_id: str | None) -> None:
    """Continue after the last event the client saw, when it says which."""
    if last_event_id is None or RESUME_FIELD not in message.DESCRIPTOR.fields_by_name:
        return
    if not _POSITION.fullmatch(last_event_id) or int(last_event_id) > MAX_POSITION:
        raise BadRequestError("Last-Event-ID must be a position the stream sent")
    setattr(message, RESUME_FIELD, int(last_event_id))


async def events(
    call: grpc.aio.UnaryStreamCall[Any, Any], keep_alive_seconds: float = KEEP_ALIVE_SECONDS
) -> AsyncIterator[str]:
    """The call's messages as SSE, with comments in between that keep proxies from
    closing an idle connection. Cancels the call when the client goes away."""
    queue: asyncio.Queue[object] = asyncio.Queue(maxsize=64)
    reader = asyncio.create_task(_read_into(call, queue))
    try:
        yield f"retry: {RETRY_MILLISECONDS}\n\n"
        while True:
            try:
                item = await asyncio.wait_for(queue.get(), keep_alive_seconds)
            except TimeoutError:
                yield ": keep-alive\n\n"
                continue
            if item is _END:
                return
            if isinstance(item, grpc.aio.AioRpcError):
                yield _event("error", None, {"code": item.code().name, "message": item.details()})
                return
            assert isinstance(item, Message)
            yield _event(_kind(item), _position(item), to_json(item))
    finally:
        call.cancel()
        reader.cancel()


async def _read_into(
    call: grpc.aio.UnaryStreamCall[Any, Any], queue: asyncio.Queue[object]
) -> None:
    try:
        async for message in call:
            await queue.put(message)
    except grpc.aio.AioRpcError as error:
        await queue.put(error)
        return
    await queue.put(_END)


def _event(name: str, position: int | None, data: dict[str, Any]) -> str:
    lines = [] if position is None else [f"id: {position}"]
    lines += [f"event: {name}", f"data: {json.dumps(data, separators=(',', ':'))}"]
    return "\n".join(lines) + "\n\n"


def _kind(message: Message) -> str:
    fields = message.ListFields()
    return fields[0][0].json_name if fields else "message"


def _position(message: Message) -> int | None:
    """The position on the message itself, or on the one message it carries."""
    for field, value in message.ListFields():
        if field.name == POSITION_FIELD:
            return int(value)
        if isinstance(value, Message):
            inner = _position(value)
            if inner is not None:
                return inner
    return None
