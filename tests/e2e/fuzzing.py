"""The fuzz tests' tools: the gateway as its own process, and requests built from the
proto descriptors, then spoiled one field at a time with values an attacker would try."""

from __future__ import annotations

import base64
import json
import os
import random
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx2 as httpx
from google.protobuf import message_factory
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

ROOT = Path(__file__).resolve().parents[2]
# protobuf's stubs split descriptors between its Python and upb classes, with optional
# members that are always set for the fields walked here.
Field = Any
REASON = re.compile(r"^[A-Z][A-Z0-9_]*$")
# The last line of a Python traceback, e.g. "RecursionError: maximum recursion depth".
EXCEPTION_LINE = re.compile(r"^(\w+\.)*\w*(Error|Exception|Exit|Interrupt)\b.*")

# Strings that once broke, or could break, a field: control characters, text that
# displays as nothing, sizes past every limit, paths and encodings that confuse.
BAD_STRINGS = [
    "",
    " ",
    "\t\n",
    "\x00",
    "Ada\x00Lovelace",
    "\x07\x1b[31m",
    "\x85\x9f",
    "\u200b",
    "\u3164",
    "\u2800",
    "\u115f\u1160",
    "\uffa0",
    "\ufeff",
    "\u202eevil",
    "Zoë Ångström",
    "🙂" * 40,
    "a" * 201,
    "a" * 5_000,
    "é" * 40_000,
    "x" * 300_000,
    "customers/",
    "customers/../../events",
    f"customers/{uuid.UUID(int=0)}",
    "not-an-email",
    "@",
    "+44 7700 900123",
    "%00",
    "'; DROP TABLE stored_events; --",
    "en\n",
    "\\u0000",
    "null",
]
INTEGERS_32 = [0, 1, -1, 2, 499, 501, 2_001, 2**31 - 1, -(2**31)]
INTEGERS_64 = [*INTEGERS_32, 2**53 + 1, 2**63 - 1, -(2**63)]
TIMESTAMP_SECONDS = [-62_135_596_800, 253_402_300_799, -1, 0, 4_102_444_800]


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode()


# Page tokens are opaque base64url JSON: give them junk, nesting and wrong types.
BAD_TOKENS = [
    b64(b"[" * 1_000),
    b64(b"{" * 50_000),
    b64(b'{"t": 5, "e": [], "q": {}}'),
    b64(b'{"n": "\\u0000", "c": "' + b"0" * 32 + b'", "q": ""}'),
    b64(b'{"t": "9999-12-31T23:59:59+14:00", "e": "zz", "q": ""}'),
    b64(b"\xff\xfe\x00"),
    b64(b"1e999999"),
    "!!!not base64!!!",
    "a",
]
# Request bodies a protobuf parser must refuse: invalid UTF-8 in field 1, a length
# past the end, a varint that never ends, unknown wire types.
RAW_BODIES = [
    b"\x0a\x02\xff\xfe",
    b"\x0a\x04Ad\xc3\x28",
    b"\x12\x03\x0a\x01\xff",
    b"\x0a\xff\xff\xff\xff\x0f",
    b"\x08" + b"\xff" * 11,
    b"\x0f\x0f\x0f",
    b"\xff" * 64,
]


class GatewayProcess:
    """`python -m services.gateway` on a free port, configured as scripts/run-dev.sh
    configures it; its output is kept for the test to read."""

    def __init__(self, crm_port: int, **extra_env: str) -> None:
        self.port = _free_port()
        env = {
            **os.environ,
            "PYTHONPATH": f"{ROOT / 'gen' / 'python'}{os.pathsep}{ROOT}",
            "CRM_GATEWAY_CRM_ADDRESS": f"127.0.0.1:{crm_port}",
            "CRM_GATEWAY_PORT": str(self.port),
            **extra_env,
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "services.gateway"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        )
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.port}"
        self._wait_until_serving(timeout=60)

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    def _wait_until_serving(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                httpx.get(f"{self.url}/openapi.json", timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise AssertionError(f"the gateway did not serve; output:\n{''.join(self.lines)}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(15)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def exception_lines(lines: list[str]) -> list[str]:
    """The distinct last lines of the tracebacks in a process's output, JSON or not."""
    found: list[str] = []
    for line in lines:
        texts = [line]
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if isinstance(record, dict) and isinstance(record.get("exception"), str):
            texts = record["exception"].splitlines()[-1:]
        for text in texts:
            match = EXCEPTION_LINE.match(text.strip())
            if match and match.group(0) not in found:
                found.append(match.group(0)[:300])
    return found


def short(value: object, limit: int = 160) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}…({len(text)} chars)"


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
        fill(message, self.rng)
        return "filled with junk"


def fill(message: Message, rng: random.Random, depth: int = 0) -> None:
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
                fill(child, rng, depth + 1)
        elif field.is_repeated:
            getattr(message, field.name).append(_plain(field, rng))
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


# JSON values of the wrong type, or nested past any parser's patience.
def bad_json_value(rng: random.Random) -> Any:
    choice = rng.randrange(8)
    if choice == 0:
        return rng.choice(BAD_STRINGS)
    if choice == 1:
        return rng.choice([None, True, -1, 2**70, 1e308, -0.5, "NaN", "Infinity"])
    if choice == 2:
        return [rng.choice(BAD_STRINGS[:10])] * rng.choice([1, 30])
    if choice == 3:
        return {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "X"}
    if choice == 4:
        nested: Any = "deep"
        for _ in range(rng.choice([50, 200])):
            nested = {"a": nested}
        return nested
    if choice == 5:
        return {"unknownField": 1}
    if choice == 6:
        return rng.choice(["1970-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "yesterday", "-1s"])
    return rng.choice(BAD_TOKENS)


def mutate_json(document: Any, rng: random.Random) -> str:
    """Replaces, drops or adds one member somewhere in a JSON object; says where."""
    path, node = "", document
    while isinstance(node, dict) and node and rng.random() < 0.6:
        key = rng.choice(sorted(node))
        if not isinstance(node[key], dict):
            break
        path, node = f"{path}{key}.", node[key]
    if not isinstance(node, dict):
        return "nothing"
    keys = sorted(node)
    action = rng.randrange(3)
    if action == 0 and keys:
        key = rng.choice(keys)
        del node[key]
        return f"{path}{key} dropped"
    key = rng.choice(keys) if keys and action == 1 else rng.choice(["extra", "name", "tags"])
    node[key] = bad_json_value(rng)
    return f"{path}{key}={short(node[key], 60)}"


# Put in each string field in turn: the edge must refuse it, or the log keeps it for good
# (and PostgreSQL's text columns cannot hold it).
CONTROL_TEXT = "Ada\x00Lovelace"


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


def set_string(message: Message, path: str, text: str) -> None:
    """Puts text at a path string_fields gave."""
    *parents, leaf = path.split(".")
    target: Any = message
    for part in parents:
        name, _, index = part.partition("[")
        target = getattr(target, name)
        if index:
            target = target[int(index.rstrip("]"))]
    name, _, index = leaf.partition("[")
    if index == "*]":
        getattr(target, name)["key"] = text
    elif target.DESCRIPTOR.fields_by_name[name].is_repeated:
        getattr(target, name).append(text)
    else:
        setattr(target, name, text)
