"""The request ledger: requests, their effect, auto-approval, decisions applied to the
schedule as new versions.

`Ledger` holds one schedule (a segments table and its version number) and its requests.
Every decision that changes the schedule re-applies the change to the *current* schedule
and re-checks it (`changes.validate_change`): a request whose change no longer applies, or
that would break a labour rule or over-book a seat, is rejected with the reason, never
applied. An approval names the version the team leader saw (``expected_version``): when the
schedule moved on meanwhile, `VersionConflict` is raised and nothing changes.
The server keeps the same flow in its database (docs/selfservice.md).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date

import pandas as pd

from openwfm.activities import Activity
from openwfm.scheduling.model import SchedulingProblem
from openwfm.selfservice.allowances import Allowance
from openwfm.selfservice.approval import AutoApprovalRule
from openwfm.selfservice.changes import (
    ActivityChange,
    Change,
    ChangeError,
    Offer,
    Swap,
    TimeOff,
    apply_change,
    hours_off,
    validate_change,
)
from openwfm.selfservice.effect import Effect, change_effect
from openwfm.selfservice.requests import RequestKind, RequestStatus, next_status

__all__ = ["Ledger", "Request", "VersionConflict"]


class VersionConflict(RuntimeError):
    """The schedule changed since the version the decision was made on."""


@dataclass(frozen=True)
class Request:
    id: int
    kind: RequestKind
    agent_id: str
    change: Change
    status: RequestStatus
    effect: Effect | None = None
    reason: str = ""
    hours: float = 0.0
    day: date | None = None
    history: tuple[tuple[str, str, str], ...] = ()
    """(status, by, note) in order."""


@dataclass
class Ledger:
    """Requests on one schedule (module docstring)."""

    problem: SchedulingProblem
    segments: pd.DataFrame
    requirement: pd.DataFrame
    rule: AutoApprovalRule = field(default_factory=AutoApprovalRule)
    allowances: Mapping[str, Allowance] = field(default_factory=dict)
    teams: Mapping[str, str] = field(default_factory=dict)
    version: int = 1
    requests: dict[int, Request] = field(default_factory=dict)
    taken_h: dict[str, float] = field(default_factory=dict)
    auto_count: dict[tuple[str, date], int] = field(default_factory=dict)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    @property
    def _sites(self) -> dict[str, str]:
        return {a.id: a.site for a in self.problem.scenario.agents}

    @property
    def _skills(self) -> dict[str, tuple[str, ...]]:
        return {a.id: a.skills for a in self.problem.scenario.agents}

    def team(self, agent_id: str) -> str:
        if agent_id in self.teams:
            return self.teams[agent_id]
        return next(a.group for a in self.problem.scenario.agents if a.id == agent_id)

    def _day(self, agent_id: str, ts: pd.Timestamp) -> date:
        site = self.problem.scenario.site(self._sites[agent_id])
        return ts.tz_convert(site.tz).date()

    def preview(self, change: Change) -> tuple[pd.DataFrame, Effect]:
        """The schedule after `change` and its effect; raises `ChangeError` when it does
        not apply or breaks a rule (the message lists the rules)."""
        after = apply_change(self.segments, change, self._sites, self._skills)
        bad = validate_change(self.problem, self.segments, after, change.agents())
        if bad:
            raise ChangeError("; ".join(sorted({f"{v.rule}: {v.message}" for v in bad})))
        return after, change_effect(self.problem.scenario, self.requirement, self.segments,
                                    after)

    def _put(self, r: Request, status: RequestStatus, by: str, note: str = "", **kw
             ) -> Request:
        r = replace(r, status=status, history=(*r.history, (status.value, by, note)), **kw)
        self.requests[r.id] = r
        return r

    def submit(self, kind: RequestKind | str, agent_id: str, change: Change) -> Request:
        """A new request; refused (status ``rejected`` with the reason) when the change does
        not apply, breaks a rule or exceeds the allowance; auto-approved when the rule lets
        it; else pending (acceptance for a swap or offer, approval otherwise)."""
        kind = RequestKind(kind)
        start = change.start if isinstance(change, TimeOff | ActivityChange) else (
            change.shift_a if isinstance(change, Swap) else change.shift_start)
        r = Request(next(self._ids), kind, agent_id, change, RequestStatus.PENDING_APPROVAL,
                    day=self._day(agent_id, start))
        try:
            after, effect = self.preview(change)
        except ChangeError as e:
            return self._put(r, RequestStatus.REJECTED, "rules", str(e))
        r = replace(r, effect=effect)
        if kind is RequestKind.TIME_OFF:
            h = hours_off(self.segments, after, agent_id, Activity.TIME_OFF)
            r = replace(r, hours=h)
            allowance = self.allowances.get(agent_id)
            if allowance is not None and not allowance.allows(
                    r.day, self.taken_h.get(agent_id, 0.0), h):
                bal = allowance.balance_h(r.day, self.taken_h.get(agent_id, 0.0))
                return self._put(r, RequestStatus.REJECTED, "allowance",
                                 f"{h:g} h asked, {bal:g} h left in the allowance")
        if kind in (RequestKind.SWAP, RequestKind.OFFER):
            return self._put(r, RequestStatus.PENDING_ACCEPTANCE, agent_id)
        self.requests[r.id] = r
        return self._after_pending(r, agent_id)

    def _after_pending(self, r: Request, by: str) -> Request:
        key = (self.team(r.agent_id), r.day)
        d = self.rule.decide(r.kind, r.effect, self.auto_count.get(key, 0))
        if d.auto:
            return self._apply(r, "auto_approve", "rule", "within the auto-approval rule")
        return self._put(r, RequestStatus.PENDING_APPROVAL, by, "; ".join(d.reasons))

    def accept(self, request_id: int, by_agent: str) -> Request:
        """The other agent accepts a swap or an offer (an open offer: `by_agent` takes it)."""
        r = self.requests[request_id]
        next_status(r.status, "accept")
        c = r.change
        if isinstance(c, Swap) and by_agent != c.agent_b:
            raise PermissionError("only the other agent of a swap accepts it")
        if isinstance(c, Offer) and by_agent != c.to_agent:
            c = replace(c, to_agent=by_agent)
        try:
            _after, effect = self.preview(c)
        except ChangeError as e:
            return self._put(r, RequestStatus.REJECTED, "rules", str(e))
        r = self._put(replace(r, change=c, effect=effect), RequestStatus.PENDING_APPROVAL,
                      by_agent, "accepted")
        return self._after_pending(r, by_agent)

    def decline(self, request_id: int, by_agent: str) -> Request:
        r = self.requests[request_id]
        return self._put(r, next_status(r.status, "decline"), by_agent)

    def cancel(self, request_id: int, by_agent: str) -> Request:
        r = self.requests[request_id]
        if by_agent != r.agent_id:
            raise PermissionError("only the requester cancels a request")
        return self._put(r, next_status(r.status, "cancel"), by_agent)

    def reject(self, request_id: int, by: str, note: str = "") -> Request:
        r = self.requests[request_id]
        return self._put(r, next_status(r.status, "reject"), by, note)

    def approve(self, request_id: int, by: str, expected_version: int) -> Request:
        """Apply the request to the current schedule (a new version), or reject it when it
        no longer passes the rules. `VersionConflict` when the schedule is not at
        `expected_version`."""
        if expected_version != self.version:
            raise VersionConflict(f"the schedule is at version {self.version}, the decision "
                                  f"was made on version {expected_version}; reload and decide "
                                  "again")
        r = self.requests[request_id]
        next_status(r.status, "approve")
        return self._apply(r, "approve", by, "")

    def _apply(self, r: Request, event: str, by: str, note: str) -> Request:
        status = next_status(r.status, event)
        try:
            after, effect = self.preview(r.change)
        except ChangeError as e:
            return self._put(r, RequestStatus.REJECTED, "rules", str(e))
        if r.kind is RequestKind.TIME_OFF:
            allowance = self.allowances.get(r.agent_id)
            h = hours_off(self.segments, after, r.agent_id, Activity.TIME_OFF)
            if allowance is not None and not allowance.allows(
                    r.day, self.taken_h.get(r.agent_id, 0.0), h):
                return self._put(r, RequestStatus.REJECTED, "allowance",
                                 "the allowance no longer covers it")
            self.taken_h[r.agent_id] = self.taken_h.get(r.agent_id, 0.0) + h
        self.segments = after
        self.version += 1
        if event == "auto_approve":
            key = (self.team(r.agent_id), r.day)
            self.auto_count[key] = self.auto_count.get(key, 0) + 1
        return self._put(r, status, by, note or f"schedule version {self.version}",
                         effect=effect)
