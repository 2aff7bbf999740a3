"""Generate the scenario reference (``docs/scenario_reference.md``) from the schema.

The reference lists every field of :class:`models.scenario.Scenario`, table by
table, with its type and constraints, its default and its description, all
read from the pydantic models, so it cannot drift from the code: a test
regenerates it and compares it with the committed file. Regenerate with::

    presales-sim reference --out docs/scenario_reference.md
    python -m models.scenario_reference          # the same

``--check`` compares instead of writing and exits 1 when the file is stale.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
import types
import typing
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import annotated_types as at
import tomli_w
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from models.scenario import Scenario

__all__ = [
    "DEFAULT_OUT",
    "REGENERATE",
    "add_reference",
    "main",
    "reference_markdown",
    "undocumented_fields",
]

DEFAULT_OUT = Path("docs/scenario_reference.md")
REGENERATE = "presales-sim reference --out docs/scenario_reference.md"
INLINE_LIMIT = 48
UNDOCUMENTED = "(no description in the schema)"

HEADER = f"""\
# Scenario reference

<!-- Generated from models/scenario.py by `{REGENERATE}`
     (or `python -m models.scenario_reference`); do not edit by hand. -->

Every field a scenario TOML file may set, table by table, with its type, its
default and what it means. A field marked *required* has no default. Tables
written `[[name]]` are lists: repeat the table once per item. Unknown fields
are refused, so a misspelt name is reported rather than ignored.

Units are given in each description. The conventions: durations, waits and
windows are in **working hours** on the scenario's business calendar unless a
description says calendar hours or days; money is in the scenario's
`scenario.currency`; shares and probabilities are fractions in [0, 1]
(0.5 = 50 %); logit weights are on the log-odds scale.
"""


@dataclass(frozen=True)
class Section:
    """One TOML table of the schema.

    Attributes:
        path: Dotted path of the table ("" for the top level).
        model: The pydantic model behind it.
        is_list: Whether the table is an array of tables (``[[path]]``).
    """

    path: str
    model: type[BaseModel]
    is_list: bool

    @property
    def title(self) -> str:
        """The table's TOML header, e.g. ``[[engineers.pools]]``."""
        if not self.path:
            return "Top level"
        return f"[[{self.path}]]" if self.is_list else f"[{self.path}]"


def _strip_annotated(tp: Any) -> tuple[Any, list[Any]]:
    """Return the bare type and the constraints of ``Annotated`` wrappers."""
    constraints: list[Any] = []
    while typing.get_origin(tp) is typing.Annotated:
        tp, *extra = typing.get_args(tp)
        for item in extra:
            if isinstance(item, FieldInfo):
                constraints.extend(item.metadata)
            else:
                constraints.append(item)
    return tp, constraints


def _optional_arg(tp: Any) -> Any | None:
    """Return ``X`` for ``X | None``, else None."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(tp)) == 2:
            return args[0]
    return None


def _model_in(tp: Any) -> tuple[type[BaseModel] | None, str]:
    """Find a nested model: ``(model, "table" | "list" | "map")`` or None."""
    tp, _ = _strip_annotated(tp)
    inner = _optional_arg(tp)
    if inner is not None:
        tp, _ = _strip_annotated(inner)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return tp, "table"
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is list and args:
        item, _ = _strip_annotated(args[0])
        if isinstance(item, type) and issubclass(item, BaseModel):
            return item, "list"
    if origin is dict and len(args) == 2:
        item, _ = _strip_annotated(args[1])
        if isinstance(item, type) and issubclass(item, BaseModel):
            return item, "map"
    return None, ""


def sections(
    model: type[BaseModel] = Scenario, path: str = "", is_list: bool = False
) -> Iterator[Section]:
    """Yield the tables of ``model`` depth first, in declaration order."""
    yield Section(path, model, is_list)
    for name, info in model.model_fields.items():
        nested, kind = _model_in(info.annotation)
        if nested is None:
            continue
        child = f"{path}.{name}" if path else name
        if kind == "map":
            child += ".NAME"
        yield from sections(nested, child, kind == "list")


_SCALARS = {
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "string",
    dt.date: "date",
    dt.datetime: "date-time",
    dt.time: "time",
}


def _number(value: Any) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(int(value)) if float(value).is_integer() else repr(value)


def _plural(text: str) -> str:
    word, _, rest = text.partition(" ")
    if word in _SCALARS.values():
        word += "s"
    return f"{word} {rest}" if rest else word


def _items(count: int) -> str:
    return f"{count} item" if count == 1 else f"{count} items"


def _constraint_text(constraints: Sequence[Any]) -> str:
    low = high = None
    sizes = []
    for item in constraints:
        if isinstance(item, at.Ge):
            low = f"≥ {_number(item.ge)}"
        elif isinstance(item, at.Gt):
            low = f"> {_number(item.gt)}"
        elif isinstance(item, at.Le):
            high = f"≤ {_number(item.le)}"
        elif isinstance(item, at.Lt):
            high = f"< {_number(item.lt)}"
        elif isinstance(item, at.MinLen) and item.min_length:
            sizes.append(f"at least {_items(item.min_length)}")
        elif isinstance(item, at.MaxLen):
            sizes.append(f"at most {_items(item.max_length)}")
    if low and high:
        opening = "[" if low[0] == "≥" else "("
        closing = "]" if high[0] == "≤" else ")"
        bounds = f"in {opening}{low.split()[1]}, {high.split()[1]}{closing}"
    else:
        bounds = low or high or ""
    if len(sizes) == 2 and sizes[0].split()[2] == sizes[1].split()[2]:
        sizes = [f"exactly {sizes[0].split()[2]}"]
    return ", ".join(([bounds] if bounds else []) + sizes)


def type_text(tp: Any, constraints: Sequence[Any] = ()) -> str:
    """Describe a field's type with its constraints, in words.

    Args:
        tp: The annotation.
        constraints: Field-level constraints (``annotated_types`` objects).

    Returns:
        E.g. ``number ≥ 0 and ≤ 1`` or ``list of [number, number]``.
    """
    tp, inner = _strip_annotated(tp)
    constraints = [*inner, *constraints]
    limits = _constraint_text(constraints)
    optional = _optional_arg(tp)
    if optional is not None:
        return f"{type_text(optional, constraints)}, or none"
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is typing.Literal:
        return "one of " + ", ".join(f"`{_inline(a)}`" for a in args)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return "table"
    if origin is list:
        nested, _ = _model_in(tp)
        item = "tables" if nested else _plural(type_text(args[0])) if args else "values"
        text = f"list of {item}"
    elif origin is tuple:
        text = "[" + ", ".join(type_text(a) for a in args) + "]"
    elif origin is dict:
        nested, _ = _model_in(tp)
        value = "table" if nested else type_text(args[1])
        text = f"table of {type_text(args[0])} → {value}"
    elif origin in (typing.Union, types.UnionType):
        text = " or ".join(type_text(a) for a in args)
    else:
        text = _SCALARS.get(tp, getattr(tp, "__name__", str(tp)))
    if not limits:
        return text
    sizes_only = limits.startswith(("at ", "exactly"))
    return f"{text}, {limits}" if sizes_only else f"{text} {limits}"


def _key(key: Any) -> str:
    key = str(key)
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key)


def _inline(value: Any) -> str:
    """A value as TOML would write it inline (``none`` for None)."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value) if value == value else "nan"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, BaseModel):
        return _inline(value.model_dump())
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_inline(v) for v in value) + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = ", ".join(f"{_key(k)} = {_inline(v)}" for k, v in value.items())
        return "{ " + items + " }"
    return str(value)


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return _plain(value.model_dump())
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _default(info: FieldInfo) -> tuple[bool, Any]:
    """Return ``(has_default, value)``."""
    if info.default_factory is not None:
        return True, info.default_factory()
    if info.default is PydanticUndefined:
        return False, None
    return True, info.default


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _section_markdown(section: Section) -> str:
    rows = []
    long_defaults = []
    for name, info in section.model.model_fields.items():
        nested, kind = _model_in(info.annotation)
        child = f"{section.path}.{name}" if section.path else name
        has_default, value = _default(info)
        if not has_default:
            default = "*required*"
        elif nested is not None and kind == "table":
            default = f"as in `[{child}]`"
        else:
            inline = _inline(value)
            if len(inline) <= INLINE_LIMIT:
                default = f"`{inline}`"
            else:
                default = "see below"
                long_defaults.append((name, value))
        kind_text = type_text(info.annotation, info.metadata)
        target = ""
        if nested is not None:
            target = {
                "table": f"[{child}]",
                "list": f"[[{child}]]",
                "map": f"[{child}.NAME]",
            }[kind]
            kind_text += f" (`{target}`)"
        description = info.description or (
            f"The `{target}` table." if nested is not None else UNDOCUMENTED
        )
        rows.append(
            f"| `{name}` | {_cell(kind_text)} | {_cell(default)} | "
            f"{_cell(description)} |"
        )
    lines = [f"## `{section.title}`" if section.path else "## Top level", ""]
    doc = (section.model.__doc__ or "").strip()
    if doc and section.model.__module__ == Scenario.__module__:
        lines += [" ".join(doc.split()), ""]
    lines += [
        "| field | type | default | description |",
        "|---|---|---|---|",
        *rows,
    ]
    for name, value in long_defaults:
        prefix = f"{section.path}." if section.path else ""
        text = tomli_w.dumps({name: _plain(value)}).rstrip()
        lines += ["", f"Default of `{prefix}{name}`:", "", "```toml", text, "```"]
    return "\n".join(lines)


def reference_markdown(model: type[BaseModel] = Scenario) -> str:
    """Return the whole reference as Markdown text (ends with a newline)."""
    found = list(sections(model))
    contents = [
        f"- [`{s.title}`](#{_anchor(s)})" if s.path else "- [Top level](#top-level)"
        for s in found
    ]
    parts = [HEADER, "## Tables", "", *contents, ""]
    parts += [_section_markdown(s) + "\n" for s in found]
    return "\n".join(parts).rstrip() + "\n"


def _anchor(section: Section) -> str:
    """GitHub's anchor of a section heading."""
    text = section.title.lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def undocumented_fields(model: type[BaseModel] = Scenario) -> list[str]:
    """Dotted paths of the fields that have no description."""
    return [
        f"{s.path}.{name}" if s.path else name
        for s in sections(model)
        for name, info in s.model.model_fields.items()
        if not info.description and _model_in(info.annotation)[0] is None
    ]


def _write_or_check(out: Path, check: bool) -> int:
    text = reference_markdown()
    if check:
        current = out.read_text(encoding="utf-8") if out.exists() else None
        if current == text:
            print(f"{out} is up to date")
            return 0
        print(f"{out} is stale; run `{REGENERATE}` to regenerate it")
        return 1
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    missing = undocumented_fields()
    print(f"wrote {out} ({len(list(sections()))} tables)")
    if missing:
        print(f"fields without a description: {', '.join(missing)}")
    return 0


def add_reference(sub) -> None:
    """Register the ``reference`` subcommand."""
    ref = sub.add_parser(
        "reference",
        help="write the scenario reference (every field, default, unit) from "
        "the schema",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    _arguments(ref)
    ref.set_defaults(handler=lambda args: _write_or_check(args.out, args.check))


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="Markdown file to write"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="compare with the file instead of writing it; exit 1 when stale",
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m models.scenario_reference``."""
    parser = argparse.ArgumentParser(
        prog="python -m models.scenario_reference", description=__doc__
    )
    _arguments(parser)
    args = parser.parse_args(argv)
    return _write_or_check(args.out, args.check)


if __name__ == "__main__":
    sys.exit(main())
