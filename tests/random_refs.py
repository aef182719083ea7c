"""Synthetic, unique test data, so tests share databases without cleaning up."""

from __future__ import annotations

import random
import uuid


def suffix() -> str:
    return uuid.uuid4().hex[:10]


def email() -> str:
    return f"customer-{suffix()}@example.com"


def phone() -> str:
    """A London number in the 020 7946 0xxx range Ofcom keeps for drama."""
    return f"+44 20 7946 0{random.randint(0, 999):03d}"


def request_id() -> str:
    return str(uuid.uuid4())
