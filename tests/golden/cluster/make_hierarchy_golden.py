"""Golden values for mesmerize_core::analysis::cluster::hierarchy (core/tests/cluster_hierarchy.rs).

Regenerate (from the repository root, with a Python that has numpy and scipy, e.g. the venv scripts/test.sh makes):
    python3 tests/golden/cluster/make_hierarchy_golden.py
which overwrites tests/golden/cluster/hierarchy_golden.json. With --bench it instead times scipy on 500 curves x 3000
points (the numbers compared with core/tests/cluster_hierarchy.rs::bench_500_curves_3000_points).

Pinned versions used for the committed JSON: Python 3.11 with numpy 2.4.6 and scipy 1.17.1
(the exact versions are also written into the JSON under "versions").
Floats are written as strings holding Python's shortest round-trip repr (serde_json, as the workspace builds it,
may parse JSON numbers 1 ulp off), nothing is rounded.

What is recorded, for every dataset:
  * the observations (raw), and the data the Linkage node feeds its Wasserstein metric
    (``data + abs(data.min())``, as mesmerize's Hierarchical.Linkage does);
  * ``pdist`` for every metric (the node's two, euclidean and wasserstein, plus the other scipy metrics the Rust
    side offers);
  * ``linkage`` for every valid method x metric combination, with optimal_ordering False and True:
      - euclidean: all 7 methods from the observations;
      - other scipy metrics: single/complete/average/weighted from the observations (centroid/median/ward raise
        in scipy, recorded under "linkage_errors");
      - wasserstein (the node's path: condensed matrix -> linkage): every method whose Z is finite
        (scipy accepts any method for a condensed matrix; centroid/median/ward can give NaN heights on a
        non-Euclidean metric, such cases are skipped and listed under "skipped");
  * for every Z: leaves_list and fcluster (distance, maxclust, inconsistent) with a few thresholds each; for the
    node's metrics (euclidean, wasserstein) also inconsistent R for depths 1, 2, 3 (depth 2 only when
    optimal_ordering=True), maxinconsts and maxRstat (i = 0..3) for each R, maxdists, cophenet (c and the condensed
    cophenetic distances, optimal_ordering=False only) and fcluster for all five criteria (monocrit and
    maxclust_monocrit with monocrit = maxRstat(Z, inconsistent(Z, 2), 3) and with maxdists(Z)).
Datasets are random but checked tie-free (no two condensed distances within 1e-9 relative). One extra dataset,
"tie_grid", is built with deliberate ties (points on an integer grid).

"wasserstein" here is the metric of mesmerize's Linkage node: emd_1d(u, v) with each curve taken as the weights of a
1-D distribution over its sample index 0..d-1 (OpenCV EMD with a |i-j| ground distance). scipy's equivalent is
scipy.stats.wasserstein_distance(arange(d), arange(d), u_weights=u, v_weights=v) (equal to OpenCV's EMD whenever the
two curves have the same sum; OpenCV's partial matching for unequal sums, i.e. what the node really computes on
shifted curves, is not reproduced: it differs by tens of percent there). "wasserstein_values" is
scipy.stats.wasserstein_distance(u, v), the curves' values taken as samples.
"""

import json
import os
import platform

import numpy as np
import scipy
from scipy.cluster import hierarchy
from scipy.spatial.distance import pdist
from scipy.stats import wasserstein_distance

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "hierarchy_golden.json")

METHODS = ["single", "complete", "average", "weighted", "centroid", "median", "ward"]
EUCLIDEAN_ONLY = {"centroid", "median", "ward"}
# (name, scipy metric, kwargs)
SCIPY_METRICS = [
    ("euclidean", "euclidean", {}),
    ("sqeuclidean", "sqeuclidean", {}),
    ("cityblock", "cityblock", {}),
    ("chebyshev", "chebyshev", {}),
    ("minkowski3", "minkowski", {"p": 3.0}),
    ("cosine", "cosine", {}),
    ("correlation", "correlation", {}),
    ("canberra", "canberra", {}),
    ("braycurtis", "braycurtis", {}),
]


def floats(v):
    # Written as strings (Python's shortest round-trip repr): serde_json without its float_roundtrip feature may
    # parse a JSON number 1 ulp off, and these values are compared bit for bit.
    return [repr(float(t)) for t in np.asarray(v, dtype=np.float64).ravel()]


def num(x):
    return repr(float(x))


def ints(v):
    return [int(t) for t in np.asarray(v).ravel()]


def wasserstein_positional(u, v):
    pos = np.arange(u.size, dtype=np.float64)
    return wasserstein_distance(pos, pos, u_weights=u, v_weights=v)


def check_tie_free(name, y):
    s = np.sort(y)
    gaps = np.diff(s) / np.maximum(np.abs(s[1:]), 1e-300)
    assert gaps.min() > 1e-9, f"{name}: near-tie in condensed distances ({gaps.min():e})"


def make_datasets():
    rng = np.random.default_rng(20240611)
    ds = {}
    ds["gauss_n8_d5"] = rng.normal(size=(8, 5))
    centers = rng.normal(scale=4.0, size=(3, 12))
    ds["blobs_n23_d12"] = np.vstack([centers[i % 3] + rng.normal(size=12) for i in range(23)])
    # calcium-like curves: decaying transients on a noisy baseline, 3 response shapes
    t = np.arange(50)
    shapes = [np.exp(-np.maximum(t - on, 0) / tau) * (t >= on) for on, tau in [(5, 4.0), (15, 8.0), (30, 3.0)]]
    curves = []
    for i in range(40):
        amp = rng.uniform(0.5, 2.0)
        curves.append(amp * shapes[i % 3] + 0.15 * rng.normal(size=50) + rng.normal(scale=0.1))
    ds["curves_n40_d50"] = np.array(curves)
    ds["walks_n17_d30"] = 6.0 + np.cumsum(0.5 * rng.normal(size=(17, 30)), axis=1)
    return ds


def tie_grid():
    # 2 x 4 unit grid and a shifted copy: many distances exactly 1, sqrt(2), 2, ...
    pts = [(x, y) for x in range(4) for y in range(2)]
    pts += [(x + 10, y) for x in range(2) for y in range(2)]
    return np.array(pts, dtype=np.float64)


def analyse(Z, y, level):
    """level "full": everything; "mid": R/maxinconsts/maxRstat for depth 2 only, no cophenet;
    "lite": leaves and fcluster (distance, maxclust, inconsistent at depth 2) only."""
    n = Z.shape[0] + 1
    out = {"leaves": ints(hierarchy.leaves_list(Z))}
    depths = {"full": (1, 2, 3), "mid": (2,), "lite": ()}[level]
    if level == "full":
        c, coph = hierarchy.cophenet(Z, y)
        out["cophenet_c"] = num(c)
        out["cophenet_d"] = floats(coph)
    if level != "lite":
        out["maxdists"] = floats(hierarchy.maxdists(Z))
    out["R"] = {}
    for d in depths:
        R = hierarchy.inconsistent(Z, d)
        out["R"][str(d)] = {
            "R": floats(R),
            "maxinconsts": floats(hierarchy.maxinconsts(Z, R)),
            "maxRstat": [floats(hierarchy.maxRstat(Z, R, i)) for i in range(4)],
        }
    heights = np.sort(Z[:, 2])
    # thresholds strictly between merge heights (and below/above all of them)
    dist_t = [float(heights[0] * 0.5), float(heights[-1] * 1.5)]
    for q in (0.25, 0.5, 0.75):
        k = int(q * (len(heights) - 1))
        dist_t.append(float(0.5 * (heights[k] + heights[k + 1])))
    fc = []
    for tt in dist_t:
        fc.append({"criterion": "distance", "t": num(tt), "depth": 2, "labels": ints(hierarchy.fcluster(Z, tt, "distance"))})
    for k in sorted({1, 2, 3, 5, n, n + 3}):
        fc.append({"criterion": "maxclust", "t": num(k), "depth": 2,
                   "labels": ints(hierarchy.fcluster(Z, k, "maxclust"))})
    for depth in ((1, 2, 3) if level != "lite" else (2,)):
        for tt in (0.5, 0.9, 1.3):
            fc.append({"criterion": "inconsistent", "t": num(tt), "depth": depth,
                       "labels": ints(hierarchy.fcluster(Z, tt, "inconsistent", depth=depth))})
    if level != "lite":
        R2 = hierarchy.inconsistent(Z, 2)
        MR = hierarchy.maxRstat(Z, R2, 3)
        MD = hierarchy.maxdists(Z)
        for tt in (0.5, 0.9):
            fc.append({"criterion": "monocrit", "t": num(tt), "depth": 2, "monocrit": "maxRstat3_d2",
                       "labels": ints(hierarchy.fcluster(Z, tt, "monocrit", monocrit=MR))})
        for tt in dist_t[2:]:
            fc.append({"criterion": "monocrit", "t": num(tt), "depth": 2, "monocrit": "maxdists",
                       "labels": ints(hierarchy.fcluster(Z, tt, "monocrit", monocrit=MD))})
        for k in (2, 3, 5):
            fc.append({"criterion": "maxclust_monocrit", "t": num(k), "depth": 2, "monocrit": "maxRstat3_d2",
                       "labels": ints(hierarchy.fcluster(Z, k, "maxclust_monocrit", monocrit=MR))})
            fc.append({"criterion": "maxclust_monocrit", "t": num(k), "depth": 2, "monocrit": "maxdists",
                       "labels": ints(hierarchy.fcluster(Z, k, "maxclust_monocrit", monocrit=MD))})
    out["fcluster"] = fc
    return out


def level_for(metric, oo):
    if metric in ("euclidean", "wasserstein"):  # the Linkage node's two metrics
        return "mid" if oo else "full"
    return "lite"


def run_dataset(name, X, check_ties=True):
    entry = {"X": floats(X), "n": int(X.shape[0]), "d": int(X.shape[1])}
    W = X + np.abs(X.min())  # mesmerize Hierarchical.Linkage: self.data += np.abs(self.data.min())
    entry["X_wasserstein"] = floats(W)
    entry["pdist"] = {}
    conds = {}
    for mname, scipy_metric, kw in SCIPY_METRICS:
        conds[mname] = pdist(X, scipy_metric, **kw)
    conds["wasserstein"] = pdist(W, wasserstein_positional)
    conds["wasserstein_values"] = pdist(X, wasserstein_distance)
    for k, v in conds.items():
        if check_ties:
            check_tie_free(f"{name}/{k}", v)
        entry["pdist"][k] = floats(v)

    entry["linkage"] = []
    entry["linkage_errors"] = []
    entry["skipped"] = []
    for mname, scipy_metric, kw in SCIPY_METRICS:
        for method in METHODS:
            if method in EUCLIDEAN_ONLY and mname != "euclidean":
                try:
                    hierarchy.linkage(X, method=method, metric=scipy_metric)
                except ValueError as e:
                    entry["linkage_errors"].append({"method": method, "metric": mname, "error": str(e)})
                    continue
                raise AssertionError("scipy accepted a non-euclidean metric for " + method)
            for oo in (False, True):
                if kw:
                    # scipy.cluster.hierarchy.linkage has no metric kwargs: go through the condensed matrix
                    Z = hierarchy.linkage(conds[mname], method=method, optimal_ordering=oo)
                    src = "condensed"
                else:
                    Z = hierarchy.linkage(X, method=method, metric=scipy_metric, optimal_ordering=oo)
                    src = "observations"
                rec = {"method": method, "metric": mname, "optimal_ordering": oo, "input": src, "Z": floats(Z)}
                rec.update(analyse(Z, conds[mname], level_for(mname, oo)))
                entry["linkage"].append(rec)
    for mname in ("wasserstein", "wasserstein_values"):
        for method in METHODS:
            for oo in (False, True):
                Z = hierarchy.linkage(conds[mname], method=method, optimal_ordering=oo)
                if not np.all(np.isfinite(Z)):
                    entry["skipped"].append({"method": method, "metric": mname, "optimal_ordering": oo,
                                             "why": "non-finite merge heights"})
                    continue
                rec = {"method": method, "metric": mname, "optimal_ordering": oo, "input": "condensed",
                       "Z": floats(Z)}
                rec.update(analyse(Z, conds[mname], level_for(mname, oo)))
                entry["linkage"].append(rec)
    return entry


def main():
    out = {
        "versions": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "scipy": scipy.__version__,
        },
        "methods": METHODS,
        "datasets": {},
    }
    for name, X in make_datasets().items():
        out["datasets"][name] = run_dataset(name, X)

    # Deliberate ties: only euclidean/cityblock/chebyshev/sqeuclidean (exact small integers or sqrt of them).
    X = tie_grid()
    tie = {"X": floats(X), "n": int(X.shape[0]), "d": int(X.shape[1]), "linkage": []}
    y = pdist(X)
    tie["pdist_euclidean"] = floats(y)
    for method in METHODS:
        for oo in (False, True):
            Z = hierarchy.linkage(X, method=method, optimal_ordering=oo)
            rec = {"method": method, "metric": "euclidean", "optimal_ordering": oo, "Z": floats(Z)}
            rec.update(analyse(Z, y, "full" if not oo else "mid"))
            tie["linkage"].append(rec)
    out["tie_case"] = tie

    with open(OUT, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")


def bench():
    """The scipy side of core/tests/cluster_hierarchy.rs::bench_500_curves_3000_points (median of 3)."""
    import statistics
    import time

    rng = np.random.default_rng(7)
    X = rng.random((500, 3000))

    def median3(f):
        ts = []
        for _ in range(3):
            t0 = time.perf_counter()
            f()
            ts.append(time.perf_counter() - t0)
        return statistics.median(ts)

    t_pd = median3(lambda: pdist(X, "euclidean"))
    t_eu = median3(lambda: hierarchy.linkage(pdist(X, "euclidean"), "complete"))
    y = pdist(X, "euclidean")
    t_oo = median3(lambda: hierarchy.linkage(y, "complete", optimal_ordering=True))
    t_w = median3(lambda: pdist(X, wasserstein_positional))
    print(f"scipy {scipy.__version__} 500x3000 (median of 3): pdist(euclidean) {t_pd:.3f} s; "
          f"pdist(euclidean)+linkage(complete) {t_eu:.3f} s; pdist(wasserstein) {t_w:.3f} s; "
          f"linkage(complete, optimal_ordering) {t_oo:.3f} s")


if __name__ == "__main__":
    import sys

    if "--bench" in sys.argv:
        bench()
    else:
        main()
