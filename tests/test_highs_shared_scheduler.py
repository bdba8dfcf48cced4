"""HiGHS keeps one task scheduler per process: the schedule LP must still solve after another
HiGHS user (the capacity MIP, scipy's milp) started it with its own thread count. In a
`make test` run the order of tests decides this, so the test sets it up on purpose."""

from __future__ import annotations

import highspy

from openwfm.scheduling import build_problem, parse_config, solve_schedule
from openwfm.scheduling.synthetic import flat_requirement, toy_scenario


def test_schedule_lp_solves_after_another_highs_started_the_scheduler() -> None:
    other = highspy.Highs()
    other.setOptionValue("output_flag", False)
    other.setOptionValue("threads", 2)
    other.addVar(0.0, 1.0)
    other.changeColCost(0, 1.0)
    other.run()  # starts the process-wide scheduler with 2 threads
    sc = toy_scenario(n_agents=2)
    cfg = parse_config({"time_limit_s": 10, "shifts": [{"start_step_min": 60, "lengths_h": [9]}]})
    result = solve_schedule(build_problem(sc, flat_requirement(sc, 1.0), cfg))
    assert result.check.ok, result.check.counts()
    assert result.lp_bound <= result.objective * (1 + 1e-8) + 1e-6  # IPM tolerance


def test_quiet_highs_prints_no_banner(capfd) -> None:
    from openwfm._highs import quiet_highs

    h = quiet_highs()
    h.addVar(0.0, 1.0)
    h.run()
    out, err = capfd.readouterr()
    assert "HiGHS" not in out + err
