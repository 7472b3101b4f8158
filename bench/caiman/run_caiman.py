#!/usr/bin/env python3
"""Peer benchmark: CaImAn 1.12.1 (single thread) on a `mesmerize simulate` movie, scored against its truth.h5.

CaImAn is not a dependency of the project: it lives in a venv outside the repository, built by
../shared/peers/setup_caiman.sh (see README.md next to this file). Run with that venv's python:

    "$CAIMAN_VENV"/bin/python bench/caiman/run_caiman.py --mode MODE --movie DIR [--params P.json] [--out OUT]

    --movie DIR   holds movie.tiff ((T, H, W) or (T, Z, H, W) uint16) and truth.h5 (or give --movie FILE.tiff
                  and --truth FILE.h5)
    --mode        corr_pnr  caiman.summary_images.correlation_pnr(images, gSig, swap_dim=False) (center_psf default
                            True), timed alone; corr/pnr images written as float32 TIFFs to OUT
                  cnmf      CNMF (2D): fit (patches as in P.json) -> refit (whole field, seeded) -> evaluate_components
                  cnmfe     CNMF-E (1p): fit -> evaluate_components (--refit adds a refit, not in CaImAn's demo)
                  cnmf3d    CNMF on volumes: the movie (T, Z, H, W) is handed to CaImAn as (T, H, W, Z) (its 3D
                            convention: axial axis last, cf. demo_caiman_cnmf_3D), fit -> [refit if rf] -> evaluate
    --params      flat JSON of CaImAn parameter names (params_2p.json / params_1p.json / params_3d.json); the same
                  file is meant for `mesmerize cnmf/cnmfe --params`
    --gsig N      corr_pnr only: overrides gSig[0] of --params
    --out OUT     output folder (default: DIR/caiman_<mode>); CaImAn's memmap goes there too (CAIMAN_TEMP) and is
                  deleted at the end unless --keep-mmap

Phases (seconds, wall clock, time.perf_counter):
    load      tifffile.imread of movie.tiff
    memmap    cm.save_memmap([array], order='C') + cm.load_memmap + the (T, dims) Fortran view CaImAn's demos use
    corr_pnr  correlation_pnr (corr_pnr mode)
    fit / refit / evaluate   cnm.fit(images), cnm.refit(images), estimates.evaluate_components(images, params)
Single thread: n_processes=1, dview=None, OMP/MKL/OPENBLAS/NUMEXPR/VECLIB threads = 1 (set before numpy is
imported) and cv2.setNumThreads(1). Peak RSS = resource.getrusage(RUSAGE_SELF).ru_maxrss (whole process, includes
the load and the memmap copies); rss_after_* give the running peak after each phase. The 1-, 5-, 15-min load
averages are recorded at start and end (the machine is shared).

The result is saved with cnm.save(OUT/caiman_<mode>.hdf5) and scored by score_h5.py (same folder) in a subprocess
after the timings. Output: one JSON line on stdout; CaImAn's log goes to stderr.
"""
import os

for _v in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS",
           "VECLIB_MAXIMUM_THREADS", "BLIS_NUM_THREADS"):
    os.environ[_v] = "1"

import argparse
import glob
import json
import logging
import resource
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def peak_rss_mb():
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mode", required=True, choices=["corr_pnr", "cnmf", "cnmfe", "cnmf3d"])
    ap.add_argument("--movie", required=True)
    ap.add_argument("--truth")
    ap.add_argument("--params")
    ap.add_argument("--gsig", type=float)
    ap.add_argument("--out")
    ap.add_argument("--refit", dest="refit", action="store_true", default=None)
    ap.add_argument("--no-refit", dest="refit", action="store_false")
    ap.add_argument("--keep-mmap", action="store_true")
    ap.add_argument("--log-level", default="WARNING")
    a = ap.parse_args()

    movie = a.movie
    if os.path.isdir(movie):
        movie_dir, movie = movie, os.path.join(movie, "movie.tiff")
    else:
        movie_dir = os.path.dirname(os.path.abspath(movie))
    truth = a.truth or os.path.join(movie_dir, "truth.h5")
    out = os.path.abspath(a.out or os.path.join(movie_dir, "caiman_" + a.mode))
    os.makedirs(out, exist_ok=True)
    os.environ["CAIMAN_TEMP"] = out  # save_memmap writes into CaImAn's temp dir
    prm = {}
    if a.params:
        with open(a.params) as fh:
            prm = json.load(fh)
    prm = {k: v for k, v in prm.items() if not k.startswith("_")}  # "_comment" keys are notes, not parameters

    t_start = time.perf_counter()
    load_start = os.getloadavg()

    import numpy as np
    import tifffile
    import cv2
    cv2.setNumThreads(1)
    import caiman as cm
    from caiman.source_extraction import cnmf as cnmf_mod
    from caiman.source_extraction.cnmf import params as params_mod

    logging.basicConfig(stream=sys.stderr, format="%(asctime)s %(levelname)s [%(filename)s:%(lineno)s] %(message)s")
    logging.getLogger("caiman").setLevel(getattr(logging, a.log_level.upper()))

    res = {"peer": "caiman", "version": cm.__version__, "mode": a.mode, "movie": os.path.abspath(movie),
           "params_file": os.path.abspath(a.params) if a.params else None, "threads": 1}
    times = {}

    # ---------------------------------------------------------------- load + memmap
    t0 = time.perf_counter()
    arr = tifffile.imread(movie)
    times["load"] = time.perf_counter() - t0
    res["shape"] = list(arr.shape)
    res["rss_after_load_mb"] = peak_rss_mb()
    is3d = arr.ndim == 4
    if a.mode == "cnmf3d" and not is3d:
        sys.exit("cnmf3d needs a (T, Z, H, W) movie")
    if is3d:
        arr = np.transpose(arr, (0, 2, 3, 1))  # (T, Z, H, W) -> (T, H, W, Z): CaImAn's axial-last convention

    t0 = time.perf_counter()
    fname_new = cm.save_memmap([arr], base_name=os.path.join(out, "memmap_"), order="C", is_3D=is3d)
    del arr
    Yr, dims, T = cm.load_memmap(fname_new)
    images = np.reshape(Yr.T, [T] + list(dims), order="F")
    times["memmap"] = time.perf_counter() - t0
    res["dims"] = list(dims)
    res["frames"] = int(T)
    res["rss_after_memmap_mb"] = peak_rss_mb()

    hdf5 = None
    if a.mode == "corr_pnr":
        gsig = a.gsig
        if gsig is None:
            g = prm.get("gSig", 3)
            gsig = g[0] if isinstance(g, (list, tuple)) else g
        res["gSig"] = gsig
        t0 = time.perf_counter()
        cn, pnr = cm.summary_images.correlation_pnr(images, gSig=gsig, swap_dim=False)
        times["corr_pnr"] = time.perf_counter() - t0
        tifffile.imwrite(os.path.join(out, "caiman_corr.tiff"), np.asarray(cn, dtype=np.float32))
        tifffile.imwrite(os.path.join(out, "caiman_pnr.tiff"), np.asarray(pnr, dtype=np.float32))
        res["corr_mean"] = float(np.nanmean(cn))
        res["pnr_mean"] = float(np.nanmean(pnr))
    else:
        opts = params_mod.CNMFParams(params_dict=dict(prm))
        opts.change_params({"data": {"dims": dims}, "patch": {"n_processes": 1}})
        if a.mode == "cnmf3d" and "se" not in prm:
            # CaImAn's 3D demo: closing element without axial extent
            opts.set("spatial", {"se": np.ones((3, 3, 1), dtype=np.uint8)})
        refit = a.refit
        if refit is None:
            refit = a.mode == "cnmf" or (a.mode == "cnmf3d" and opts.patch["rf"] is not None)
        res["refit"] = bool(refit)

        cnm = cnmf_mod.CNMF(n_processes=1, params=opts, dview=None)
        t0 = time.perf_counter()
        cnm.fit(images)
        times["fit"] = time.perf_counter() - t0
        res["n_after_fit"] = int(cnm.estimates.A.shape[-1])
        res["rss_after_fit_mb"] = peak_rss_mb()
        if refit:
            t0 = time.perf_counter()
            cnm = cnm.refit(images, dview=None)
            times["refit"] = time.perf_counter() - t0
            res["n_after_refit"] = int(cnm.estimates.A.shape[-1])
            res["rss_after_refit_mb"] = peak_rss_mb()
        t0 = time.perf_counter()
        cnm.estimates.evaluate_components(images, cnm.params, dview=None)
        times["evaluate"] = time.perf_counter() - t0
        res["n_components"] = int(cnm.estimates.A.shape[-1])
        res["n_accepted"] = int(len(cnm.estimates.idx_components))
        hdf5 = os.path.join(out, "caiman_%s.hdf5" % a.mode)
        cnm.save(hdf5)
        res["result"] = hdf5

    res["seconds"] = {k: round(v, 3) for k, v in times.items()}
    res["seconds_total"] = round(time.perf_counter() - t_start, 3)
    res["peak_rss_mb"] = peak_rss_mb()
    res["loadavg_start"] = [round(x, 2) for x in load_start]
    res["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]

    del images, Yr
    if not a.keep_mmap:
        for f in glob.glob(os.path.join(out, "memmap_*.mmap")):
            os.remove(f)

    if hdf5 is not None and os.path.exists(truth):
        sc = subprocess.run([sys.executable, os.path.join(HERE, "score_h5.py"), hdf5, truth],
                            capture_output=True, text=True)
        if sc.returncode == 0:
            s = json.loads(sc.stdout.strip().splitlines()[-1])
            res["score"] = s
            res["f1"] = s["f1"]
            res["median_trace_r"] = s["median_trace_r"]
        else:
            res["score_error"] = sc.stderr.strip()[-2000:]
    print(json.dumps(res))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
