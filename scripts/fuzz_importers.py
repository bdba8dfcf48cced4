"""Fuzz the importers (issue 18): mutated call logs and interval reports must be read, or
refused with `InputError` naming where; never another exception, never a hang.

Each case starts from a valid file (a generic CSV call log, an Anonymous Bank TSV log, an
interval report) and applies up to four mutations drawn by hypothesis: a cell replaced by a
hostile token (``1e300``, ``nan``, ``-1``, ``1,234``, ``1:75``, a NUL, an emoji...), a
character deleted or inserted, a delimiter added or removed, a header name duplicated or
misspelt, lines swapped, duplicated or removed, the file cut anywhere, CRLF line ends, a BOM,
another encoding (UTF-16, Latin-1). The importer then runs through to its aggregate (calls:
`aggregate_intervals`; intervals: `write_interval_csv`), where an overflow would surface.

Usage::

    python scripts/fuzz_importers.py --cases 10000   # prints cases run, crashes, refusals

Exit status 1 if any case crashed (the first crashes are printed with their input).
``tests/test_bad_inputs.py`` runs a bounded slice of the same strategy.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import traceback
from pathlib import Path

from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from openwfm.errors import InputError

CALLS_CSV = (
    "call_id,arrival,queue,outcome,wait_s,handle_s,agent,priority\n"
    "1,2026-03-02T08:00:05Z,fr,served,12,180,a1,1\n"
    "2,2026-03-02T08:07:00Z,fr,abandoned,40,,,1\n"
    "3,2026-03-02T08:31:10Z,nl,served,0:45,3:10,a2,2\n"
    "4,2026-03-02T09:02:00Z,fr,other,0,,,\n"
    "5,2026-03-02T09:15:30Z,nl,served,3,95,a1,2\n"
)
BANK_TSV = (
    "vru+line\tcall_id\tcustomer_id\tpriority\ttype\tdate\tvru_entry\tvru_exit\tvru_time\t"
    "q_start\tq_exit\tq_time\toutcome\tser_start\tser_exit\tser_time\tserver\n"
    "AA0101\t34536\t0\t0\tPS\t990201\t7:02:47\t7:02:56\t9\t0:00:00\t0:00:00\t0\tAGENT\t"
    "7:02:55\t7:05:41\t166\tDORIT\n"
    "AA0101\t34537\t27001\t2\tPS\t990201\t7:31:45\t7:31:55\t10\t7:31:55\t7:32:40\t45\tHANG\t"
    "0:00:00\t0:00:00\t0\tNO_SERVER\n"
    "AA0102\t34540\t0\t1\tNE\t990201\t8:10:00\t8:10:12\t12\t8:10:12\t8:10:30\t18\tAGENT\t"
    "8:10:30\t8:14:00\t210\tMICHAL\n"
)
INTERVALS_CSV = (
    "interval_start,queue,volume,handled,aht_s,service_level\n"
    "2026-03-02T08:00:00+01:00,fr,12,11,3:05,85%\n"
    "2026-03-02T08:30:00+01:00,fr,9,9,170,0.9\n"
    "2026-03-02T08:00:00+01:00,nl,4,4,200,1\n"
    "2026-03-02T08:30:00+01:00,nl,0,0,,\n"
)
SOURCES = {"calls": CALLS_CSV, "bank": BANK_TSV, "intervals": INTERVALS_CSV}

TOKENS = ["", " ", "0", "-1", "1e300", "-1e300", "1e20", "nan", "inf", "NaN", "1,234",
          "1.234,5", "1:75", "99:99:99", "25:00", "0:00:00", "12", "3.5", "x", "\x00", "\"",
          "\"unclosed", "😀", "2026-02-30T08:00:00Z", "2026-03-29T02:30:00", "990231",
          "AGENT", "HANG", "served", "abandoned", "other", "fr", "1e300e", "--", "\t", ";",
          "2026-03-02T08:00:05Z", "9" * 40]


def _mutate_text(text: str, draw) -> str:
    lines = text.split("\n")
    kind = draw(st.sampled_from([
        "cell", "cell", "cell", "delete_char", "insert_char", "add_delimiter",
        "drop_delimiter", "header_dup", "header_typo", "swap_lines", "dup_line", "drop_line",
        "truncate", "blank_line"]))
    sep = "\t" if "\t" in lines[0] else ","
    if kind == "cell":
        i = draw(st.integers(0, len(lines) - 1))
        cells = lines[i].split(sep)
        j = draw(st.integers(0, max(len(cells) - 1, 0)))
        token = draw(st.sampled_from(TOKENS) | st.text(max_size=8))
        if cells:
            cells[j] = token
        lines[i] = sep.join(cells)
    elif kind in ("delete_char", "insert_char", "truncate") and text:
        pos = draw(st.integers(0, len(text) - 1))
        if kind == "delete_char":
            return text[:pos] + text[pos + 1:]
        if kind == "truncate":
            return text[:pos]
        return text[:pos] + draw(st.sampled_from([",", "\t", "\"", "\n", ":", "-", "e", "9",
                                                  "\r"])) + text[pos:]
    elif kind == "add_delimiter":
        i = draw(st.integers(0, len(lines) - 1))
        lines[i] = lines[i] + sep
    elif kind == "drop_delimiter":
        i = draw(st.integers(0, len(lines) - 1))
        lines[i] = lines[i].replace(sep, "", 1)
    elif kind == "header_dup":
        cells = lines[0].split(sep)
        cells[-1] = cells[draw(st.integers(0, len(cells) - 1))]
        lines[0] = sep.join(cells)
    elif kind == "header_typo":
        cells = lines[0].split(sep)
        j = draw(st.integers(0, len(cells) - 1))
        cells[j] = cells[j][:-1] or "x"
        lines[0] = sep.join(cells)
    elif kind in ("swap_lines", "dup_line", "drop_line", "blank_line") and len(lines) > 1:
        i = draw(st.integers(1, len(lines) - 1))
        if kind == "swap_lines":
            j = draw(st.integers(1, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif kind == "dup_line":
            lines.insert(i, lines[i])
        elif kind == "drop_line":
            del lines[i]
        else:
            lines.insert(i, "")
    return "\n".join(lines)


@st.composite
def mutated_file(draw, source: str | None = None) -> tuple[str, bytes]:
    """(source name, file bytes): a valid file with 1-4 mutations and an encoding."""
    name = source or draw(st.sampled_from(sorted(SOURCES)))
    text = SOURCES[name]
    for _ in range(draw(st.integers(1, 4))):
        text = _mutate_text(text, draw)
    if draw(st.booleans()):
        text = text.replace("\n", "\r\n")
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8", "utf-8-sig", "utf-16",
                                     "latin-1"]))
    return name, text.encode(encoding, errors="replace")


def run_importer(name: str, data: bytes, folder: Path) -> str:
    """Read and aggregate one file; ``"ok"`` or ``"refused"``. Any other exception is a
    crash and propagates."""
    from openwfm.io.calllog import aggregate_intervals, read_call_log
    from openwfm.io.intervals import read_interval_csv, write_interval_csv

    path = folder / ("log.tsv" if name == "bank" else "in.csv")
    path.write_bytes(data)
    try:
        if name == "intervals":
            table = read_interval_csv(path, tz="Europe/Paris")
            write_interval_csv(table, folder / "out.csv")
        else:
            fmt = "anonymous_bank" if name == "bank" else "csv"
            tz = "Asia/Jerusalem" if name == "bank" else None
            calls = read_call_log(path, format=fmt, tz=tz)
            agg = aggregate_intervals(calls, interval_s=1800, tz=tz or "UTC")
            assert len(agg) > 0
    except InputError as exc:
        message = str(exc)
        assert "\n" not in message.strip(), message
        assert "np.int64" not in message and "np.float64" not in message, message
        return "refused"
    return "ok"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    counts = {"ok": 0, "refused": 0, "crash": 0}
    crashes: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="openwfm-fuzz-"))

    @seed(args.seed)
    @settings(max_examples=args.cases, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=mutated_file())
    def fuzz(case: tuple[str, bytes]) -> None:
        name, data = case
        try:
            counts[run_importer(name, data, folder)] += 1
        except Exception:
            counts["crash"] += 1
            if len(crashes) < 5:
                crashes.append(f"{name} {data[:400]!r}\n{traceback.format_exc()}")

    t0 = time.perf_counter()
    fuzz()
    seconds = time.perf_counter() - t0
    total = sum(counts.values())
    print(f"fuzz_importers: {total:,} cases in {seconds:.0f} s: {counts['ok']:,} read, "
          f"{counts['refused']:,} refused with InputError, {counts['crash']} crashes")
    for c in crashes:
        print(c, file=sys.stderr)
    return 1 if counts["crash"] else 0


if __name__ == "__main__":
    sys.exit(main())
