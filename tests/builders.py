"""Builders of valid domain values, overridable field by field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from services.crm.domain.cause import Cause
from services.crm.domain.channels import Channel, Direction
from services.crm.domain.interaction import InteractionContent
from tests import random_refs

AGENT = Cause(actor="agent:test-agent", correlation_id="test-correlation")


def content(**overrides: Any) -> InteractionContent:
    values: dict[str, Any] = {
        "channel": Channel.EMAIL,
        "direction": Direction.INBOUND,
        "occurred_at": datetime.now(UTC) - timedelta(minutes=1),
        "summary": f"synthetic interaction {random_refs.suffix()}",
    }
    values.update(overrides)
    return InteractionContent(**values)
