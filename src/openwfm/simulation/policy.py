"""Routing policies: how an ACD picks a contact for a free agent and an agent for a contact.

Two decisions make a router (Koole 2013, ch. 8; ContactCenters' routers, Buist & L'Ecuyer):

- **Agent selection of waiting contacts** (`AgentSelection`, per agent group): when an agent
  frees capacity, which waiting contact it takes among the queues it serves:

  - ``priority`` -- the queue of highest `QueueSpec.priority`, ties by the agent's own skill
    order, oldest contact of that queue (openwfm's default; ContactCenters'
    ``QueuePriorityRouter``);
  - ``oldest`` -- the longest-waiting contact across all the queues the agent serves (FIFO
    across skills: Genesys' and Avaya's default "oldest call"; ContactCenters'
    ``SingleFIFOQueueRouter``);
  - ``priority_oldest`` -- the highest priority, ties between queues of equal priority by
    the longest wait.

- **Contact selection of idle agents** (`ContactSelection`): which free agent an arriving
  contact goes to among those allowed to take it:

  - ``longest_idle`` -- the agent idle for the longest time (default);
  - ``least_skilled`` -- the agent with the fewest skills first (keeps generalists free for
    the queues only they can take), ties longest idle;
  - ``proficiency`` -- the agent for whom the queue ranks highest in their skill order
    (their primary skill first), ties longest idle.

  An agent already holding chats with spare capacity is preferred to a less loaded one only
  by these criteria; among equals the lowest load goes first.

- **Overflow** (`Overflow`, per queue): an ordered list of agent groups, each with a delay:
  the contact is offered to the first group that has a free agent, in list order, among the
  groups whose delay it has already waited ("route to group B after 30 s in queue"). A
  queue with an overflow list is served only by the groups of the list; a queue without one
  by every agent having the skill.

All names are plain strings so that a scenario file (``[simulation.routing]``, see
``docs/simulation.md``) maps onto these objects one to one.

References
----------
Buist, E. & L'Ecuyer, P. (2005-2014). ContactCenters: a Java library for simulating contact
centers -- user's guide, examples SimpleMSK and SimpleMSKWithRerouting.
Koole, G. (2013). *Call Center Optimization*, MG books, ch. 8 (multi-skill routing).

Examples
--------
>>> p = RoutingPolicy(agent_selection="oldest",
...                   overflow=(Overflow("type-1", ("g0", "g1"), (0, 30)),))
>>> p.agent_selection, p.overflow[0].after_s
(<AgentSelection.OLDEST: 'oldest'>, (0.0, 30.0))
>>> RoutingPolicy(contact_selection="fastest")
Traceback (most recent call last):
...
ValueError: contact_selection must be one of longest_idle, least_skilled, proficiency; got 'fastest'
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = ["AgentSelection", "ContactSelection", "Overflow", "RoutingPolicy"]


class AgentSelection(StrEnum):
    """Which waiting contact a freed agent takes (see module docstring)."""

    PRIORITY = "priority"
    OLDEST = "oldest"
    PRIORITY_OLDEST = "priority_oldest"


class ContactSelection(StrEnum):
    """Which idle agent an arriving contact goes to (see module docstring)."""

    LONGEST_IDLE = "longest_idle"
    LEAST_SKILLED = "least_skilled"
    PROFICIENCY = "proficiency"


def _enum(cls: type[StrEnum], value: Any, what: str) -> Any:
    try:
        return cls(value)
    except ValueError:
        raise ValueError(f"{what} must be one of {', '.join(m.value for m in cls)}; "
                         f"got {value!r}") from None


@dataclass(frozen=True)
class Overflow:
    """The ordered agent groups of one queue, each taking contacts that waited `after_s`.

    `after_s` defaults to 0 for every group (pure order: primary group first); otherwise one
    delay per group, in seconds, finite and >= 0.
    """

    queue: str
    groups: tuple[str, ...]
    after_s: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "groups", tuple(str(g) for g in self.groups))
        delays = tuple(float(x) for x in self.after_s) or (0.0,) * len(self.groups)
        object.__setattr__(self, "after_s", delays)
        if not self.groups:
            raise ValueError(f"overflow of queue {self.queue!r}: at least one group needed")
        if len(delays) != len(self.groups):
            raise ValueError(f"overflow of queue {self.queue!r}: {len(self.groups)} groups "
                             f"but {len(delays)} after_s values")
        if any(not (math.isfinite(d) and d >= 0) for d in delays):
            raise ValueError(f"overflow of queue {self.queue!r}: after_s must be finite "
                             f"and >= 0, got {list(delays)}")
        if len(set(self.groups)) != len(self.groups):
            raise ValueError(f"overflow of queue {self.queue!r}: a group is listed twice")


@dataclass(frozen=True)
class RoutingPolicy:
    """A router: agent selection (default and per agent group), contact selection, and the
    overflow lists of the queues that have one."""

    agent_selection: AgentSelection = AgentSelection.PRIORITY
    contact_selection: ContactSelection = ContactSelection.LONGEST_IDLE
    group_agent_selection: Mapping[str, AgentSelection] = field(default_factory=dict)
    overflow: tuple[Overflow, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "agent_selection",
                           _enum(AgentSelection, self.agent_selection, "agent_selection"))
        object.__setattr__(self, "contact_selection",
                           _enum(ContactSelection, self.contact_selection,
                                 "contact_selection"))
        object.__setattr__(self, "group_agent_selection", {
            str(g): _enum(AgentSelection, v, f"agent_selection of group {g!r}")
            for g, v in dict(self.group_agent_selection).items()})
        object.__setattr__(self, "overflow", tuple(self.overflow))
        queues = [o.queue for o in self.overflow]
        if len(set(queues)) != len(queues):
            raise ValueError("a queue has two overflow lists")

    def selection_of(self, group: str) -> AgentSelection:
        """The agent selection of `group` (its own, else the default)."""
        return self.group_agent_selection.get(group, self.agent_selection)

    def __hash__(self) -> int:
        return hash((self.agent_selection, self.contact_selection,
                     tuple(sorted(self.group_agent_selection.items())), self.overflow))
