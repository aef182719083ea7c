"""The one JSON transcoder for events, snapshots and stored read-model entries."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import typing
from datetime import datetime
from enum import Enum
from types import UnionType
from typing import Any

from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Transcoding,
    UUIDAsHex,
)

from services.crm.domain.cases.details import CaseDetails
from services.crm.domain.cases.resolution import Resolution
from services.crm.domain.cases.routing import Escalation, EscalationTarget
from services.crm.domain.cases.timeline import ClockInstance, LinkedInteraction, Pause
from services.crm.domain.cause import Cause
from services.crm.domain.channels import (
    ChatDetails,
    ChatMessage,
    EmailDetails,
    PhoneCallDetails,
    SocialDetails,
)
from services.crm.domain.customer_change import CustomerChange
from services.crm.domain.identity import Identity
from services.crm.domain.interaction import InteractionContent, InteractionRecord
from services.crm.domain.note import NoteRecord
from services.crm.domain.profile import CustomerProfile

_PAIRS = "__pairs__"

# The stored names are part of the event format: never change one.
STORED_VALUE_TYPES: dict[str, type[Any]] = {
    "crm.Cause": Cause,
    "crm.Identity": Identity,
    "crm.CustomerProfile": CustomerProfile,
    "crm.InteractionContent": InteractionContent,
    "crm.InteractionRecord": InteractionRecord,
    "crm.CustomerChange": CustomerChange,
    "crm.NoteRecord": NoteRecord,
    "crm.PhoneCallDetails": PhoneCallDetails,
    "crm.EmailDetails": EmailDetails,
    "crm.ChatDetails": ChatDetails,
    "crm.ChatMessage": ChatMessage,
    "crm.SocialDetails": SocialDetails,
    "crm.CaseDetails": CaseDetails,
    "crm.EscalationTarget": EscalationTarget,
    "crm.Escalation": Escalation,
    "crm.Resolution": Resolution,
    "crm.LinkedInteraction": LinkedInteraction,
    "crm.Pause": Pause,
    "crm.ClockInstance": ClockInstance,
}


class DataclassAsDict(Transcoding):
    """Stores a frozen dataclass as a dict of its fields; JSON turns tuples into
    lists and enums into strings, so decoding turns them back by the field types."""

    def __init__(self, name: str, cls: type[Any]) -> None:
        self.name = name
        self.type = cls

    def encode(self, obj: Any) -> dict[str, Any]:
        return {name: _storable(getattr(obj, name)) for name in _field_names(self.type)}

    def decode(self, data: dict[str, Any]) -> Any:
        # Stored facts are not validated again: limits may tighten after they were written.
        obj: Any = object.__new__(self.type)
        for name, enum, default in _field_decoders(self.type):
            value = _restore(enum, data[name]) if name in data else default()
            object.__setattr__(obj, name, value)
        return obj


@functools.cache
def _field_names(cls: type[Any]) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


@functools.cache
def _field_decoders(cls: type[Any]) -> tuple[tuple[str, type[Enum] | None, Any], ...]:
    """Per field: its name, the enum its stored string stands for (if any), and how to
    make its default; worked out once per class, since every read decodes many."""
    hints = typing.get_type_hints(cls)
    decoders = []
    for f in dataclasses.fields(cls):
        enums = [o for o in _options(hints[f.name]) if isinstance(o, type) and issubclass(o, Enum)]
        if f.default_factory is not dataclasses.MISSING:
            default = f.default_factory
        else:
            default = functools.partial(_same, f.default)
        decoders.append((f.name, enums[0] if enums else None, default))
    return tuple(decoders)


def _same(value: Any) -> Any:
    return value


def _storable(value: Any) -> Any:
    # Caller-chosen dict keys such as "_type_" would be read back as tagged values
    # by the JSON transcoder, so dicts are stored as sorted lists of pairs.
    if isinstance(value, dict):
        return {_PAIRS: sorted(value.items())}
    return value


def _restore(enum: type[Enum] | None, value: Any) -> Any:
    if value is None:
        return None
    if enum is not None:
        return enum(value)
    if type(value) is list:
        return tuple(value)
    if type(value) is dict and len(value) == 1 and _PAIRS in value:
        return {key: item for key, item in value[_PAIRS]}
    return value


def _options(hint: Any) -> tuple[Any, ...]:
    if isinstance(hint, UnionType) or typing.get_origin(hint) is typing.Union:
        return typing.get_args(hint)
    return (hint,)


def register_crm_transcodings(transcoder: JSONTranscoder) -> None:
    for library_transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        transcoder.register(library_transcoding)
    for name, cls in STORED_VALUE_TYPES.items():
        transcoder.register(DataclassAsDict(name, cls))


def crm_transcoder() -> JSONTranscoder:
    transcoder = JSONTranscoder()
    register_crm_transcodings(transcoder)
    return transcoder


_FINGERPRINTS = crm_transcoder()


def plain(obj: Any) -> Any:
    """dataclasses.asdict(), without its deep copy: stored values are immutable, and
    fingerprints of what was stored before must come out the same."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {name: plain(getattr(obj, name)) for name in _field_names(type(obj))}
    if isinstance(obj, tuple | list):
        return type(obj)(plain(item) for item in obj)
    if isinstance(obj, dict):
        return {plain(key): plain(value) for key, value in obj.items()}
    return obj


def fingerprint(*values: Any) -> str:
    """A stable digest of values, from their stored form rather than their repr."""
    return hashlib.sha256(_FINGERPRINTS.encode(list(values))).hexdigest()


def stored_cause(state: bytes) -> tuple[str, str, datetime]:
    """The actor, correlation id and time of a stored event, read straight from its
    JSON: the transcoder writes a Cause and a datetime as tagged values."""
    data = json.loads(state)
    cause = data.get("cause")
    fields = cause.get("_data_", {}) if isinstance(cause, dict) else {}
    return (
        fields.get("actor", ""),
        fields.get("correlation_id", ""),
        datetime.fromisoformat(data["timestamp"]["_data_"]),
    )
