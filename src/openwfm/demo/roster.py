"""The demo center's agent roster, generated from the ``[[demo.roster]]`` groups.

Each group is ``site``, ``skills`` (queue ids), ``count``, ``contract_hours`` and optionally
``min_shift_h``, ``max_shift_h``, ``night_ok``. `build_roster` turns the groups into one row
per agent with a stable id (``CAS-001`` ...) and a seeded name typical of the site's
country; ``python -m openwfm.demo.roster`` rewrites the shipped ``data/agents.csv`` from
``data/demo.toml`` (the test suite checks that the shipped file equals a fresh build).

Examples
--------
>>> from openwfm.demo import demo_scenario
>>> roster = build_roster(demo_scenario())
>>> list(roster.columns)
['id', 'name', 'site', 'skills', 'contract_hours', 'min_shift_h', 'max_shift_h', 'night_ok']
>>> roster.loc[0, "id"]
'MNL-001'
"""

from __future__ import annotations

import sys
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from openwfm.errors import InputError
from openwfm.scenario import Scenario
from openwfm.schema import DemoSpec, RosterSpec, validate

__all__ = ["build_roster", "write_roster"]

_PREFIX = {"MA": "CAS", "PH": "MNL", "CO": "BOG"}
_NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "MA": (("Yassine", "Salma", "Omar", "Imane", "Mehdi", "Khadija", "Anas", "Sara", "Hamza",
            "Meryem", "Karim", "Nadia", "Youssef", "Hajar", "Amine", "Leila", "Reda", "Ines"),
           ("Alaoui", "Benali", "El Idrissi", "Berrada", "Tazi", "Chraibi", "Bennani",
            "El Fassi", "Amrani", "Lahlou", "Ouazzani", "Sebti", "Kettani", "Naciri")),
    "PH": (("Maria", "Jose", "Angelica", "Mark", "Kristine", "John Paul", "Jessa", "Carlo",
            "Rhea", "Paolo", "Camille", "Jerome", "Bea", "Miguel", "Joy", "Rafael"),
           ("Santos", "Reyes", "Cruz", "Bautista", "Garcia", "Mendoza", "Del Rosario",
            "Villanueva", "Ramos", "Aquino", "Castillo", "Navarro", "Soriano", "Tolentino")),
    "CO": (("Valentina", "Santiago", "Camila", "Sebastian", "Daniela", "Andres", "Laura",
            "Juan David", "Mariana", "Felipe", "Natalia", "Carlos", "Paula", "Julian"),
           ("Rodriguez", "Gomez", "Martinez", "Lopez", "Gonzalez", "Hernandez", "Ramirez",
            "Torres", "Vargas", "Moreno", "Rojas", "Castro", "Ortiz", "Jimenez")),
}


def build_roster(scenario: Scenario, seed: int | None = None) -> pd.DataFrame:
    """One row per agent from the scenario's ``[[demo.roster]]`` groups.

    Parameters
    ----------
    scenario : Scenario
        A scenario whose ``extra["demo"]["roster"]`` lists the groups.
    seed : int, optional
        Name seed; default ``[demo] seed``. Ids, skills and hours do not depend on it.

    Returns
    -------
    pandas.DataFrame
        The agents-CSV columns of `openwfm.scenario`: ``id, name, site, skills`` (``;``-
        separated), ``contract_hours, min_shift_h, max_shift_h, night_ok``; agents of a
        site are numbered in group order.
    """
    file = str(scenario.source or "<demo>")
    raw = scenario.extra.get("demo", {})
    groups = validate(list[RosterSpec], raw.get("roster", []), file=file, prefix="demo.roster")
    if not groups:
        raise InputError("the scenario has no [[demo.roster]] groups", file=file,
                         key="demo.roster")
    if seed is None:
        seed = validate(DemoSpec, raw, file=file, prefix="demo").seed
    sites = {s.name: s for s in scenario.sites}
    queues = {q.id for q in scenario.queues}
    counters: dict[str, int] = {}
    rngs: dict[str, np.random.Generator] = {}
    rows = []
    for i, g in enumerate(groups):
        where = f"demo.roster[{i}]"
        site = sites.get(g.site)
        if site is None:
            raise InputError(f"unknown site {g.site!r}; expected one of {sorted(sites)}",
                             file=file, key=f"{where}.site")
        skills = list(g.skills)
        bad = [s for s in skills if s not in queues]
        if bad:
            raise InputError(f"skills must be queue ids; unknown: {bad}", file=file,
                             key=f"{where}.skills")
        count, hours, lo, hi, night = (g.count, g.contract_hours, g.min_shift_h,
                                       g.max_shift_h, g.night_ok)
        first, last = _NAMES.get(site.country, _NAMES["MA"])
        rng = rngs.setdefault(site.name, np.random.default_rng(
            [seed, zlib.crc32(site.name.encode())]))
        prefix = _PREFIX.get(site.country, site.name[:3].upper())
        for _ in range(count):
            counters[site.name] = counters.get(site.name, 0) + 1
            rows.append({
                "id": f"{prefix}-{counters[site.name]:03d}",
                "name": f"{first[rng.integers(len(first))]} {last[rng.integers(len(last))]}",
                "site": site.name,
                "skills": ";".join(skills),
                "contract_hours": hours,
                "min_shift_h": lo,
                "max_shift_h": hi,
                "night_ok": night,
            })
    return pd.DataFrame(rows)


def write_roster(scenario: Scenario, path: str | Path) -> Path:
    """Write `build_roster(scenario)` as an agents CSV (atomically)."""
    from openwfm.io.atomic import atomic_path

    path = Path(path)
    with atomic_path(path) as tmp:
        build_roster(scenario).to_csv(tmp, index=False, lineterminator="\n")
    return path


def main(argv: list[str] | None = None) -> int:
    """Regenerate the shipped ``data/agents.csv`` from ``data/demo.toml``."""
    from openwfm.demo import demo_scenario

    scenario = demo_scenario()
    assert scenario.source is not None
    out = write_roster(scenario, scenario.source.parent / "agents.csv")
    print(f"wrote {out} ({len(scenario.agents)} agents before, "
          f"{len(build_roster(scenario))} now)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
