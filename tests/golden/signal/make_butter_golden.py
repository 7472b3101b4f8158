"""Golden values for mesmerize_core::analysis::signal::{butter, filtfilt} (core/tests/signal_butter.rs).

Regenerate (from the repository root, with a Python that has numpy and scipy, e.g. the venv scripts/test.sh makes):
    python3 tests/golden/signal/make_butter_golden.py
which overwrites tests/golden/signal/butter_golden.json.

Pinned versions used for the committed JSON: Python 3 with numpy 2.4.6 and scipy 1.17.1
(the exact versions are also written into the JSON under "versions").
Floats are written with Python's shortest round-trip repr (json.dump), nothing is rounded.
"""

import json
import os
import platform

import numpy as np
import scipy
from scipy import signal

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "butter_golden.json")


def floats(v):
    return [float(t) for t in np.asarray(v, dtype=np.float64).ravel()]


DESIGNS = [
    ("lowpass", [0.05]),
    ("lowpass", [0.3]),
    ("lowpass", [0.9]),
    ("highpass", [0.1]),
    ("highpass", [0.5]),
    ("bandpass", [0.1, 0.4]),
    ("bandstop", [0.2, 0.3]),
]


def design(order, btype, wn):
    w = wn[0] if len(wn) == 1 else wn
    return signal.butter(order, w, btype=btype, analog=False, output="ba")


def main():
    out = {
        "versions": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "scipy": scipy.__version__,
        },
        "butter": [],
        "lfilter_zi": [],
        "lfilter": [],
        "signals": {},
        "filtfilt": [],
    }

    for order in range(1, 9):
        for btype, wn in DESIGNS:
            b, a = design(order, btype, wn)
            out["butter"].append(
                {"order": order, "btype": btype, "wn": wn, "b": floats(b), "a": floats(a)}
            )

    zi_cases = [(1, "lowpass", [0.3]), (2, "lowpass", [0.1]), (4, "highpass", [0.2]),
                (5, "lowpass", [0.25]), (3, "bandpass", [0.1, 0.4]), (2, "bandstop", [0.2, 0.3])]
    for order, btype, wn in zi_cases:
        b, a = design(order, btype, wn)
        out["lfilter_zi"].append({"order": order, "btype": btype, "wn": wn, "b": floats(b),
                                  "a": floats(a), "zi": floats(signal.lfilter_zi(b, a))})
    # Hand-written (non-normalised a, unequal lengths) case.
    b = np.array([0.5, 0.25, -0.125])
    a = np.array([2.0, -0.5])
    out["lfilter_zi"].append({"order": 0, "btype": "custom", "wn": [], "b": floats(b), "a": floats(a),
                              "zi": floats(signal.lfilter_zi(b, a))})

    rng = np.random.default_rng(0)
    walk = np.cumsum(rng.standard_normal(300))
    t = np.arange(1000)
    sine = np.sin(2 * np.pi * t / 50.0) + 0.3 * rng.standard_normal(1000)
    out["signals"]["walk300"] = floats(walk)
    out["signals"]["sine1000"] = floats(sine)

    # lfilter with and without initial conditions.
    x = sine[:64]
    for order, btype, wn in [(2, "lowpass", [0.1]), (4, "highpass", [0.2])]:
        b, a = design(order, btype, wn)
        zi = signal.lfilter_zi(b, a) * x[0]
        y0 = signal.lfilter(b, a, x)
        y, zf = signal.lfilter(b, a, x, zi=zi)
        out["lfilter"].append({"b": floats(b), "a": floats(a), "x": floats(x), "zi": floats(zi),
                               "y": floats(y), "zf": floats(zf), "y_nozi": floats(y0)})
    b = np.array([0.5, 0.25, -0.125])
    a = np.array([2.0, -0.5])
    y, zf = signal.lfilter(b, a, x, zi=[0.1, -0.2])
    out["lfilter"].append({"b": floats(b), "a": floats(a), "x": floats(x), "zi": [0.1, -0.2],
                           "y": floats(y), "zf": floats(zf), "y_nozi": floats(signal.lfilter(b, a, x))})

    ff_filters = [(2, "lowpass", [0.1]), (4, "highpass", [0.2]), (1, "lowpass", [0.5]),
                  (3, "bandpass", [0.05, 0.25]), (2, "bandstop", [0.2, 0.3])]
    for order, btype, wn in ff_filters:
        b, a = design(order, btype, wn)
        padlen = 3 * max(len(a), len(b))
        for name in ["walk300", "sine1000"]:
            xs = np.asarray(out["signals"][name])
            out["filtfilt"].append({"order": order, "btype": btype, "wn": wn, "b": floats(b),
                                    "a": floats(a), "signal": name, "x": None,
                                    "y": floats(signal.filtfilt(b, a, xs))})
        short = walk[: padlen + 1]
        out["filtfilt"].append({"order": order, "btype": btype, "wn": wn, "b": floats(b),
                                "a": floats(a), "signal": "short", "x": floats(short),
                                "y": floats(signal.filtfilt(b, a, short))})

    with open(OUT, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
