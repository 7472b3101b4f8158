#!/usr/bin/env python3
"""Golden values for core/src/analysis/signal/savgol.rs (checked by core/tests/signal_savgol.rs).

Regenerate (from the repository root, with a Python that has numpy and scipy, e.g. the venv scripts/test.sh makes):
    python3 tests/golden/signal/make_savgol_golden.py
which overwrites tests/golden/signal/savgol_golden.json. Generated with numpy 2.4.6 / scipy 1.17.1
(the versions actually used are recorded in the JSON under "versions").

Contents:
  coeffs:  scipy.signal.savgol_coeffs(window_length, polyorder, deriv, delta) (pos=None, use='conv')
  filters: scipy.signal.savgol_filter(x, window_length, polyorder, deriv, delta) (mode='interp')
           on a seeded random walk (default_rng(0), 300 points), a noisy sine (1000 points),
           and a signal exactly window_length long.
Floats are written with repr(), i.e. full round-trip precision.
"""
import json
import os

import numpy as np
import scipy
from scipy.signal import savgol_coeffs, savgol_filter

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "savgol_golden.json")

COEFF_CASES = [
    # (window_length, polyorder, deriv, delta)
    (5, 2, 0, 1.0),
    (7, 3, 0, 1.0),
    (11, 4, 0, 1.0),
    (21, 2, 0, 1.0),
    (9, 2, 1, 1.0),
    (9, 3, 2, 0.5),
    (6, 2, 0, 1.0),
    (6, 2, 1, 1.0),
    (5, 1, 2, 1.0),  # deriv > polyorder: zeros
]

FILTER_PARAMS = [(11, 3, 0), (31, 2, 0), (15, 4, 1), (7, 2, 2)]


def main():
    rng = np.random.default_rng(0)
    walk = np.cumsum(rng.standard_normal(300))
    t = np.arange(1000) / 100.0
    sine = np.sin(2.0 * np.pi * 0.7 * t) + 0.2 * rng.standard_normal(1000)
    exact11 = rng.standard_normal(11)
    exact8 = rng.standard_normal(8)

    coeffs = []
    for wl, po, d, delta in COEFF_CASES:
        c = savgol_coeffs(wl, po, deriv=d, delta=delta)
        coeffs.append({"window_length": wl, "polyorder": po, "deriv": d, "delta": delta,
                       "coeffs": [float(v) for v in c]})

    signals = {"walk": walk, "sine": sine, "exact11": exact11, "exact8": exact8}
    cases = [("walk", wl, po, d, 1.0) for wl, po, d in FILTER_PARAMS]
    cases += [("sine", wl, po, d, 0.01) for wl, po, d in FILTER_PARAMS]
    cases += [("exact11", 11, 3, 0, 1.0), ("exact11", 11, 4, 1, 0.5),
              ("exact8", 8, 3, 0, 1.0), ("exact8", 8, 2, 1, 1.0)]
    filters = []
    for name, wl, po, d, delta in cases:
        y = savgol_filter(signals[name], wl, po, deriv=d, delta=delta)
        filters.append({"signal": name, "window_length": wl, "polyorder": po, "deriv": d,
                        "delta": delta, "y": [float(v) for v in y]})

    doc = {
        "versions": {"numpy": np.__version__, "scipy": scipy.__version__},
        "signals": {k: [float(v) for v in s] for k, s in signals.items()},
        "coeffs": coeffs,
        "filters": filters,
    }
    with open(OUT, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
