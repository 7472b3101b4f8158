#!/usr/bin/env python3
"""Read what `mesmerize simulate` wrote the way Python users do (tifffile, h5py, json) and print a JSON summary
that tests/python_interop.rs compares with what mesmerize itself reads.

    python3 read_outputs.py DIR
"""
import json
import pathlib
import sys

import h5py
import numpy as np
import tifffile

d = pathlib.Path(sys.argv[1])
with tifffile.TiffFile(d / "movie.tiff") as tif:
    series = tif.series[0]
    arr = series.asarray()
    out = {
        "axes": series.axes,
        "shape": list(arr.shape),
        "dtype": str(arr.dtype),
        "first_plane_sum": float(arr.reshape(-1, arr.shape[-2], arr.shape[-1])[0].astype(np.float64).sum()),
        "last_plane_sum": float(arr.reshape(-1, arr.shape[-2], arr.shape[-1])[-1].astype(np.float64).sum()),
    }
with h5py.File(d / "truth.h5", "r") as f:
    out["truth"] = {name: list(ds.shape) for name, ds in f.items() if isinstance(ds, h5py.Dataset)}
    if f.attrs["motion"] in (b"none", "none") and arr.ndim == 3:
        # The documented reconstruction: offset + background + footprints x (resting level + calcium).
        A, C, F0 = f["footprints"][:], f["traces"][:], f["baseline"][:]
        B = np.einsum("mhw,mt->thw", f["background_spatial"][:], f["background_temporal"][:])
        expected = f.attrs["offset"] + B + np.einsum("khw,kt->thw", A, C + F0[:, None])
        residual = arr.astype(np.float64) - expected
        out["reconstruction"] = {"mean": float(residual.mean()), "std": float(residual.std()),
                                 "noise_std": float(f.attrs["noise_std"])}
    out["truth_attrs"] = {k: (v.item() if hasattr(v, "item") else (v.decode() if isinstance(v, bytes) else v))
                          for k, v in f.attrs.items()}
out["meta"] = json.loads((d / "movie.json").read_text())
print(json.dumps(out, default=str))
