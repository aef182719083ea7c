"""Routes read from google.api.http rules: path templates, body and query mapping."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from google.api import annotations_pb2
from google.protobuf.descriptor import FieldDescriptor, MethodDescriptor, ServiceDescriptor

_VARIABLE = re.compile(r"\{([a-z_][a-z0-9_.]*)(?:=([^}]*))?\}")


@dataclass(frozen=True)
class Route:
    http_method: str
    template: str
    pattern: re.Pattern[str]
    variables: tuple[str, ...]
    body: str
    method: MethodDescriptor

    @property
    def rpc_path(self) -> str:
        return f"/{self.method.containing_service.full_name}/{self.method.name}"


def routes_of(service: ServiceDescriptor) -> list[Route]:
    """Every RPC of the service that carries an HTTP rule."""
    found = []
    for method in service.methods:
        rule = method.GetOptions().Extensions[annotations_pb2.http]
        verb = rule.WhichOneof("pattern")
        if verb is None or verb == "custom":
            continue
        template = getattr(rule, verb)
        pattern, variables = compile_template(template)
        found.append(Route(verb.upper(), template, pattern, variables, rule.body, method))
    return found


def compile_template(template: str) -> tuple[re.Pattern[str], tuple[str, ...]]:
    """ "/v1/{name=customers/*}:merge" -> a regex with one group per variable."""
    regex, variables, last = "", [], 0
    for number, match in enumerate(_VARIABLE.finditer(template)):
        regex += re.escape(template[last : match.start()])
        regex += f"(?P<v{number}>{_segments(match.group(2) or '*')})"
        variables.append(match.group(1))
        last = match.end()
    regex += re.escape(template[last:])
    return re.compile(f"^{regex}$"), tuple(variables)


def _segments(pattern: str) -> str:
    parts = []
    for segment in pattern.split("/"):
        if segment == "**":
            parts.append(".+")
        elif segment == "*":
            parts.append("[^/:]+")
        else:
            parts.append(re.escape(segment))
    return "/".join(parts)


def field_by_path(message_type: Any, path: str) -> list[FieldDescriptor]:
    """The fields along "a.b" (proto or JSON names); KeyError when one is unknown."""
    fields = []
    descriptor = message_type
    for part in path.split("."):
        if descriptor is None:
            raise KeyError(path)
        field = descriptor.fields_by_name.get(part) or next(
            (f for f in descriptor.fields if f.json_name == part), None
        )
        if field is None:
            raise KeyError(path)
        fields.append(field)
        descriptor = field.message_type
    return fields
