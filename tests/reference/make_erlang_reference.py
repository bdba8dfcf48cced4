"""Generate tests/reference/erlang_mpmath.csv: Erlang B / C / A values at 50 digits.

Independent of openwfm (imports only mpmath): written from the textbook formulas.

- Erlang B: B(n, a) = (a^n / n!) / sum_{k<=n} a^k / k! = a^n e^-a / Gamma(n+1, a).
- Erlang C: C = n B / (n - a (1 - B)); SL = 1 - C exp(-(n - a) t / aht);
  ASA = C aht / (n - a); occupancy = a / n (Gans, Koole & Mandelbaum 2003, section 4).
- Erlang A (Garnett, Mandelbaum & Reiman 2002): x = n mu / theta, y = lambda / theta,
  A(x, y) = x e^y y^-x gamma(x, y) (as an integral); P(wait) = A B / (1 - B + A B);
  P(abandon | wait) = 1 / (rho A) + 1 - 1 / rho, rho = a / n; occupancy = a (1 - P(ab)) / n.
  Wait distribution of a delayed contact (Mandelbaum & Zeltyn 2007): the density of
  v = theta * offered wait, weighted by the probability exp(-v) of still being there, is
  (x / A) exp(-(x + 1) v + y (1 - exp(-v))); SL and ASA are its integrals (mpmath.quad):
  SL = 1 - P(wait) + P(wait) (x/A) int_0^{theta t} ..., ASA = P(wait) (x/A) / theta
  int_0^inf v ... dv / (1 - P(ab)).
- required_agents: brute-force scan upward (from 0 for Erlang A; from floor(a) + 1 for
  Erlang C, since n <= a is unstable) for SL >= 0.8 within 20 s.

Run: .venv/bin/python tests/reference/make_erlang_reference.py  (a few minutes)
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import mpmath as mp

mp.mp.dps = 50
SOURCE = "mpmath 50 digits, textbook formulas (make_erlang_reference.py)"
OUT = Path(__file__).with_name("erlang_mpmath.csv")


def erlang_b(n: int, a: mp.mpf) -> mp.mpf:
    return mp.power(a, n) * mp.exp(-a) / mp.gammainc(n + 1, a)


def erlang_c_metrics(n: int, a: mp.mpf, aht: mp.mpf, t: mp.mpf) -> dict[str, mp.mpf]:
    b = erlang_b(n, a)
    if n <= a:
        return {"service_level": mp.mpf(0), "asa_s": mp.inf, "p_wait": mp.mpf(1),
                "occupancy": mp.mpf(1), "erlang_b": b}
    c = n * b / (n - a * (1 - b))
    return {"service_level": 1 - c * mp.exp(-(n - a) * t / aht), "asa_s": c * aht / (n - a),
            "p_wait": c, "occupancy": a / n, "erlang_b": b}


def _integral(f, x: mp.mpf, y: mp.mpf, upper, s: int = 1) -> mp.mpf:
    """Integrate f(v) exp(phi(v) - phi_max), phi(v) = -(x + s) v + y (1 - e^-v), over
    [0, upper] with breakpoints around the peak."""

    def phi(v):
        return -(x + s) * v + y * (1 - mp.exp(-v))

    peak = mp.log(y / (x + s)) if y > x + s else mp.mpf(0)
    width = 1 / mp.sqrt(max(y, x + s, mp.mpf(1)))
    top = phi(peak)
    pts = sorted({mp.mpf(0), *(peak + k * width for k in (-40, -10, -4, -1, 0, 1, 4, 10, 40))})
    pts = [p for p in pts if p >= 0]
    if upper != mp.inf:
        pts = [p for p in pts if p < upper] + [upper]
    else:
        pts.append(mp.inf)
    val = mp.quad(lambda v: f(v) * mp.exp(phi(v) - top), pts)
    return val, top


def erlang_a_metrics(n: int, a: mp.mpf, aht: mp.mpf, t: mp.mpf, pat: mp.mpf):
    theta = 1 / pat
    mu = 1 / aht
    lam = a * mu
    x = n * mu / theta
    y = lam / theta
    b = erlang_b(n, a)
    # A(x, y) = x e^y y^-x gamma(x, y) = x int_0^inf exp(-x v + y (1 - e^-v)) dv
    ia, topa = _integral(lambda v: 1, x, y, mp.inf, s=0)
    big_a = x * ia * mp.exp(topa)
    pw = big_a * b / (1 - b + big_a * b)
    rho = a / n
    pab = pw * (1 / (rho * big_a) + 1 - 1 / rho)
    within, top = _integral(lambda v: 1, x, y, theta * t)
    sl = 1 - pw + pw * (x / big_a) * within * mp.exp(top)
    wsum, top2 = _integral(lambda v: v, x, y, mp.inf)
    asa = pw * (x / big_a) * wsum * mp.exp(top2) / theta / (1 - pab)
    return {"service_level": sl, "asa_s": asa, "p_wait": pw, "p_abandon": pab,
            "occupancy": a * (1 - pab) / n, "erlang_b": b}


def required(a, aht, t, pat, target=mp.mpf("0.8")) -> int:
    if pat is None:
        n = int(mp.floor(a)) + 1
        while erlang_c_metrics(n, a, aht, t)["service_level"] < target:
            n += 1
        return n
    n = 1
    while erlang_a_metrics(n, a, aht, t, pat)["service_level"] < target:
        n += 1
    return n


def fmt(v) -> str:
    if v is None:
        return ""
    if v == mp.inf:
        return "inf"
    return mp.nstr(v, 25, min_fixed=-1000, max_fixed=1000)


def main() -> None:
    rows = []
    cols = ["source", "model", "agents", "traffic_erl", "aht_s", "answer_within_s", "patience_s",
            "erlang_b", "service_level", "asa_s", "p_wait", "p_abandon", "occupancy",
            "required_agents_sl80_20s"]
    for a_s in ["0.01", "0.5", "1", "2.5", "7.3", "10", "48", "100", "333.3", "1000", "5000",
                "20000"]:
        a = mp.mpf(a_s)
        for aht_s, t_s in (("180", "20"), ("240", "60")):
            aht, t = mp.mpf(aht_s), mp.mpf(t_s)
            sq = math.sqrt(float(a))
            ns = sorted({max(1, int(float(a) * 0.5)), int(float(a)) + 1,
                         *(int(float(a) + k * sq) + 1 for k in (0.5, 1, 2, 3))})
            req = required(a, aht, t, None) if aht_s == "180" else None
            for n in ns:
                m = erlang_c_metrics(n, a, aht, t)
                rows.append({"source": SOURCE, "model": "erlang_c", "agents": n,
                             "traffic_erl": a_s, "aht_s": aht_s, "answer_within_s": t_s,
                             "patience_s": "", **{k: fmt(v) for k, v in m.items()},
                             "p_abandon": "", "required_agents_sl80_20s": req or ""})
    for a_s in ["0.01", "1", "10", "48", "100", "500", "2000", "20000"]:
        a = mp.mpf(a_s)
        for pat_s in ("30", "300", "3000"):
            aht, t, pat = mp.mpf("180"), mp.mpf("20"), mp.mpf(pat_s)
            sq = math.sqrt(float(a))
            ns = sorted({max(1, int(float(a) * 0.8)), max(1, int(float(a))),
                         *(int(float(a) + k * sq) + 1 for k in (0, 1, 2))})
            req = required(a, aht, t, pat) if float(a) <= 48 else None
            for n in ns:
                m = erlang_a_metrics(n, a, aht, t, pat)
                rows.append({"source": SOURCE, "model": "erlang_a", "agents": n,
                             "traffic_erl": a_s, "aht_s": "180", "answer_within_s": "20",
                             "patience_s": pat_s, **{k: fmt(v) for k, v in m.items()},
                             "required_agents_sl80_20s": req or ""})
        print("erlang_a", a_s, flush=True)
    # heavily overloaded, very patient queues (few agents): the long-queue regime
    for a_s in ["500", "20000"]:
        a, aht, t, pat = mp.mpf(a_s), mp.mpf("180"), mp.mpf("20"), mp.mpf("1000000")
        for n in (1, int(float(a)) // 2, int(float(a)) - 1):
            m = erlang_a_metrics(n, a, aht, t, pat)
            rows.append({"source": SOURCE, "model": "erlang_a", "agents": n,
                         "traffic_erl": a_s, "aht_s": "180", "answer_within_s": "20",
                         "patience_s": "1000000", **{k: fmt(v) for k, v in m.items()},
                         "required_agents_sl80_20s": ""})
    with OUT.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=cols)
        w.writeheader()
        w.writerows(rows)
    print(f"wrote {len(rows)} rows to {OUT}")


if __name__ == "__main__":
    main()
