"""The contract itself: every RPC is reachable over HTTP as the gateway will serve it."""

from __future__ import annotations

import pytest
from crm.v1 import customer_history_service_pb2 as pb
from google.api import annotations_pb2

SERVICE = pb.DESCRIPTOR.services_by_name["CustomerHistoryService"]


@pytest.mark.parametrize("method", list(SERVICE.methods), ids=lambda m: m.name)
def test_every_rpc_has_an_http_rule_under_v1(method: object) -> None:
    rule = method.GetOptions().Extensions[annotations_pb2.http]  # type: ignore[attr-defined]
    verb = rule.WhichOneof("pattern")
    assert verb in {"get", "post", "patch", "delete"}
    assert getattr(rule, verb).startswith("/v1/")
    assert (rule.body == "") == (verb == "get"), "reads take no body, writes do"
