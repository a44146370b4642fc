"""The OpenAPI document as JSON Schema validators.

The suite checks bodies against the schemas of ``openapi.yaml`` itself (OpenAPI 3.1 schemas are
JSON Schema 2020-12), so the document and the checks cannot drift apart.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_PATH = Path(__file__).with_name("openapi.yaml")
_URI = "urn:movielens-contract:openapi"


@cache
def document() -> dict[str, Any]:
    """The parsed ``openapi.yaml`` shipped with the suite."""
    with SPEC_PATH.open(encoding="utf-8") as handle:
        loaded = yaml.safe_load(handle)
    if not isinstance(loaded, dict):
        raise ValueError(f"{SPEC_PATH} is not an OpenAPI document")
    return loaded


@cache
def _registry() -> Registry:
    resource = Resource.from_contents(document(), default_specification=DRAFT202012)
    return Registry().with_resource(_URI, resource)


def validator(pointer: str) -> Draft202012Validator:
    """A validator for the schema at ``pointer`` (e.g. ``/components/schemas/Rating``)."""
    return Draft202012Validator(
        {"$ref": f"{_URI}#{pointer}"}, registry=_registry(), format_checker=FormatChecker()
    )


def component(name: str) -> Draft202012Validator:
    return validator(f"/components/schemas/{name}")


def response_validator(path: str, status: int) -> Draft202012Validator | None:
    """The validator for the JSON body of ``GET path`` answered ``status``, if the document has one."""
    responses = document()["paths"].get(path, {}).get("get", {}).get("responses", {})
    key = str(status)
    if key not in responses:
        return None
    response = responses[key]
    pointer_prefix = f"/paths/{path.replace('~', '~0').replace('/', '~1')}/get/responses/{key}"
    if "$ref" in response:
        pointer_prefix = response["$ref"].lstrip("#")
        response = _resolve(response["$ref"])
    if "application/json" not in response.get("content", {}):
        return None
    return validator(f"{pointer_prefix}/content/application~1json/schema")


def _resolve(ref: str) -> dict[str, Any]:
    node: Any = document()
    for part in ref.lstrip("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return dict(node)


def errors(validator_: Draft202012Validator, instance: Any, limit: int = 3) -> list[str]:
    """Up to ``limit`` readable validation errors (empty when the instance is valid)."""
    found = sorted(validator_.iter_errors(instance), key=lambda e: list(e.absolute_path))
    out = []
    for error in found[:limit]:
        where = "/".join(str(p) for p in error.absolute_path) or "(body)"
        message = error.message if len(error.message) < 160 else error.message[:157] + "..."
        out.append(f"{where}: {message}")
    return out
