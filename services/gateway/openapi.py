"""An OpenAPI 3.1 document built from the same descriptors and HTTP rules as the routes."""

from __future__ import annotations

import re
from typing import Any

from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor

from services.gateway.routes import Route

_INT32 = {FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_SINT32, FieldDescriptor.TYPE_SFIXED32}
_UINT32 = {FieldDescriptor.TYPE_UINT32, FieldDescriptor.TYPE_FIXED32}
_FLOATS = {FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT}
# Well-known types have their own JSON forms.
_WELL_KNOWN: dict[str, dict[str, Any]] = {
    "google.protobuf.Timestamp": {"type": "string", "format": "date-time"},
    "google.protobuf.Duration": {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?s$"},
    # Comma-separated lowerCamelCase paths, e.g. "displayName,tags".
    "google.protobuf.FieldMask": {"type": "string"},
    "google.protobuf.Any": {
        "type": "object",
        "properties": {"@type": {"type": "string"}},
        "additionalProperties": True,
    },
}
_ERROR: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "status", "details"],
            "properties": {
                "code": {"type": "integer"},
                "message": {"type": "string"},
                "status": {"type": "string"},
                "details": {"type": "array", "items": _WELL_KNOWN["google.protobuf.Any"]},
            },
        }
    },
}


_LAST_EVENT_ID = {
    "name": "Last-Event-ID",
    "in": "header",
    "required": False,
    "description": "Resume after this event id, as an EventSource does on reconnecting.",
    "schema": {"type": "string", "pattern": "^[0-9]+$"},
}


def openapi_document(routes: list[Route], title: str, version: str) -> dict[str, Any]:
    schemas: dict[str, Any] = {"Error": _ERROR}
    paths: dict[str, Any] = {}
    for route in routes:
        path, path_fields = _openapi_path(route.template)
        operation: dict[str, Any] = {
            "operationId": route.method.name,
            "summary": _words(route.method.name),
            "parameters": [
                {
                    "name": name.replace(".", "_"),
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string"},
                }
                for name in path_fields
            ],
            "responses": {
                "200": _success(route, _ref(route.method.output_type, schemas)),
                "default": _json_content({"$ref": "#/components/schemas/Error"}),
            },
        }
        if route.body == "*":
            operation["requestBody"] = _json_body(_ref(route.method.input_type, schemas))
        else:
            in_query = [*path_fields, route.body]
            operation["parameters"] += _query_parameters(route.method.input_type, in_query)
        if route.body not in ("", "*"):
            field = route.method.input_type.fields_by_name[route.body]
            operation["requestBody"] = _json_body(_field_schema(field, schemas))
        if route.method.server_streaming:
            operation["parameters"].append(_LAST_EVENT_ID)
        paths.setdefault(path, {})[route.http_method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "Authorization"},
            },
        },
        "security": [{"bearer": []}, {"apiKey": []}],
    }


def _openapi_path(template: str) -> tuple[str, list[str]]:
    """ "/v1/{name=customers/*}:merge" -> "/v1/{name}:merge"; the value keeps its slash."""
    fields: list[str] = []

    def variable(match: re.Match[str]) -> str:
        fields.append(match.group(1))
        # "{customer.name}" as "{customer_name}": clients fill templates with str.format.
        return "{" + match.group(1).replace(".", "_") + "}"

    return re.sub(r"\{([a-z_][a-z0-9_.]*)(?:=[^}]*)?\}", variable, template), fields


def _query_parameters(message: Descriptor, exclude: list[str]) -> list[dict[str, Any]]:
    parameters = []
    for field in message.fields:
        if field.name in exclude:
            continue
        if field.message_type is not None and field.message_type.full_name not in _WELL_KNOWN:
            for inner in field.message_type.fields:
                if inner.message_type is None:
                    parameters.append(_query(f"{field.json_name}.{inner.json_name}", inner))
            continue
        parameters.append(_query(field.json_name, field))
    return parameters


def _query(name: str, field: FieldDescriptor) -> dict[str, Any]:
    message = field.message_type
    schema = _WELL_KNOWN[message.full_name] if message is not None else _scalar_schema(field)
    if field.is_repeated:
        return {"name": name, "in": "query", "schema": {"type": "array", "items": schema}}
    return {"name": name, "in": "query", "schema": schema}


def _ref(message: Descriptor, schemas: dict[str, Any]) -> dict[str, Any]:
    if message.full_name in _WELL_KNOWN:
        return _WELL_KNOWN[message.full_name]
    if message.full_name not in schemas:
        schemas[message.full_name] = {}  # Placeholder first: messages may refer to themselves.
        schemas[message.full_name] = {
            "type": "object",
            "additionalProperties": False,
            "properties": {f.json_name: _field_schema(f, schemas) for f in message.fields},
        }
    return {"$ref": f"#/components/schemas/{message.full_name}"}


def _field_schema(field: FieldDescriptor, schemas: dict[str, Any]) -> dict[str, Any]:
    message = field.message_type
    if message is not None and message.GetOptions().map_entry:
        value = message.fields_by_name["value"]
        return {"type": "object", "additionalProperties": _field_schema(value, schemas)}
    single: dict[str, Any] = (
        _ref(message, schemas) if message is not None else _scalar_schema(field)
    )
    if field.is_repeated:
        return {"type": "array", "items": single}
    return single


def _scalar_schema(field: FieldDescriptor) -> dict[str, Any]:
    kind = field.type
    if field.enum_type is not None:
        return _enum_schema(field.enum_type)
    if kind == FieldDescriptor.TYPE_BOOL:
        return {"type": "boolean"}
    if kind in _INT32:
        return {"type": "integer", "format": "int32"}
    if kind in _UINT32:
        return {"type": "integer", "minimum": 0, "maximum": 4294967295}
    if kind in _FLOATS:
        return {"type": "number"}
    if kind == FieldDescriptor.TYPE_BYTES:
        return {"type": "string", "contentEncoding": "base64"}
    if kind == FieldDescriptor.TYPE_STRING:
        return {"type": "string"}
    # 64-bit integers are strings in the JSON mapping; parsers also take numbers.
    return {"type": ["string", "integer"], "pattern": "^-?[0-9]+$", "format": "int64"}


def _enum_schema(enum: EnumDescriptor) -> dict[str, Any]:
    return {"type": "string", "enum": [value.name for value in enum.values]}


def _success(route: Route, schema: dict[str, Any]) -> dict[str, Any]:
    if not route.method.server_streaming:
        return _json_content(schema)
    return {
        "description": (
            "Server-Sent Events: each event's data is one message in JSON, its id the "
            "position to resume after with Last-Event-ID."
        ),
        # OpenAPI 3.1 cannot type each event (3.2's itemSchema can), so the events'
        # data schema rides in an extension.
        "content": {"text/event-stream": {"schema": {"type": "string"}, "x-event-data": schema}},
    }


def _json_content(schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": "OK", "content": {"application/json": {"schema": schema}}}


def _json_body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _words(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", " ", name).capitalize()
