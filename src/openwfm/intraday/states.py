"""Agent states, scheduled activities, and which states adhere to which activity.

openwfm knows nine agent states (`AgentState`); every ACD's own state and reason codes map
onto them through a mapping (`openwfm.intraday.mapping`). A schedule segment has one of the
activities of the segments table (`openwfm.activities.Activity`: ``work``, ``break``,
``meal``, offline activities such as ``training`` or ``meeting``, time off; see
docs/architecture.md and docs/selfservice.md). The adherence rule
is one table, `ADHERING_STATES`:

==================  =================================================================
scheduled activity  states that adhere to it
==================  =================================================================
``work``            ``available``, ``on_contact``, ``after_contact_work``
``break``           ``break``
``meal``            ``meal``
``training``        ``training``
``meeting``         ``meeting``
``coaching``        ``meeting``
``one_to_one``      ``meeting``
``overtime``        ``available``, ``on_contact``, ``after_contact_work``
``time_off``        ``logged_out``
``voluntary_t._o.`` ``logged_out`` (``voluntary_time_off``)
==================  =================================================================

The activities are `openwfm.activities.Activity` (the one definition, shared with the
scheduler and self-service). Every other pairing is out of adherence: ``other`` adheres to
nothing, ``logged_out`` only to time off, being available during a scheduled break is out
of adherence, and so is a break taken during scheduled work. Time outside every scheduled
segment is not part of adherence (there is nothing to adhere to); it still counts toward
conformance when worked. The states that count as *worked* for conformance are
`WORK_STATES` (the ones adhering to ``work``).

References
----------
Cleveland, B. (2019). Contact Center Management on Fast Forward, 4th ed., ch. 9
("adherence to schedule" vs "conformance").
"""

from __future__ import annotations

from enum import StrEnum

from openwfm.activities import Activity

__all__ = ["ADHERING_STATES", "WORK_STATES", "Activity", "AgentState", "adheres"]


class AgentState(StrEnum):
    """The state of an agent, as openwfm knows it (vendor codes map onto these)."""

    LOGGED_OUT = "logged_out"
    AVAILABLE = "available"
    ON_CONTACT = "on_contact"
    AFTER_CONTACT_WORK = "after_contact_work"
    BREAK = "break"
    MEAL = "meal"
    TRAINING = "training"
    MEETING = "meeting"
    OTHER = "other"


#: Which states adhere to each scheduled activity (the one definition of adherence).
ADHERING_STATES: dict[Activity, frozenset[AgentState]] = {
    Activity.WORK: frozenset({AgentState.AVAILABLE, AgentState.ON_CONTACT,
                              AgentState.AFTER_CONTACT_WORK}),
    Activity.BREAK: frozenset({AgentState.BREAK}),
    Activity.MEAL: frozenset({AgentState.MEAL}),
    Activity.TRAINING: frozenset({AgentState.TRAINING}),
    Activity.MEETING: frozenset({AgentState.MEETING}),
    Activity.COACHING: frozenset({AgentState.MEETING}),
    Activity.ONE_TO_ONE: frozenset({AgentState.MEETING}),
    Activity.OVERTIME: frozenset({AgentState.AVAILABLE, AgentState.ON_CONTACT,
                                  AgentState.AFTER_CONTACT_WORK}),
    Activity.TIME_OFF: frozenset({AgentState.LOGGED_OUT}),
    Activity.VOLUNTARY_TIME_OFF: frozenset({AgentState.LOGGED_OUT}),
}

#: States that count as time worked (conformance): those adhering to ``work``.
WORK_STATES: frozenset[AgentState] = ADHERING_STATES[Activity.WORK]


def adheres(state: AgentState | str, activity: Activity | str) -> bool:
    """Whether being in `state` adheres to the scheduled `activity`.

    Examples
    --------
    >>> adheres("on_contact", "work"), adheres("available", "break"), adheres("meal", "meal")
    (True, False, True)
    """
    return AgentState(state) in ADHERING_STATES[Activity(activity)]
