"""The understaffing penalty: what a shortfall below the requirement costs, per queue-interval.

Both definitions are convex piecewise-linear functions of the shortfall ``s`` (agents below
the requirement ``r`` in one queue and interval), given as pieces: ``widths[..., k]``
(agents) and ``weights[..., k]`` (currency per missing agent and interval, non-decreasing in
``k``). The penalty is ``sum_k weights[k] x clip(s - start_k, 0, widths[k])`` with ``start_k``
the sum of the earlier widths. Convexity keeps stage 1 an LP (`cover.build_cover_model`) and
the same pieces price a finished schedule (`cover.flow_coverage`, ``solve.evaluate``).

``[scheduling] understaffing_penalty`` chooses the definition (`UnderstaffingPenalty`):

- ``"service_level"`` (the default when the requirement carries traffic, i.e. the columns
  ``volume`` and ``aht_s`` that ``openwfm staff`` writes): being ``k`` agents short costs
  ``cost_per_missed_contact x volume x (SL(r) - SL(r - k))``: the contacts that miss the
  service goal because of the shortfall, priced per contact. ``SL(n)`` is the service level
  (contacts answered within ``sl_seconds`` / contacts offered) with ``n`` productive agents:
  Erlang C, Erlang A when ``patience_s`` is given, chat slots with ``concurrency``
  (`openwfm.staffing.chat.chat_metrics`, the kernels ``openwfm staff`` uses), linear between
  integers. The pieces are one agent wide, from ``r`` down (the first is ``r - floor(r)``
  wide when ``r`` is fractional, its slope ``SL(ceil r) - SL(floor r)``); piece ``j`` weighs
  ``cost_per_missed_contact x volume x (SL(m + 1) - SL(m))`` with ``m = ceil(r) - 1 - j``.
  ``SL(n)`` is concave above the load but flattens to 0 below it (Erlang C: ``SL = 0`` for
  ``n <= traffic``), so the marginal losses rise then fall as agents go missing; the weights
  are made non-decreasing by their running maximum, which keeps the penalty convex and never
  below the true loss. After `SL_PIECES` one-agent pieces an open-ended piece carries the
  largest marginal loss of all agents down to 0. The penalty is therefore exact for
  shortfalls of up to `SL_PIECES` agents wherever the marginal losses rise with the
  shortfall (above the load), and an upper bound beyond. Rows on the ``email`` channel (one
  backlog level per day, no per-interval queue formula) and rows with an empty ``volume`` or
  ``aht_s`` keep the piecewise pieces below. With no contacts offered (``volume = 0``) a
  shortfall costs nothing.
- ``"piecewise"`` (the fallback for a bare ``interval_start, queue, agents`` requirement):
  ``1x, 2x, 4x understaffing_cost_per_hour`` (per agent-hour, prorated to the interval) over
  pieces of ``max(1, 10 %)``, ``max(1, 15 %)`` of the requirement, then the rest.

An interval left with nobody although the requirement is > 0 serves no contact at all,
whatever its size: the local search (stage 2b) and the break placement (stage 3) add
`empty_interval_cost` (`EMPTY_INTERVAL_FACTOR` x ``understaffing_cost_per_hour`` x the
interval's hours) to their move's objective for each interval they empty or fill. It is a
search term, not part of this penalty (which stays the convex service loss the LP bound and
the reported objective use).

``cost_per_missed_contact`` is in the currency of the sites' ``cost_per_hour``; the default
10 is chosen so that on the demo (EUR, 15-min intervals) the first missing agent at the
median staffed voice/chat interval (1.27 contacts miss the goal) costs 12.7, more than a
whole agent-hour (6 to 9 EUR) and close to the piecewise default's first piece
(60 per agent-hour = 15 per 15-min interval).

Examples
--------
100 calls in 30 min, AHT 180 s (10 Erlangs), 20 s goal, 14 agents required (REFERENCES.md
R1: SL(14) = 0.88835); a missed contact costs 2:

>>> w, c = service_level_pieces(14.0, 100.0, 10.0, 180.0, 20.0,
...                             cost_per_missed_contact=2.0)
>>> w.tolist()  # 8 one-agent pieces, then the open-ended one
[1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, inf]
>>> [round(float(x), 3) for x in c[:6]]  # SL(10) = 0: flat at the peak from the 4th agent
[18.551, 31.087, 50.109, 77.923, 77.923, 77.923]
>>> round(float(pieces_penalty(2.0, w, c)), 3)  # 2 x 100 x (SL(14) - SL(12))
49.638
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from openwfm.errors import InputError, shown
from openwfm.schema import DEFAULT_COST_PER_MISSED_CONTACT  # noqa: F401  (re-exported)

SL_PIECES = 8
"""One-agent pieces of the service-level penalty before its open-ended last piece."""

PIECE_WEIGHTS = (1.0, 2.0, 4.0)
"""Weights of the piecewise shortfall pieces (times ``understaffing_cost_per_hour``)."""

EMPTY_INTERVAL_FACTOR = 10.0
"""An interval left with nobody costs this many agent-hours at
``understaffing_cost_per_hour`` per hour of the interval (`empty_interval_cost`)."""


class UnderstaffingPenalty(StrEnum):
    """How a shortfall below the requirement is priced (module docstring)."""

    SERVICE_LEVEL = "service_level"
    PIECEWISE = "piecewise"


def piece_widths(required: np.ndarray) -> np.ndarray:
    """Widths of the three piecewise shortfall pieces for a requirement (agents): [.., 3].

    Examples
    --------
    >>> piece_widths(np.array([5.0, 30.0])).tolist()
    [[1.0, 1.0, inf], [3.0, 4.5, inf]]
    """
    r = np.asarray(required, dtype=float)
    return np.stack([np.maximum(1.0, 0.1 * r), np.maximum(1.0, 0.15 * r),
                     np.full_like(r, np.inf)], axis=-1)


def piecewise_pieces(required: ArrayLike, cost_per_interval: float
                     ) -> tuple[np.ndarray, np.ndarray]:
    """``(widths, weights)`` of the piecewise penalty: 1x, 2x, 4x `cost_per_interval` (the
    cost of a missing agent for one interval) over `piece_widths`.

    Examples
    --------
    >>> w, c = piecewise_pieces([10.0], 15.0)
    >>> w.tolist(), c.tolist()
    ([[1.0, 1.5, inf]], [[15.0, 30.0, 60.0]])
    """
    w = piece_widths(np.asarray(required, dtype=float))
    return w, np.broadcast_to(np.array(PIECE_WEIGHTS) * cost_per_interval, w.shape).copy()


def pieces_penalty(shortfall: ArrayLike, widths: np.ndarray, weights: np.ndarray
                   ) -> np.ndarray:
    """The penalty of a shortfall (agents, negative = none) given its pieces [..., K].

    Examples
    --------
    >>> float(pieces_penalty(2.5, np.array([1.0, 1.0, np.inf]), np.array([1.0, 2.0, 4.0])))
    5.0
    """
    s = np.maximum(np.asarray(shortfall, dtype=float), 0.0)
    total = np.zeros(np.broadcast_shapes(s.shape, widths.shape[:-1]))
    lo = np.zeros_like(total)
    for k in range(widths.shape[-1]):
        w = widths[..., k]
        total += weights[..., k] * np.minimum(np.maximum(s - lo, 0.0), w)
        lo = lo + w
    return total


def empty_interval_cost(required: np.ndarray, understaffing_cost_per_hour: float,
                        interval_s: int) -> np.ndarray:
    """Cost of leaving each queue-interval with nobody [queue, interval]: `EMPTY_INTERVAL_FACTOR`
    x ``understaffing_cost_per_hour`` x the interval's hours where the requirement is > 0.

    Examples
    --------
    >>> empty_interval_cost(np.array([[0.0, 0.4, 3.0]]), 60.0, 900).tolist()
    [[0.0, 150.0, 150.0]]
    """
    per = EMPTY_INTERVAL_FACTOR * understaffing_cost_per_hour * interval_s / 3600
    return np.where(np.asarray(required) > 0, per, 0.0)


def service_level_pieces(required: ArrayLike, volume: ArrayLike, traffic_erl: ArrayLike,
                         aht_s: ArrayLike, answer_within_s: ArrayLike,
                         patience_s: ArrayLike | None = None, concurrency: ArrayLike = 1, *,
                         cost_per_missed_contact: float, n_pieces: int = SL_PIECES
                         ) -> tuple[np.ndarray, np.ndarray]:
    """``(widths, weights)`` [..., n_pieces + 1] of the service-level penalty (module
    docstring), broadcast over the arguments.

    Parameters
    ----------
    required : array_like
        Productive agents required (>= 0, fractions allowed).
    volume : array_like
        Contacts offered in the interval.
    traffic_erl, aht_s, answer_within_s, patience_s, concurrency : array_like
        As in `openwfm.staffing.chat.chat_metrics` (``patience_s`` NaN/None = Erlang C;
        ``concurrency`` 1 = voice).
    cost_per_missed_contact : float
        Currency per contact that misses the service goal.
    n_pieces : int
        One-agent pieces before the open-ended one.

    Returns
    -------
    widths : ndarray [..., n_pieces + 1]
        Agents; pieces below zero agents have width 0; the last is +inf when the requirement
        is more than `n_pieces` agents, else 0.
    weights : ndarray [..., n_pieces + 1]
        Currency per missing agent for the interval, non-decreasing along the last axis.

    Examples
    --------
    A fractional requirement: the first piece is the fraction, priced at SL(3) - SL(2).

    >>> w, c = service_level_pieces(2.5, 10.0, 1.0, 180.0, 20.0, cost_per_missed_contact=1.0,
    ...                             n_pieces=3)
    >>> w.tolist()
    [0.5, 1.0, 1.0, 0.0]
    >>> [round(float(x), 3) for x in c]  # SL(1) = 0 at 1 Erlang: the 3rd loss is 0, lifted
    [2.255, 7.017, 7.017, 7.017]
    """
    from openwfm.staffing.chat import chat_metrics

    r, vol, a, aht, t, pat, k = np.broadcast_arrays(
        *(np.asarray(np.nan if x is None else x, dtype=float)
          for x in (required, volume, traffic_erl, aht_s, answer_within_s, patience_s,
                    concurrency)))
    shape = r.shape
    r, vol, a, aht, t, pat, k = (x.ravel() for x in (r, vol, a, aht, t, pat, k))
    top = np.ceil(r - 1e-9).astype(np.int64)  # SL is evaluated at n = top, top - 1, ..., 0
    top = np.maximum(top, 0)
    m_rows = len(r)
    # SL(top_i - j), j = 0..top_i, for every row i: one ragged vector, one kernel call
    counts = top + 1
    starts = np.cumsum(counts) - counts
    row = np.repeat(np.arange(m_rows), counts)
    j = np.arange(int(counts.sum())) - np.repeat(starts, counts)
    sl = chat_metrics((top[row] - j).astype(float), a[row], aht[row], k[row], t[row],
                      pat[row]).service_level if len(row) else np.zeros(0)
    # loss of the (j+1)-th missing agent: cost x volume x (SL(top-j) - SL(top-j-1)); 0 at
    # each row's last position (n = 0) so that the row maximum below stays within the row
    loss = np.zeros(len(sl))
    inner = j < top[row]
    nxt = np.flatnonzero(inner)
    loss[nxt] = cost_per_missed_contact * vol[row[nxt]] * np.maximum(sl[nxt] - sl[nxt + 1], 0.0)
    peak = np.maximum.reduceat(loss, starts) if len(loss) else np.zeros(m_rows)
    jj = np.arange(n_pieces)
    has = jj[None, :] < top[:, None]
    idx = np.minimum(starts[:, None] + jj[None, :], max(len(loss) - 1, 0))
    first_losses = np.where(has, loss[idx] if len(loss) else 0.0, 0.0)
    run = np.maximum.accumulate(first_losses, axis=1)
    widths = np.zeros((m_rows, n_pieces + 1))
    weights = np.repeat(peak[:, None], n_pieces + 1, axis=1)
    first = np.where(r > top - 1, r - (top - 1), 0.0)  # r - floor(r), or 1 when integer
    widths[:, :n_pieces] = np.where(has, np.where(jj[None, :] == 0, first[:, None], 1.0), 0.0)
    weights[:, :n_pieces] = np.where(has, run, peak[:, None])
    widths[:, n_pieces] = np.where(top > n_pieces, np.inf, 0.0)
    return widths.reshape(*shape, n_pieces + 1), weights.reshape(*shape, n_pieces + 1)


@dataclass(frozen=True)
class ShortfallPieces:
    """The understaffing penalty of a scheduling problem, per queue and interval.

    Attributes
    ----------
    widths : ndarray [queue, interval, K]
        Agents per piece (0 = no such piece, +inf = open-ended).
    weights : ndarray [queue, interval, K]
        Currency per missing agent and interval, non-decreasing in K.
    method : UnderstaffingPenalty
        The definition asked for (or chosen: service level when traffic is present).
    by_service_level : ndarray [queue, interval] of bool
        Where the service-level definition applies (the rest is piecewise).
    cost_per_missed_contact : float
        The price of a contact that misses the service goal (service level only).
    """

    widths: np.ndarray
    weights: np.ndarray
    method: UnderstaffingPenalty
    by_service_level: np.ndarray
    cost_per_missed_contact: float

    def evaluate(self, shortfall: np.ndarray) -> np.ndarray:
        """Penalty [queue, interval] of a shortfall [queue, interval] (agents)."""
        return pieces_penalty(shortfall, self.widths, self.weights)

    def describe(self) -> str:
        """One line for summaries: which penalty, its price, where it falls back."""
        if self.method is UnderstaffingPenalty.PIECEWISE:
            return "piecewise (1x/2x/4x understaffing_cost_per_hour)"
        text = f"service_level ({self.cost_per_missed_contact:g} per missed contact"
        n_q = self.by_service_level.shape[0]
        fallback = n_q - int(self.by_service_level.any(axis=1).sum())
        if fallback:
            text += f"; piecewise for {fallback} of {n_q} queues: email or no traffic"
        return text + ")"


def shortfall_pieces(requirement: pd.DataFrame, queues: tuple[str, ...], origin: pd.Timestamp,
                     required: np.ndarray, *, interval_s: int, method: UnderstaffingPenalty |
                     None, cost_per_missed_contact: float, understaffing_cost_per_hour: float,
                     file: str = "<requirement>") -> ShortfallPieces:
    """The penalty pieces of a requirement table on the problem's grid.

    `required` is the [queue, interval] matrix built from `requirement` (rows already
    validated by `openwfm.scheduling.model.requirement_matrix`), `origin` its first
    interval. ``method=None`` picks service level when the table has ``volume`` and
    ``aht_s``, else piecewise.

    Raises `InputError` (file, 1-based row, column) for a service-level penalty without
    traffic columns, bad traffic values, an ``interval_s`` off the scenario's grid, or a
    queue and interval given twice.
    """
    cost_interval = understaffing_cost_per_hour * interval_s / 3600
    widths3, weights3 = piecewise_pieces(required, cost_interval)
    has_traffic = {"volume", "aht_s"} <= set(requirement.columns)
    if method is None:
        method = UnderstaffingPenalty.SERVICE_LEVEL if has_traffic else \
            UnderstaffingPenalty.PIECEWISE
    mask = np.zeros(required.shape, dtype=bool)
    if method is UnderstaffingPenalty.PIECEWISE:
        return ShortfallPieces(widths3, weights3, method, mask, cost_per_missed_contact)
    for col in ("volume", "aht_s"):
        if col not in requirement.columns:
            raise InputError(f"missing column '{col}': understaffing_penalty = "
                             "\"service_level\" needs the traffic (the output of "
                             "`openwfm staff`), or set understaffing_penalty = \"piecewise\"",
                             file=file, column=col)
    from openwfm.staffing.frame import Channel, parse_staff_input

    df = requirement.drop(columns=[c for c in ("agents",) if c in requirement.columns])
    if "interval_s" in df.columns:
        step = pd.to_numeric(df["interval_s"], errors="coerce").to_numpy(dtype=float)
        off = ~np.isnan(step) & (step != interval_s)
        if off.any():
            i = int(np.argmax(off))
            raise InputError(f"expected the scenario's interval_s {interval_s}, got "
                             f"{shown(df['interval_s'].iloc[i])}", file=file, row=i + 1,
                             column="interval_s")
    else:
        df = df.assign(interval_s=interval_s)
    blank = df["volume"].isna().to_numpy() | df["aht_s"].isna().to_numpy()
    inp = parse_staff_input(df.assign(volume=df["volume"].fillna(0.0),
                                      aht_s=df["aht_s"].fillna(1.0)), file=file)
    qidx = {q: i for i, q in enumerate(queues)}
    qi = requirement["queue"].astype(str).map(qidx).to_numpy(dtype=int)
    ts = pd.to_datetime(requirement["interval_start"], utc=True)
    ti = ((ts - origin).dt.total_seconds().to_numpy() // interval_s).astype(int)
    key = qi * required.shape[1] + ti
    dup = pd.Series(key).duplicated().to_numpy()
    if dup.any():
        i = int(np.argmax(dup))
        raise InputError(f"queue {shown(requirement['queue'].iloc[i])} at "
                         f"{requirement['interval_start'].iloc[i]} is given twice; the "
                         "service-level penalty needs one row per queue and interval",
                         file=file, row=i + 1, column="interval_start")
    c = inp.columns
    live = (inp.channel != Channel.EMAIL.value) & ~blank
    rows = np.flatnonzero(live)
    k = np.where(inp.channel == Channel.CHAT.value, c["concurrency"], 1.0)
    w_sl, c_sl = service_level_pieces(
        required[qi[rows], ti[rows]], c["volume"][rows], inp.traffic_erl[rows],
        c["aht_s"][rows], c["sl_seconds"][rows], c["patience_s"][rows], k[rows],
        cost_per_missed_contact=cost_per_missed_contact)
    kk = SL_PIECES + 1
    widths = np.zeros((*required.shape, kk))
    weights = np.zeros((*required.shape, kk))
    widths[..., :3] = widths3
    weights[...] = weights3[..., 2:3]  # zero-width padding at the last (largest) weight
    weights[..., :3] = weights3
    widths[qi[rows], ti[rows]] = w_sl
    weights[qi[rows], ti[rows]] = c_sl
    mask[qi[rows], ti[rows]] = True
    return ShortfallPieces(widths, weights, method, mask, cost_per_missed_contact)
