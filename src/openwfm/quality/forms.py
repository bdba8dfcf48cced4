"""Evaluation forms: versioned, per client and channel, with sections, weighted items, scales,
N/A handling and critical items. Loaded from TOML or JSON and validated once at the edge.

A form file (TOML)::

    id = "ride-voice"          # the form's key; (id, version) is unique
    version = 2
    name = "RideNow voice QA"
    client = "RideNow"
    channel = "voice"
    pass_score = 80            # an evaluation passes at or above this score (0-100)
    coaching_below = 70        # a score below this opens a coaching task

    [[sections]]
    id = "greeting"
    weight = 1.0
      [[sections.items]]
      id = "greet"
      text = "Greets with the brand and own name"
      weight = 2
      points = 2               # the scale: 0..points (2 = met, 1 = partly, 0 = not met)
      na_allowed = false
      [[sections.items]]
      id = "verify"
      text = "Verifies the customer's identity"
      points = 1               # a yes/no item
      critical = true          # failing it fails the whole evaluation

Every error names the file and the key path (``sections[0].items[1].points``), like a
scenario file (`openwfm.schema`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from openwfm.errors import InputError
from openwfm.schema import Channel, Name, Spec, validate

__all__ = ["Form", "FormItem", "FormSection", "load_form", "parse_form"]

MAX_POINTS = 100
"""The largest scale an item may have (0..100 points)."""


def _lower(v: Any) -> Any:
    return v.strip().lower() if isinstance(v, str) else v


class FormItem(Spec):
    """One question of a form: scored on a scale of 0..`points` points."""

    id: Name = Field(description="Item id, unique in the form (a column of evaluation "
                     "CSVs).", examples=["greet"])
    text: str = Field("", description="The question as the evaluator reads it.")
    weight: float = Field(1.0, gt=0, le=1000, description="Weight inside its section.")
    points: int = Field(1, ge=1, le=MAX_POINTS, description="Top of the scale: an answer is "
                        "a whole number from 0 to `points` (1 = a yes/no item).")
    na_allowed: bool = Field(False, description="May be answered N/A (not applicable): it "
                             "then leaves the score, and the other items' weights are "
                             "renormalised.")
    critical: bool = Field(False, description="A critical item: an answer below "
                           "`pass_points` fails the whole evaluation.")
    pass_points: int | None = Field(None, ge=1, le=MAX_POINTS, description="Lowest answer "
                                    "that passes a critical item; default `points`.")

    @model_validator(mode="after")
    def _pass_within_scale(self) -> FormItem:
        if self.pass_points is not None and self.pass_points > self.points:
            raise PydanticCustomError("scale", "pass_points {p} is above the scale's top "
                                      "points {top}", {"p": self.pass_points,
                                                       "top": self.points,
                                                       "at": "pass_points"})
        return self

    @property
    def passing_points(self) -> int:
        """The lowest answer that passes this item when it is critical."""
        return self.points if self.pass_points is None else self.pass_points


class FormSection(Spec):
    """A group of items with a weight in the evaluation's score."""

    id: Name = Field(description="Section id, unique in the form.", examples=["greeting"])
    title: str = Field("", description="Heading shown to the evaluator.")
    weight: float = Field(1.0, gt=0, le=1000, description="Weight of the section's score "
                          "in the evaluation's score.")
    items: list[FormItem] = Field(min_length=1, description="The section's items.")


class Form(Spec):
    """A versioned evaluation form of one client and channel."""

    id: Name = Field(description="The form's key; a new version keeps it.",
                     examples=["ride-voice"])
    version: int = Field(1, ge=1, description="Version number; evaluations keep the "
                         "version they were scored with.")
    name: str = Field("", description="Display name.")
    client: Name = Field(description="The client company whose contacts it evaluates.")
    channel: Annotated[Channel, BeforeValidator(_lower)] = Field(
        description="voice, chat or email.")
    pass_score: float = Field(80.0, ge=0, le=100, description="An evaluation passes when "
                              "its score is at least this and no critical item failed.")
    coaching_below: float = Field(70.0, ge=0, le=100, description="A score below this (or "
                                  "a failed critical item) opens a coaching task.")
    critical_zeroes_score: bool = Field(True, description="A failed critical item sets the "
                                        "score to 0 (else the score stays, the evaluation "
                                        "still fails).")
    sections: list[FormSection] = Field(min_length=1, description="The form's sections.")

    @model_validator(mode="after")
    def _unique_ids(self) -> Form:
        seen: dict[str, str] = {}
        for i, s in enumerate(self.sections):
            if s.id in {x.id for x in self.sections[:i]}:
                raise PydanticCustomError("duplicate", "section id '{id}' used twice",
                                          {"id": s.id, "at": f"sections[{i}].id"})
            for j, item in enumerate(s.items):
                if item.id in seen:
                    raise PydanticCustomError(
                        "duplicate", "item id '{id}' used twice (also in section '{s}')",
                        {"id": item.id, "s": seen[item.id],
                         "at": f"sections[{i}].items[{j}].id"})
                seen[item.id] = s.id
        return self

    @property
    def key(self) -> str:
        """``id@version``: names one version of the form."""
        return f"{self.id}@{self.version}"

    def items(self) -> list[tuple[FormSection, FormItem]]:
        """Every (section, item), in form order."""
        return [(s, it) for s in self.sections for it in s.items]

    def item(self, item_id: str) -> FormItem:
        for _, it in self.items():
            if it.id == item_id:
                return it
        raise KeyError(item_id)

    @property
    def item_ids(self) -> list[str]:
        return [it.id for _, it in self.items()]


def parse_form(raw: Any, *, file: str = "<form>") -> Form:
    """A `Form` from parsed TOML/JSON; raises `InputError` naming `file` and the key.

    Examples
    --------
    >>> f = parse_form({"id": "f", "client": "C", "channel": "Voice", "sections": [
    ...     {"id": "s", "items": [{"id": "a", "points": 2}, {"id": "b", "critical": True}]}]})
    >>> f.key, f.channel.value, f.item_ids
    ('f@1', 'voice', ['a', 'b'])
    >>> parse_form({"id": "f", "client": "C", "channel": "voice", "sections": [
    ...     {"id": "s", "items": [{"id": "a", "pionts": 2}]}]}, file="f.toml")
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    openwfm.errors.InputError: f.toml, key 'sections[0].items[0].pionts': ... 'points'?
    """
    return validate(Form, raw, file=file)


def load_form(path: str | Path) -> Form:
    """Read a form file: TOML (``.toml``) or JSON (any other suffix)."""
    from openwfm.scenario import read_toml

    path = Path(path)
    file = str(path)
    if path.suffix.lower() == ".toml":
        return parse_form(read_toml(path), file=file)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputError("form file not found", file=file) from exc
    except (IsADirectoryError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read as UTF-8 text: {exc}", file=file) from exc
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON at line {exc.lineno}, column {exc.colno}: "
                         f"{exc.msg}", file=file) from None
    return parse_form(raw, file=file)
