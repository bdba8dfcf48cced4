"""Simulation speed: openwfm's compiled engine against ciw and SimPy, same run, same case.

Case 1 (peers): M/M/12+M, arrivals 4.2/min, service rate 0.5/min, patience rate 1/min
(REFERENCES.md R5). Each simulator runs the same model (exponential arrivals, services and
patience, FIFO, abandon when patience runs out in queue) over a stretch of days; we report
contacts simulated per second of wall time (one core for every simulator) and the ratios.
Every simulator's P(abandon) is printed so the models can be seen to agree.

openwfm runs it twice: with the default router (scheduled agents, priority / longest idle)
and with the new routing policies on (a staffed agent group, "oldest" agent selection,
least-skilled contact selection, an overflow list) -- the ratio to ciw must stay >= 50x.

Case 2: a week of a 500-agent multi-skill center (12 queues incl. chat x3 concurrency and
email, agents with 2-3 skills, daily arrival profile, lognormal handle times, about 1 million
contacts), one replication, default router and policies on (oldest across skills, proficiency,
every voice queue overflowing to the second-language agents after 30 s); then 4 replications
serial and on all cores (threads backend).

Case 3: ContactCenters' SimpleMSK (`openwfm.simulation.examples.simple_msk_model`), 1,000
days.

Run: ``.venv/bin/python benchmarks/bench_simulation.py [--quick]``
"""

from __future__ import annotations

import argparse
import os
import random
import time

import numpy as np

from openwfm.simulation import (
    Exponential,
    LogNormal,
    Overflow,
    QueueSpec,
    RoutingPolicy,
    SimulationModel,
    simulate,
    single_queue_model,
)
from openwfm.simulation.examples import simple_msk_model

LAM, MU, THETA, N = 4.2, 0.5, 1.0, 12  # per minute


def run_openwfm(days: int, backend: str = "serial", policies: bool = False
                ) -> tuple[int, float, float]:
    m = single_queue_model(arrival_rate_per_s=LAM / 60, aht_s=60 / MU, agents=N,
                           horizon_s=days * 480 * 60, patience_s=60 / THETA,
                           interval_s=480 * 60)
    if policies:  # the same queue served by a staffed group under the new router
        m = m.with_(seg_agent=np.zeros(0, np.int64), seg_start_s=np.zeros(0),
                    seg_end_s=np.zeros(0), group_ids=("all",),
                    agent_group=np.zeros(N, np.int64), staff_t_s=np.array([0.0]),
                    staff_group=np.array([0]), staff_agents=np.array([N]),
                    routing=RoutingPolicy(agent_selection="oldest",
                                          contact_selection="least_skilled",
                                          overflow=(Overflow("q", ("all",)),)))
    t0 = time.perf_counter()
    log = simulate(m, replications=1, seed=1, backend=backend).log  # type: ignore[arg-type]
    dt = time.perf_counter() - t0
    return len(log), dt, float(log.abandoned.mean())


def run_ciw(minutes: float) -> tuple[int, float, float]:
    import ciw

    net = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=LAM)],
        service_distributions=[ciw.dists.Exponential(rate=MU)],
        number_of_servers=[N],
        reneging_time_distributions=[ciw.dists.Exponential(rate=THETA)],
    )
    ciw.seed(1)
    t0 = time.perf_counter()
    sim = ciw.Simulation(net)
    sim.simulate_until_max_time(minutes)
    dt = time.perf_counter() - t0
    recs = sim.get_all_records()
    n = len(recs)
    ab = sum(1 for r in recs if r.record_type == "renege")
    return n, dt, ab / max(n, 1)


def run_simpy(minutes: float) -> tuple[int, float, float]:
    import simpy

    rnd = random.Random(1)
    env = simpy.Environment()
    agents = simpy.Resource(env, capacity=N)
    stats = {"n": 0, "ab": 0}

    def contact(env: simpy.Environment):
        stats["n"] += 1
        with agents.request() as req:
            patience = env.timeout(rnd.expovariate(THETA))
            got = yield req | patience
            if req in got:
                yield env.timeout(rnd.expovariate(MU))
            else:
                stats["ab"] += 1

    def source(env: simpy.Environment):
        while True:
            yield env.timeout(rnd.expovariate(LAM))
            env.process(contact(env))

    env.process(source(env))
    t0 = time.perf_counter()
    env.run(until=minutes)
    dt = time.perf_counter() - t0
    return stats["n"], dt, stats["ab"] / max(stats["n"], 1)


def week_model(agents: int = 500, seed: int = 0) -> SimulationModel:
    """A synthetic multi-skill week: 10 voice queues (languages), 1 chat, 1 email."""
    rng = np.random.default_rng(seed)
    interval_s = 1800.0
    nt = 7 * 48
    hours = (np.arange(nt) % 48) / 2.0
    profile = 0.35 + np.exp(-0.5 * ((hours - 13.0) / 4.0) ** 2)  # night floor, day peak
    queues = [QueueSpec(f"voice-{i}", 20, LogNormal(1.0), Exponential(), 180.0,
                        priority=1) for i in range(10)]
    queues.append(QueueSpec("chat", 60, LogNormal(0.8), Exponential(), 300.0, concurrency=3))
    queues.append(QueueSpec("email", 4 * 3600, LogNormal(0.6), None, float("inf"),
                            priority=-1))
    share = np.array([0.16, 0.14, 0.12, 0.1, 0.1, 0.08, 0.06, 0.05, 0.04, 0.03, 0.08, 0.04])
    aht = np.array([200.0] * 10 + [420.0, 300.0])
    weekly = 1_000_000
    volume = share[:, None] * profile[None, :] / profile.sum() * weekly
    ranks = np.full((agents, len(queues)), -1, dtype=np.int64)
    for a in range(agents):
        primary = rng.choice(10, p=share[:10] / share[:10].sum())
        ranks[a, primary] = 0
        second = rng.choice([x for x in range(10) if x != primary])
        ranks[a, second] = 1
        ranks[a, 10 if a % 3 == 0 else 11] = 2
    return SimulationModel(
        queues=tuple(queues), volume=volume, aht_s=np.repeat(aht[:, None], nt, axis=1),
        agent_ids=tuple(f"ag{a}" for a in range(agents)), skill_rank=ranks,
        seg_agent=np.arange(agents), seg_start_s=np.zeros(agents),
        seg_end_s=np.full(agents, nt * interval_s), interval_s=interval_s)


def with_policies(m: SimulationModel) -> SimulationModel:
    """The week with the new router: groups by primary language, oldest across skills,
    proficiency, each voice queue to its primary-language group first, then after 30 s to
    the agents having it as second language."""
    rank = np.asarray(m.skill_rank)
    primary = np.argmax(rank == 0, axis=1)
    second = np.argmax(rank == 1, axis=1)
    group_ids = tuple(f"{m.queues[p].id}/{m.queues[s].id}" for p, s in zip(
        primary, second, strict=True))
    ids = tuple(sorted(set(group_ids)))
    agent_group = np.array([ids.index(g) for g in group_ids], dtype=np.int64)
    overflow = []
    for q in range(10):
        first = tuple(g for g in ids if g.startswith(m.queues[q].id + "/"))
        then = tuple(g for g in ids if g.endswith("/" + m.queues[q].id))
        overflow.append(Overflow(m.queues[q].id, first + then,
                                 (0.0,) * len(first) + (30.0,) * len(then)))
    return m.with_(group_ids=ids, agent_group=agent_group,
                   routing=RoutingPolicy(agent_selection="oldest", contact_selection="proficiency",
                                         overflow=tuple(overflow)))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="smaller peer runs")
    args = ap.parse_args()
    peer_days = 10 if args.quick else 40
    print(f"cores: {os.cpu_count()}")
    run_openwfm(1)  # load / compile the numba kernels once
    run_openwfm(1, policies=True)
    n_o, t_o, ab_o = run_openwfm(500)
    n_p, t_p, ab_p = run_openwfm(500, policies=True)
    n_c, t_c, ab_c = run_ciw(peer_days * 480.0)
    n_s, t_s, ab_s = run_simpy(peer_days * 480.0)
    rate_o, rate_c, rate_s = n_o / t_o, n_c / t_c, n_s / t_s
    rate_p = n_p / t_p
    print("M/M/12+M (R5 case), one core each")
    print(f"  openwfm : {n_o:>9,} contacts in {t_o:6.2f} s = {rate_o:>12,.0f}/s  "
          f"P(abandon) {ab_o:.4f}")
    print(f"  openwfm, policies on: {n_p:>9,} contacts in {t_p:6.2f} s = {rate_p:>12,.0f}/s  "
          f"P(abandon) {ab_p:.4f}")
    print(f"  ciw     : {n_c:>9,} contacts in {t_c:6.2f} s = {rate_c:>12,.0f}/s  "
          f"P(abandon) {ab_c:.4f}")
    print(f"  simpy   : {n_s:>9,} contacts in {t_s:6.2f} s = {rate_s:>12,.0f}/s  "
          f"P(abandon) {ab_s:.4f}")
    print(f"  ratio openwfm / ciw   = {rate_o / rate_c:8.1f}x  (goal >= 50x)")
    print(f"  ratio openwfm with policies on / ciw = {rate_p / rate_c:8.1f}x  (goal >= 50x)")
    print(f"  ratio openwfm / simpy = {rate_o / rate_s:8.1f}x")

    m = week_model()
    simulate(m.with_(volume=m.volume[:, :48] * 0.01, aht_s=m.aht_s[:, :48]), 1, 0)  # warm
    t0, c0 = time.perf_counter(), time.process_time()
    res = simulate(m, replications=1, seed=3, backend="serial")
    t_week, c_week = time.perf_counter() - t0, time.process_time() - c0
    t1 = time.perf_counter()
    q = res.queues
    t_kpi = time.perf_counter() - t1
    print(f"500-agent multi-skill week: {len(res.log):,} contacts simulated in {t_week:.2f} s "
          f"wall, {c_week:.2f} s CPU (goal < 10 s), KPIs in {t_kpi:.2f} s")
    print(f"  service level by queue: {np.round(q.service_level.to_numpy(), 3).tolist()}")
    mp = with_policies(m)
    simulate(mp.with_(volume=m.volume[:, :48] * 0.01, aht_s=m.aht_s[:, :48]), 1, 0)  # warm
    t0, c0 = time.perf_counter(), time.process_time()
    resp = simulate(mp, replications=1, seed=3, backend="serial")
    print(f"  policies on (oldest, proficiency, overflow after 30 s): {len(resp.log):,} "
          f"contacts in {time.perf_counter() - t0:.2f} s wall, "
          f"{time.process_time() - c0:.2f} s CPU; service level by queue: "
          f"{np.round(resp.queues.service_level.to_numpy(), 3).tolist()}")
    for backend in ("serial", "threads"):
        t0 = time.perf_counter()
        res8 = simulate(m, replications=4, seed=3, backend=backend)
        t8 = time.perf_counter() - t0
        print(f"  4 replications, {backend:7} backend ({os.cpu_count()} cores): "
              f"{len(res8.log):,} contacts in {t8:.2f} s = {len(res8.log) / t8:,.0f}/s")
    t0, c0 = time.perf_counter(), time.process_time()
    msk = simulate(simple_msk_model(), replications=1000, seed=1, backend="serial")
    print(f"SimpleMSK, 1,000 days: {len(msk.log):,} contacts in "
          f"{time.perf_counter() - t0:.2f} s wall, {time.process_time() - c0:.2f} s CPU")
    print(f"  load average during the run: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
