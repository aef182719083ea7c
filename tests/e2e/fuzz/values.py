"""Values that once broke, or could break, a field: for strings, numbers, tokens and JSON."""

from __future__ import annotations

import base64
import random
import uuid
from typing import Any

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


# Put in each string field in turn: the edge must refuse it, or the log keeps it for good
# (and PostgreSQL's text columns cannot hold it).
CONTROL_TEXT = "Ada\x00Lovelace"


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


def short(value: object, limit: int = 160) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}…({len(text)} chars)"
