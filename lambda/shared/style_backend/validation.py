"""A small declarative validator for request bodies and query strings.

Schemas are plain dicts in the JSON Schema subset that OpenAPI 3.0 accepts, so the very same
dicts validate requests at run time and describe them in the generated OpenAPI document
(`style_backend.openapi`). No third-party package: API functions ship only the shared layer.

Supported keywords: type (object, array, string, integer, boolean), properties, required,
additionalProperties (false), enum, minLength, maxLength, pattern, minItems, maxItems,
uniqueItems, items, minimum, maximum. `x-error: {"status", "code"}` next to an `enum` changes
the error a value outside the set yields (an unsupported media type is a 415, not a 400).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

Schema = dict[str, Any]


@dataclass(frozen=True)
class Invalid(Exception):
    """The first rule a value breaks: where (a JSON-pointer-like path), and why."""

    path: str
    message: str
    status: int = 400
    code: str = "VALIDATION_ERROR"

    def __str__(self) -> str:
        return f"{self.path or 'body'}: {self.message}"


_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "boolean": (bool,),
}


def _type_ok(value: Any, expected: str) -> bool:
    if expected in ("integer",) and isinstance(value, bool):
        return False  # bool is an int subclass in Python, never in JSON
    return isinstance(value, _TYPES[expected])


def validate(value: Any, schema: Schema, path: str = "") -> None:
    """Raise `Invalid` for the first rule `value` breaks; return None when it is valid."""

    expected = schema.get("type")
    if expected and not _type_ok(value, expected):
        raise Invalid(path, f"must be {'an' if expected[0] in 'aeiou' else 'a'} {expected}")
    if "enum" in schema and value not in schema["enum"]:
        override = schema.get("x-error", {})
        raise Invalid(
            path,
            f"must be one of {', '.join(map(str, schema['enum']))}",
            override.get("status", 400),
            override.get("code", "VALIDATION_ERROR"),
        )
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            raise Invalid(path, f"must be at least {schema['minLength']} characters long")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            raise Invalid(path, f"must be at most {schema['maxLength']} characters long")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            raise Invalid(path, f"must match {schema['pattern']}")
    if isinstance(value, int) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            raise Invalid(path, f"must be at least {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            raise Invalid(path, f"must be at most {schema['maximum']}")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            raise Invalid(path, f"must hold at least {schema['minItems']} item(s)")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            raise Invalid(path, f"must hold at most {schema['maxItems']} items")
        if schema.get("uniqueItems") and len({repr(v) for v in value}) != len(value):
            raise Invalid(path, "must not repeat an item")
        for i, item in enumerate(value):
            validate(item, schema.get("items", {}), f"{path}/{i}")
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        for name in schema.get("required", []):
            if name not in value:
                raise Invalid(f"{path}/{name}", "is required")
        if schema.get("additionalProperties") is False:
            unknown = sorted(set(value) - set(properties))
            if unknown:
                raise Invalid(f"{path}/{unknown[0]}", "is not an allowed field")
        for name, sub in properties.items():
            if name in value:
                validate(value[name], sub, f"{path}/{name}")
