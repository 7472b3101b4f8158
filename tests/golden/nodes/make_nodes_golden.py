"""Golden values for the Signal / Math / Data nodes, computed with the libraries the original Mesmerize called.

Pinned versions (what generated nodes_golden.json): numpy 2.4.6, scipy 1.17.1, tslearn 0.10.0.
Regenerate:  python tests/golden/nodes/make_nodes_golden.py   (writes nodes_golden.json next to this file)

Every entry: the node (as `mesmerize node` names it), its parameters, the input curves (rows), the fps, and the
expected output column per row, computed the way the original node computes it.
"""
import json
import os

import numpy as np
from scipy import fftpack, signal, stats, integrate
from tslearn.preprocessing import TimeSeriesScalerMeanVariance

rng = np.random.default_rng(20261126)


def curves(lengths, offset=0.0):
    out = []
    for n in lengths:
        t = np.arange(n)
        x = np.sin(t / 7.0) * 3 + rng.normal(0, 0.5, n) + offset + np.exp(-((t - n / 2) ** 2) / (n / 3.0) ** 2) * 4
        out.append(x)
    return out


cases = []


def case(node, params, rows, expected, column, fps=15.0, extra=None):
    c = {"node": node, "params": params, "fps": fps, "rows": [np.asarray(r, float).tolist() for r in rows],
         "column": column,
         "expected": [np.asarray(e, float).tolist() if np.ndim(e) else float(e) for e in expected]}
    if extra:
        c.update(extra)
    cases.append(c)


eq = curves([60, 60])
odd = curves([61, 61])
pos = [np.abs(r) + 1.0 for r in curves([40, 40])]

for rows in (eq, odd, curves([8, 8]), curves([9, 9])):
    case("RFFT", {}, rows, [fftpack.rfft(r) for r in rows], "_RFFT",
         extra={"frequencies": (fftpack.rfftfreq(len(rows[0])) * 15.0).tolist()})
    spec = [fftpack.rfft(r) for r in rows]
    case("iRFFT", {"data_column": "_RAW_CURVE"}, spec, [fftpack.irfft(s) for s in spec], "_IRFFT")

for rows in (eq, odd, pos):
    case("PowSpecDens", {}, rows, [signal.periodogram(r, fs=15.0)[1] for r in rows], "_POWER_SPECTRAL_DENSITY",
         extra={"frequencies": signal.periodogram(rows[0], fs=15.0)[0].tolist()})
    case("Normalize", {}, rows, [(r - r.min()) / (r - r.min()).max() for r in rows], "_NORMALIZE")
    case("Derivative", {}, rows, [np.gradient(r) for r in rows], "_DERIVATIVE")
    case("AbsoluteValue", {}, rows, [np.abs(r) for r in rows], "_ABSOLUTE_VALUE")
    case("XpowerY", {"Y": 3.0}, rows, [r ** 3.0 for r in rows], "_X_POWER_Y")
    case("LogTransform", {"transform": "modlog10"}, rows, [np.sign(r) * np.log10(np.abs(r) + 1) for r in rows], "_LOG_TRANSFORM")
    case("LogTransform", {"transform": "modln"}, rows, [np.sign(r) * np.log(np.abs(r) + 1) for r in rows], "_LOG_TRANSFORM")
    case("StaticDFoFo", {}, rows, [(r - r.min()) / r.min() for r in rows], "_STATIC_DF_O_F")
    sc = TimeSeriesScalerMeanVariance(mu=0.5, std=2.0)
    case("ScalerMeanVariance", {"mu": 0.5, "std": 2.0}, rows, [sc.fit_transform(r[None, :, None])[0, :, 0] for r in rows],
         "_SCALER_MEAN_VARIANCE")
    case("SavitzkyGolay", {"window_length": 11, "polyorder": 3}, rows,
         [signal.savgol_filter(r, window_length=11, polyorder=3) for r in rows], "_SAVITZKY_GOLAY")
    b, a = signal.butter(2, (1 / 15.0) / 2.0)
    case("Butterworth", {"order": 2, "freq_divisor": 2.0}, rows, [signal.filtfilt(b, a, r) for r in rows], "_BUTTERWORTH")
    b, a = signal.butter(3, 2.0 / (15.0 / 2))
    case("Butterworth", {"order": 3, "cutoff_hz": 2.0}, rows, [signal.filtfilt(b, a, r) for r in rows], "_BUTTERWORTH")
    mad = [np.median(np.abs(r - np.median(r))) for r in rows]
    case("SigmaMAD", {}, rows, mad, "_SIGMAMAD")
    case("SpliceArrays", {"indices": "5:-7"}, rows, [r[5:-7] for r in rows], "_SPLICE_ARRAYS")
    for f in ("amin", "amax", "ptp", "median", "mean", "std", "var", "nanmedian", "nanstd"):
        case("ArrayStats", {"function": f, "output_col": "stat"}, rows, [getattr(np, f)(r) for r in rows], "_STAT")
    lr = [stats.linregress(np.arange(r.size), r) for r in rows]
    for k, name in enumerate(["_SLOPE", "_INTERCEPT", "_R-VALUE", "_P-VALUE", "_STDERR"]):
        case("LinRegress", {}, rows, [x[k] for x in lr], name)
    z = stats.zscore(np.vstack(rows), axis=None)
    case("ZScore", {}, rows, list(z), "_ZSCORE")

# Resample: Rs / Tu new rate, num = int(len / fps * rate).
for rows, rate in ((eq, 6), (eq, 40), (odd, 5), (pos, 7), (pos, 30)):
    num = int(len(rows[0]) / 15.0 * rate)
    case("Resample", {"Rs": rate, "Tu": 1}, rows, [signal.resample(r, num) for r in rows], "_RESAMPLE")

# PadArrays (fill-size: everything after the data), every numpy mode, pads longer than the shortest array.
ragged = [np.array([1.0, 4.0, 2.0, 8.0]), np.arange(15.0) ** 1.5, np.array([3.0, -1.0, 2.5, 0.5, 7.0, 6.0])]
for mode in ("minimum", "constant", "edge", "maximum", "mean", "median", "reflect", "symmetric", "wrap"):
    L = max(len(r) for r in ragged)
    kw = {"constant_values": 2.5} if mode == "constant" else {}
    case("PadArrays", {"mode": mode, "constant": 2.5}, ragged, [np.pad(r, (0, L - len(r)), mode=mode, **kw) for r in ragged],
         "_PADDED")

# scipy.integrate.simpson with unit spacing (PeakFeatures' areas).
simpson = []
for n in range(2, 12):
    y = rng.normal(0, 1, n)
    simpson.append({"y": y.tolist(), "area": float(integrate.simpson(y))})

out = {"numpy": np.__version__, "cases": cases, "simpson": simpson}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "nodes_golden.json")
with open(path, "w") as f:
    json.dump(out, f)
print(f"wrote {path}: {len(cases)} cases")
