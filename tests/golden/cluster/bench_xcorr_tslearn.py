"""Timing of the original Mesmerize's all-pairs cross-correlation procedure (compute_cc_data's lag and maxima
matrices: tslearn normalized_cc for every ordered pair, then argmax / max) for 500 curves x 3000 points, the
reference for mesmerize_core::analysis::cluster::xcorr::cc_matrices (its #[ignore]d bench in
core/tests/cluster_xcorr.rs). The n x n x (2 sz - 1) array of cc functions the original also keeps (12 GB here) is
not stored. Run: python3 tests/golden/cluster/bench_xcorr_tslearn.py [n] [sz] [repeats]
"""

import sys
import time

import numpy as np
from tslearn.metrics.cycc import normalized_cc


def lag_maxima(curves):
    n = curves.shape[0]
    lag = np.zeros((n, n))
    maxima = np.zeros((n, n))
    cols = [np.ascontiguousarray(c.reshape(-1, 1)) for c in curves]
    for i in range(n):
        for j in range(n):
            cc = normalized_cc(cols[i], cols[j])
            w = np.argmax(cc)
            lag[i, j] = float(-(w - int(cc.shape[0] / 2)))
            maxima[i, j] = np.max(cc)
    return lag, maxima


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    sz = int(sys.argv[2]) if len(sys.argv) > 2 else 3000
    repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    curves = np.random.default_rng(1).uniform(-1, 1, size=(n, sz))
    lag_maxima(curves[:2])  # numba compilation outside the timing
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        lag_maxima(curves)
        times.append(time.perf_counter() - t0)
    print(f"tslearn all-pairs {n} x {sz}: median {np.median(times):.3f} s, runs {[round(t, 3) for t in times]}")


if __name__ == "__main__":
    main()
