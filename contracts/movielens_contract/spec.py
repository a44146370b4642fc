"""The OpenAPI document as JSON Schema validators.

The suite checks bodies against the schemas of ``openapi.yaml`` itself (OpenAPI 3.1 schemas are
JSON Schema 2020-12), so the document and the checks cannot drift apart.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator, FormatChecker, ValidationError, validators
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from .client import show

SPEC_PATH = Path(__file__).with_name("openapi.yaml")
_URI = "urn:movielens-contract:openapi"
MESSAGE_CHARS = 160
WHERE_CHARS = 60
SCANNED_ERRORS = 1000  # a 32 MB page can hold millions of errors; the first ones are enough


def _multiple_of(validator_: Any, divisor: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    """``multipleOf`` in exact arithmetic, for any JSON number.

    jsonschema's own raises on NaN (``ValueError``), infinities and integers beyond a double
    (``OverflowError``); a server sending those would crash the check instead of failing it.
    """
    if not validator_.is_type(instance, "number"):
        return
    if isinstance(instance, float) and not math.isfinite(instance):
        yield ValidationError(f"{instance!r} is not a finite number")
    elif (Fraction(instance) / Fraction(divisor)).denominator != 1:
        yield ValidationError(f"{instance!r} is not a multiple of {divisor}")


_Validator = validators.extend(Draft202012Validator, {"multipleOf": _multiple_of})


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
    return _Validator({"$ref": f"{_URI}#{pointer}"}, registry=_registry(), format_checker=FormatChecker())


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


def _path_key(error: ValidationError) -> list[tuple[int, int, str]]:
    """A sort key for an error's location: array indexes (ints) and property names (strings) mixed."""
    return [(1, 0, p) if isinstance(p, str) else (0, int(p), "") for p in error.absolute_path]


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _message(error: ValidationError) -> str:
    """The error's message with a long instance (a huge number, a whole page) shown shortened."""
    message, instance = str(error.message), repr(error.instance)
    if len(instance) > len(show(error.instance)) and message.startswith(instance):
        return show(error.instance) + message[len(instance) :]
    return message


def errors(validator_: Draft202012Validator, instance: Any, limit: int = 3) -> list[str]:
    """Up to ``limit`` readable validation errors (empty when the instance is valid), for any instance."""
    try:
        found = sorted(itertools.islice(validator_.iter_errors(instance), SCANNED_ERRORS), key=_path_key)
    except RecursionError:  # parse_json bounds nesting; bodies decoded elsewhere may not be
        return ["(body): too deeply nested to check against the schema"]
    out = []
    for error in found[:limit]:
        where = "/".join(str(p) for p in error.absolute_path) or "(body)"
        where = _cut(where.encode("unicode_escape").decode("ascii"), WHERE_CHARS)
        out.append(f"{where}: {_cut(_message(error), MESSAGE_CHARS)}")
    return out
