"""Available FTE arithmetic: attrition, hiring classes through training and nesting, seats.

Conventions (the hand computations in the tests follow them):

- Week ``t`` runs from the start of week ``t`` to the start of week ``t + 1``; headcounts
  are counted at the start of a week. Attrition removes the share ``a_w`` of everyone at
  the end of each week (trainees and nesting agents included), so a group of ``n`` people
  at week ``s`` is ``n * (1 - a_w) ** (t - s)`` people at week ``t >= s``.
- A monthly attrition ``a_m`` becomes the weekly ``a_w = 1 - (1 - a_m) ** (12 / 52)``
  (same survival over a year of 12 months = 52 weeks).
- A class that starts in week ``s`` (recruited from week ``s - lead_time_weeks``) is paid
  from week ``s``; its productivity at age ``k = t - s`` is 0 while ``k < training_weeks``,
  ``nesting_productivity[k - training_weeks]`` during nesting, then 1.
- Seats: classroom trainees use production seats only if the site says so
  (``trainees_use_seats``); nesting and tenured agents always do. See
  `openwfm.capacity.config.SiteCapacity` for the seat -> headcount conversion.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from openwfm.capacity.config import CapacityInputs, HiringPolicy


def weekly_attrition(monthly: float) -> float:
    """Weekly attrition rate with the same yearly survival as a monthly rate.

    ``a_w = 1 - (1 - a_m) ** (12 / 52)``.

    Examples
    --------
    >>> round(weekly_attrition(0.05), 6)
    0.011767
    >>> round((1 - weekly_attrition(0.05)) ** 52, 6) == round(0.95 ** 12, 6)
    True
    """
    return 1.0 - (1.0 - monthly) ** (12.0 / 52.0)


@dataclass(frozen=True)
class CohortCurves:
    """Per age ``k`` (weeks since a class started): people, productive FTE and seats used
    by one hire, attrition included."""

    headcount: np.ndarray
    productive: np.ndarray
    seats: np.ndarray
    in_training: np.ndarray
    in_nesting: np.ndarray


def cohort_curves(weeks: int, attrition_weekly: float, hiring: HiringPolicy,
                  trainees_use_seats: bool = False) -> CohortCurves:
    """What one hire contributes at each age ``k = 0 .. weeks - 1``.

    Examples
    --------
    >>> from openwfm.capacity.config import HiringPolicy
    >>> c = cohort_curves(5, 0.0, HiringPolicy(training_weeks=2, nesting_productivity=(0.5,)))
    >>> c.productive.tolist(), c.seats.tolist()
    ([0.0, 0.0, 0.5, 1.0, 1.0], [0.0, 0.0, 1.0, 1.0, 1.0])
    """
    k = np.arange(weeks)
    survive = (1.0 - attrition_weekly) ** k
    prod = np.ones(weeks)
    t_w = hiring.training_weeks
    nest = np.asarray(hiring.nesting_productivity, dtype=float)
    prod[: min(t_w, weeks)] = 0.0
    n_end = min(t_w + len(nest), weeks)
    if n_end > t_w:
        prod[t_w:n_end] = nest[: n_end - t_w]
    training = (k < t_w).astype(float)
    nesting = ((k >= t_w) & (k < t_w + len(nest))).astype(float)
    seat = np.ones(weeks) if trainees_use_seats else 1.0 - training
    return CohortCurves(headcount=survive, productive=survive * prod, seats=survive * seat,
                        in_training=survive * training, in_nesting=survive * nesting)


def convolve_classes(class_sizes: np.ndarray, curve: np.ndarray) -> np.ndarray:
    """``out[t] = sum_{s <= t} class_sizes[s] * curve[t - s]`` over the last axis.

    Examples
    --------
    >>> convolve_classes(np.array([10.0, 0.0, 5.0]), np.array([0.0, 0.5, 1.0])).tolist()
    [0.0, 5.0, 10.0]
    """
    x = np.asarray(class_sizes, dtype=float)
    n = x.shape[-1]
    out = np.zeros_like(x)
    for s in range(n):
        out[..., s:] += x[..., s: s + 1] * curve[: n - s]
    return out


@dataclass(frozen=True)
class BaseSupply:
    """Supply without new hires, per (site, skill) and week: current headcount after
    attrition plus planned transfers. Arrays have shape (sites, skills, weeks)."""

    sites: tuple[str, ...]
    skills: tuple[str, ...]
    fte: np.ndarray
    """FTE (all productive: tenured)."""


def base_supply(inp: CapacityInputs) -> BaseSupply:
    """Current headcount decayed by attrition, plus transfers (tenured, productive 1).

    A transfer of ``f`` FTE in week ``w`` adds ``f * (1 - a_w) ** (t - w)`` to the
    receiving site and removes it from the sending one for ``t >= w``.

    Examples
    --------
    >>> from openwfm.capacity.config import (CapacityInputs, HiringPolicy, SiteCapacity,
    ...     SkillGroup, Transfer)
    >>> from datetime import date
    >>> inp = CapacityInputs(start=date(2026, 1, 5), weeks=3,
    ...     sites=(SiteCapacity("A", 10, 1.0), SiteCapacity("B", 10, 1.0)),
    ...     skills=(SkillGroup("k", ("q",), {"A": 1.0}),), hiring=HiringPolicy(), drivers=(),
    ...     transfers=(Transfer(1, "k", "A", "B", 2.0),), headcount={("A", "k"): 10.0},
    ...     attrition_monthly=0.0)
    >>> base_supply(inp).fte[:, 0, :].tolist()
    [[10.0, 8.0, 8.0], [0.0, 2.0, 2.0]]
    """
    sites = tuple(s.name for s in inp.sites)
    skills = tuple(k.name for k in inp.skills)
    a = weekly_attrition(inp.attrition_monthly)
    t = np.arange(inp.weeks)
    fte = np.zeros((len(sites), len(skills), inp.weeks))
    for (site, skill), n in inp.headcount.items():
        if site in sites and skill in skills:
            fte[sites.index(site), skills.index(skill)] += n * (1.0 - a) ** t
    for tr in inp.transfers:
        if tr.week >= inp.weeks:
            continue
        k = skills.index(tr.skill)
        flow = np.where(t >= tr.week, tr.fte * (1.0 - a) ** np.maximum(t - tr.week, 0), 0.0)
        fte[sites.index(tr.from_site), k] -= flow
        fte[sites.index(tr.to_site), k] += flow
    return BaseSupply(sites=sites, skills=skills, fte=fte)
