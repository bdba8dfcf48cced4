"""Auto-approval rules: a request whose effect is small, within a quota per day and team,
is approved without the team leader; any other goes to the team leader's queue.

A request is auto-approved when every limit holds: its kind is in ``kinds``; the contacts it
makes miss the service goal are at most ``max_contacts_lost`` (without traffic: the
productive agent-hours it removes are at most ``max_coverage_loss_agent_h``); no touched
interval falls below ``min_sl_after``; and fewer than ``quota_per_day_team`` requests of the
same team and local day were already auto-approved.

Examples
--------
>>> import pandas as pd
>>> from openwfm.selfservice.effect import Effect
>>> e = Effect(pd.DataFrame(), -2.0, 0.4, 0.83)
>>> AutoApprovalRule(max_contacts_lost=1.0).decide("time_off", e, 0).auto
True
>>> AutoApprovalRule(max_contacts_lost=1.0, quota_per_day_team=1).decide("time_off", e, 1).reasons
('quota: 1 of 1 requests already auto-approved for this team and day',)
"""

from __future__ import annotations

from dataclasses import dataclass

from openwfm.selfservice.effect import Effect
from openwfm.selfservice.requests import RequestKind

__all__ = ["AutoApprovalRule", "Decision"]


@dataclass(frozen=True)
class Decision:
    """Auto-approve or not, and why not (each limit that failed)."""

    auto: bool
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class AutoApprovalRule:
    """The limits of auto-approval (module docstring)."""

    max_contacts_lost: float = 0.0
    max_coverage_loss_agent_h: float = 0.0
    min_sl_after: float | None = None
    quota_per_day_team: int = 2
    kinds: frozenset[RequestKind] = frozenset(RequestKind)

    def decide(self, kind: RequestKind | str, effect: Effect, already_today: int) -> Decision:
        """Whether a request of `kind` with `effect` is auto-approved, given
        `already_today` requests auto-approved for its team and day."""
        why = []
        if RequestKind(kind) not in self.kinds:
            why.append(f"{RequestKind(kind).value} requests always go to the team leader")
        if effect.contacts_lost is not None:
            if effect.contacts_lost > self.max_contacts_lost + 1e-9:
                why.append(f"{effect.contacts_lost:.1f} contacts would miss the service goal "
                           f"(limit {self.max_contacts_lost:g})")
        elif -effect.coverage_change_agent_h > self.max_coverage_loss_agent_h + 1e-9:
            why.append(f"{-effect.coverage_change_agent_h:.2f} productive agent-hours lost "
                       f"(limit {self.max_coverage_loss_agent_h:g})")
        if self.min_sl_after is not None and effect.worst_sl_after is not None \
                and effect.worst_sl_after < self.min_sl_after - 1e-12:
            why.append(f"service level would fall to {effect.worst_sl_after:.1%} "
                       f"(floor {self.min_sl_after:.0%})")
        if already_today >= self.quota_per_day_team:
            why.append(f"quota: {already_today} of {self.quota_per_day_team} requests already "
                       "auto-approved for this team and day")
        return Decision(not why, tuple(why))
