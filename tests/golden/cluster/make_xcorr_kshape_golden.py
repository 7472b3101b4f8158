"""Golden values for mesmerize_core::analysis::cluster::{xcorr, kshape, metrics}
(core/tests/cluster_xcorr.rs and core/tests/cluster_kshape.rs).

Regenerate (from the repository root, with the golden venv):
    python3 tests/golden/cluster/make_xcorr_kshape_golden.py
which overwrites tests/golden/cluster/xcorr_kshape_golden.json.

Pinned versions used for the committed JSON: numpy 2.4.6, scipy 1.17.1, scikit-learn 1.9.1, tslearn 0.10.0
(numba 0.68.1); the exact versions are also written into the JSON under "versions".
Floats are written with Python's shortest round-trip repr (json.dump), nothing is rounded.

Contents:
- "ncc": tslearn.metrics.normalized_cc for pairs of 1-D series (as (sz, 1) arrays, the way the original Mesmerize
  calls it): odd / even lengths, a constant series, an all-zero series (tslearn's zero-denominator rule).
- "matrices": the original Mesmerize's compute_cc_data procedure (mesmerize/analysis/math/cross_correlation.py)
  reproduced in a few lines of numpy on top of tslearn's normalized_cc: lag = -(argmax - len // 2), maxima = max,
  then lag / sampling rate and get_threshold_matrix, for 12 curves (one of them constant).
- "kshape": tslearn.clustering.KShape on well separated z-normalised data (3 shapes x 10 curves), random init and
  an explicit init, with labels, inertia, centroids and the SBD matrix KShape._cross_dists gives for its centroids.
- "ari": sklearn.metrics.adjusted_rand_score on a few labelings.
"""

import json
import os
import platform

import numba
import numpy as np
import scipy
import sklearn
import tslearn
from sklearn.metrics import adjusted_rand_score
from tslearn.clustering import KShape
from tslearn.metrics.cycc import normalized_cc
from tslearn.preprocessing import TimeSeriesScalerMeanVariance

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "xcorr_kshape_golden.json")


def floats(v):
    return [float(t) for t in np.asarray(v, dtype=np.float64).ravel()]


def ncc(x, y):
    """The original's ncc_c: tslearn's normalized_cc on (sz, 1) arrays."""
    return normalized_cc(np.ascontiguousarray(x, dtype=np.float64).reshape(-1, 1),
                         np.ascontiguousarray(y, dtype=np.float64).reshape(-1, 1))


def cc_data(curves):
    """The original's compute_cc_data: every ordered pair, lag = -(argmax - len // 2), maxima = max."""
    n = curves.shape[0]
    lag = np.zeros((n, n))
    maxima = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            cc = ncc(curves[i], curves[j])
            lag[i, j] = float(-(np.argmax(cc) - int(cc.shape[0] / 2)))
            maxima[i, j] = np.max(cc)
    return lag, maxima


def threshold_matrix(lag, maxima, matrix_type, lag_thr, max_thr, lag_thr_abs):
    """The original's CC_Data.get_threshold_matrix."""
    a = np.copy(lag if matrix_type == "lag" else maxima)
    if lag_thr_abs:
        a[np.abs(lag) > lag_thr] = np.nan
    else:
        a[lag > lag_thr] = np.nan
    a[maxima < max_thr] = np.nan
    return a


def nan_to_none(v):
    return [None if np.isnan(t) else float(t) for t in np.asarray(v, dtype=np.float64).ravel()]


def smooth_curve(rng, sz, shift):
    """A calcium-like trace: a few smoothed bumps, circularly shifted, plus a little noise."""
    t = np.arange(sz)
    y = np.zeros(sz)
    for _ in range(3):
        c = rng.uniform(0, sz)
        w = rng.uniform(3, 10)
        y += rng.uniform(0.5, 2.0) * np.exp(-0.5 * ((t - c) / w) ** 2)
    y = np.roll(y, shift)
    return y + 0.01 * rng.standard_normal(sz) + 0.2


def kshape_data(rng, sz, per_cluster):
    t = np.linspace(0, 1, sz, endpoint=False)
    shapes = [
        np.sin(2 * np.pi * 2 * t),
        np.where((t > 0.3) & (t < 0.5), 1.0, 0.0),
        np.exp(-0.5 * ((t - 0.5) / 0.05) ** 2) - np.exp(-0.5 * ((t - 0.75) / 0.05) ** 2) * 0.8,
    ]
    xs, ys = [], []
    for k, s in enumerate(shapes):
        for _ in range(per_cluster):
            shift = int(rng.integers(-sz // 10, sz // 10 + 1))
            xs.append(np.roll(s, shift) * rng.uniform(0.5, 2.0) + rng.uniform(-1, 1)
                      + 0.05 * rng.standard_normal(sz))
            ys.append(k)
    x = TimeSeriesScalerMeanVariance(mu=0.0, std=1.0).fit_transform(np.array(xs))[:, :, 0]
    return x, np.array(ys)


def kshape_case(name, dataset, x, y_true, init_idx=None, random_state=0, n_init=1):
    k = 3
    if init_idx is None:
        ks = KShape(n_clusters=k, max_iter=100, tol=1e-6, n_init=n_init, random_state=random_state)
    else:
        ks = KShape(n_clusters=k, max_iter=100, tol=1e-6, init=x[init_idx][:, :, None].copy())
    ks.fit(x[:, :, None])
    dists = ks._cross_dists(x[:, :, None])
    return {
        "name": name,
        "dataset": dataset,
        "n_clusters": k,
        "n_init": n_init,
        "init_idx": None if init_idx is None else [int(i) for i in init_idx],
        "labels": [int(v) for v in ks.labels_],
        "inertia": float(ks.inertia_),
        "n_iter": int(ks.n_iter_),
        "centroids": floats(ks.cluster_centers_[:, :, 0]),
        "sbd": floats(dists),
        "ari_vs_truth": float(adjusted_rand_score(y_true, ks.labels_)),
    }


def main():
    rng = np.random.default_rng(20261125)
    out = {
        "versions": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "sklearn": sklearn.__version__,
            "tslearn": tslearn.__version__,
            "numba": numba.__version__,
        },
        "ncc": [],
    }

    pairs = []
    for sz in [2, 3, 5, 8, 17, 64, 100, 257]:
        pairs.append((f"random_{sz}", rng.standard_normal(sz), rng.standard_normal(sz) * 3 + 1))
    pairs.append(("constant_vs_random", np.full(33, 2.5), rng.standard_normal(33)))
    pairs.append(("constant_vs_constant", np.full(10, -1.0), np.full(10, 4.0)))
    pairs.append(("zero_vs_random", np.zeros(20), rng.standard_normal(20)))
    pairs.append(("tiny_norm", np.full(6, 1e-6), np.full(6, 1e-6)))
    pairs.append(("self", smooth_curve(rng, 120, 0), None))
    for name, a, b in pairs:
        if b is None:
            b = a
        out["ncc"].append({"name": name, "s1": floats(a), "s2": floats(b), "cc": floats(ncc(a, b))})

    sz = 150
    curves = [smooth_curve(rng, sz, int(s)) for s in rng.integers(-20, 21, size=11)]
    curves.insert(5, np.full(sz, 0.7))
    curves = np.array(curves)
    lag, maxima = cc_data(curves)
    rate, lag_thr, max_thr = 10.0, 1.5, 0.6
    lag_units = lag / rate
    out["matrices"] = {
        "n": int(curves.shape[0]),
        "sz": sz,
        "curves": floats(curves),
        "lag": floats(lag),
        "maxima": floats(maxima),
        "sampling_rate": rate,
        "lag_thr": lag_thr,
        "max_thr": max_thr,
        "threshold_lag_abs": nan_to_none(threshold_matrix(lag_units, maxima, "lag", lag_thr, max_thr, True)),
        "threshold_maxima_signed": nan_to_none(
            threshold_matrix(lag_units, maxima, "maxima", lag_thr, max_thr, False)),
    }

    x, y = kshape_data(rng, 64, 10)
    x_short, y_short = kshape_data(rng, 8, 10)
    out["kshape_data"] = {
        name: {"n": int(d.shape[0]), "sz": int(d.shape[1]), "data": floats(d), "true_labels": [int(v) for v in t]}
        for name, d, t in [("long", x, y), ("short", x_short, y_short)]
    }
    out["kshape"] = [
        kshape_case("random_init", "long", x, y, random_state=0),
        kshape_case("random_init_n_init_3", "long", x, y, random_state=7, n_init=3),
        kshape_case("explicit_init", "long", x, y, init_idx=[0, 10, 20]),
        kshape_case("explicit_init_mixed", "long", x, y, init_idx=[3, 4, 25]),
        kshape_case("short_explicit_init", "short", x_short, y_short, init_idx=[1, 11, 21]),
    ]

    ari_cases = [
        ([0, 0, 1, 1, 2, 2], [1, 1, 0, 0, 2, 2]),
        ([0, 0, 1, 1, 2, 2], [0, 0, 1, 2, 2, 2]),
        ([0, 1, 2, 0, 1, 2, 0, 1], [0, 0, 0, 1, 1, 1, 2, 2]),
        ([0, 0, 0, 0], [0, 1, 2, 3]),
        ([5, 5, 7, 7, 7, 9], [1, 1, 1, 2, 2, 2]),
    ]
    out["ari"] = [{"a": a, "b": b, "ari": float(adjusted_rand_score(a, b))} for a, b in ari_cases]

    with open(OUT, "w") as f:
        json.dump(out, f)
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")
    for c in out["kshape"]:
        print(c["name"], "inertia", c["inertia"], "n_iter", c["n_iter"], "ARI vs truth", c["ari_vs_truth"])


if __name__ == "__main__":
    main()
