"""The README's Python client example works against a real server."""

from __future__ import annotations

from services.crm.server import RunningService
from tests import random_refs


def test_the_demo_client_sees_email_call_and_chat_as_one_timeline(service: RunningService) -> None:
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "scripts" / "demo_client.py"
    spec = importlib.util.spec_from_file_location("demo_client", path)
    assert spec is not None
    assert spec.loader is not None
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)

    lines = demo.main(f"127.0.0.1:{service.port}", random_refs.email())

    assert [line.split()[2] for line in lines] == ["CHANNEL_CHAT", "CHANNEL_PHONE", "CHANNEL_EMAIL"]
