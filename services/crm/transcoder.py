"""The one JSON transcoder for events, snapshots and stored read-model entries."""

from __future__ import annotations

import dataclasses
import hashlib
import typing
from enum import Enum
from functools import cache
from types import UnionType
from typing import Any

from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Transcoding,
    UUIDAsHex,
)

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
}


class DataclassAsDict(Transcoding):
    """Stores a frozen dataclass as a dict of its fields; JSON turns tuples into
    lists and enums into strings, so decoding turns them back by the field types."""

    def __init__(self, name: str, cls: type[Any]) -> None:
        self.name = name
        self.type = cls

    def encode(self, obj: Any) -> dict[str, Any]:
        return {f.name: _storable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}

    def decode(self, data: dict[str, Any]) -> Any:
        # Stored facts are not validated again: limits may tighten after they were written.
        obj: Any = object.__new__(self.type)
        hints = _field_types(self.type)
        for f in dataclasses.fields(self.type):
            if f.name in data:
                value = _restore(hints[f.name], data[f.name])
            elif f.default_factory is not dataclasses.MISSING:
                value = f.default_factory()
            else:
                value = f.default
            object.__setattr__(obj, f.name, value)
        return obj


@cache
def _field_types(cls: type[Any]) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _storable(value: Any) -> Any:
    # Caller-chosen dict keys such as "_type_" would be read back as tagged values
    # by the JSON transcoder, so dicts are stored as sorted lists of pairs.
    if isinstance(value, dict):
        return {_PAIRS: sorted(value.items())}
    return value


def _restore(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, dict) and set(value) == {_PAIRS}:
        return {key: item for key, item in value[_PAIRS]}
    for option in _options(hint):
        if isinstance(option, type) and issubclass(option, Enum):
            return option(value)
    if isinstance(value, list):
        return tuple(value)
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


def fingerprint(*values: Any) -> str:
    """A stable digest of values, from their stored form rather than their repr."""
    return hashlib.sha256(_FINGERPRINTS.encode(list(values))).hexdigest()
