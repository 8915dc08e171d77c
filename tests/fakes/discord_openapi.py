"""Check recorded requests against Discord's published OpenAPI spec.

For each request: the path must match one of the spec's path templates with
that method, and every top-level field of the JSON body (each item's, for an
array body) must be a property the request schema knows. This catches typos
and fields Discord would reject or silently drop, without a network.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

from tests.fixtures import ROOT as FIXTURES_ROOT

SPEC = FIXTURES_ROOT / "discord" / "spec" / "openapi.json"


#: Fields discord.py sends that a route's schema lacks and Discord ignores:
#: ``handle_message_parameters`` puts ``tts`` into every message payload,
#: edits included (an edit cannot make a message text-to-speech).
TOLERATED = {"PATCH": {"tts"}}
#: Same for nested objects: ``Embed.to_dict`` always includes ``flags`` (0),
#: which Discord returns on embeds but the request schema does not list.
TOLERATED_IN = {"embeds": {"flags"}}


@functools.cache
def _spec() -> dict[str, Any]:
    return json.loads(SPEC.read_text())


@functools.cache
def _templates() -> list[tuple[re.Pattern[str], str]]:
    out = []
    for template in _spec()["paths"]:
        rx = re.escape(template)
        rx = re.sub(r"\\\{[a-z_]+\\\}", r"[^/]+", rx)
        out.append((re.compile(rx), template))
    # Literal segments first: /users/@me before /users/{user_id}.
    out.sort(key=lambda t: t[1].count("{"))
    return out


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = _spec()["components"]["schemas"][name]
    return schema


def _flatten(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """A schema and every alternative it allows, references resolved."""
    schema = _resolve(schema)
    out = [schema]
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in schema.get(key, []):
            out += _flatten(sub)
    return out


def _props(schemas: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Property name -> the schemas it may have, over all alternatives."""
    props: dict[str, list[dict[str, Any]]] = {}
    for schema in schemas:
        for flat in _flatten(schema):
            for name, sub in flat.get("properties", {}).items():
                props.setdefault(name, []).append(sub)
    return props


def _items(schemas: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [f["items"] for s in schemas for f in _flatten(s) if isinstance(f.get("items"), dict)]


def _check(obj: Any, schemas: list[dict[str, Any]], where: str, depth: int) -> list[str]:
    """Unknown fields of ``obj`` (and of nested objects, a few levels down)."""
    if isinstance(obj, list):
        items = _items(schemas)
        if not items:
            return [f"{where}: the spec takes an object, got a list"]
        return [p for i, o in enumerate(obj) for p in _check(o, items, f"{where}[{i}]", depth)]
    if not isinstance(obj, dict):
        return []
    props = _props(schemas)
    if not props:
        return []  # a free-form object in the spec
    out = []
    tolerated = set(TOLERATED.get(where.split()[0], set()))
    last = where.rsplit(".", 1)[-1].split("[")[0]
    tolerated |= TOLERATED_IN.get(last, set())
    unknown = sorted(set(obj) - set(props) - tolerated)
    if unknown:
        out.append(f"{where}: fields not in the spec: {unknown}")
    if depth > 0:
        for key, value in obj.items():
            if key in props and isinstance(value, dict | list) and value:
                out += _check(value, props[key], f"{where}.{key}", depth - 1)
    return out


def template_for(method: str, path: str) -> str | None:
    for rx, template in _templates():
        if rx.fullmatch(path) and method.lower() in _spec()["paths"][template]:
            return template
    return None


def problems(method: str, path: str, body: Any) -> list[str]:
    """What is wrong with one request (empty when it matches the spec)."""
    template = template_for(method, path)
    if template is None:
        return [f"{method} {path}: no such route in the Discord OpenAPI spec"]
    if body is None:
        return []
    op = _spec()["paths"][template][method.lower()]
    content = (op.get("requestBody") or {}).get("content", {})
    schema = (content.get("application/json") or {}).get("schema")
    if schema is None:
        return [f"{method} {template}: the spec takes no JSON body, got {str(body)[:80]}"]
    return _check(body, [schema], f"{method} {template}", depth=3)


def assert_all_match_spec(requests: list[Any]) -> int:
    """Check every recorded request; returns how many were checked."""
    found = [p for r in requests for p in problems(r.method, r.path, r.body)]
    assert not found, "requests that do not match the Discord spec:\n" + "\n".join(found)
    return len(requests)
