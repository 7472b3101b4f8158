#!/usr/bin/env python3
"""Score a CNMF-family result (CaImAn's HDF5 layout) against a `mesmerize simulate` truth.h5.

Works for CaImAn's own `cnm.save(...)` files and for ours (`mesmerize cnmf/cnmfe --out RESULT.hdf5`): both store

    estimates/A            CSC group data/indices/indptr/shape, shape (d, K); pixel index = Fortran order over dims
    estimates/C            (K, T)
    estimates/idx_components   accepted columns (CaImAn writes the string 'NoneType' when not evaluated)
    dims (or estimates/dims)   (d1, d2) = (H, W) for 2D; 3D: CaImAn's (d1, d2, d3) = (H, W, Z), z last

truth.h5 (docs/simulator.md): footprints (K, H, W) or (K, Z, H, W) C order, traces (K, T).

3D pixel order: CaImAn's volumetric pipeline takes movies shaped (T, d1, d2, d3) with the axial axis LAST (its 3D
demo: dims (70, 50, 10), gSig (4, 4, 2), se ones((3, 3, 1))) and flattens in Fortran order, so a voxel (z, y, x)
of our (T, Z, H, W) movie has index y + H*x + H*W*z when the movie is handed to CaImAn as (T, H, W, Z).
`--dims-order auto` (default) recognises dims == (H, W, Z) (z last, CaImAn) or (Z, H, W) (z first); when both fit
(H == W == Z) it takes CaImAn's z-last convention. 2D: dims == (H, W) (CaImAn) or (W, H) (transposed).

Scoring:
  * centroid of every footprint weighted by max(A, 0), in template px (z, y, x) / (y, x); true centroids weighted
    the same way from truth's footprints (so border neurons are treated alike; --truth-centers uses the stored
    analytic centres instead);
  * components scored: idx_components when present and non-empty, else all (--all: all regardless);
  * one-to-one matching: scipy.optimize.linear_sum_assignment on centroid distances, pairs farther than
    --max-dist (4 px) cost 1e6 and are never matched;
  * precision = matched / scored, recall = matched / true neurons, F1;
  * median Pearson r of matched C rows with the true traces, median footprint cosine similarity, median distance.

Output: one JSON line on stdout.

    python score_h5.py RESULT.hdf5 TRUTH.h5 [--all] [--max-dist 4] [--dims-order auto|zlast|zfirst] [--truth-centers]
"""
import argparse
import json
import sys

import h5py
import numpy as np
import scipy.sparse as sp
from scipy.optimize import linear_sum_assignment


def _is_none_marker(ds):
    """CaImAn stores None as the string 'NoneType'."""
    return ds.dtype.kind in ("S", "O", "U")


def read_result(path):
    with h5py.File(path, "r") as f:
        est = f["estimates"]
        g = est["A"]
        if isinstance(g, h5py.Group):
            shape = tuple(int(v) for v in g["shape"][()])
            A = sp.csc_matrix((g["data"][()], g["indices"][()], g["indptr"][()]), shape=shape)
        else:  # dense (d, K) stored as a dataset
            A = sp.csc_matrix(np.asarray(g[()]))
        C = np.asarray(est["C"][()], dtype=np.float64)
        if C.ndim == 1:
            C = C[None, :]
        idx = None
        if "idx_components" in est and not _is_none_marker(est["idx_components"]):
            idx = np.atleast_1d(np.asarray(est["idx_components"][()])).astype(np.int64)
        dims = None
        for key in ("dims", "estimates/dims"):
            if key in f and not _is_none_marker(f[key]):
                dims = tuple(int(v) for v in np.atleast_1d(f[key][()]))
                break
    return A, C, idx, dims


def read_truth(path):
    with h5py.File(path, "r") as f:
        fp = f["footprints"]
        K = fp.shape[0]
        grid = tuple(fp.shape[1:])  # (H, W) or (Z, H, W)
        traces = np.asarray(f["traces"][()], dtype=np.float64)
        centers = np.asarray(f["centers"][()], dtype=np.float64) if "centers" in f else None
        cols, rows, vals = [], [], []
        for k in range(K):  # chunked per neuron: read one at a time, keep it sparse
            a = np.asarray(fp[k], dtype=np.float64).ravel()
            nz = np.flatnonzero(a)
            rows.append(nz)
            vals.append(a[nz])
            cols.append(np.full(nz.size, k))
        T = sp.csc_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                          shape=(int(np.prod(grid)), K))
    return T, traces, grid, centers


def fortran_to_grid_index(A, dims, grid, dims_order):
    """Re-index A's rows (Fortran order over dims) to C order over the truth grid (H, W) or (Z, H, W)."""
    ndim = len(grid)
    if dims is None:
        dims = tuple(grid) if ndim == 2 else (grid[1], grid[2], grid[0])
        how = "assumed"
    if len(dims) != ndim:
        raise SystemExit(f"result dims {dims} do not match the truth grid {grid}")
    if int(np.prod(dims)) != A.shape[0]:
        raise SystemExit(f"A has {A.shape[0]} rows, dims {dims} has {int(np.prod(dims))} pixels")
    if ndim == 2:
        H, W = grid
        if dims == (H, W):
            perm, how = (0, 1), "(H, W)"       # coordinate axis of dims -> grid axis order (y, x)
        elif dims == (W, H):
            perm, how = (1, 0), "(W, H)"
        else:
            raise SystemExit(f"2D dims {dims} fit neither (H, W) nor (W, H) of truth {grid}")
    else:
        Z, H, W = grid
        zlast, zfirst = dims == (H, W, Z), dims == (Z, H, W)
        if dims_order == "zlast" or (dims_order == "auto" and zlast):
            if not zlast:
                raise SystemExit(f"--dims-order zlast but dims {dims} != (H, W, Z) = {(H, W, Z)}")
            perm, how = (2, 0, 1), "(H, W, Z) z last"   # grid (z, y, x) takes dims axes (2, 0, 1)
        elif dims_order == "zfirst" or (dims_order == "auto" and zfirst):
            if not zfirst:
                raise SystemExit(f"--dims-order zfirst but dims {dims} != (Z, H, W) = {grid}")
            perm, how = (0, 1, 2), "(Z, H, W) z first"
        else:
            raise SystemExit(f"3D dims {dims} fit neither (H, W, Z) nor (Z, H, W) of truth {grid}")
    A = A.tocsc()
    coords = np.unravel_index(A.indices.astype(np.int64), dims, order="F")
    new_rows = np.ravel_multi_index(tuple(coords[p] for p in perm), grid, order="C")
    B = sp.csc_matrix((A.data.astype(np.float64), new_rows, A.indptr.copy()), shape=A.shape)
    B.sort_indices()
    return B, how


def centroids(M, grid):
    """Weighted (by max(M, 0)) centroid of every column, coordinates in grid axis order."""
    M = M.tocsc().copy()
    M.data = np.maximum(M.data, 0)
    coords = np.stack(np.unravel_index(np.arange(M.shape[0]), grid), axis=1).astype(np.float64)  # (d, ndim)
    w = np.asarray(M.sum(axis=0)).ravel()
    num = (M.T @ coords)  # (K, ndim)
    with np.errstate(invalid="ignore", divide="ignore"):
        c = num / w[:, None]
    c[w <= 0] = np.nan
    return c


def pearson_rows(X, Y):
    X = X - X.mean(axis=1, keepdims=True)
    Y = Y - Y.mean(axis=1, keepdims=True)
    den = np.sqrt((X * X).sum(1) * (Y * Y).sum(1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return (X * Y).sum(1) / den


def score(result, truth, use_all=False, max_dist=4.0, dims_order="auto", truth_centers=False):
    A, C, idx, dims = read_result(result)
    Tfp, traces, grid, centers = read_truth(truth)
    A, how = fortran_to_grid_index(A, dims, grid, dims_order)
    n_comp = A.shape[1]
    if C.shape[0] != n_comp:
        raise SystemExit(f"A has {n_comp} columns but C has {C.shape[0]} rows")
    scored_from = "all"
    sel = np.arange(n_comp)
    if not use_all and idx is not None and idx.size > 0:
        sel, scored_from = np.unique(idx), "idx_components"
    A_s, C_s = A[:, sel], C[sel]

    ce = centroids(A_s, grid)
    if truth_centers and centers is not None:
        # stored as (y, x) or (y, x, z): reorder to grid axis order
        ct = centers[:, [2, 0, 1]] if len(grid) == 3 else centers[:, :2]
    else:
        ct = centroids(Tfp, grid)
    D = np.sqrt(((ce[:, None, :] - ct[None, :, :]) ** 2).sum(-1))  # (n_est, n_true)
    D = np.where(np.isfinite(D), D, np.inf)
    BIG = 1e6
    cost = np.where(D <= max_dist, D, BIG)
    ri, ci = linear_sum_assignment(cost) if cost.size else (np.array([], int), np.array([], int))
    ok = D[ri, ci] <= max_dist
    ri, ci = ri[ok], ci[ok]

    n_est, n_true, n_match = len(sel), traces.shape[0], int(ok.sum())
    prec = n_match / n_est if n_est else 0.0
    rec = n_match / n_true if n_true else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec > 0 else 0.0
    T = min(C_s.shape[1], traces.shape[1])
    r = pearson_rows(C_s[ri, :T], traces[ci, :T]) if n_match else np.array([])
    # footprint cosine similarity of matched pairs
    cos = []
    Tn = sp.csc_matrix(Tfp)
    for i, j in zip(ri, ci):
        a, t = A_s[:, i], Tn[:, j]
        den = np.sqrt(a.multiply(a).sum() * t.multiply(t).sum())
        cos.append(float(a.multiply(t).sum() / den) if den > 0 else np.nan)

    def med(x):
        x = np.asarray(x, dtype=float)
        x = x[np.isfinite(x)]
        return float(np.median(x)) if x.size else None

    return {
        "result": result,
        "truth": truth,
        "dims": list(dims) if dims else None,
        "pixel_order": how,
        "scored": scored_from,
        "n_components": int(n_comp),
        "n_accepted": int(idx.size) if idx is not None else None,
        "n_scored": int(n_est),
        "n_true": int(n_true),
        "n_matched": n_match,
        "max_dist_px": max_dist,
        "precision": round(prec, 4),
        "recall": round(rec, 4),
        "f1": round(f1, 4),
        "median_trace_r": None if med(r) is None else round(med(r), 4),
        "mean_trace_r": None if not len(r) else round(float(np.nanmean(r)), 4),
        "frac_trace_r_gt_0.8": None if not len(r) else round(float(np.mean(r > 0.8)), 4),
        "median_footprint_cos": None if med(cos) is None else round(med(cos), 4),
        "median_centroid_dist_px": None if not n_match else round(float(np.median(D[ri, ci])), 3),
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("result", help="results HDF5 (CaImAn layout)")
    ap.add_argument("truth", help="truth.h5 from `mesmerize simulate`")
    ap.add_argument("--all", action="store_true", help="score all components, ignoring idx_components")
    ap.add_argument("--max-dist", type=float, default=4.0, help="largest matched centroid distance, px (4)")
    ap.add_argument("--dims-order", choices=["auto", "zlast", "zfirst"], default="auto",
                    help="3D: how dims relate to the truth's (Z, H, W) (default auto; CaImAn is zlast)")
    ap.add_argument("--truth-centers", action="store_true",
                    help="use truth's analytic centres instead of weighted footprint centroids")
    a = ap.parse_args(argv)
    out = score(a.result, a.truth, a.all, a.max_dist, a.dims_order, a.truth_centers)
    print(json.dumps(out))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
