"""The OpenAPI document: every route, every reference resolvable, the JSON mapping's types."""

from __future__ import annotations

from typing import Any

from services.gateway.app import SERVICE
from services.gateway.openapi import openapi_document
from services.gateway.routes import routes_of


def references(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if "$ref" in node else []
        return found + [ref for value in node.values() for ref in references(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in references(value)]
    return []


def test_every_rpc_is_an_operation_and_every_reference_resolves() -> None:
    document = openapi_document(routes_of(SERVICE), "CRM", "v1")
    operations = {
        op["operationId"] for methods in document["paths"].values() for op in methods.values()
    }
    assert operations == {method.name for method in SERVICE.methods}
    schemas = document["components"]["schemas"]
    for reference in references(document):
        assert reference.removeprefix("#/components/schemas/") in schemas, reference
    assert document["openapi"] == "3.1.0"


def test_types_follow_the_protobuf_json_mapping() -> None:
    document = openapi_document(routes_of(SERVICE), "CRM", "v1")
    interaction = document["components"]["schemas"]["crm.v1.Interaction"]["properties"]
    assert interaction["occurredTime"] == {"type": "string", "format": "date-time"}
    assert "CHANNEL_EMAIL" in interaction["channel"]["enum"]
    assert interaction["tags"] == {"type": "array", "items": {"type": "string"}}
    timeline = document["paths"]["/v1/{customer}/timeline"]["get"]
    names = {p["name"] for p in timeline["parameters"]}
    assert {"customer", "pageSize", "pageToken", "channels", "minPosition", "startTime"} <= names
    find = document["paths"]["/v1/customers:findByIdentity"]["get"]
    assert "identity.email" in {p["name"] for p in find["parameters"]}
