"""Refuses control characters in every string of a request, whatever its message type."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from services.crm.domain.errors import FieldViolation

REASON = "CONTROL_CHARACTER"
# Text people write in several lines may hold tab, line feed and carriage return; every
# other string, in these messages and in any added later, holds no control character.
MULTILINE_FIELDS = frozenset(
    {
        "crm.v1.Interaction.summary",
        "crm.v1.Interaction.body",
        "crm.v1.ChatMessage.text",
        "crm.v1.Note.text",
        "crm.v1.Customer.AttributesEntry.value",
        "crm.v1.LinkIdentityRequest.reason",
        "crm.v1.UnlinkIdentityRequest.reason",
        "crm.v1.MergeCustomersRequest.reason",
        "crm.v1.MergeCustomersRequest.evidence",
        "crm.v1.UnmergeCustomerRequest.reason",
        "crm.v1.UpdateCustomerRequest.reason",
    }
)
# Repeated fields whose items succeed or fail one by one: the servicer checks each item
# itself (control_character_violations of the item) and reports it among the item's failures.
PER_ITEM_FIELDS = frozenset({"crm.v1.ImportInteractionsRequest.interactions"})
# C0, DEL and C1: NUL stops PostgreSQL, the others corrupt logs, terminals and exports.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_LAYOUT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def control_character_violations(request: Message) -> list[FieldViolation]:
    """One violation per string field, nested or repeated, map keys and values included,
    that holds a control character its field does not allow."""
    found: list[FieldViolation] = []
    _walk(request, "", found)
    return found


def _walk(message: Message, path: str, found: list[FieldViolation]) -> None:
    for field, value in message.ListFields():
        if field.full_name in PER_ITEM_FIELDS:
            continue
        name = f"{path}{field.name}"
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            _walk_map(field.message_type, value, name, found)
        elif field.type == FieldDescriptor.TYPE_STRING:
            items = enumerate(value) if field.is_repeated else [(None, value)]
            for index, text in items:
                _check(field, text, name if index is None else f"{name}[{index}]", found)
        elif field.type == FieldDescriptor.TYPE_MESSAGE:
            if field.is_repeated:
                for index, item in enumerate(value):
                    _walk(item, f"{name}[{index}].", found)
            else:
                _walk(value, f"{name}.", found)


def _walk_map(
    entry: Descriptor, items: Mapping[Any, Any], name: str, found: list[FieldViolation]
) -> None:
    value_field = entry.fields_by_name["value"]
    for key, value in items.items():
        if isinstance(key, str) and _CONTROL.search(key):
            # The key itself cannot name the field: it holds the offending character.
            found.append(_violation(name, "a key holds a control character"))
            continue
        item_name = f"{name}[{key}]"
        if value_field.type == FieldDescriptor.TYPE_STRING:
            _check(value_field, value, item_name, found)
        elif value_field.type == FieldDescriptor.TYPE_MESSAGE:
            _walk(value, f"{item_name}.", found)


def _check(field: FieldDescriptor, text: str, name: str, found: list[FieldViolation]) -> None:
    if field.full_name in MULTILINE_FIELDS:
        if _CONTROL_BUT_LAYOUT.search(text):
            found.append(_violation(name, "no control characters besides tab and line breaks"))
    elif _CONTROL.search(text):
        found.append(_violation(name, "no control characters (NUL, tab, line breaks, ...)"))


def _violation(field: str, description: str) -> FieldViolation:
    return FieldViolation(field, REASON, description)
