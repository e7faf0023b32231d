"""Pydantic JSON schemas turned into AsyncAPI Schema objects (the JSON Schema draft-07 dialect).

All models of one document are generated together, so pydantic names them once and
collision-free (two ``Payload`` classes from different modules get module-qualified names);
their ``$defs`` become ``#/components/schemas``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import (
    CoreModeRef,
    DefsRef,
    GenerateJsonSchema,
    JsonSchemaMode,
    models_json_schema,
)

__all__ = ["SCHEMA_PREFIX", "SchemaSet", "build_schemas", "to_draft7"]

SCHEMA_PREFIX = "#/components/schemas/"
_UNSAFE_KEY = re.compile(r"[^A-Za-z0-9_.\-]")

Direction = Literal["validation", "serialization"]


class _Generator(GenerateJsonSchema):
    """Names two different classes called ``Payload`` after their modules, not their modes.

    pydantic would tell them apart as ``Payload-Input`` and ``Payload-Output`` when one is
    read and the other written, which reads as one class in two modes. A mode suffix is
    kept for what it means: one class whose schemas differ by direction.
    """

    def get_defs_ref(self, core_mode_ref: CoreModeRef) -> DefsRef:
        ref = super().get_defs_ref(core_mode_ref)
        choices = self._prioritized_defsref_choices[ref]
        if len(choices) >= 4:
            name, name_mode, qualified, *rest = choices
            choices[:] = [name, qualified, name_mode, *rest]
        return ref


class SchemaSet:
    """Component schemas of a document and the component name of each top-level model."""

    def __init__(self, schemas: dict[str, Any], names: dict[type[BaseModel], str]) -> None:
        self.schemas = schemas
        self.names = names

    def ref(self, model: type[BaseModel]) -> dict[str, str]:
        """A ``$ref`` to ``model``'s schema."""
        return {"$ref": SCHEMA_PREFIX + self.names[model]}


def build_schemas(models: Iterable[tuple[type[BaseModel], Direction]]) -> SchemaSet:
    """Generate every model's schema at once, with aliases, hoisted and rewritten to draft-07.

    A model appears once: give it ``"validation"`` when clients send it (what the server
    accepts) and ``"serialization"`` when the server sends it (what clients receive).
    """
    wanted: list[tuple[type[BaseModel], JsonSchemaMode]] = list(dict(models).items())
    if not wanted:
        return SchemaSet({}, {})
    top, defs = models_json_schema(
        wanted,
        by_alias=True,
        ref_template=SCHEMA_PREFIX + "{model}",
        schema_generator=_Generator,
    )
    raw: dict[str, Any] = dict(defs.get("$defs", {}))
    twins = _merge_mode_twins(raw)
    renames = _safe_names(raw)
    renames.update({twin: renames[base] for twin, base in twins.items()})
    schemas = {renames[name]: to_draft7(schema, renames) for name, schema in sorted(raw.items())}
    names: dict[type[BaseModel], str] = {}
    for model, mode in wanted:
        # Top-level models always come back as a $ref into $defs.
        target = str(top[(model, mode)]["$ref"]).removeprefix(SCHEMA_PREFIX)
        names[model] = renames[target]
    return SchemaSet(schemas, names)


def _merge_mode_twins(raw: dict[str, Any]) -> dict[str, str]:
    """Fold ``X-Input`` and ``X-Output`` back into ``X`` where the two schemas are equal.

    pydantic 2.12 splits a model used in both directions even when nothing differs (2.13
    does not). Twins that only refer to other, already folded twins count as equal, so the
    folding repeats until nothing changes. Returns each folded name and the name it became.
    """
    folded: dict[str, str] = {}
    changed = True
    while changed:
        changed = False
        for name in sorted(raw):
            base = name.removesuffix("-Input")
            output = f"{base}-Output"
            if base == name or base in raw or output not in raw:
                continue
            if to_draft7(raw[name], folded) == to_draft7(raw[output], folded):
                raw[base] = raw.pop(name)
                del raw[output]
                folded[name] = folded[output] = base
                changed = True
    return folded


def _unique(name: str, taken: Mapping[str, Any]) -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name}_{n}", n + 1
    return candidate


def _safe_names(raw: Mapping[str, Any]) -> dict[str, str]:
    """Component keys must match ``^[A-Za-z0-9._-]+$``; pydantic's generic names may not."""
    renames: dict[str, str] = {}
    taken: dict[str, None] = {}
    for name in sorted(raw):
        safe = _unique(_UNSAFE_KEY.sub("_", name) or "Schema", taken)
        renames[name] = safe
        taken[safe] = None
    return renames


def to_draft7(schema: Any, renames: Mapping[str, str]) -> Any:
    """Rewrite one pydantic schema (2020-12 flavoured) into the AsyncAPI draft-07 dialect.

    - ``$ref`` targets follow the renamed component keys;
    - ``prefixItems`` (tuples) become an ``items`` array, a rest type ``additionalItems``;
    - the OpenAPI-style discriminator object becomes its property name;
    - nested ``$defs`` are not expected (all were hoisted) and are dropped if present.
    """
    if isinstance(schema, list):
        return [to_draft7(item, renames) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "$defs":
            continue
        if key == "$ref" and isinstance(value, str) and value.startswith(SCHEMA_PREFIX):
            name = value.removeprefix(SCHEMA_PREFIX)
            out[key] = SCHEMA_PREFIX + renames.get(name, name)
        elif key == "discriminator" and isinstance(value, dict):
            out[key] = value.get("propertyName")
        elif key in {"properties", "patternProperties", "definitions"} and isinstance(value, dict):
            # Keys here are user names, not keywords: only their values are schemas.
            out[key] = {name: to_draft7(sub, renames) for name, sub in value.items()}
        elif key in {"default", "const", "enum", "examples", "example"}:
            out[key] = value
        else:
            out[key] = to_draft7(value, renames)
    if "prefixItems" in out:
        rest = out.pop("items", None)
        out["items"] = out.pop("prefixItems")
        if rest is not None:
            out["additionalItems"] = rest
        elif "maxItems" in out:
            out["additionalItems"] = False
    return out
