"""What each setting is, for a page that draws its controls from data instead of by hand.

``settings_schema()`` walks the ``LiveConfig`` dataclass tree and describes every field with the
TOML names: its kind (``bool``, ``int``, ``float``, ``choice``, ``text``, ``list``, ``pair``),
its choices (from ``Literal`` types), its range (from the field's ``metadata["range"]``), whether
it may be empty, and its default. A field another part of livefake adds later appears on the
page with no page change.
"""

from __future__ import annotations

import dataclasses
import types
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from livefake.config import LiveConfig


def settings_schema(root: type = LiveConfig) -> dict[str, Any]:
    """``{section: {field: description}}`` for every nested dataclass of ``root``; top-level
    plain fields go under the section ``""``."""
    hints = get_type_hints(root)
    schema: dict[str, Any] = {}
    defaults = root()
    for item in dataclasses.fields(root):
        hint = hints[item.name]
        if dataclasses.is_dataclass(hint):
            schema[item.name] = section_schema(hint, getattr(defaults, item.name))  # type: ignore[arg-type]
        else:
            schema.setdefault("", {})[item.name] = field_schema(item, hint, getattr(defaults, item.name))
    return schema


def section_schema(cls: type, defaults: object) -> dict[str, Any]:
    hints = get_type_hints(cls)
    return {
        item.name: field_schema(item, hints[item.name], getattr(defaults, item.name))
        for item in dataclasses.fields(cls)  # type: ignore[arg-type]
    }


def field_schema(item: dataclasses.Field[Any], hint: Any, default: Any) -> dict[str, Any]:
    """One field's description (see the module docstring)."""
    inner, optional = _without_none(hint)
    description: dict[str, Any] = {"kind": _kind(inner), "optional": optional, "default": _jsonable(default)}
    if get_origin(inner) is Literal:
        description["choices"] = list(get_args(inner))
    value_range = item.metadata.get("range")
    if value_range is not None:
        description["range"] = list(value_range)
    for key in ("live", "help"):
        if key in item.metadata:
            description[key] = item.metadata[key]
    return description


def _without_none(hint: Any) -> tuple[Any, bool]:
    if get_origin(hint) in (Union, types.UnionType):
        args = [arg for arg in get_args(hint) if arg is not type(None)]
        if len(args) == 1:
            return args[0], len(args) < len(get_args(hint))
    return hint, False


def _kind(hint: Any) -> str:
    if get_origin(hint) is Literal:
        return "choice"
    if hint is bool:
        return "bool"
    if hint is int:
        return "int"
    if hint is float:
        return "float"
    if hint is str:
        return "text"
    if get_origin(hint) is tuple:
        args = get_args(hint)
        if len(args) == 2 and args[1] is not Ellipsis and all(arg in (int, float) for arg in args):
            return "pair"
        return "list"
    return "other"


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_jsonable(part) for part in value]
    if isinstance(value, dict):
        return {key: _jsonable(part) for key, part in value.items()}
    return value
