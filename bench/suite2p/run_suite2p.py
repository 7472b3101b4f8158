#!/usr/bin/env python3
"""Peer benchmark: suite2p 1.1.0 registration (CPU) on a `mesmerize simulate` movie, scored against truth.h5.

suite2p is not a dependency of the project: it lives in a venv outside the repository.

Setup (once, ~6 GB because torch brings its CUDA libraries even though only the CPU is used):

    python3 -m venv "$SUITE2P_VENV"
    "$SUITE2P_VENV"/bin/pip install suite2p==1.1.0 h5py

Movies (same seed for the moving and the motion-free movie, so neurons, traces and noise streams agree):

    M=target/release/mesmerize
    $M simulate --kind 2p --size 512x512 --frames 1000 --motion rigid     --seed 5 --out "$BENCH"/s512_rigid
    $M simulate --kind 2p --size 512x512 --frames 1000 --motion piecewise --seed 5 --out "$BENCH"/s512_piecewise
    $M simulate --kind 2p --size 512x512 --frames 1000 --motion none      --seed 5 --out "$BENCH"/s512_none
    (and the same with --size 256x256 --frames 300 into s256_* for quick checks)

Usage:

    /usr/bin/time -v "$SUITE2P_VENV"/bin/python bench/suite2p/run_suite2p.py \
        --movie "$BENCH"/s512_rigid --static "$BENCH"/s512_none --mode rigid [--threads 2]
    /usr/bin/time -v "$SUITE2P_VENV"/bin/python bench/suite2p/run_suite2p.py \
        --movie "$BENCH"/s512_piecewise --static "$BENCH"/s512_none --mode nonrigid

    --movie DIR     holds movie.tiff (uint16, (T, Y, X)) and truth.h5
    --static DIR    the same seed simulated with --motion none (its movie.tiff gives the motion-free mean image)
    --mode          rigid: settings nonrigid=False; nonrigid: nonrigid=True
    --block-size N  non-rigid block size (default: 64 for frames < 512 px, else 128; suite2p's 128 leaves a single
                    block on 256-px frames)
    --threads N     torch / BLAS / numba threads (default 2)

    On a shared 2-core machine, torch's OpenMP pool with the default (spinning) wait policy slows down by an order
    of magnitude whenever another process holds a core (suite2p rolls frames one at a time: thousands of tiny
    parallel regions). Prefix OMP_WAIT_POLICY=PASSIVE to measure suite2p rather than the contention; the JSON
    records the policy and the 1-min load average at start.

What is run: the movie is read fully into memory and converted to int16 the way suite2p's BinaryFile stores it
(values clipped at 32766; our 2p movies stay far below), then `suite2p.registration.registration_wrapper(f_reg=array,
settings=default_settings()["registration"] with nonrigid / block_size set, device=torch.device("cpu"))` registers
it in place: reference image from nimg_init (400) frames, rigid phase correlation (whole pixels), optional non-rigid
block phase correlation (1/10 px), shifting of all frames, crop/badframe estimation and the enhanced mean image.
`seconds_registration` times that call alone (no imports, no file reading, no scoring); `seconds_reference` is the
part of it spent in `compute_reference`; `seconds_total` is wall time from the start of reading movie.tiff to the
end of registration.

Output: one JSON line on stdout (logs go to stderr):

  peer, version (suite2p), torch, numpy, mode, frames, shape [T, Y, X], block_size, threads,
  seconds_registration, seconds_reference, seconds_total, frames_per_s (= frames / seconds_registration),
  rms_shift_error_px: RMS over frames and both axes of suite2p's rigid shift (yoff, xoff) minus truth.h5 `shifts`,
      after removing the constant offset (mean over frames, per axis) between suite2p's reference image and the
      simulator's template. Sign convention: suite2p registers a frame with torch.roll(frame, (-yoff, -xoff)), i.e.
      registered(y, x) = raw(y + yoff, x + xoff); ours says template(y, x) = raw(y + dy, x + dx), so suite2p's
      (yoff, xoff) estimates our (dy, dx) directly, up to that constant. The script checks this on the data:
      `sign_check` gives the RMS error with the opposite sign, which must be much larger.
  reference_offset_px: that constant [cy, cx]: suite2p's registered frame at (y, x) shows the template at
      (y + cy, x + cx).
  nonrigid only: residual_motion_rms_px: suite2p's per-pixel displacement estimate D(t, y, x) = rigid (yoff, xoff) +
      block shifts (yoff1, xoff1) upsampled to pixels exactly as suite2p applies them (nonrigid.transform_data:
      bilinear F.interpolate between block centres with align_corners=True, replicate-padded outside them), minus
      the true displacement d_t at the same template position (shifts[t] + B-spline field, docs/simulator.md),
      RMS over all pixels, frames and both axes, after removing the constant reference offset (mean over frames and
      pixels, per axis; the true field is evaluated at (y + cy, x + cx), where the registered pixel's content comes
      from). Also: residual_motion_rms_px_interior (pixels >= 10 px from the border) and
      residual_motion_rms_px_static_removed (removing a per-pixel, time-constant offset field instead of a
      constant: what is left once the reference image's own, time-averaged distortion is forgiven),
      residual_motion_rms_px_rigid_part_only (the same score for suite2p's rigid (yoff, xoff) alone: whether its
      block shifts help) and residual_motion_rms_px_inliers (outlier frames, below, left out).
  outlier_frames / rms_shift_error_px_inliers: frames whose rigid error exceeds 3 px on an axis (around the median
      offset) are counted and listed; the RMS is repeated without them (offset re-estimated on the inliers).
  mean_image_corr: Pearson correlation of suite2p's meanImg (mean of the registered movie) with the mean of the
      motion-free movie over pixels >= 10 px from the border, as is (no compensation of the reference offset);
      mean_image_corr_offset_compensated: the same after moving meanImg into the template's frame,
      out(y, x) = meanImg(y - cy, x - cx) (scipy.ndimage.shift by +reference_offset_px, cubic spline).
"""
import argparse
import os
import sys
import time

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--movie", required=True, help="directory with movie.tiff and truth.h5")
ap.add_argument("--static", required=True, help="directory of the same seed simulated with --motion none")
ap.add_argument("--mode", required=True, choices=["rigid", "nonrigid"])
ap.add_argument("--block-size", type=int, default=None)
ap.add_argument("--threads", type=int, default=2)
args = ap.parse_args()

LOAD0 = round(os.getloadavg()[0], 2)
for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[var] = str(args.threads)

import json  # noqa: E402
import logging  # noqa: E402

import h5py  # noqa: E402
import numpy as np  # noqa: E402
import tifffile  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from scipy import ndimage  # noqa: E402

import suite2p  # noqa: E402
from suite2p.registration import register  # noqa: E402

logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
torch.set_num_threads(args.threads)
torch.set_num_interop_threads(args.threads)
device = torch.device("cpu")
BORDER = 10
OUTLIER_PX = 3.0


def log(msg):
    print(f"[run_suite2p] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- read (counted in seconds_total only)
t_total0 = time.perf_counter()
raw = tifffile.imread(os.path.join(args.movie, "movie.tiff"))
assert raw.ndim == 3, raw.shape
# suite2p's BinaryFile stores int16, clipping at 2**15 - 2 (io/binary.py)
mov = np.minimum(raw, 2**15 - 2).astype(np.int16)
del raw
n_frames, Ly, Lx = mov.shape
log(f"read {mov.shape} in {time.perf_counter() - t_total0:.2f} s")

# ---------------------------------------------------------------- register
settings = suite2p.default_settings()["registration"]
settings["nonrigid"] = args.mode == "nonrigid"
block = args.block_size or (64 if min(Ly, Lx) < 512 else 128)
settings["block_size"] = (block, block)

t_ref = [0.0]
_compute_reference = register.compute_reference


def timed_compute_reference(*a, **k):
    t0 = time.perf_counter()
    out = _compute_reference(*a, **k)
    t_ref[0] += time.perf_counter() - t0
    return out


register.compute_reference = timed_compute_reference  # looked up as a module global by registration_wrapper

t0 = time.perf_counter()
out = register.registration_wrapper(f_reg=mov, settings=settings, device=device)
t_reg = time.perf_counter() - t0
t_total = time.perf_counter() - t_total0
log(f"registration {t_reg:.2f} s (reference {t_ref[0]:.2f} s)")

# ---------------------------------------------------------------- score
with h5py.File(os.path.join(args.movie, "truth.h5"), "r") as f:
    shifts = f["shifts"][:].astype(np.float64)  # (T, 2) dy, dx
    if "field" in f:
        field = f["field"][:].astype(np.float64)  # (T, 2, gy, gx)
        spacing = np.asarray(f["field"].attrs["spacing"], dtype=np.float64)
        origin = np.asarray(f["field"].attrs["origin"], dtype=np.float64)
    else:
        field = None
assert shifts.shape == (n_frames, 2), shifts.shape

est = np.stack([out["yoff"], out["xoff"]], axis=1).astype(np.float64)  # (T, 2), whole pixels


def rms_const_removed(e):
    c = e.mean(axis=0)
    return float(np.sqrt(np.mean((e - c) ** 2))), c


rms_rigid, c_rigid = rms_const_removed(est - shifts)
rms_rigid_flipped, _ = rms_const_removed(-est - shifts)
# outliers: frames whose rigid estimate misses by > OUTLIER_PX on an axis (around the median offset). Frame 0 of a
# simulated movie has no calcium yet (traces start at 0), so it can have almost nothing to register on.
err0 = est - shifts
outlier = np.abs(err0 - np.median(err0, axis=0)).max(axis=1) > OUTLIER_PX
inl = ~outlier
rms_rigid_inl, _ = rms_const_removed(err0[inl])
result = {
    "peer": "suite2p",
    "version": suite2p.version,
    "torch": torch.__version__,
    "numpy": np.__version__,
    "mode": args.mode,
    "frames": int(n_frames),
    "shape": [int(n_frames), int(Ly), int(Lx)],
    "block_size": [block, block] if args.mode == "nonrigid" else None,
    "threads": args.threads,
    "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "(unset)"),
    "loadavg_1min_at_start": LOAD0,
    "seconds_registration": round(t_reg, 3),
    "seconds_reference": round(t_ref[0], 3),
    "seconds_total": round(t_total, 3),
    "frames_per_s": round(n_frames / t_reg, 2),
    "rms_shift_error_px": round(rms_rigid, 4),
    "sign_check": {"rms_with_opposite_sign_px": round(rms_rigid_flipped, 4),
                   "ok": bool(rms_rigid < rms_rigid_flipped)},
    "reference_offset_px": [round(float(v), 4) for v in c_rigid],
    "outlier_frames": {"threshold_px": OUTLIER_PX, "count": int(outlier.sum()),
                       "first_indices": [int(i) for i in np.nonzero(outlier)[0][:20]]},
    "rms_shift_error_px_inliers": round(rms_rigid_inl, 4),
}


def bspline_weights(coords, origin_, spacing_, g):
    """(len(coords), g) matrix W with field(coords) = W @ nodes along one axis (docs/simulator.md, clamped)."""
    u = (coords - origin_) / spacing_
    i = np.floor(u).astype(np.int64)
    fr = u - i
    w = [(1 - fr) ** 3 / 6, (3 * fr**3 - 6 * fr**2 + 4) / 6, (-3 * fr**3 + 3 * fr**2 + 3 * fr + 1) / 6, fr**3 / 6]
    W = np.zeros((len(coords), g))
    rows = np.arange(len(coords))
    for a in range(4):
        np.add.at(W, (rows, np.clip(i - 1 + a, 0, g - 1)), w[a])
    return W


def true_displacement(t0_, t1_, cy, cx):
    """(n, 2, Ly, Lx) true d_t at template positions (y + cy, x + cx) for frames t0_..t1_."""
    n = t1_ - t0_
    d = np.broadcast_to(shifts[t0_:t1_, :, None, None], (n, 2, Ly, Lx)).copy()
    if field is not None:
        gy, gx = field.shape[2:]
        Wy = bspline_weights(np.arange(Ly) + cy, origin[0], spacing[0], gy)
        Wx = bspline_weights(np.arange(Lx) + cx, origin[1], spacing[1], gx)
        d += np.einsum("yi,tcij,xj->tcyx", Wy, field[t0_:t1_], Wx, optimize=True)
    return d


def suite2p_displacement(t0_, t1_, blocks):
    """(n, 2, Ly, Lx) suite2p's displacement: rigid + block shifts upsampled as in nonrigid.transform_data."""
    yblock, xblock, nblocks = blocks[0], blocks[1], blocks[2]
    y1 = torch.from_numpy(np.ascontiguousarray(out["yoff1"][t0_:t1_])).float().reshape(-1, *nblocks)
    x1 = torch.from_numpy(np.ascontiguousarray(out["xoff1"][t0_:t1_])).float().reshape(-1, *nblocks)
    yb = np.array(yblock[:: nblocks[1]]).mean(axis=1).astype("int")
    xb = np.array(xblock[: nblocks[1]]).mean(axis=1).astype("int")
    Lyc, Lxc = int(yb.max() - yb.min()), int(xb.max() - xb.min())
    yxup = F.interpolate(torch.stack((y1, x1), dim=1), size=(Lyc, Lxc), mode="bilinear", align_corners=True)
    yxup = F.pad(yxup, (int(xb.min()), Lx - int(xb.max()), int(yb.min()), Ly - int(yb.max())), mode="replicate")
    return yxup.double().numpy() + est[t0_:t1_, :, None, None]


if args.mode == "nonrigid":
    blocks = register.nonrigid.make_blocks(Ly=Ly, Lx=Lx, block_size=settings["block_size"],
                                           subpixel=settings["subpixel"])
    batch = 50
    # pass 1: constant offset (the true field evaluated at the registered pixel itself)
    acc = np.zeros(2)
    for s in range(0, n_frames, batch):
        e = min(s + batch, n_frames)
        acc += (suite2p_displacement(s, e, blocks) - true_displacement(s, e, 0.0, 0.0)).sum(axis=(0, 2, 3))
    c0 = acc / (n_frames * Ly * Lx)
    # pass 2: the registered pixel (y, x) shows template (y + c): compare with d there
    s1, s2, s2i = np.zeros(2), np.zeros(2), np.zeros(2)
    s1_t, s2_t = np.zeros((n_frames, 2)), np.zeros((n_frames, 2))
    per_pix_sum = np.zeros((2, Ly, Lx))
    per_pix_sq = np.zeros((2, Ly, Lx))
    inner = (slice(None), slice(None), slice(BORDER, Ly - BORDER), slice(BORDER, Lx - BORDER))
    for s in range(0, n_frames, batch):
        e = min(s + batch, n_frames)
        r = suite2p_displacement(s, e, blocks) - true_displacement(s, e, c0[0], c0[1])
        s1 += r.sum(axis=(0, 2, 3))
        s2 += (r**2).sum(axis=(0, 2, 3))
        s1_t[s:e] = r.sum(axis=(2, 3))
        s2_t[s:e] = (r**2).sum(axis=(2, 3))
        s2i += (r[inner] ** 2).sum(axis=(0, 2, 3))
        per_pix_sum += r.sum(axis=0)
        per_pix_sq += (r**2).sum(axis=0)
    npx = n_frames * Ly * Lx
    npx_i = n_frames * (Ly - 2 * BORDER) * (Lx - 2 * BORDER)
    c = s1 / npx
    # E[(r - c)^2] = E[r^2] - c^2 per axis; interior uses the same global constant
    var = s2 / npx - c**2
    result["residual_motion_rms_px"] = round(float(np.sqrt(var.mean())), 4)
    # interior: recompute mean over interior from per-pixel sums
    ci = per_pix_sum[:, BORDER:Ly - BORDER, BORDER:Lx - BORDER].sum(axis=(1, 2)) / npx_i
    var_i = s2i / npx_i - 2 * c * ci + c**2
    result["residual_motion_rms_px_interior"] = round(float(np.sqrt(var_i.mean())), 4)
    pmean = per_pix_sum / n_frames
    var_static = (per_pix_sq / n_frames - pmean**2).mean(axis=(1, 2))
    result["residual_motion_rms_px_static_removed"] = round(float(np.sqrt(var_static.mean())), 4)
    n_in = int(inl.sum()) * Ly * Lx
    c_in = s1_t[inl].sum(axis=0) / n_in
    var_in = s2_t[inl].sum(axis=0) / n_in - c_in**2
    result["residual_motion_rms_px_inliers"] = round(float(np.sqrt(var_in.mean())), 4)
    # the same with the block shifts dropped (suite2p's rigid estimate alone), for comparison
    rig_only = est[:, :, None, None]
    acc2 = np.zeros(2)
    acc2sq = np.zeros(2)
    r1_t, r2_t = np.zeros((n_frames, 2)), np.zeros((n_frames, 2))
    for s in range(0, n_frames, batch):
        e = min(s + batch, n_frames)
        r = rig_only[s:e] - true_displacement(s, e, c0[0], c0[1])
        acc2 += r.sum(axis=(0, 2, 3))
        acc2sq += (r**2).sum(axis=(0, 2, 3))
        r1_t[s:e] = r.sum(axis=(2, 3))
        r2_t[s:e] = (r**2).sum(axis=(2, 3))
    cr = acc2 / npx
    result["residual_motion_rms_px_rigid_part_only"] = round(float(np.sqrt((acc2sq / npx - cr**2).mean())), 4)
    cr_in = r1_t[inl].sum(axis=0) / n_in
    result["residual_motion_rms_px_rigid_part_only_inliers"] = round(
        float(np.sqrt((r2_t[inl].sum(axis=0) / n_in - cr_in**2).mean())), 4)
    result["reference_offset_px"] = [round(float(v), 4) for v in c]
    result["n_blocks"] = [int(v) for v in blocks[2]]
    ref_offset = c
else:
    ref_offset = c_rigid

static = tifffile.imread(os.path.join(args.static, "movie.tiff"))
assert static.shape == (n_frames, Ly, Lx), static.shape
static_mean = static.mean(axis=0, dtype=np.float64)
del static
reg_mean = np.asarray(out["meanImg"], dtype=np.float64)


def corr_inner(a, b):
    a = a[BORDER:Ly - BORDER, BORDER:Lx - BORDER].ravel()
    b = b[BORDER:Ly - BORDER, BORDER:Lx - BORDER].ravel()
    return float(np.corrcoef(a, b)[0, 1])


result["mean_image_corr"] = round(corr_inner(reg_mean, static_mean), 5)
# registered(y) shows template(y + c): shifting by +c (output(y) = input(y - c)) maps it onto the template grid
result["mean_image_corr_offset_compensated"] = round(
    corr_inner(ndimage.shift(reg_mean, ref_offset, order=3, mode="nearest"), static_mean), 5)
result["seconds_wall_incl_scoring"] = round(time.perf_counter() - t_total0, 3)
print(json.dumps(result), flush=True)
