"""Score arithmetic of one evaluation against its form.

Definitions (docs/quality.md):

- An answer to item *i* is a whole number of points ``a_i`` in ``0..points_i``, or N/A
  (``None``; only where the item allows it). Its fraction is ``f_i = a_i / points_i``.
- The score of section *s* is the weighted mean of its applicable (non-N/A) items,
  ``S_s = Σ w_i f_i / Σ w_i``: an N/A item leaves both sums, so the others' weights are
  renormalised. A section whose items are all N/A is N/A itself.
- The raw score is ``100 · Σ W_s S_s / Σ W_s`` over the applicable sections (``W_s`` the
  section weights): again N/A sections leave both sums. An evaluation with every item N/A
  has no score (an error: there was nothing to evaluate).
- A critical item fails when it is answered below its ``pass_points`` (default: its top).
  A failed critical item fails the evaluation: ``passed`` is false and, with the form's
  ``critical_zeroes_score`` (the default), the score is 0; else the score is the raw score.
- ``passed`` = no critical failure and ``score >= pass_score``; ``needs_coaching`` = a
  critical failure or ``score < coaching_below``.

Examples
--------
Two sections of weights 1 and 3; items weighted 2 and 1 in the first, the second a single
item on a 0..4 scale:

>>> from openwfm.quality.forms import parse_form
>>> form = parse_form({"id": "f", "client": "C", "channel": "voice", "sections": [
...     {"id": "s1", "weight": 1, "items": [{"id": "a", "weight": 2, "points": 2},
...                                         {"id": "b", "weight": 1, "na_allowed": True}]},
...     {"id": "s2", "weight": 3, "items": [{"id": "c", "points": 4}]}]})
>>> r = score_answers(form, {"a": 1, "b": 1, "c": 3})
>>> round(r.section_scores["s1"], 6), r.section_scores["s2"]   # (2·½ + 1·1)/3, ¾
(0.666667, 0.75)
>>> round(r.score, 4)                                          # 100 (1·⅔ + 3·¾)/4
72.9167
>>> round(score_answers(form, {"a": 1, "b": None, "c": 3}).score, 4)  # b N/A: s1 = ½
68.75
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from openwfm.errors import InputError
from openwfm.quality.forms import Form

__all__ = ["EvaluationScore", "parse_answer", "score_answers"]

NA_TOKENS = frozenset({"na", "n/a", "n.a.", "-"})
"""How an N/A answer is written in a CSV cell (case-insensitive)."""


@dataclass(frozen=True)
class EvaluationScore:
    """The scored evaluation (scores in points of 0..100; section scores as 0..1)."""

    raw_score: float
    """The weighted score before any critical failure applies."""
    score: float
    """The evaluation's score: 0 after a critical failure when the form says so."""
    passed: bool
    critical_failed: tuple[str, ...]
    """Ids of the critical items failed, in form order."""
    needs_coaching: bool
    section_scores: Mapping[str, float | None]
    """Score of each section as a fraction (None: all its items N/A)."""
    applicable_items: int


def parse_answer(form: Form, item_id: str, value: object, *, file: str | None = None,
                 row: int | None = None) -> int | None:
    """One answer as points (None for N/A), checked against the item's scale.

    Examples
    --------
    >>> from openwfm.quality.forms import parse_form
    >>> form = parse_form({"id": "f", "client": "C", "channel": "voice", "sections": [
    ...     {"id": "s", "items": [{"id": "a", "points": 2}]}]})
    >>> parse_answer(form, "a", "2")
    2
    >>> parse_answer(form, "a", "NA", file="e.csv", row=3)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    openwfm.errors.InputError: e.csv, row 3, column 'a': item 'a' does not allow N/A; ...
    """
    item = form.item(item_id)
    expected = f"expected a whole number from 0 to {item.points}"
    if value is None or (isinstance(value, str) and value.strip().lower() in NA_TOKENS):
        if not item.na_allowed:
            raise InputError(f"item {item_id!r} does not allow N/A; {expected}", file=file,
                             row=row, column=item_id)
        return None
    if isinstance(value, str) and not value.strip():
        raise InputError(f"missing answer; {expected}"
                         + (" or NA" if item.na_allowed else ""), file=file, row=row,
                         column=item_id)
    try:
        number = float(value) if isinstance(value, str) else value
        points = int(number)  # type: ignore[call-overload]
        whole = points == number
    except (TypeError, ValueError, OverflowError):
        whole = False
    if isinstance(value, bool) or not whole or not 0 <= points <= item.points:
        raise InputError(f"{expected}" + (" or NA" if item.na_allowed else "")
                         + f", got {value!r}", file=file, row=row, column=item_id)
    return points


def score_answers(form: Form, answers: Mapping[str, int | None], *, file: str | None = None,
                  row: int | None = None) -> EvaluationScore:
    """Score `answers` (item id -> points, None = N/A) with `form` (module docstring).

    Every item of the form must be answered (N/A counts as an answer), and no unknown item
    may appear; raises `InputError` naming the item otherwise.

    Examples
    --------
    A failed critical item fails the evaluation and zeroes its score:

    >>> from openwfm.quality.forms import parse_form
    >>> form = parse_form({"id": "f", "client": "C", "channel": "voice", "sections": [
    ...     {"id": "s", "items": [{"id": "a", "points": 4}, {"id": "k", "critical": True}]}]})
    >>> r = score_answers(form, {"a": 4, "k": 0})
    >>> r.raw_score, r.score, r.passed, r.critical_failed, r.needs_coaching
    (50.0, 0.0, False, ('k',), True)
    """
    unknown = sorted(set(answers) - set(form.item_ids))
    if unknown:
        raise InputError(f"item {unknown[0]!r} is not on form {form.key}", file=file, row=row,
                         column=unknown[0])
    num = den = 0.0
    sections: dict[str, float | None] = {}
    failed: list[str] = []
    applicable = 0
    for section in form.sections:
        s_num = s_den = 0.0
        for item in section.items:
            if item.id not in answers:
                raise InputError(f"missing answer to item {item.id!r}", file=file, row=row,
                                 column=item.id)
            a = answers[item.id]
            if a is None:
                if not item.na_allowed:
                    raise InputError(f"item {item.id!r} does not allow N/A", file=file,
                                     row=row, column=item.id)
                continue
            if not 0 <= a <= item.points:
                raise InputError(f"expected a whole number from 0 to {item.points}, got {a}",
                                 file=file, row=row, column=item.id)
            applicable += 1
            s_num += item.weight * a / item.points
            s_den += item.weight
            if item.critical and a < item.passing_points:
                failed.append(item.id)
        if s_den > 0:
            sections[section.id] = s_num / s_den
            num += section.weight * s_num / s_den
            den += section.weight
        else:
            sections[section.id] = None
    if den == 0:
        raise InputError("every item is N/A: nothing to score", file=file, row=row)
    raw = round(100.0 * num / den, 9)  # no float noise at a pass_score boundary
    score = 0.0 if failed and form.critical_zeroes_score else raw
    return EvaluationScore(
        raw_score=raw, score=score, passed=not failed and score >= form.pass_score,
        critical_failed=tuple(failed), needs_coaching=bool(failed) or score < form.coaching_below,
        section_scores=sections, applicable_items=applicable)
