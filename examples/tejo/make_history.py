"""Write Tejo Contact's history.csv from history-model.toml (seeded, deterministic).

Run from anywhere: ``python examples/tejo/make_history.py [OUT.csv]`` (default: history.csv
next to this file). The model is openwfm.demo.history's (the demo center's generator): each
queue's daily volume, intraday and weekly profile, trend, the market's holidays, handle
times and abandons, drawn from a fixed seed. Nothing reads today's date.
"""

from __future__ import annotations

import argparse
import dataclasses
import tomllib
from pathlib import Path

import pandas as pd

from openwfm.demo.history import generate_history, parse_history_model
from openwfm.scenario import load_scenario

HERE = Path(__file__).resolve().parent


def history() -> pd.DataFrame:
    """The interval table of the example's history (UTC interval starts)."""
    scenario = load_scenario(HERE / "scenario.toml")
    model_file = HERE / "history-model.toml"
    with model_file.open("rb") as fh:
        section = tomllib.load(fh)
    scenario = dataclasses.replace(scenario, extra={**scenario.extra, "demo": section})
    return generate_history(scenario, parse_history_model(scenario, str(model_file)))


def write(path: Path) -> None:
    """Write the history CSV: interval_start (ISO 8601 UTC), queue, volume, aht_s, handled,
    abandoned; handle times to 0.1 s."""
    h = history()
    out = pd.DataFrame({
        "interval_start": h["interval_start"].dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "queue": h["queue"],
        "volume": h["volume"].round(0).astype(int),
        "aht_s": h["aht_s"].round(1),
        "handled": h["handled"].round(0).astype(int),
        "abandoned": h["abandoned"].round(0).astype(int),
    })
    out.to_csv(path, index=False, lineterminator="\n")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", type=Path, default=HERE / "history.csv",
                        help="the CSV to write (default: history.csv next to this file)")
    write(parser.parse_args().out)
