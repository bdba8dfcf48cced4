"""docs/scenario.md and the JSON Schema, generated from the scenario models (`openwfm.schema`).

``openwfm scenario docs -o docs/scenario.md`` rewrites the page; a test fails when the page in
the repository differs from `scenario_markdown()`, so the reference cannot drift from the
models. ``openwfm scenario schema`` prints `json_schema()` for editors (e.g. Taplo / Even
Better TOML with a ``#:schema`` directive).

Examples
--------
>>> md = scenario_markdown()
>>> "| `sl_target` |" in md and "## `[[queues]]`" in md
True
>>> json_schema()["title"]
'openwfm scenario'
"""

from __future__ import annotations

import types
from datetime import date, time
from enum import Enum
from typing import Any, Literal, Union, get_args, get_origin

from annotated_types import Ge, Gt, Le, Lt, MaxLen, MinLen
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from openwfm.labour import BUILTIN_PACKS, RulePack
from openwfm.schema import QueueSpec, ScenarioFile, Spec

__all__ = ["json_schema", "scenario_markdown"]


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a scenario file, keys as written in TOML."""
    out = ScenarioFile.model_json_schema(by_alias=True, mode="validation")
    out = {"$schema": "https://json-schema.org/draft/2020-12/schema", **out}
    out["title"] = "openwfm scenario"
    return out


def _unwrap(tp: Any) -> Any:
    """The annotation without ``Annotated`` and without ``None`` in an optional."""
    while get_origin(tp) is not None and hasattr(tp, "__metadata__"):
        tp = get_args(tp)[0]
    if get_origin(tp) in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return _unwrap(args[0])
    return tp


def _type_name(tp: Any) -> str:
    tp = _unwrap(tp)
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        return " or ".join(_type_name(a) for a in get_args(tp))
    if origin is Literal:
        return "one of " + ", ".join(f"`{a}`" for a in get_args(tp))
    if origin in (list, tuple):
        args = [a for a in get_args(tp) if a is not Ellipsis]
        inner = _type_name(args[0]) if args else "value"
        if origin is tuple and len(args) > 1:
            return f"[{', '.join(_type_name(a) for a in args)}]"
        return f"list of {inner}"
    if origin is dict:
        k, v = get_args(tp)
        return f"table {_type_name(k)} -> {_type_name(v)}"
    if isinstance(tp, type):
        if issubclass(tp, Enum):
            return "one of " + ", ".join(f"`{m.value}`" for m in tp)
        if issubclass(tp, BaseModel):
            return "table"
        return {bool: "boolean", int: "integer", float: "number", str: "string",
                date: "date `YYYY-MM-DD`", time: "time `HH:MM`"}.get(tp, tp.__name__)
    return str(tp)


def _bounds(f: FieldInfo) -> str:
    parts = []
    if _unwrap(f.annotation) is str and any(
            isinstance(m, MinLen) for m in _metadata(f.annotation) + list(f.metadata)):
        return "not empty"
    for m in _metadata(f.annotation) + list(f.metadata):
        for cls, sym, attr in ((Ge, ">=", "ge"), (Gt, ">", "gt"), (Le, "<=", "le"),
                               (Lt, "<", "lt"), (MinLen, "items >=", "min_length"),
                               (MaxLen, "items <=", "max_length")):
            if isinstance(m, cls):
                parts.append(f"{sym} {getattr(m, attr):g}")
    return ", ".join(dict.fromkeys(parts))


def _metadata(tp: Any) -> list[Any]:
    """Constraints on the field's own annotation (not on list items)."""
    out: list[Any] = []
    while hasattr(tp, "__metadata__"):
        for m in tp.__metadata__:
            out += list(getattr(m, "metadata", [])) if isinstance(m, FieldInfo) else [m]
        tp = get_args(tp)[0]
    return out


def _item_bounds(tp: Any) -> str:
    """Bounds on the items of a list or the values of a table (``[0, 1]`` each)."""
    tp = _unwrap(tp)
    if get_origin(tp) in (list, tuple, dict):
        args = [a for a in get_args(tp) if a is not Ellipsis]
        parts = []
        for m in _metadata(args[-1]):
            for cls, sym, attr in ((Ge, ">=", "ge"), (Gt, ">", "gt"), (Le, "<=", "le"),
                                   (Lt, "<", "lt")):
                if isinstance(m, cls):
                    parts.append(f"{sym} {getattr(m, attr):g}")
        return ("each " + ", ".join(dict.fromkeys(parts))) if parts else ""
    return ""


def _value(v: Any) -> str:
    if isinstance(v, BaseModel):
        return ""
    if isinstance(v, list) and v and isinstance(v[0], BaseModel):
        return f"{len(v)} built in"
    if isinstance(v, bool):
        return "`true`" if v else "`false`"
    if isinstance(v, time):
        return f'`"{v:%H:%M}"`'
    if isinstance(v, date | str):
        return f'`"{v}"`'
    if isinstance(v, Enum):
        return f'`"{v.value}"`'
    if isinstance(v, tuple | list):
        return "`[" + ", ".join(_value(x).strip("`") for x in v) + "]`"
    if isinstance(v, dict):
        if not v:
            return "`{}`"
        return "`{ " + ", ".join(f"{k} = {_value(x).strip('`')}" for k, x in v.items()) + " }`"
    if isinstance(v, float):
        return f"`{v:g}`"
    return f"`{v}`"


def _default(f: FieldInfo) -> str:
    if f.is_required():
        return "**required**"
    d = f.default if f.default is not PydanticUndefined else f.default_factory()  # type: ignore[misc]
    if d is None:
        return "none"
    return _value(d)


def _specs(tp: Any) -> list[tuple[str, type[Spec]]]:
    """(shape, model) of the Spec models inside an annotation: shape is "table",
    "tables" (a list of tables) or "named" (a table of tables by name)."""
    tp = _unwrap(tp)
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        return [x for a in get_args(tp) for x in _specs(a)]
    if origin in (list, tuple):
        return [("tables", m) for _, m in _specs(get_args(tp)[0])]
    if origin is dict:
        return [("named", m) for _, m in _specs(get_args(tp)[1])]
    if isinstance(tp, type) and issubclass(tp, Spec):
        return [("table", tp)]
    return []


def _sub_section(path: str, key: str, shape: str) -> tuple[str, str]:
    """(path, header) of the section of a sub-table `key` under `path`."""
    sub_path = f"{path}.{key}" if path else key
    if shape == "named":
        sub_path += ".NAME"
    return sub_path, f"[[{sub_path}]]" if shape == "tables" else f"[{sub_path}]"


def _walk(model: type[Spec], path: str, header: str,
          out: list[tuple[str, str, type[Spec]]]) -> None:
    out.append((path, header, model))
    for name, f in model.model_fields.items():
        key = f.alias or name
        for shape, sub in _specs(f.annotation):
            sub_path, sub_header = _sub_section(path, key, shape)
            if sub is QueueSpec and path:  # [[capacity.new_queues]]: same keys as [[queues]]
                out.append((sub_path, sub_header, sub))
                continue
            _walk(sub, sub_path, sub_header, out)


def _table(model: type[Spec], path: str) -> list[str]:
    rows = ["| key | type | unit | default | allowed | meaning | example |",
            "|---|---|---|---|---|---|---|"]
    for name, f in model.model_fields.items():
        key = f.alias or name
        subs = _specs(f.annotation)
        if subs:  # a sub-table: its keys in its own section
            shape = subs[-1][0]
            what = {"table": "table", "tables": "list of tables",
                    "named": "tables by name"}[shape]
            where = _sub_section(path, key, shape)[1]
            tp = _unwrap(f.annotation)
            alt = " or string (CSV path)" if get_origin(tp) in (Union, types.UnionType) and any(
                _unwrap(a) is str for a in get_args(tp)) else ""
            desc = (f.description or "").replace("|", "\\|")
            rows.append(f"| `{key}` | {what}{alt}: see `{where}` |  | {_default(f)} |  | "
                        f"{desc} |  |")
            continue
        extra = f.json_schema_extra if isinstance(f.json_schema_extra, dict) else {}
        for m in _metadata(f.annotation):
            if isinstance(m, FieldInfo) and isinstance(m.json_schema_extra, dict):
                extra = {**m.json_schema_extra, **extra}
        unit = str(extra.get("unit", ""))
        allowed = ", ".join(x for x in (_bounds(f), _item_bounds(f.annotation)) if x)
        example = _value(f.examples[0]) if f.examples else ""
        desc = (f.description or "").replace("|", "\\|")
        rows.append(f"| `{key}` | {_type_name(f.annotation)} | {unit} | {_default(f)} | "
                    f"{allowed} | {desc} | {example} |")
    return rows


_INTRO = """\
# Scenario file reference

<!-- Generated by `openwfm scenario docs -o docs/scenario.md` from src/openwfm/schema.py;
     tests/test_scenario_schema.py fails when this page and the models differ. -->

A scenario is one TOML file (plus the CSV files it names, paths relative to it): the sites,
queues, agents and service goals of a contact center, and optional sections for scheduling,
capacity planning and the demo's history model. Every key below is defined once, in the
pydantic models of `openwfm.schema`; this page is generated from them.

- An unknown or misspelt key is an error naming the nearest valid key
  (`queues[2].sl_targt: unknown key; did you mean 'sl_target'?`), a wrong type or value names
  the file and the key path; the command prints one line and exits with status 2, writing
  nothing.
- `openwfm scenario check FILE` validates a scenario (and the CSV files it names) and
  summarizes it; `openwfm scenario new --history HISTORY.csv -o scenario.toml` writes a
  commented starter scenario; `openwfm scenario schema` prints the JSON Schema (for editors:
  save it and point your TOML extension at it, e.g. `#:schema ./openwfm-scenario.json` on
  the first line with Even Better TOML / Taplo).
- Units: `_s` seconds, `_h` hours, `_min` minutes; shares are fractions (0.8 = 80 %); money
  is in the scenario's `currency`. Times of day are local to the site (`HH:MM`), dates
  ISO (`YYYY-MM-DD`); weekdays are numbered Monday = 0 .. Sunday = 6.
"""

_SECTION_NOTES = {
    "[[agents]]": "Agents are `[[agents]]` tables or, with `agents = \"agents.csv\"`, the rows "
                  "of a CSV whose columns are these keys (`skills` separated by `;`, an "
                  "empty cell takes the default; an unknown column is an error).",
    "[scheduling.rule_packs.NAME]": "A labour pack is a list of versions, "
                                    "`NAME = [{effective_from = \"2026-07-15\", "
                                    "max_weekly_h = 42}]` (one table = one version). A key "
                                    "left out keeps the built-in pack's value in force on "
                                    "`effective_from` (the `default` pack's for a new name). "
                                    "A site uses the pack named by its `rules` (default: "
                                    "its country); an unknown pack is an error.",
    "[[capacity.new_queues]]": "Clients still to launch: the keys of `[[queues]]`.",
}


def _pack_table() -> list[str]:
    fields = [f for f in RulePack.__dataclass_fields__ if f not in ("name",)]
    rows = ["| pack | " + " | ".join(f"`{f}`" for f in fields) + " |",
            "|---|" + "---|" * len(fields)]
    for name, versions in sorted(BUILTIN_PACKS.items()):
        for v in versions:
            cells = []
            for f in fields:
                x = getattr(v, f)
                cells.append(", ".join(str(d) for d in x) if isinstance(x, tuple) else
                             f"{x:g}" if isinstance(x, float) else str(x))
            rows.append(f"| `{name}` | " + " | ".join(cells) + " |")
    return rows


def scenario_markdown() -> str:
    """docs/scenario.md: every key of the scenario file with type, unit, default, bounds,
    meaning and example, section by section, and the built-in labour packs."""
    sections: list[tuple[str, str, type[Spec]]] = []
    _walk(ScenarioFile, "", "", sections)
    lines = [_INTRO]
    for path, header, model in sections:
        title = "Top level" if not header else f"`{header}`"
        lines += [f"## {title}", ""]
        doc = " ".join((model.__doc__ or "").split())
        if doc:
            lines += [doc, ""]
        note = _SECTION_NOTES.get(header)
        if note:
            lines += [note, ""]
        if model is QueueSpec and header != "[[queues]]":
            continue
        lines += [*_table(model, path), ""]
    lines += ["## Built-in labour packs", "",
              "Values of each version (hours are paid hours; weekdays Monday = 0). Sources: "
              "see `openwfm.labour`.", "", *_pack_table(), ""]
    return "\n".join(lines)
