"""Scheduled activities: the one definition shared by the scheduler, the rule checker, the
intraday adherence table and self-service.

A schedule segment (``agent_id, site, activity, start, end[, queue]``) has one `Activity`.
Each activity has one row in `DEFINITIONS`:

======================  =====  ==========  =======  ======================
activity                paid   productive  on duty  shrinkage category
======================  =====  ==========  =======  ======================
``work``                yes    yes         yes      (none)
``overtime``            yes    yes         yes      (none)
``break``               yes    no          yes      ``breaks``
``meal``                no     no          yes      ``breaks``
``meeting``             yes    no          yes      ``meetings``
``training``            yes    no          yes      ``training``
``coaching``            yes    no          yes      ``coaching``
``one_to_one``          yes    no          yes      ``coaching``
``time_off``            yes    no          no       ``absence``
``voluntary_time_off``  no     no          no       ``absence``
======================  =====  ==========  =======  ======================

*paid*: counts toward the agent's paid hours (a break rule's own ``paid`` flag decides for
the break and meal a scenario defines). *productive*: the agent serves contacts (counts in
coverage). *on duty*: the agent is at the site (takes a seat, belongs to a shift for the
labour rules); ``time_off`` (paid leave from an allowance) and ``voluntary_time_off`` (VTO,
unpaid, offered when over-staffed) are off duty. ``overtime`` is work beyond the contract:
the rule checker judges a shift's length without its overtime and the contract hours without
it, the legal daily and weekly maxima with it. The shrinkage category is the line of a
shrinkage report the activity's hours fall in (`ShrinkageCategory`).

References
----------
Cleveland, B. (2019). Contact Center Management on Fast Forward, 4th ed., ch. 6 (shrinkage
categories: breaks, meetings, training, coaching, absence).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["BREAK_ACTIVITIES", "DEFINITIONS", "OFF_DUTY", "PRODUCTIVE", "Activity",
           "ActivityDefinition", "ShrinkageCategory", "definition"]


class Activity(StrEnum):
    """What an agent does in a schedule segment."""

    WORK = "work"
    BREAK = "break"
    MEAL = "meal"
    MEETING = "meeting"
    TRAINING = "training"
    COACHING = "coaching"
    ONE_TO_ONE = "one_to_one"
    OVERTIME = "overtime"
    VOLUNTARY_TIME_OFF = "voluntary_time_off"
    TIME_OFF = "time_off"


class ShrinkageCategory(StrEnum):
    """The shrinkage line an activity's hours count in."""

    BREAKS = "breaks"
    MEETINGS = "meetings"
    TRAINING = "training"
    COACHING = "coaching"
    ABSENCE = "absence"


@dataclass(frozen=True)
class ActivityDefinition:
    """Flags of one activity (module docstring)."""

    activity: Activity
    paid: bool
    productive: bool
    on_duty: bool
    shrinkage: ShrinkageCategory | None


DEFINITIONS: dict[Activity, ActivityDefinition] = {d.activity: d for d in (
    ActivityDefinition(Activity.WORK, True, True, True, None),
    ActivityDefinition(Activity.OVERTIME, True, True, True, None),
    ActivityDefinition(Activity.BREAK, True, False, True, ShrinkageCategory.BREAKS),
    ActivityDefinition(Activity.MEAL, False, False, True, ShrinkageCategory.BREAKS),
    ActivityDefinition(Activity.MEETING, True, False, True, ShrinkageCategory.MEETINGS),
    ActivityDefinition(Activity.TRAINING, True, False, True, ShrinkageCategory.TRAINING),
    ActivityDefinition(Activity.COACHING, True, False, True, ShrinkageCategory.COACHING),
    ActivityDefinition(Activity.ONE_TO_ONE, True, False, True, ShrinkageCategory.COACHING),
    ActivityDefinition(Activity.TIME_OFF, True, False, False, ShrinkageCategory.ABSENCE),
    ActivityDefinition(Activity.VOLUNTARY_TIME_OFF, False, False, False,
                       ShrinkageCategory.ABSENCE),
)}

#: Activities a scenario's break rules can name (``[[scheduling.breaks]] activity``).
BREAK_ACTIVITIES: frozenset[Activity] = frozenset({Activity.BREAK, Activity.MEAL})
#: Activities that serve contacts (coverage).
PRODUCTIVE: frozenset[str] = frozenset(a.value for a, d in DEFINITIONS.items() if d.productive)
#: Activities away from the site: no seat, not part of a shift.
OFF_DUTY: frozenset[str] = frozenset(a.value for a, d in DEFINITIONS.items() if not d.on_duty)


def definition(activity: Activity | str) -> ActivityDefinition:
    """The flags of `activity`.

    Examples
    --------
    >>> d = definition("voluntary_time_off")
    >>> d.paid, d.productive, d.on_duty, d.shrinkage.value
    (False, False, False, 'absence')
    >>> sorted(PRODUCTIVE)
    ['overtime', 'work']
    """
    return DEFINITIONS[Activity(activity)]
