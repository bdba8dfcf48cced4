"""Shift bids on the web: the agent ranks the patterns of an open bid (`/me/bids`); the
planner composes a bid (`/bids`: name, team, period, award rule, patterns with add and
remove rows), closes it and reads the awards with their explanation. Every write goes
through the API's handlers and body models (`openwfm.server.routers.bids`), so the form
and the API validate the same way (docs/selfservice.md)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from openwfm.activities import Activity
from openwfm.server.deps import ReadDB, WriteDB
from openwfm.server.permissions import allowed, require
from openwfm.server.routers.bids import (
    BidIn,
    CloseIn,
    RankingIn,
    close_bid,
    create_bid,
    list_bids,
    rank_patterns,
)
from openwfm.web.deps import Web, WebPost, WebUser
from openwfm.web.pages_requests import error_message, query, visible_teams
from openwfm.web.render import N_, render

router = APIRouter(include_in_schema=False)

MAX_PATTERNS = 50
"""As many pattern rows as the API takes (`BidIn.patterns`)."""


def _bid_helpers() -> dict[str, object]:
    def shifts(bid: object, pattern: dict) -> list[tuple[date, str, str]]:
        """(local date, start, end) of each shift of a pattern."""
        out = []
        for sh in pattern["shifts"]:
            d = bid.period_start + timedelta(days=sh["day"])  # type: ignore[attr-defined]
            t0 = datetime.combine(d, time.fromisoformat(sh["start"]))
            t1 = t0 + timedelta(minutes=sum(m for _a, m in sh["parts"]))
            out.append((d, t0.strftime("%H:%M"), t1.strftime("%H:%M")))
        return out
    return {"pattern_shifts": shifts}


@router.get("/me/bids")
def my_bids(w: WebUser, db: ReadDB,
            error: Annotated[str, Query(max_length=500)] = "") -> Response:
    """The shift bids of the agent's team: rank the patterns of an open one; the award
    and why once it is closed."""
    require(w.p, "bid_ranking", "write")
    ctx = {**w.ctx, **_bid_helpers(), "bids": list_bids(w.p, db), "error": error}
    return render(w.ctx["request"], "my_bids.html", ctx)


@router.post("/me/bids/{bid_id}")
async def rank_bid(w: WebPost, db: WriteDB,
                   bid_id: Annotated[int, Path(ge=1, le=2_147_483_647)]) -> Response:
    """The ranking from the form: a rank (1, 2, ...) per pattern, blank = not ranked."""
    form = await w.ctx["request"].form()
    ranks: dict[str, int] = {}
    for key, value in form.multi_items():
        if key.startswith("rank:") and str(value).strip():
            if not str(value).isdigit():
                return _bids_back(f"{key[5:]}: a rank 1, 2, ... expected")
            ranks[key[5:]] = int(str(value))
    if len(set(ranks.values())) != len(ranks):
        return _bids_back("ranking: give each pattern a different rank")
    try:
        rank_patterns(bid_id, RankingIn(ranking=sorted(ranks, key=lambda k: ranks[k])), w.p, db)
    except HTTPException as e:
        db.rollback()
        return _bids_back(error_message(e))
    return _bids_back()


def _bids_back(msg: str | None = None, path: str = "/me/bids") -> Response:
    return RedirectResponse(path + ("?" + query(error=msg) if msg else ""), status_code=303)


# --------------------------------------------------------------------- composing a bid
@dataclass
class PatternRow:
    """One pattern row of the form, as typed (strings: the API's model parses them)."""

    name: str = ""
    places: str = ""
    start: str = ""
    parts: str = ""
    days: list[str] = field(default_factory=list)


@dataclass
class BidDraft:
    """The planner's bid form as typed, and the errors of its fields (field id ->
    message; ``patterns`` for the rows as a whole, ``form`` for the rest)."""

    name: str = ""
    team_id: str = ""
    period_start: str = ""
    days: str = "7"
    method: str = "seniority"
    rows: list[PatternRow] = field(default_factory=lambda: [PatternRow()])
    errors: dict[str, str] = field(default_factory=dict)

    def period_days(self) -> int:
        """How many day boxes each row offers (the bid's days, 1 to 42; 7 when unreadable)."""
        return int(self.days) if self.days.isdigit() and 1 <= int(self.days) <= 42 else 7


def read_draft(form: FormData) -> BidDraft:
    """The bid form's fields (rows ``p-<i>-name``, ``-places``, ``-start``, ``-parts`` and
    the ticked ``-day`` boxes, `rows` of them)."""
    def get(key: str) -> str:
        return str(form.get(key, "")).strip()[:2000]

    n = int(get("rows")) if get("rows").isdigit() else 1
    rows = [PatternRow(get(f"p-{i}-name"), get(f"p-{i}-places"), get(f"p-{i}-start"),
                       get(f"p-{i}-parts"), [str(d) for d in form.getlist(f"p-{i}-day")])
            for i in range(min(max(n, 1), MAX_PATTERNS))]
    return BidDraft(get("name"), get("team_id"), get("period_start"), get("days") or "7",
                    get("method"), rows)


def parse_parts(text: str) -> list[list[str]]:
    """A shift's parts as typed: ``activity minutes`` pairs in order, separated by commas
    (the minutes stay text: the API's model checks them); ValueError naming what is wrong.

    >>> parse_parts("work 120, break 15,work 105")
    [['work', '120'], ['break', '15'], ['work', '105']]
    >>> parse_parts("work, 120")
    Traceback (most recent call last):
    ...
    ValueError: 'work': expected an activity and its minutes, like 'work 120'
    """
    out = []
    for chunk in (c.strip() for c in text.split(",")):
        if not chunk:
            continue
        words = chunk.split()
        if len(words) != 2:
            raise ValueError(f"{chunk!r}: expected an activity and its minutes, like "
                             "'work 120'")
        out.append(words)
    return out


def bid_body(d: BidDraft) -> dict[str, Any]:
    """The API body of the form (`BidIn`'s fields), each value as typed; a row's start and
    parts are those of each of its days."""
    patterns = []
    for i, r in enumerate(d.rows):
        try:
            parts: Any = parse_parts(r.parts)
        except ValueError as e:
            d.errors[f"p-{i}-parts"] = str(e)
            parts = []
        patterns.append({"name": r.name, "places": r.places or None, "shifts": [
            {"day": day, "start": r.start or None, "parts": parts} for day in r.days]})
    return {"name": d.name, "team_id": d.team_id or None,
            "period_start": d.period_start or None, "days": d.days, "method": d.method,
            "patterns": patterns}


def field_of(loc: tuple[Any, ...] | list[Any]) -> str:
    """The form field an error of `BidIn` at `loc` belongs to.

    >>> field_of(("patterns", 1, "shifts", 0, "parts", 2, 1)), field_of(("team_id",))
    ('p-1-parts', 'team_id')
    >>> field_of(("patterns", 0, "shifts")), field_of(("patterns",)), field_of(())
    ('p-0-days', 'patterns', 'form')
    >>> field_of(("patterns.0.shifts.day",))
    'p-0-days'
    """
    parts = [str(x) for x in loc]
    if len(parts) == 1 and "." in parts[0]:  # the API's own 422: "patterns.0.shifts.day"
        parts = parts[0].split(".")
    if not parts:
        return "form"
    if parts[0] != "patterns" or len(parts) < 2 or not parts[1].isdigit():
        return parts[0]
    row = f"p-{parts[1]}"
    if len(parts) == 2 or parts[2] in ("name", "places"):
        return f"{row}-{parts[2]}" if len(parts) > 2 else f"{row}-name"
    if len(parts) >= 5 and parts[4] in ("start", "parts"):
        return f"{row}-{parts[4]}"
    return f"{row}-days"


FIELD_MESSAGES = {
    "missing": N_("required"), "string_too_short": N_("required"),
    "int_parsing": N_("a whole number expected"), "int_type": N_("a whole number expected"),
    "int_from_float": N_("a whole number expected"),
    "greater_than_equal": N_("at least %(ge)s"), "less_than_equal": N_("at most %(le)s"),
    "string_too_long": N_("at most %(max_length)s characters"),
    "time_parsing": N_("a time HH:MM expected"), "time_type": N_("a time HH:MM expected"),
    "date_parsing": N_("a date YYYY-MM-DD expected"),
    "date_from_datetime_parsing": N_("a date YYYY-MM-DD expected"),
    "date_type": N_("a date YYYY-MM-DD expected"),
    "literal_error": N_("one of %(expected)s expected"),
}
"""The body model's error types the form says in the page's language (the model's bounds
come with the error); other errors keep the model's own (English) message."""


def field_message(err: Any, gettext: Callable[..., str]) -> str:
    """An error of `BidIn` as the form shows it next to its field."""
    if err["type"] == "too_short" and field_of(err["loc"]).endswith("-days"):
        return gettext("tick the days this pattern works")
    msg = FIELD_MESSAGES.get(err["type"])
    if msg is None:
        return str(err["msg"])
    return gettext(msg, **{k: v for k, v in (err.get("ctx") or {}).items()
                           if f"%({k})s" in msg})


def validate_draft(d: BidDraft, gettext: Callable[..., str]) -> BidIn | None:
    """The API's `BidIn` of the form, or None with `d.errors` naming each field."""
    body = bid_body(d)
    try:
        out = BidIn.model_validate(body)
    except ValidationError as e:
        for err in e.errors():
            d.errors.setdefault(field_of(err["loc"]), field_message(err, gettext))
        return None
    return None if d.errors else out


def _compose_context(w: Web, db: Session, d: BidDraft) -> dict[str, Any]:
    try:
        first = date.fromisoformat(d.period_start)
    except ValueError:
        first = None
    return {"draft": d, "teams": visible_teams(db, w.p),
            "day_dates": [first + timedelta(days=k) if first else None
                          for k in range(d.period_days())],
            "activities": ", ".join(a.value for a in Activity),
            "row_minutes": [_minutes(r.parts) for r in d.rows]}


def _minutes(parts: str) -> int | None:
    try:
        return sum(int(m) for _a, m in parse_parts(parts))
    except ValueError:
        return None


def _bids_page(w: Web, db: Session, d: BidDraft | None, error: str = "",
               created: int | None = None, status_code: int = 200) -> Response:
    may_write = allowed(w.p, "bid", "write")
    ctx = {**w.ctx, **_bid_helpers(), "bids": list_bids(w.p, db), "error": error,
           "may_close": may_write, "created": created}
    if may_write:
        ctx.update(_compose_context(w, db, d or BidDraft()))
    return render(w.ctx["request"], "bids.html", ctx, status_code=status_code)


@router.get("/bids")
def bids(w: WebUser, db: ReadDB, error: Annotated[str, Query(max_length=500)] = "",
         created: Annotated[int | None, Query(ge=1)] = None) -> Response:
    """Shift bids of the teams the user may see: the form to compose one (planners and
    admins), how many agents ranked, Close, and the awards with their explanation."""
    require(w.p, "bid", "read")
    if w.p.agent_id:
        return RedirectResponse("/me/bids", status_code=303)
    return _bids_page(w, db, None, error, created)


@router.post("/bids/compose")
async def compose(w: WebPost, db: ReadDB, request: Request) -> Response:
    """The bid form again with a pattern row added (``op=add``: a copy of the last row's
    start, parts and days, to edit) or removed (``op=remove:<i>``); nothing is saved. For
    htmx the form alone, else the whole page."""
    require(w.p, "bid", "write")
    form = await request.form()
    d = read_draft(form)
    op = str(form.get("op", ""))
    if op == "add" and len(d.rows) < MAX_PATTERNS:
        last = d.rows[-1]
        d.rows.append(replace(last, name="", places="", days=list(last.days)))
    elif op.startswith("remove:") and op[7:].isdigit() and len(d.rows) > 1:
        k = int(op[7:])
        if k < len(d.rows):
            d.rows.pop(k)
    if request.headers.get("hx-request"):
        return render(request, "_bid_form.html", {**w.ctx, **_compose_context(w, db, d)})
    return _bids_page(w, db, d)


@router.post("/bids")
async def create(w: WebPost, db: WriteDB, request: Request) -> Response:
    """Publish the form's bid through the API's `create_bid`: the same model (`BidIn`)
    and the same checks; an error is shown next to its field (422), nothing is saved."""
    require(w.p, "bid", "write")
    d = read_draft(await request.form())
    body = validate_draft(d, w.ctx["_"])
    if body is not None:
        try:
            out = create_bid(body, w.p, db, request)
        except HTTPException as e:
            db.rollback()
            if isinstance(e.detail, list):
                for err in e.detail:
                    d.errors.setdefault(field_of(err.get("loc", [])[1:]), str(err["msg"]))
            else:
                d.errors["form"] = str(e.detail)
        else:
            return RedirectResponse(f"/bids?created={out.id}", status_code=303)
    return _bids_page(w, db, d, status_code=422)


@router.post("/bids/{bid_id}/close")
def close(w: WebPost, db: WriteDB, bid_id: Annotated[int, Path(ge=1, le=2_147_483_647)]
          ) -> Response:
    try:
        close_bid(bid_id, CloseIn(), w.p, db, w.ctx["request"])
    except HTTPException as e:
        db.rollback()
        return _bids_back(error_message(e), "/bids")
    return _bids_back(path="/bids")

