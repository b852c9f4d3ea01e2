"""Validate our responses against OpenAI's published OpenAPI schemas.

The spec is OpenAPI 3.1 but still marks some fields `nullable: true` (a 3.0
keyword JSON Schema ignores); those are rewritten as `anyOf [.., null]`.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012 as _DRAFT

# Vendored (MIT, see tests/contract/NOTICE): the suite reads nothing outside the repository.
SPEC = Path(__file__).resolve().parent / "contract" / "openai-openapi.json"


def _fix_nullable(node: Any) -> Any:
    if isinstance(node, dict):
        fixed = {k: _fix_nullable(v) for k, v in node.items() if k != "nullable"}
        if node.get("nullable") is True:
            return {"anyOf": [fixed, {"type": "null"}]}
        return fixed
    if isinstance(node, list):
        return [_fix_nullable(v) for v in node]
    return node


@cache
def _registry() -> tuple[Registry, dict[str, Any]]:
    spec = _fix_nullable(json.loads(SPEC.read_text()))
    resource = Resource.from_contents(spec, default_specification=_DRAFT)
    return Registry().with_resource("openai.json", resource), spec


def validator(schema_name: str) -> Draft202012Validator:
    registry, _ = _registry()
    return Draft202012Validator(
        {"$ref": f"openai.json#/components/schemas/{schema_name}"}, registry=registry
    )


def assert_valid(instance: Any, schema_name: str) -> None:
    errors = sorted(validator(schema_name).iter_errors(instance), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])


def schema(schema_name: str) -> Any:
    """A schema of the spec as it is (its `$ref`s unresolved)."""
    _, spec = _registry()
    return spec["components"]["schemas"][schema_name]
