"""A readable page of the API, rendered from the OpenAPI document without any assets."""

from __future__ import annotations

from html import escape
from typing import Any


def docs_page(document: dict[str, Any]) -> str:
    sections = []
    for path, operations in sorted(document["paths"].items()):
        for verb, operation in operations.items():
            parameters = "".join(
                f"<li><code>{escape(p['name'])}</code> ({escape(p['in'])})</li>"
                for p in operation.get("parameters", [])
            )
            body = ""
            if "requestBody" in operation:
                schema = operation["requestBody"]["content"]["application/json"]["schema"]
                body = f"<p>Body: <code>{escape(_schema_name(schema))}</code></p>"
            content = operation["responses"]["200"]["content"]
            if "text/event-stream" in content:
                events = _schema_name(content["text/event-stream"]["x-event-data"])
                answer = f"a stream of <code>{escape(events)}</code> as Server-Sent Events"
            else:
                answer = (
                    f"<code>{escape(_schema_name(content['application/json']['schema']))}</code>"
                )
            sections.append(
                f"<section><h2><span class=verb>{escape(verb.upper())}</span> "
                f"<code>{escape(path)}</code></h2><p>{escape(operation['summary'])}</p>"
                f"{f'<ul>{parameters}</ul>' if parameters else ''}{body}"
                f"<p>Answer: {answer}</p></section>"
            )
    title = escape(document["info"]["title"])
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{title} API</title>
<style>body{{font:16px system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}}
.verb{{display:inline-block;min-width:4rem;color:#fff;background:#345;padding:0 .4rem;
border-radius:4px}}
code{{word-break:break-all}}section{{border-bottom:1px solid #ddd;padding:.5rem 0}}</style>
</head><body><h1>{title} API</h1>
<p>Send <code>Authorization: Bearer TOKEN</code> or <code>Authorization: ApiKey KEY</code>.
Bodies and answers use protobuf's JSON mapping. The machine-readable document is
<a href="/openapi.json">/openapi.json</a>.</p>
{"".join(sections)}
</body></html>"""


def _schema_name(schema: dict[str, Any]) -> str:
    reference = schema.get("$ref", "")
    return reference.rsplit("/", 1)[-1] if reference else str(schema.get("type", "object"))
