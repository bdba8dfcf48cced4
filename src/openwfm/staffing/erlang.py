"""Erlang B, Erlang C (M/M/n) and Erlang A (M/M/n+M) kernels, vectorized and exact.

Every public function broadcasts its arguments over numpy arrays and returns arrays.
Arguments carry their unit: ``traffic_erl`` (offered load in Erlangs = arrival rate x mean
handle time), ``aht_s`` (mean handle time, seconds), ``answer_within_s`` (the service-level
threshold, seconds), ``patience_s`` (mean patience, seconds; ``None``, NaN or +inf means no
abandonment, i.e. Erlang C).

Definitions (the same in the docs and in ``openwfm staff --help``):

- ``service_level`` = contacts **answered within** ``answer_within_s`` / contacts
  **offered**; abandoned contacts are failures, answered with zero wait are successes.
- ``asa_s`` = mean wait of **answered** contacts (zero waits included).
- ``p_wait`` = probability that an arriving contact waits at all (all agents busy).
- ``p_abandon`` = probability that an arriving contact abandons (NaN without patience:
  Erlang C has no abandonment).
- ``occupancy`` = mean busy agents / agents.

Numerics. Erlang B comes from the forward recurrence of its inverse,
``1/B(k) = 1 + (k/a) / B(k-1)`` (one multiply-add per step), which is a contraction below
the traffic; it is started ``8 sqrt(a)`` steps below ``min(n, a)`` from the fluid value
``1/B = 1 / (1 - k/a)`` (the start error is damped by about ``exp(-32)``), so the cost is
``O(sqrt(a) + (n - a)+)`` instead of ``O(n)``. The Erlang C solver then steps ``n`` upwards
from ``floor(a) + 1`` with one recurrence step and one division per agent.
Erlang A needs the scaled lower incomplete
gamma ``G(s, z) = e^z z^-s gamma(s, z)``, computed in log space by its power series
(``z < s + 1``) or by the Legendre continued fraction for ``Gamma(s, z)`` with a Stirling
remainder (``z >= s + 1``), so nothing overflows up to 20,000 Erlangs and beyond.
With ``x = n mu / theta`` and ``y = lambda / theta`` (``theta`` = 1 / mean patience), the
Erlang A measures are (Garnett, Mandelbaum & Reiman 2002; Mandelbaum & Zeltyn 2007)::

    A        = x G(x, y)
    p_wait   = A B / (1 - B + A B)                    B = Erlang B(n, a)
    P(served | wait)          = (x / y) (1 - 1 / A)
    P(served within t | wait) = P(served | wait) - c^(x+1) e^(y (1 - c)) G(x+1, y c) / G(x, y),
                                c = exp(-theta t)
    E[wait; served | wait]    = (1/theta) sum_j w_j x/(x+j+1) sum_{i=1..j+1} 1/(x+i) / sum_j w_j,
                                w_j = prod_{i=1..j} y / (x + i)

The last lines follow from the offered wait of a contact that finds ``j`` contacts queued:
``exp(-theta V) ~ Beta(x, j + 1)`` (a sum of exponentials with rates ``theta (x + m)``).
Results agree with a 50-digit mpmath reference to 1e-9 (``tests/reference``).

References
----------
.. [1] A. K. Erlang (1917); Gans, Koole & Mandelbaum (2003), "Telephone call centers:
   tutorial, review, and research prospects", MSOM 5(2), section 4.
.. [2] O. Garnett, A. Mandelbaum & M. Reiman (2002), "Designing a call center with
   impatient customers", MSOM 4(3):208-227.
.. [3] A. Mandelbaum & S. Zeltyn (2007), "The M/M/n+G queue: summary of performance
   measures", Technion technical note.
.. [4] S. Halfin & W. Whitt (1981), "Heavy-traffic limits for queues with many exponential
   servers", Operations Research 29(3):567-588.

Examples
--------
>>> from openwfm.staffing import erlang
>>> traffic = 100 * 180 / 1800          # 100 calls in 30 min, AHT 180 s: 10 Erlangs
>>> round(float(erlang.service_level(14, traffic, 180, 20)), 5)
0.88835
>>> r = erlang.required_agents(traffic, 180, sl_target=0.8, answer_within_s=20)
>>> int(r.agents), round(float(r.service_level), 5)
(14, 0.88835)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba as nb
import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "QueueMetrics",
    "StaffingResult",
    "asa",
    "erlang_b",
    "erlang_c",
    "metrics",
    "occupancy",
    "p_abandon",
    "p_wait",
    "required_agents",
    "service_level",
]

_START_SIGMAS = 8.0
_EPS = 1e-17
_SQRT2PI_LOG = 0.5 * math.log(2.0 * math.pi)
_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(16)
_SUM_LIMIT = 20_000.0  # queue lengths to sum over before switching to quadrature


# ----------------------------------------------------------------------------- scalar kernels
@nb.njit(cache=True)
def _inv_erlang_b_start(n: int, a: float) -> tuple[int, float]:
    """A start index k0 <= n and an approximation of 1 / B(k0, a) whose error the forward
    recurrence damps below double precision by the time it reaches n (a > 0)."""
    m = min(float(n), a) - _START_SIGMAS * math.sqrt(a) - 1.0
    if m <= 0.0:
        return 0, 1.0
    k0 = int(m)
    return k0, a / (a - k0)  # the fluid value 1 / (1 - k0 / a)


@nb.njit(cache=True)
def _inv_erlang_b(n: int, a: float) -> float:
    """1 / B(n, a) by the recurrence R(k) = 1 + (k / a) R(k - 1): one multiply-add per step
    (a contraction with factor k / a below the traffic); +inf when it overflows (B ~ 0)."""
    if a <= 0.0:
        return 1.0 if n == 0 else math.inf
    k, r = _inv_erlang_b_start(n, a)
    inv_a = 1.0 / a
    while k < n:
        k += 1
        r = 1.0 + k * inv_a * r
    return r


@nb.njit(cache=True)
def _erlang_b(n: int, a: float) -> float:
    return 1.0 / _inv_erlang_b(n, a)


@nb.njit(cache=True)
def _log_stirling_rest(s: float) -> float:
    """lgamma(s) - (s ln s - s): the part of log Gamma that is O(log s)."""
    if s < 10.0:
        return math.lgamma(s) - (s * math.log(s) - s)
    r = 1.0 / s
    r2 = r * r
    series = r * (1.0 / 12.0 - r2 * (1.0 / 360.0 - r2 * (1.0 / 1260.0 - r2 / 1680.0)))
    return _SQRT2PI_LOG - 0.5 * math.log(s) + series


@nb.njit(cache=True)
def _log_scaled_lower_gamma(s: float, z: float) -> float:
    """log G(s, z), G(s, z) = e^z z^-s gamma(s, z) = sum_k z^k / (s (s+1) ... (s+k))."""
    if z <= 0.0:
        return -math.log(s)
    if z < s + 1.0:
        term = 1.0 / s
        total = term
        k = 0
        while True:
            k += 1
            term *= z / (s + k)
            total += term
            if term < _EPS * total:
                break
        return math.log(total)
    dd, rest = _log_g_cf_parts(s, z)
    return dd + rest


@nb.njit(cache=True)
def _log_g_cf_parts(s: float, z: float) -> tuple[float, float]:
    """log G(s, z) = D + R for z >= s + 1, split into the large part
    D = (z - s) - s log(z / s) and the O(log s) rest R = lgamma(s) - (s ln s - s)
    + log(1 - Q(s, z)), with Q = Gamma(s, z) / Gamma(s) from Lentz's continued fraction
    (Numerical Recipes 6.2): Gamma(s, z) = e^-z z^s h."""
    tiny = 1e-300
    b = z + 1.0 - s
    c = 1.0 / tiny
    d = 1.0 / b
    h = d
    i = 0
    while True:
        i += 1
        an = -i * (i - s)
        b += 2.0
        d = an * d + b
        if abs(d) < tiny:
            d = tiny
        c = b + an / c
        if abs(c) < tiny:
            c = tiny
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-16 or i > 100000:
            break
    stirling = _log_stirling_rest(s)
    dd = (z - s) - s * math.log1p((z - s) / s)
    log_q = math.log(h) - dd - stirling  # log Gamma(s, z) / Gamma(s)
    return dd, stirling + math.log1p(-math.exp(log_q))


@nb.njit(cache=True)
def _answered_wait_given_wait(x: float, y: float) -> float:
    """E[wait; served | all busy on arrival] * theta (dimensionless), by the sum over the
    queue length j found on arrival (see the module docstring)."""
    w = 1.0
    total = 0.0
    acc = 0.0
    harmonic = 0.0
    j = 0
    while True:
        inv = 1.0 / (x + j + 1.0)
        harmonic += inv
        total += w
        acc += w * x * inv * harmonic
        j += 1
        w *= y * inv  # w_j = w_{j-1} y / (x + j)
        if total > 1e250:
            w *= 1e-250
            total *= 1e-250
            acc *= 1e-250
        if x + j > y and w < 1e-18 * total:
            break
    return acc / total


@nb.njit(cache=True)
def _overloaded_integrals(x: float, y: float, th: float) -> tuple[float, float]:
    """For heavily overloaded queues (y - x large, where the sum over queue lengths would be
    long and the SL difference would cancel): given that a contact waits,
    (P(served within th / theta), theta E[wait; served]) as integrals
    (1 / G(x, y)) int f(v) exp(phi(v)) dv, phi(v) = -(x + 1) v + y (1 - e^-v), f = 1 or v.
    phi peaks at v* = log(y / (x + 1)) with width 1 / sqrt(x + 1), and
    phi(v* + u) - phi(v*) = -(x + 1) (u + expm1(-u)) without cancellation; composite
    16-point Gauss-Legendre over v* +- 40 widths (the rest is below exp(-800))."""
    peak = math.log(y / (x + 1.0))
    width = 1.0 / math.sqrt(x + 1.0)
    lo = max(0.0, peak - 40.0 * width)
    hi = peak + 40.0 * width
    _dd, rest = _log_g_cf_parts(x, y)
    # phi(v*) - log G(x, y), with the large parts cancelled analytically
    scale = math.exp(x * math.log1p(1.0 / x) - math.log(y / (x + 1.0)) - 1.0 - rest)
    panels = 64
    h = (hi - lo) / panels
    within = 0.0
    wait = 0.0
    cut = min(th, hi)
    for k in range(panels):
        mid = lo + (k + 0.5) * h
        for i in range(_GL_NODES.shape[0]):
            v = mid + 0.5 * h * _GL_NODES[i]
            u = v - peak
            f = _GL_WEIGHTS[i] * math.exp(-(x + 1.0) * (u + math.expm1(-u)))
            wait += v * f
        if lo + k * h < cut:  # the within-threshold part, on its own panels
            a_, b_ = lo + k * h, min(lo + (k + 1) * h, cut)
            m_, hh = 0.5 * (a_ + b_), b_ - a_
            part = 0.0
            for i in range(_GL_NODES.shape[0]):
                u = m_ + 0.5 * hh * _GL_NODES[i] - peak
                part += _GL_WEIGHTS[i] * math.exp(-(x + 1.0) * (u + math.expm1(-u)))
            within += 0.5 * hh * part
    return within * scale, 0.5 * h * wait * scale


@nb.njit(cache=True)
def _metrics_row(n: int, a: float, aht: float, t: float, pat: float, want_asa: bool):
    """(service_level, asa_s, p_wait, p_abandon, occupancy) for n agents, one row."""
    nan = math.nan
    erlang_a = pat > 0.0 and math.isfinite(pat)
    if a <= 0.0:  # no traffic: nothing waits; p_abandon stays NaN without patience
        return 1.0, 0.0, 0.0, (0.0 if erlang_a else nan), 0.0
    if n <= 0:
        return 0.0, nan, 1.0, (1.0 if erlang_a else nan), 1.0
    b = _erlang_b(n, a)
    if not erlang_a:
        if n <= a:
            return 0.0, math.inf, 1.0, nan, 1.0
        c = n * b / (n - a * (1.0 - b))
        sl = 1.0 - c * math.exp(-(n - a) * t / aht)
        asa_s = c * aht / (n - a)
        return sl, asa_s, c, nan, a / n
    x = n * pat / aht
    y = a * pat / aht
    lg_x = _log_scaled_lower_gamma(x, y)
    log_a = math.log(x) + lg_x
    if b <= 0.0:
        pw = 0.0
    else:
        r = (1.0 - b) / b * math.exp(-log_a)
        pw = 1.0 / (1.0 + r)
    served_busy = (x / y) * (-math.expm1(-log_a))
    pab = pw * (1.0 - served_busy)
    overloaded = y - x > _SUM_LIMIT
    scaled_wait = 0.0
    if overloaded:
        within_busy, scaled_wait = _overloaded_integrals(x, y, t / pat)
    elif t > 0.0:
        th = t / pat
        c = math.exp(-th)
        log_tail = -(x + 1.0) * th - y * math.expm1(-th) + _log_scaled_lower_gamma(x + 1.0, y * c)
        late = math.exp(log_tail - lg_x)
        within_busy = served_busy - late
        if within_busy < 0.0:
            within_busy = 0.0
    else:
        within_busy = 0.0
    sl = 1.0 - pw + pw * within_busy
    asa_s = nan
    if want_asa:
        served = 1.0 - pab
        if pw <= 0.0:
            asa_s = 0.0
        elif served > 0.0:
            scaled = scaled_wait if overloaded else _answered_wait_given_wait(x, y)
            asa_s = pw * scaled * pat / served
    occ = a * (1.0 - pab) / n
    return sl, asa_s, pw, pab, occ


@nb.njit(cache=True)
def _log_margin(limit: float, value: float) -> float:
    """log(limit / value): >= 0 iff value <= limit; nearly linear in n for queue tails."""
    if math.isnan(value):
        return -50.0
    if value <= 0.0:
        return 50.0
    return math.log(limit / value)


@nb.njit(cache=True)
def _slack(n, a, aht, t, pat, sl_target, max_asa, max_ab, max_occ) -> float:
    """The smallest margin over the targets, each as a log ratio (SL via 1 - SL); n meets
    them all iff it is >= 0. Every margin is increasing in n, so the slack is too."""
    want_asa = not math.isnan(max_asa)
    sl, asa_s, _pw, pab, occ = _metrics_row(n, a, aht, t, pat, want_asa)
    slack = _log_margin(1.0 - sl_target, 1.0 - sl) if not math.isnan(sl) else -50.0
    if want_asa:
        slack = min(slack, _log_margin(max_asa, asa_s))
    if not math.isnan(max_ab) and pat > 0.0 and math.isfinite(pat):
        slack = min(slack, _log_margin(max_ab, pab))
    if not math.isnan(max_occ):
        slack = min(slack, _log_margin(max_occ, occ))
    return slack


@nb.njit(cache=True)
def _solve_erlang_c(a, aht, t, sl_target, max_asa, max_occ) -> int:
    """Smallest n > a meeting the targets under Erlang C, stepping R = 1 / B upwards.

    With R = 1 / B: C = n / (R (n - a) + a), SL = 1 - C exp(-(n - a) t / aht); the
    exponential is updated by one multiplication per step.
    """
    n = math.floor(a) + 1
    if not math.isnan(max_occ) and max_occ > 0.0:
        n = max(n, math.ceil(a / max_occ - 1e-9))  # a lower bound; the loop checks
    r = _inv_erlang_b(n, a)
    inv_a = 1.0 / a
    q = math.exp(-t / aht)
    e = math.exp(-(n - a) * t / aht)
    check_asa = not math.isnan(max_asa)
    check_occ = not math.isnan(max_occ)
    while True:
        c = n / (r * (n - a) + a)
        ok = 1.0 - c * e >= sl_target
        if ok and check_asa:
            ok = c * aht / (n - a) <= max_asa
        if ok and check_occ:
            ok = a / n <= max_occ
        if ok:
            return n
        n += 1
        r = 1.0 + n * inv_a * r
        e *= q


@nb.njit(cache=True)
def _solve_row(a, aht, t, pat, sl_target, max_asa, max_ab, max_occ) -> int:
    if a <= 0.0:
        return 0
    erlang_a = pat > 0.0 and math.isfinite(pat)
    if not erlang_a:
        return _solve_erlang_c(a, aht, t, sl_target, max_asa, max_occ)
    # Erlang A: every measure is monotone in n, so the feasible set is {n >= n*} and the
    # slack is increasing. Start from the Erlang C answer (Erlang A usually needs a few
    # agents less) and find a bracket [lo infeasible, hi feasible] by secant steps on the
    # log-margin slack (nearly linear in n); then shrink the bracket by cycles of
    # interpolation, a check of the neighbour, and bisection (so it always converges).
    args = (a, aht, t, pat, sl_target, max_asa, max_ab, max_occ)
    hi = _solve_erlang_c(a, aht, t, sl_target, max_asa, max_occ)
    s_hi = _slack(hi, *args)
    if s_hi >= 0.0:
        x_prev, s_prev = -1, 0.0
        step = 1
        tries = 0
        while True:
            p = hi - 1
            if x_prev >= 0 and s_prev > s_hi:
                est = hi - s_hi * (x_prev - hi) / (s_prev - s_hi)
                p = min(p, math.floor(est))
            if tries >= 2:  # the secant keeps landing above n*: at least double the step
                p = min(p, hi - step)
            if p <= 0:
                lo, s_lo = 0, _slack(0, *args)
                break
            s_p = _slack(p, *args)
            if s_p < 0.0:
                lo, s_lo = p, s_p
                break
            tries += 1
            step = 2 * (hi - p)
            x_prev, s_prev = hi, s_hi
            hi, s_hi = p, s_p
    else:
        lo, s_lo = hi, s_hi
        step = 1
        while True:
            hi = lo + step
            s_hi = _slack(hi, *args)
            if s_hi >= 0.0:
                break
            lo, s_lo = hi, s_hi
            step *= 2
    mode = 0
    last_feasible = True
    while hi - lo > 1:
        if mode == 0 and s_hi > s_lo:  # interpolate the root
            p = math.ceil(lo + (hi - lo) * (-s_lo) / (s_hi - s_lo))
        elif mode == 1:  # check the neighbour of the last probe
            p = hi - 1 if last_feasible else lo + 1
        else:
            p = (lo + hi) // 2
        p = min(max(p, lo + 1), hi - 1)
        s_p = _slack(p, *args)
        last_feasible = s_p >= 0.0
        if last_feasible:
            hi, s_hi = p, s_p
        else:
            lo, s_lo = p, s_p
        mode = (mode + 1) % 3
    return hi


# -------------------------------------------------------------------------- vector kernels
@nb.njit(cache=True, parallel=True)
def _metrics_vec(n, a, aht, t, pat, want_asa):
    m = n.shape[0]
    out = np.empty((5, m))
    for i in nb.prange(m):
        r = _metrics_row(int(n[i]), a[i], aht[i], t[i], pat[i], want_asa)
        out[0, i] = r[0]
        out[1, i] = r[1]
        out[2, i] = r[2]
        out[3, i] = r[3]
        out[4, i] = r[4]
    return out


@nb.njit(cache=True, parallel=True)
def _solve_vec(a, aht, t, pat, sl_target, max_asa, max_ab, max_occ):
    m = a.shape[0]
    out = np.empty(m, dtype=np.int64)
    for i in nb.prange(m):
        out[i] = _solve_row(a[i], aht[i], t[i], pat[i], sl_target[i], max_asa[i],
                            max_ab[i], max_occ[i])
    return out


@nb.njit(cache=True, parallel=True)
def _erlang_b_vec(n, a):
    m = n.shape[0]
    out = np.empty(m)
    for i in nb.prange(m):
        out[i] = _erlang_b(int(n[i]), a[i])
    return out


# ---------------------------------------------------------------------------- public API
def _flat(*args: ArrayLike | None) -> tuple[tuple[int, ...], list[NDArray[np.float64]]]:
    arrays = [np.asarray(np.nan if x is None else x, dtype=np.float64) for x in args]
    b = np.broadcast_arrays(*arrays)
    shape = b[0].shape
    return shape, [np.ascontiguousarray(x).ravel() for x in b]


def _check_agents(agents: NDArray[np.float64]) -> NDArray[np.float64]:
    if np.any(agents < 0) or np.any(agents != np.floor(agents)):
        raise ValueError("agents must be non-negative integers")
    return agents


@dataclass(frozen=True)
class QueueMetrics:
    """Performance of a queue with a given number of agents (arrays of one shape).

    ``p_abandon`` is NaN where no patience was given (Erlang C has no abandonment).
    ``asa_s`` is +inf for an unstable Erlang C queue (agents <= traffic) and NaN when no
    contact is answered (0 agents).
    """

    agents: NDArray[np.int64]
    service_level: NDArray[np.float64]
    asa_s: NDArray[np.float64]
    p_wait: NDArray[np.float64]
    p_abandon: NDArray[np.float64]
    occupancy: NDArray[np.float64]


@dataclass(frozen=True)
class StaffingResult(QueueMetrics):
    """Required agents (the smallest integer meeting every target) and their metrics."""


def metrics(
    agents: ArrayLike,
    traffic_erl: ArrayLike,
    aht_s: ArrayLike,
    answer_within_s: ArrayLike,
    patience_s: ArrayLike | None = None,
) -> QueueMetrics:
    """All metrics of M/M/n (``patience_s`` None/NaN/inf) or M/M/n+M for given agents.

    Parameters
    ----------
    agents : array_like of int
        Productive agents (servers), >= 0.
    traffic_erl : array_like
        Offered load in Erlangs (arrival rate x ``aht_s``), >= 0.
    aht_s : array_like
        Mean handle time in seconds, > 0.
    answer_within_s : array_like
        Service-level threshold in seconds, >= 0.
    patience_s : array_like, optional
        Mean (exponential) patience in seconds; None, NaN or +inf = no abandonment.

    Returns
    -------
    QueueMetrics
        Arrays broadcast to the common shape of the arguments.

    References
    ----------
    Garnett, Mandelbaum & Reiman (2002), MSOM 4(3); Gans, Koole & Mandelbaum (2003).

    Examples
    --------
    >>> m = metrics(14, 10.0, 180, 20, patience_s=300)          # REFERENCES.md R3
    >>> [round(float(v), 6) for v in (m.p_wait, m.p_abandon, m.occupancy, m.service_level)]
    [0.14526, 0.013984, 0.704297, 0.916792]
    """
    shape, (n, a, aht, t, pat) = _flat(agents, traffic_erl, aht_s, answer_within_s, patience_s)
    _check_agents(n)
    out = _metrics_vec(n, a, aht, t, pat, True)
    return QueueMetrics(
        agents=n.astype(np.int64).reshape(shape),
        service_level=out[0].reshape(shape),
        asa_s=out[1].reshape(shape),
        p_wait=out[2].reshape(shape),
        p_abandon=out[3].reshape(shape),
        occupancy=out[4].reshape(shape),
    )


def required_agents(
    traffic_erl: ArrayLike,
    aht_s: ArrayLike,
    sl_target: ArrayLike,
    answer_within_s: ArrayLike,
    patience_s: ArrayLike | None = None,
    *,
    max_asa_s: ArrayLike | None = None,
    max_abandon: ArrayLike | None = None,
    max_occupancy: ArrayLike | None = None,
) -> StaffingResult:
    """The smallest integer number of agents meeting every target, and its metrics.

    Targets: ``service_level >= sl_target`` and, where given (not None / NaN),
    ``asa_s <= max_asa_s``, ``p_abandon <= max_abandon`` (Erlang A only: without patience
    there is no abandonment), ``occupancy <= max_occupancy``. Every metric is monotone in
    the agents, so the answer equals a brute-force scan from 0 upwards. Traffic 0 needs 0
    agents. Under Erlang C the answer is always above the traffic (stability); under
    Erlang A it can be below.

    Parameters
    ----------
    traffic_erl, aht_s, answer_within_s, patience_s : array_like
        As in `metrics`.
    sl_target : array_like
        Required service level, in (0, 1).
    max_asa_s, max_abandon, max_occupancy : array_like, optional
        Further targets; NaN entries mean "no target" for that row.

    Returns
    -------
    StaffingResult

    References
    ----------
    Gans, Koole & Mandelbaum (2003), MSOM 5(2), section 4.1 (square-root staffing).

    Examples
    --------
    >>> r = required_agents([10.0, 48.0], [180, 240], 0.8, [20, 15])
    >>> r.agents.tolist()
    [14, 55]
    >>> r = required_agents(10.0, 180, 0.8, 20, patience_s=300, max_abandon=0.01)
    >>> int(r.agents), bool(r.p_abandon <= 0.01)
    (15, True)
    """
    shape, (a, aht, t, pat, sl, max_asa, max_ab, max_occ) = _flat(
        traffic_erl, aht_s, answer_within_s, patience_s, sl_target, max_asa_s, max_abandon,
        max_occupancy,
    )
    if np.any(~((sl > 0) & (sl < 1))):
        raise ValueError("sl_target must lie in (0, 1)")
    if np.any(~(a >= 0)) or np.any(~(aht > 0)) or np.any(~(t >= 0)):
        raise ValueError("need traffic_erl >= 0, aht_s > 0, answer_within_s >= 0")
    if np.any(max_occ <= 0):
        raise ValueError("max_occupancy must be > 0")
    n = _solve_vec(a, aht, t, pat, sl, max_asa, max_ab, max_occ)
    out = _metrics_vec(n.astype(np.float64), a, aht, t, pat, True)
    return StaffingResult(
        agents=n.reshape(shape),
        service_level=out[0].reshape(shape),
        asa_s=out[1].reshape(shape),
        p_wait=out[2].reshape(shape),
        p_abandon=out[3].reshape(shape),
        occupancy=out[4].reshape(shape),
    )


def erlang_b(agents: ArrayLike, traffic_erl: ArrayLike) -> NDArray[np.float64]:
    """Erlang B blocking probability of an M/M/n/n loss system.

    References
    ----------
    Erlang (1917); standard Erlang B tables (REFERENCES.md R6).

    Examples
    --------
    >>> round(float(erlang_b(10, 5.0)), 6)
    0.018385
    """
    shape, (n, a) = _flat(agents, traffic_erl)
    _check_agents(n)
    return _erlang_b_vec(n, a).reshape(shape)


def erlang_c(agents: ArrayLike, traffic_erl: ArrayLike) -> NDArray[np.float64]:
    """Erlang C probability of waiting, ``n B / (n - a (1 - B))`` (1 when ``n <= a``).

    Examples
    --------
    >>> round(float(erlang_c(14, 10.0)), 5)                     # REFERENCES.md R1
    0.17413
    """
    return p_wait(agents, traffic_erl, 1.0)


def p_wait(agents: ArrayLike, traffic_erl: ArrayLike, aht_s: ArrayLike = 1.0,
           patience_s: ArrayLike | None = None) -> NDArray[np.float64]:
    """Probability that an arriving contact waits (all agents busy).

    Examples
    --------
    >>> round(float(p_wait(55, 48.0)), 4)                       # REFERENCES.md R2
    0.2387
    """
    return metrics(agents, traffic_erl, aht_s, 0.0, patience_s).p_wait


def service_level(agents: ArrayLike, traffic_erl: ArrayLike, aht_s: ArrayLike,
                  answer_within_s: ArrayLike,
                  patience_s: ArrayLike | None = None) -> NDArray[np.float64]:
    """Contacts answered within ``answer_within_s`` / contacts offered.

    Examples
    --------
    >>> round(float(service_level(55, 48.0, 240, 15)), 4)        # REFERENCES.md R2
    0.8459
    """
    return metrics(agents, traffic_erl, aht_s, answer_within_s, patience_s).service_level


def asa(agents: ArrayLike, traffic_erl: ArrayLike, aht_s: ArrayLike,
        patience_s: ArrayLike | None = None) -> NDArray[np.float64]:
    """Average speed of answer: mean wait in seconds of answered contacts.

    Examples
    --------
    >>> round(float(asa(55, 48.0, 240)), 3)                      # REFERENCES.md R2
    8.184
    """
    return metrics(agents, traffic_erl, aht_s, 0.0, patience_s).asa_s


def p_abandon(agents: ArrayLike, traffic_erl: ArrayLike, aht_s: ArrayLike,
              patience_s: ArrayLike) -> NDArray[np.float64]:
    """Probability that an arriving contact abandons (Erlang A).

    Examples
    --------
    >>> round(float(p_abandon(14, 10.0, 180, 300)), 6)           # REFERENCES.md R3
    0.013984
    """
    return metrics(agents, traffic_erl, aht_s, 0.0, patience_s).p_abandon


def occupancy(agents: ArrayLike, traffic_erl: ArrayLike, aht_s: ArrayLike = 1.0,
              patience_s: ArrayLike | None = None) -> NDArray[np.float64]:
    """Mean busy agents / agents: ``a / n`` (Erlang C), ``a (1 - p_abandon) / n`` (Erlang A).

    Examples
    --------
    >>> round(float(occupancy(14, 10.0)), 5)                     # REFERENCES.md R1
    0.71429
    """
    return metrics(agents, traffic_erl, aht_s, 0.0, patience_s).occupancy
