"""Required agents for 1,000,000 rows (Erlang C and Erlang A) vs Python peers, same inputs.

Run: .venv/bin/python benchmarks/bench_staffing.py [--rows N] [--peer-rows M]

Inputs (seed 20261127): traffic uniform on [1, 500] Erlangs, AHT uniform on [60, 600] s,
target 80 % answered within 20 s; Erlang A adds a mean patience uniform on [60, 600] s.
openwfm is timed on all rows after a numba warm-up, with all cores and with one thread.
Peers are pure Python and slow, so they are timed on the first rows of the same inputs
(``--peer-rows``) and their answers are compared with ours on those rows:

- pyworkforce (``ErlangC(...).required_positions``), Erlang C only (0.5.x has no Erlang A);
- erlanglib (``erlang_c`` + ``service_level`` in 1000-digit Decimal; it has no solver, so
  the same upward scan pyworkforce uses is run on its formulas), Erlang C only.

No installed Python peer computes Erlang A required agents, so that figure has no ratio.
"""

from __future__ import annotations

import argparse
import math
import time

import numba
import numpy as np

from openwfm.staffing import erlang


def _inputs(rows: int, seed: int = 20261127):
    rng = np.random.default_rng(seed)
    traffic = rng.uniform(1.0, 500.0, rows)
    aht = rng.uniform(60.0, 600.0, rows)
    patience = rng.uniform(60.0, 600.0, rows)
    return traffic, aht, patience


def _time(fn, repeat: int = 3) -> tuple[float, object]:
    best, out = math.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def _pyworkforce(traffic, aht):
    from pyworkforce.queuing import ErlangC

    out = []
    for a, h in zip(traffic, aht, strict=True):
        # transactions per interval (minutes): intensity = transactions / interval * aht
        e = ErlangC(transactions=a * 30.0 / (h / 60.0), aht=h / 60.0, asa=20.0 / 60.0,
                    interval=30)
        out.append(e.required_positions(service_level=0.8)["raw_positions"])
    return np.array(out)


def _erlanglib(traffic, aht):
    from erlanglib import core

    out = []
    for a, h in zip(traffic, aht, strict=True):
        n = math.floor(a) + 1
        while core.service_level(n, a, core.erlang_c(n, a), 20, h) < 0.8:
            n += 1
        out.append(n)
    return np.array(out)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--peer-rows", type=int, default=1000)
    p.add_argument("--erlanglib-rows", type=int, default=10)
    args = p.parse_args()
    traffic, aht, patience = _inputs(args.rows)
    threads = numba.get_num_threads()
    print(f"rows: {args.rows:,}; traffic 1..500 Erlangs; numba threads: {threads}")

    erlang.required_agents(traffic[:1000], aht[:1000], 0.8, 20)  # warm-up (JIT / cache)
    erlang.required_agents(traffic[:1000], aht[:1000], 0.8, 20, patience[:1000])

    figures = {}
    for label, pat in (("Erlang C", None), ("Erlang A", patience)):
        for n_threads in sorted({threads, 1}, reverse=True):
            numba.set_num_threads(n_threads)
            sec, res = _time(lambda pat=pat: erlang.required_agents(traffic, aht, 0.8, 20, pat))
            figures[(label, n_threads)] = args.rows / sec
            print(f"openwfm {label:8s} {n_threads} thread(s): {sec:6.3f} s  "
                  f"{args.rows / sec:12,.0f} rows/s  (mean agents {res.agents.mean():.2f})")
        numba.set_num_threads(threads)

    m = args.peer_rows
    ours_c = erlang.required_agents(traffic[:m], aht[:m], 0.8, 20).agents
    peers = []
    try:
        sec, pw = _time(lambda: _pyworkforce(traffic[:m], aht[:m]), repeat=1)
        peers.append(("pyworkforce", m / sec, int((pw != ours_c).sum()), m))
    except ImportError:
        print("pyworkforce not installed (pip install -e '.[bench]')")
    k = args.erlanglib_rows
    try:
        sec, el = _time(lambda: _erlanglib(traffic[:k], aht[:k]), repeat=1)
        peers.append(("erlanglib", k / sec, int((el != ours_c[:k]).sum()), k))
    except ImportError:
        print("erlanglib not installed (pip install -e '.[bench]')")
    for name, rate, mismatches, rows in peers:
        print(f"peer {name:12s} Erlang C: {rate:10,.1f} rows/s on {rows:,} rows; "
              f"answers differing from openwfm: {mismatches}")
    if peers:
        best_name, best_rate = max(((n, r) for n, r, _, _ in peers), key=lambda x: x[1])
        for n_threads in sorted({threads, 1}, reverse=True):
            ratio = figures[("Erlang C", n_threads)] / best_rate
            print(f"ratio openwfm Erlang C ({n_threads} thread(s)) / fastest peer "
                  f"({best_name}): {ratio:,.0f}x")
    c_sec = args.rows / figures[("Erlang C", threads)]
    print(f"goal: 1,000,000 Erlang C rows in < 2 s -> {c_sec * 1e6 / args.rows:.3f} s "
          f"({'met' if c_sec * 1e6 / args.rows < 2 else 'NOT met'})")


if __name__ == "__main__":
    main()
