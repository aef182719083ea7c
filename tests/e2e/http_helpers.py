"""Requests the HTTP tests share, for any httpx-style client."""

from __future__ import annotations

from typing import Any


def record_by_email(
    client: Any, headers: dict[str, str], email: str, summary: str, channel: str = "CHANNEL_EMAIL"
) -> dict[str, Any]:
    """POSTs an inbound interaction from email's owner; fails the test unless it is 200."""
    response = client.post(
        "/v1/interactions:record",
        headers=headers,
        json={
            "identity": {"email": email},
            "interaction": {
                "channel": channel,
                "direction": "DIRECTION_INBOUND",
                "summary": summary,
            },
        },
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]
