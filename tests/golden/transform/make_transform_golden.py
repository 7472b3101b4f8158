"""Golden values for mesmerize_core::analysis::cluster::kmeans and analysis::transform::{pca, lda}
(core/tests/transform_sklearn.rs), computed by scikit-learn itself.

Regenerate (from the repository root, with the golden venv or any Python that has the pinned versions):
    python3 tests/golden/transform/make_transform_golden.py
which overwrites tests/golden/transform/transform_golden.json.

Pinned versions used for the committed JSON (from the golden venv's freeze.txt): Python 3.11.7 with numpy 2.4.6,
scipy 1.17.1, scikit-learn 1.9.1 (tslearn 0.10.0 is in that venv but not used here)
(the exact versions are also written into the JSON under "versions").
Floats are written with Python's shortest round-trip repr (json.dump), nothing is rounded.

What is recorded, per family:
- kmeans: well-separated blobs fitted with k-means++ (labels only matter up to a permutation: our RNG differs),
  and runs started from an explicit `init` array (n_init=1), where labels, centres, inertia and n_iter_ must match:
  a converging run, a run cut short by max_iter (final E-step path), tol=0, and a run whose first step empties a
  cluster (sklearn's relocation of the farthest sample).
- pca: svd_solver="full" on a tall and a wide matrix, with and without whiten; components_ carry sklearn's
  svd_flip(u_based_decision=False) signs, so they are compared exactly.
- lda: every solver (svd; lsqr and eigen without shrinkage, with "auto" Ledoit-Wolf and with a float), 2 and 3
  classes with unsorted string labels; transform() is compared up to one sign per component (LAPACK's choice).
"""

import json
import os
import platform

import numpy as np
import scipy
import sklearn
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "transform_golden.json")


def mat(a):
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 1:
        a = a.reshape(1, -1)
    return [[float(v) for v in row] for row in a]


def vec(a):
    return [float(v) for v in np.asarray(a, dtype=np.float64).ravel()]


def kmeans_cases(rng):
    out = {"blobs": [], "explicit": []}
    # Well separated blobs: any correct k-means++ run finds the same partition.
    for k, p, per in [(3, 4, 20), (5, 6, 12)]:
        centres = rng.normal(0.0, 20.0, size=(k, p))
        x = np.vstack([c + rng.normal(0.0, 1.0, size=(per, p)) for c in centres])
        x = x[rng.permutation(len(x))]
        km = KMeans(n_clusters=k, n_init=10, random_state=0).fit(x)
        out["blobs"].append({"x": mat(x), "n_clusters": k, "labels": [int(v) for v in km.labels_],
                             "centers": mat(km.cluster_centers_), "inertia": float(km.inertia_)})

    # Overlapping data, explicit initial centres.
    x = rng.normal(size=(80, 5))
    x[:40] += 1.5
    init = x[[3, 17, 45, 60]].copy()
    far = init.copy()
    far[2] = 100.0  # nobody is closest to this one at the first step: relocation
    cases = [
        ("converge", init, 300, 1e-4),
        ("max_iter_2", init, 2, 1e-4),
        ("tol_zero", init, 300, 0.0),
        ("loose_tol", init, 300, 1e-1),
        ("empty_cluster", far, 300, 1e-4),
    ]
    out["explicit_x"] = mat(x)
    for name, ini, max_iter, tol in cases:
        km = KMeans(n_clusters=len(ini), init=ini, n_init=1, max_iter=max_iter, tol=tol).fit(x)
        out["explicit"].append({"name": name, "init": mat(ini), "max_iter": max_iter, "tol": tol,
                                "labels": [int(v) for v in km.labels_], "centers": mat(km.cluster_centers_),
                                "inertia": float(km.inertia_), "n_iter": int(km.n_iter_)})
    return out


def pca_cases(rng):
    out = []
    tall = rng.normal(size=(40, 6)) @ rng.normal(size=(6, 6)) + rng.normal(size=6) * 3.0
    wide = rng.normal(size=(10, 25)) @ np.diag(np.linspace(3.0, 0.2, 25)) + 5.0
    for name, x, n_components, whiten in [
        ("tall_3", tall, 3, False),
        ("tall_all", tall, 6, False),
        ("tall_whiten", tall, 2, True),
        ("wide_none", wide, None, False),
        ("wide_2", wide, 2, False),
    ]:
        x_new = rng.normal(size=(5, x.shape[1])) + x.mean(axis=0)
        pca = PCA(n_components=n_components, svd_solver="full", whiten=whiten)
        t = pca.fit_transform(x)
        out.append({"name": name, "x": mat(x), "x_new": mat(x_new), "n_components": n_components,
                    "whiten": whiten, "components": mat(pca.components_),
                    "explained_variance": vec(pca.explained_variance_),
                    "explained_variance_ratio": vec(pca.explained_variance_ratio_),
                    "singular_values": vec(pca.singular_values_), "mean": vec(pca.mean_),
                    "noise_variance": float(pca.noise_variance_), "fit_transform": mat(t),
                    "transform_new": mat(pca.transform(x_new))})
    return out


def lda_data(rng, n_classes, p, sizes, spread):
    names = ["zeta", "alpha", "mid"][:n_classes]
    xs, ys = [], []
    for i, (name, n) in enumerate(zip(names, sizes)):
        centre = rng.normal(0.0, spread, size=p)
        cov = rng.normal(size=(p, p)) * 0.4 + np.eye(p)
        xs.append(centre + rng.normal(size=(n, p)) @ cov)
        ys += [name] * n
    x = np.vstack(xs)
    y = np.array(ys)
    perm = rng.permutation(len(y))
    return x[perm], y[perm]


def lda_cases(rng):
    out = {"datasets": {}, "cases": []}
    datasets = [
        ("two", *lda_data(rng, 2, 5, [18, 25], 1.5)),
        ("three", *lda_data(rng, 3, 6, [20, 15, 26], 1.5)),
        ("three_wide", *lda_data(rng, 3, 30, [8, 9, 7], 1.0)),
    ]
    configs = [("svd", None), ("lsqr", None), ("lsqr", "auto"), ("lsqr", 0.3),
               ("eigen", None), ("eigen", "auto"), ("eigen", 0.3)]
    for dname, x, y in datasets:
        x_test = rng.normal(size=(7, x.shape[1])) * x.std(axis=0) + x.mean(axis=0)
        out["datasets"][dname] = {"x": mat(x), "y": [str(v) for v in y], "x_test": mat(x_test)}
        for solver, shrinkage in configs:
            wide = x.shape[1] >= x.shape[0]
            if wide and shrinkage is None and solver != "svd":
                continue  # singular within-class covariance: lsqr is ill-posed, eigen raises
            n_comp_list = [None, 1] if dname == "three" and solver != "lsqr" else [None]
            for n_components in n_comp_list:
                lda = LinearDiscriminantAnalysis(solver=solver, shrinkage=shrinkage, n_components=n_components)
                lda.fit(x, y)
                case = {"data": dname, "solver": solver, "shrinkage": shrinkage, "n_components": n_components,
                        "classes": [str(c) for c in lda.classes_], "priors": vec(lda.priors_),
                        "means": mat(lda.means_), "coef": mat(lda.coef_), "intercept": vec(lda.intercept_),
                        "decision_function": mat(np.atleast_2d(lda.decision_function(x).T).T),
                        "decision_function_test": mat(np.atleast_2d(lda.decision_function(x_test).T).T),
                        "predict": [str(v) for v in lda.predict(x)],
                        "predict_test": [str(v) for v in lda.predict(x_test)],
                        "score": float(lda.score(x, y))}
                if solver != "svd" and not wide:
                    case["covariance"] = mat(lda.covariance_)
                if solver != "lsqr":
                    case["transform"] = mat(lda.transform(x))
                    case["transform_test"] = mat(lda.transform(x_test))
                    case["explained_variance_ratio"] = vec(lda.explained_variance_ratio_)
                if solver == "svd":
                    case["xbar"] = vec(lda.xbar_)
                out["cases"].append(case)
    return out


def main():
    rng = np.random.default_rng(20240611)
    out = {
        "versions": {"python": platform.python_version(), "numpy": np.__version__, "scipy": scipy.__version__,
                     "sklearn": sklearn.__version__},
        "kmeans": kmeans_cases(rng),
        "pca": pca_cases(rng),
        "lda": lda_cases(rng),
    }
    with open(OUT, "w") as f:
        json.dump(out, f)
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
