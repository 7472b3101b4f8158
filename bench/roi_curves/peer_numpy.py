"""Peer timings for `mesmerize bench roi-curves`: mean curves of N ROIs on a T x H x W uint16 TIFF, memory-mapped.

Two peers, same sizes as our bench (random ellipse ROIs of radius 4-7 px):
- per ROI (what the original Mesmerize does, one ROI at a time): crop the ROI's bounding box from the memory-mapped
  stack, mask, mean over the pixels -> one curve;
- scipy.sparse: one (N x H*W) averaging matrix times the movie in chunks of frames (the fastest NumPy/SciPy way).

Usage: python peer_numpy.py DIR [--rois 5000] [--size 512] [--frames 3000]   (writes DIR/movie.tif once)
Prints one JSON object per peer.
"""
import argparse
import json
import os
import time

import numpy as np
import scipy.sparse as sp
import tifffile

ap = argparse.ArgumentParser()
ap.add_argument("dir")
ap.add_argument("--rois", type=int, default=5000)
ap.add_argument("--size", type=int, default=512)
ap.add_argument("--frames", type=int, default=3000)
a = ap.parse_args()
os.makedirs(a.dir, exist_ok=True)
path = os.path.join(a.dir, "movie.tif")
T, H, W = a.frames, a.size, a.size
if not os.path.exists(path):
    rng = np.random.default_rng(0)
    with tifffile.TiffWriter(path, bigtiff=True) as tw:
        for _ in range(T // 100):
            tw.write(rng.integers(0, 4000, size=(100, H, W), dtype=np.uint16), contiguous=True)
mov = tifffile.memmap(path).reshape(T, H, W)  # written as contiguous series of 100 frames

_ = np.asarray(mov).sum(dtype=np.uint64)  # warm the file cache, as our bench reads a just-written file

rng = np.random.default_rng(1)
rois = []
for _ in range(a.rois):
    r = rng.uniform(4, 7)
    cy, cx = rng.uniform(r, H - r), rng.uniform(r, W - r)
    y0, y1, x0, x1 = int(cy - r), int(cy + r) + 1, int(cx - r), int(cx + r) + 1
    yy, xx = np.mgrid[y0:y1, x0:x1]
    m = (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
    rois.append((y0, y1, x0, x1, m))
npx = np.mean([m.sum() for *_, m in rois])

t0 = time.perf_counter()
per_roi = np.empty((a.rois, T), np.float32)
for i, (y0, y1, x0, x1, m) in enumerate(rois):
    per_roi[i] = mov[:, y0:y1, x0:x1][:, m].mean(axis=1)
t_roi = time.perf_counter() - t0
print(json.dumps({"peer": "numpy per ROI (the original's way)", "rois": a.rois, "shape": [T, H, W],
                  "mean_pixels_per_roi": float(npx), "seconds": t_roi}), flush=True)

rows, cols, vals = [], [], []
for i, (y0, y1, x0, x1, m) in enumerate(rois):
    yy, xx = np.nonzero(m)
    idx = (yy + y0) * W + (xx + x0)
    rows += [i] * len(idx)
    cols += idx.tolist()
    vals += [1.0 / len(idx)] * len(idx)
M = sp.csr_matrix((np.array(vals, np.float32), (rows, cols)), shape=(a.rois, H * W))
t0 = time.perf_counter()
flat = mov.reshape(T, H * W)
out = np.empty((a.rois, T), np.float32)
for s in range(0, T, 100):
    out[:, s:s + 100] = M @ flat[s:s + 100].T.astype(np.float32)
t_sp = time.perf_counter() - t0
assert np.allclose(out, per_roi, rtol=1e-4, atol=1e-2)
print(json.dumps({"peer": "scipy.sparse matrix product", "rois": a.rois, "shape": [T, H, W], "seconds": t_sp}), flush=True)
