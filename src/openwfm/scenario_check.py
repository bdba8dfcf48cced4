"""Validate a whole scenario (every section and the files it names) and summarize it; write
a starter scenario from a history file.

`check_scenario` is what ``openwfm scenario check`` prints and what an API would return:
it loads the scenario (`openwfm.scenario.load_scenario`), converts each optional section
with its package (``[scheduling]``: `openwfm.scheduling.model.parse_config`, with the
availability, history and preferences files; ``[capacity]``:
`openwfm.capacity.config.parse_capacity`; ``[demo]``:
`openwfm.demo.history.parse_history_model`), resolves every site's labour pack, and reads
the history file when one is named. The first problem raises `InputError`.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pandas as pd

from openwfm.errors import InputError, shown
from openwfm.labour import RulePack, rule_pack_for
from openwfm.scenario import Scenario, load_scenario, scenario_from_dict
from openwfm.schema import Channel

__all__ = ["ScenarioSummary", "check_scenario", "starter_toml"]

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class ScenarioSummary:
    """What a valid scenario holds (``openwfm scenario check``)."""

    scenario: Scenario
    packs: tuple[tuple[str, RulePack], ...]
    """(site, labour pack version in force on plan_start)."""
    queues_per_channel: tuple[tuple[str, int], ...]
    agents_per_site: tuple[tuple[str, int], ...]
    weeks: float
    sections: tuple[str, ...]
    """Optional sections present and valid: scheduling, capacity, demo."""
    history_rows: int | None = None
    history_span: tuple[pd.Timestamp, pd.Timestamp] | None = None

    def lines(self) -> list[tuple[str, str]]:
        """(what, value) rows for a terminal table."""
        sc = self.scenario
        out = [("scenario", f"{sc.name} ({sc.source})"),
               ("plan", f"{sc.plan_start} + {sc.plan_days} days ({self.weeks:g} week(s)) "
                        f"from 00:00 {sc.plan_tz}, {sc.interval_s // 60}-min intervals"),
               ("sites", ", ".join(f"{s.name} ({s.tz}, {s.seats} seats)" for s in sc.sites)),
               ("queues", f"{len(sc.queues)}: " + ", ".join(
                   f"{ch} {n}" for ch, n in self.queues_per_channel)),
               ("agents", f"{len(sc.agents)}: " + ", ".join(
                   f"{site} {n}" for site, n in self.agents_per_site))]
        for site, p in self.packs:
            weekend = "-".join(_DAYS[d] for d in p.weekend_days) or "none"
            out.append((f"labour pack {site}",
                        f"{p.name} (from {p.effective_from}): {p.max_weekly_h:g} h/week, "
                        f"{p.max_daily_h:g} h/day, {p.min_days_off} days off "
                        f"({p.min_consecutive_days_off} in a row), weekend {weekend}, night "
                        f"{p.night_start_h:g}-{p.night_end_h:g} h"))
        if self.history_span is not None:
            a, b = self.history_span
            out.append(("history", f"{self.history_rows:,} rows, {a:%Y-%m-%d %H:%M} .. "
                                   f"{b:%Y-%m-%d %H:%M} UTC"))
        out.append(("sections", ", ".join(self.sections) or "none"))
        return out


def check_scenario(path: str | Path) -> ScenarioSummary:
    """Load and validate the scenario at `path`, every section and file it names.

    Raises
    ------
    InputError
        The first problem, naming the file and the key path (or CSV row and column).
    """
    from openwfm.scheduling.model import scenario_config

    sc = load_scenario(path)
    file = str(sc.source)
    cfg = scenario_config(sc)  # always: the defaults are valid too; reads its CSV files
    packs = tuple((s.name, rule_pack_for(s.rules or s.country, sc.plan_start,
                                         cfg.rule_packs, file=file, key=f"sites[{i}].rules"))
                  for i, s in enumerate(sc.sites))
    sections = ["scheduling"] if "scheduling" in sc.extra else []
    if "capacity" in sc.extra:
        from openwfm.capacity.config import parse_capacity

        parse_capacity(sc)
        sections.append("capacity")
    if "demo" in sc.extra:
        from openwfm.demo.history import parse_history_model

        parse_history_model(sc, file)
        sections.append("demo")
    rows = span = None
    if sc.history_path is not None:
        from openwfm.io.intervals import read_interval_csv

        t = read_interval_csv(sc.history_path, tz=sc.plan_tz, interval_s=sc.interval_s)
        unknown = sorted(set(t.queues) - {q.id for q in sc.queues})
        if unknown:
            raise InputError(f"history queue(s) {shown(unknown[:5])} are not scenario queues",
                             file=str(sc.history_path), column="queue")
        rows, span = len(t.frame), t.span
    channels = Counter(q.channel.value for q in sc.queues)
    sites = Counter(a.site for a in sc.agents)
    return ScenarioSummary(
        scenario=sc, packs=packs,
        queues_per_channel=tuple((c.value, channels[c.value]) for c in Channel
                                 if channels[c.value]),
        agents_per_site=tuple((s.name, sites[s.name]) for s in sc.sites),
        weeks=sc.plan_days / 7, sections=tuple(sections), history_rows=rows,
        history_span=span)


def _channel_guess(queue: str) -> Channel:
    q = queue.lower()
    if "chat" in q:
        return Channel.CHAT
    if "mail" in q:
        return Channel.EMAIL
    return Channel.VOICE


_GOALS = {Channel.VOICE: (0.8, 20), Channel.CHAT: (0.8, 60), Channel.EMAIL: (0.9, 14400)}


def starter_toml(queues: tuple[str, ...], interval_s: int, history_end: pd.Timestamp, *,
                 history: str, name: str = "My contact center", site_tz: str = "UTC",
                 country: str = "US") -> str:
    """A commented starter scenario for the `queues` of a history file.

    The plan starts on the first Monday on or after the history's end (UTC date) and lasts
    one week; queue channels are guessed from their names (``chat``, ``mail``, else
    voice) with usual goals (voice 80/20 s, chat 80/60 s, email 90 % in 4 h); one site
    with the ``default`` labour pack. The text loads with `scenario_from_dict`.

    Examples
    --------
    >>> text = starter_toml(("sales", "support-chat"), 1800,
    ...                     pd.Timestamp("2026-03-28 00:00", tz="UTC"), history="h.csv")
    >>> import tomllib
    >>> raw = tomllib.loads(text)
    >>> raw["plan_start"], raw["interval_s"], [q["channel"] for q in raw["queues"]]
    ('2026-03-30', 1800, ['voice', 'chat'])
    """
    end = history_end.tz_convert("UTC").date()
    start = end + timedelta(days=(7 - end.weekday()) % 7)
    lines = [
        f"# openwfm scenario: a starter written by `openwfm scenario new` from {history}.",
        "# Every key is documented in docs/scenario.md (`openwfm scenario docs`); check the",
        "# file with `openwfm scenario check THIS.toml`. Edit the lines marked EDIT.",
        "",
        f'name = "{name}"',
        f"interval_s = {interval_s}                 # inferred from the history's steps",
        f'plan_start = "{start.isoformat()}"     # the first Monday after the history',
        "plan_days = 7",
        'plan_tz = "UTC"',
        "shrinkage = 0.30                # paid time not productive (breaks, meetings, "
        "absence)",
        f'history = "{history}"',
        '# agents = "agents.csv"         # EDIT: id,name,site,skills,contract_hours '
        "(skills ;-separated)",
        "",
        "[[sites]]",
        'name = "Main site"              # EDIT',
        f'country = "{country}"                 # EDIT: ISO country code',
        f'tz = "{site_tz}"                     # EDIT: the site\'s IANA time zone',
        "seats = 50                      # EDIT: workstations",
        "cost_per_hour = 10.0            # EDIT: fully loaded cost of a paid agent-hour",
        'rules = "default"               # labour pack: 48 h/week, 10 h/day (see '
        "docs/scenario.md)",
        "",
    ]
    for q in queues:
        ch = _channel_guess(q)
        sl, within = _GOALS[ch]
        lines += [
            "[[queues]]",
            f'id = "{q}"',
            f'client = "{q}"                  # EDIT: the client company',
            f'channel = "{ch.value}"              # guessed from the name: voice, chat or '
            "email",
            'language = "en"                 # EDIT',
            f'market = "{country}"                  # EDIT: customers\' country (holidays)',
            f'tz = "{site_tz}"                     # EDIT: customers\' time zone',
            f"sl_target = {sl}",
            f"answer_within_s = {within}",
        ]
        if ch is Channel.CHAT:
            lines.append("concurrency = 2                 # chats per agent at once")
        if ch is Channel.VOICE:
            lines.append("# patience_s = 180             # mean patience: Erlang A "
                         "(absent: Erlang C)")
        lines.append("")
    lines += [
        "[scheduling]                    # every key optional (docs/scenario.md)",
        "time_limit_s = 30",
        "",
        "[[scheduling.shifts]]",
        'name = "any"',
        "start_step_min = 30",
        "lengths_h = [8.5, 9.0]",
        "",
    ]
    text = "\n".join(lines)
    scenario_from_dict(tomllib.loads(text), base=Path("."), file="<starter>")  # stays valid
    return text

