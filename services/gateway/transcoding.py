"""HTTP request -> protobuf request, and protobuf response -> JSON, by the JSON mapping."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from google.protobuf import json_format
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from services.gateway.routes import Route, field_by_path


class BadRequestError(ValueError):
    """The HTTP request cannot become the RPC's request message."""


def build_request(
    route: Route,
    message_class: type[Message],
    path_values: Mapping[str, str],
    query: Sequence[tuple[str, str]],
    body: Any,
) -> Message:
    document: dict[str, Any] = {}
    if route.body == "*":
        document = _object(body)
    elif route.body:
        document[route.body] = _object(body)
    elif body is not None:
        raise BadRequestError("this method takes no request body")
    for name, value in path_values.items():
        _put(document, message_class, name, value, repeated_ok=False)
    if route.body != "*":
        for name, value in query:
            _put(document, message_class, name, value, repeated_ok=True)
    elif query:
        raise BadRequestError("this method takes its parameters in the body, not the query")
    message = message_class()
    try:
        json_format.ParseDict(document, message)
    except json_format.ParseError as error:
        raise BadRequestError(str(error)) from None
    except RecursionError:
        raise BadRequestError("the request nests too deeply") from None
    return message


def to_json(message: Message) -> dict[str, Any]:
    return json_format.MessageToDict(message)


def _object(body: Any) -> dict[str, Any]:
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise BadRequestError("the request body must be a JSON object")
    return body


def _put(
    document: dict[str, Any],
    message_class: type[Message],
    path: str,
    value: str,
    repeated_ok: bool,
) -> None:
    try:
        fields = field_by_path(message_class.DESCRIPTOR, path)
    except KeyError:
        raise BadRequestError(f"unknown parameter {path!r}") from None
    *parents, leaf = fields
    message_type = leaf.message_type
    if message_type is not None and message_type.full_name not in _SCALAR_LIKE:
        raise BadRequestError(f"parameter {path!r} is a message; send it in the body")
    target = document
    for parent in parents:
        if parent.is_repeated:
            raise BadRequestError(f"parameter {path!r} is inside a repeated field")
        target = target.setdefault(parent.json_name, {})
        if not isinstance(target, dict):
            raise BadRequestError(f"parameter {path!r} conflicts with the body")
    converted = _scalar(leaf, value, path)
    if leaf.is_repeated:
        if not repeated_ok:
            raise BadRequestError(f"parameter {path!r} cannot be repeated here")
        target.setdefault(leaf.json_name, []).append(converted)
    elif leaf.json_name in target:
        raise BadRequestError(f"parameter {path!r} is given twice")
    else:
        target[leaf.json_name] = converted


# Well-known types written as strings in the JSON mapping.
_SCALAR_LIKE = {
    "google.protobuf.Timestamp",
    "google.protobuf.Duration",
    "google.protobuf.FieldMask",
}


def _scalar(field: FieldDescriptor, value: str, path: str) -> Any:
    if field.type == FieldDescriptor.TYPE_BOOL:
        if value not in ("true", "false"):
            raise BadRequestError(f"parameter {path!r} must be true or false")
        return value == "true"
    return value
