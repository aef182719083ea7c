"""Requests built from the proto descriptors, then spoiled one field at a time."""

from __future__ import annotations

import random
import time
import uuid
from typing import Any

from google.protobuf import message_factory
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from tests.e2e.fuzz.values import (
    BAD_STRINGS,
    BAD_TOKENS,
    INTEGERS_32,
    INTEGERS_64,
    TIMESTAMP_SECONDS,
    short,
)

# protobuf's stubs split descriptors between its Python and upb classes, with optional
# members that are always set for the fields walked here.
Field = Any


class Mutator:
    """Spoils a request in place, one field at a time, and says what it did."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def mutate(self, message: Message, times: int) -> list[str]:
        return [self._mutate(message, "") for _ in range(times)]

    def _mutate(self, message: Message, prefix: str) -> str:
        present: list[Field] = [field for field, _ in message.ListFields()]
        field: Field = self.rng.choice(present * 2 + list(message.DESCRIPTOR.fields))
        path = f"{prefix}{field.name}"
        if (
            field in present
            and _is_plain_message(field)
            and _is_ours(field)
            and self.rng.random() < 0.6
        ):
            return self._mutate(getattr(message, field.name), f"{path}.")
        if self.rng.random() < 0.15:
            message.ClearField(field.name)
            return f"{path} dropped"
        if _is_map(field):
            return f"{path} {self._map(getattr(message, field.name))}"
        if field.is_repeated:
            return f"{path} {self._repeated(getattr(message, field.name), field)}"
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            return f"{path} {self._message(getattr(message, field.name))}"
        value = self.scalar(field)
        setattr(message, field.name, value)
        return f"{path}={short(value, 60)}"

    def scalar(self, field: Field) -> Any:
        if field.type == FieldDescriptor.TYPE_STRING:
            if "token" in field.name:
                return self.rng.choice(BAD_TOKENS + BAD_STRINGS[:8])
            return self.rng.choice(BAD_STRINGS)
        if field.type == FieldDescriptor.TYPE_BOOL:
            return self.rng.random() < 0.5
        if field.type == FieldDescriptor.TYPE_ENUM:
            numbers = [value.number for value in field.enum_type.values]
            return self.rng.choice([*numbers, max(numbers) + 1, 999, -1])
        if field.type in (FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_SINT64):
            return self.rng.choice(INTEGERS_64)
        if field.type in (FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_SINT32):
            return self.rng.choice(INTEGERS_32)
        if field.type in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
            return self.rng.choice([0.0, -1.0, 1e308, float("nan"), float("inf")])
        if field.type == FieldDescriptor.TYPE_BYTES:
            return self.rng.choice([b"", b"\x00", b"\xff" * 100])
        return self.rng.choice([0, 1, 2**32 - 1])

    def _map(self, mapping: Any) -> str:
        choice = self.rng.randrange(3)
        if choice == 0:
            for number in range(60):
                mapping[f"key_{number}"] = "v"
            return "given 60 entries"
        key, value = self.rng.choice(BAD_STRINGS), self.rng.choice(BAD_STRINGS)
        mapping[key or "k"] = value
        return f"[{short(key or 'k', 40)}]={short(value, 40)}"

    def _repeated(self, values: Any, field: Field) -> str:
        count = self.rng.choice([1, 3, 25])
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            template = values[0] if len(values) else None
            for _ in range(count):
                added = values.add()
                if template is not None:
                    added.CopyFrom(template)
                if self.rng.random() < 0.5:
                    self._mutate(added, "")
            return f"+{count} elements"
        added = [self.scalar(field) for _ in range(count)]
        values.extend(added)
        return f"+{short(added, 60)}"

    def _message(self, message: Message) -> str:
        name = message.DESCRIPTOR.full_name
        if name == "google.protobuf.Timestamp":
            seconds = self.rng.choice([*TIMESTAMP_SECONDS, int(time.time()) + 601])
            nanos = self.rng.choice([0, 999_999_999, -1, 2_000_000_000])
            message.seconds, message.nanos = seconds, nanos  # type: ignore[attr-defined]
            return f"={seconds}s+{nanos}ns"
        if name == "google.protobuf.Duration":
            seconds = self.rng.choice([-1, 0, 86_400, 86_401, 315_576_000_000, 10**12])
            message.seconds = seconds  # type: ignore[attr-defined]
            return f"={seconds}s"
        fill(message, self.rng, ["customers/nobody"])
        return "filled with junk"


# Fields that name a customer get one that exists, so a request can get past the lookup.
CUSTOMER_FIELDS = {"name", "customer", "source", "target"}


def fill(message: Message, rng: random.Random, customers: list[str], depth: int = 0) -> None:
    """Plausible-looking values in a random choice of fields, for RPCs without a seed."""
    fields: list[Field] = list(message.DESCRIPTOR.fields)
    for field in fields:
        if rng.random() < 0.4 or depth > 3:
            continue
        if _is_map(field):
            getattr(message, field.name)["source"] = "fuzz"
        elif field.type == FieldDescriptor.TYPE_MESSAGE:
            target = getattr(message, field.name)
            child = target.add() if field.is_repeated else target
            if field.message_type.full_name == "google.protobuf.Timestamp":
                child.seconds = int(time.time()) - rng.randrange(86_400)
            elif field.message_type.full_name == "google.protobuf.FieldMask":
                child.paths.append(rng.choice(["display_name", "tags", "nothing"]))
            else:
                fill(child, rng, customers, depth + 1)
        elif field.is_repeated:
            getattr(message, field.name).append(_plain(field, rng))
        elif field.name in CUSTOMER_FIELDS and field.type == FieldDescriptor.TYPE_STRING:
            setattr(message, field.name, rng.choice(customers))
        else:
            setattr(message, field.name, _plain(field, rng))


def _plain(field: Field, rng: random.Random) -> Any:
    if field.type == FieldDescriptor.TYPE_STRING:
        return rng.choice(["fuzz", "Ada Lovelace", str(uuid.UUID(int=rng.getrandbits(128))), "en"])
    if field.type == FieldDescriptor.TYPE_ENUM:
        return rng.choice([value.number for value in field.enum_type.values])
    if field.type == FieldDescriptor.TYPE_BOOL:
        return True
    if field.type == FieldDescriptor.TYPE_BYTES:
        return b"fuzz"
    if field.type in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return 1.5
    return rng.randrange(0, 10)


def _is_map(field: Field) -> bool:
    return bool(
        field.type == FieldDescriptor.TYPE_MESSAGE and field.message_type.GetOptions().map_entry
    )


def _is_ours(field: Field) -> bool:
    """A message of the CRM's own, not a well-known type such as Timestamp."""
    return bool(
        field.type == FieldDescriptor.TYPE_MESSAGE
        and field.message_type.full_name.startswith("crm.")
    )


def _is_plain_message(field: Field) -> bool:
    return (
        field.type == FieldDescriptor.TYPE_MESSAGE and not field.is_repeated and not _is_map(field)
    )


def message_class(descriptor: Any) -> Any:
    return message_factory.GetMessageClass(descriptor)


def string_fields(message: Message, prefix: str = "", depth: int = 0) -> list[str]:
    """Paths of every string field a request can carry, set or not, through the messages
    it holds, e.g. "interaction.identity.social.handle", "customer.attributes[*]"."""
    paths = []
    fields: list[Field] = list(message.DESCRIPTOR.fields)
    for field in fields:
        path = f"{prefix}{field.name}"
        if _is_map(field):
            if field.message_type.fields_by_name["value"].type == FieldDescriptor.TYPE_STRING:
                paths.append(f"{path}[*]")
        elif field.type == FieldDescriptor.TYPE_STRING:
            paths.append(path)
        elif not _is_ours(field) or depth > 3:
            continue
        elif field.is_repeated:
            values = getattr(message, field.name)
            if len(values):
                paths.extend(string_fields(values[0], f"{path}[0].", depth + 1))
        else:
            child = message_class(field.message_type)()
            if message.HasField(field.name):
                child = getattr(message, field.name)
            paths.extend(string_fields(child, f"{path}.", depth + 1))
    return paths


def set_string(message: Message, path: str, text: str, filler: str) -> None:
    """Puts text at a path string_fields gave. A message the path brings into being gets
    filler in its other string fields (a social handle needs a platform), so the text is
    the one thing wrong with the request."""
    *parents, leaf = path.split(".")
    target: Any = message
    created = False
    for part in parents:
        name, _, index = part.partition("[")
        created = not index and not target.HasField(name)
        target = getattr(target, name)
        if index:
            target = target[int(index.rstrip("]"))]
    name, _, index = leaf.partition("[")
    if created:
        for sibling in target.DESCRIPTOR.fields:
            if sibling.type == FieldDescriptor.TYPE_STRING and not sibling.is_repeated:
                setattr(target, sibling.name, filler)
    if index == "*]":
        getattr(target, name)["key"] = text
    elif target.DESCRIPTOR.fields_by_name[name].is_repeated:
        getattr(target, name).append(text)
    else:
        setattr(target, name, text)
