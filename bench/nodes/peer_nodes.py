"""Python reference timings for the analysis nodes: what the original Mesmerize's nodes call (numpy, scipy,
tslearn, scikit-learn), on the same curves `mesmerize bench nodes --npy CURVES.npy` writes.

Each operation is timed two ways where they differ: `apply`, row by row through pandas as the original node did,
and `vectorized`, one call over the whole 2-D array where the library allows it (the faster of the two is the fair
reference). Prints one JSON object per line: {"node", "python_apply_s", "python_vectorized_s"} (medians).

Usage: python bench/nodes/peer_nodes.py CURVES.npy [--repeats 3] [--fps 15]
Needs: numpy, scipy, pandas, scikit-learn, tslearn (the versions used are printed first).
"""
import argparse
import json
import statistics
import sys
import time

import numpy as np
import pandas as pd
import scipy
import sklearn
import tslearn
from scipy import fftpack, signal, stats
from scipy.cluster import hierarchy
from scipy.spatial.distance import pdist

ap = argparse.ArgumentParser()
ap.add_argument("curves")
ap.add_argument("--repeats", type=int, default=3)
ap.add_argument("--fps", type=float, default=15.0)
ap.add_argument("--only", default=None)
args = ap.parse_args()

X = np.load(args.curves)
n, t = X.shape
s = pd.Series(list(X))
fps = args.fps
print(json.dumps({"versions": {"numpy": np.__version__, "scipy": scipy.__version__, "pandas": pd.__version__,
                               "sklearn": sklearn.__version__, "tslearn": tslearn.__version__}, "curves": n, "points": t}))


def timed(f):
    ts = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def report(node, apply=None, vec=None):
    if args.only and args.only != node:
        return
    out = {"node": node}
    if apply is not None:
        out["python_apply_s"] = timed(apply)
    if vec is not None:
        out["python_vectorized_s"] = timed(vec)
    print(json.dumps(out), flush=True)


b, a = signal.butter(2, (1 / fps) / 2.0)
report("Butterworth", lambda: s.apply(lambda x: signal.filtfilt(b, a, x)), lambda: signal.filtfilt(b, a, X, axis=1))
report("SavitzkyGolay", lambda: s.apply(signal.savgol_filter, window_length=11, polyorder=3),
       lambda: signal.savgol_filter(X, 11, 3, axis=1))
report("PowSpecDens", lambda: s.apply(lambda x: signal.periodogram(x, fs=fps)[1]), lambda: signal.periodogram(X, fs=fps, axis=1))
num = int(t / fps * 5)
report("Resample", lambda: s.apply(lambda x: signal.resample(x, num)), lambda: signal.resample(X, num, axis=1))
from tslearn.preprocessing import TimeSeriesScalerMeanVariance
report("ScalerMeanVariance", lambda: s.apply(lambda x: TimeSeriesScalerMeanVariance().fit_transform(x[None, :, None])[0, :, 0]),
       lambda: TimeSeriesScalerMeanVariance().fit_transform(X[:, :, None]))
report("Normalize", lambda: s.apply(lambda a: (a - np.min(a)) / np.max(a - np.min(a))),
       lambda: (X - X.min(1, keepdims=True)) / (X - X.min(1, keepdims=True)).max(1, keepdims=True))
report("RFFT", lambda: s.apply(fftpack.rfft), lambda: fftpack.rfft(X, axis=1))
R = fftpack.rfft(X, axis=1)
sr = pd.Series(list(R))
report("iRFFT", lambda: sr.apply(fftpack.irfft), lambda: fftpack.irfft(R, axis=1))
report("Derivative", lambda: s.apply(np.gradient), lambda: np.gradient(X, axis=1))
report("XpowerY", lambda: s.apply(lambda x: x ** 2.0), lambda: X ** 2.0)
report("AbsoluteValue", lambda: s.apply(np.abs), lambda: np.abs(X))
report("LogTransform", lambda: s.apply(lambda x: np.sign(x) * np.log(np.abs(x) + 1)), lambda: np.sign(X) * np.log(np.abs(X) + 1))
report("ArrayStats", lambda: s.apply(np.mean), lambda: X.mean(1))
report("ZScore", lambda: stats.zscore(np.vstack(s.values), axis=None), lambda: stats.zscore(X, axis=None))
report("LinRegress", lambda: s.apply(lambda y: stats.linregress(np.arange(y.size), y)))
P = np.abs(X) + 1
sp = pd.Series(list(P))
report("StaticDFoFo", lambda: sp.apply(lambda F: (F - F.min()) / F.min()), lambda: (P - P.min(1, keepdims=True)) / P.min(1, keepdims=True))
report("SigmaMAD", lambda: s.apply(lambda x: np.median(np.abs(x - np.median(x)))),
       lambda: np.median(np.abs(X - np.median(X, 1, keepdims=True)), 1))
report("SpliceArrays", lambda: s.apply(lambda a: a[0:t // 2]), lambda: X[:, 0:t // 2].copy())
report("Linkage euclidean", None, lambda: hierarchy.linkage(X, method="complete", metric="euclidean"))


def emd_linkage():
    from scipy.stats import wasserstein_distance
    D = X + np.abs(X.min())
    idx = np.arange(t)
    # The original: sklearn pairwise_distances with a Python EMD between curves as weight vectors over time.
    y = [wasserstein_distance(idx, idx, D[i], D[j]) for i in range(n) for j in range(i + 1, n)]
    return hierarchy.linkage(np.asarray(y), method="complete")


# One run only: ~125,000 Python-level distance calls for 500 curves.
_r = args.repeats
args.repeats = 1
report("Linkage wasserstein", None, emd_linkage)
args.repeats = _r
Z = hierarchy.linkage(X, method="complete", metric="euclidean")
report("FCluster", None, lambda: hierarchy.fcluster(Z, 5, criterion="maxclust"))
from sklearn.cluster import KMeans
report("KMeans", None, lambda: KMeans(n_clusters=5, n_init=10).fit(X))
from sklearn.decomposition import PCA
report("PCA", None, lambda: PCA(n_components=2).fit_transform(X))
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
y = np.array([str(i % 3) for i in range(n)])
report("LDA", None, lambda: LinearDiscriminantAnalysis(solver="svd", store_covariance=True).fit(X, y).transform(X))
from tslearn.clustering import KShape
if args.only in (None, "KShape"):
    Xz = TimeSeriesScalerMeanVariance().fit_transform(X[:, :, None])
    report("KShape", None, lambda: KShape(n_clusters=3, n_init=1, random_state=0).fit(Xz))
