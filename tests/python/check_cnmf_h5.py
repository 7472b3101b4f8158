#!/usr/bin/env python3
"""Load a CNMF result written by Mesmerize-RS the way CaImAn users do (h5py + scipy.sparse) and print a JSON summary
that tests/python_interop.rs compares with the footprints it wrote.

    python3 check_cnmf_h5.py RESULT.hdf5

For each component: the peak of A[:, k] reshaped with order='F' to `dims` ((y, x) in 2D, (y, x, z) in 3D). Also the
shapes of C and b, idx_components, a few parameters read back as CaImAn's loader reads the `params` group, and, if
CaImAn itself is importable, what `load_CNMF` makes of the file.
"""
import json
import sys

import h5py
import numpy as np
import scipy.sparse


def load_group(g):
    """CaImAn's recursive loader in miniature: strings are attributes, 'NoneType' datasets are None."""
    out = {k: (v.decode() if isinstance(v, bytes) else str(v)) for k, v in g.attrs.items()}
    for k, item in g.items():
        if isinstance(item, h5py.Group):
            out[k] = load_group(item)
        else:
            v = item[()]
            if isinstance(v, bytes) and v == b"NoneType":
                v = None
            elif isinstance(v, np.ndarray):
                v = v.tolist()
            elif isinstance(v, (np.bool_, bool)):
                v = bool(v)
            elif isinstance(v, np.generic):
                v = v.item()
            elif isinstance(v, bytes):
                v = v.decode()
            out[k] = v
    return out


path = sys.argv[1]
out = {}
with h5py.File(path, "r") as f:
    g = f["estimates/A"]
    A = scipy.sparse.csc_matrix((g["data"][:], g["indices"][:], g["indptr"][:]), shape=tuple(g["shape"][:]))
    dims = tuple(int(v) for v in f["dims"][:])
    out["dims"] = list(dims)
    out["A_shape"] = list(A.shape)
    peaks = []
    for k in range(A.shape[1]):
        img = A[:, k].toarray().reshape(dims, order="F")
        peaks.append([int(i) for i in np.unravel_index(int(np.argmax(img)), img.shape)])
    out["peaks"] = peaks
    out["C_shape"] = list(f["estimates/C"].shape)
    out["b_shape"] = list(f["estimates/b"].shape)
    out["idx_components"] = [int(i) for i in f["estimates/idx_components"][:]]
    params = load_group(f["params"])
    out["params"] = {
        "groups": sorted(params),
        "gSig": params["init"]["gSig"],
        "K": params["init"]["K"],
        "method_init": params["init"]["method_init"],
        "rf": params["patch"]["rf"],
        "merge_thr": params["merging"]["merge_thr"],
        "center_psf": params["init"]["center_psf"],
    }
    out["provenance"] = json.loads(f.attrs["mesmerize_provenance"])

try:
    from caiman.source_extraction.cnmf.cnmf import load_CNMF
except Exception:  # CaImAn is optional here
    load_CNMF = None
if load_CNMF is not None:
    cnm = load_CNMF(path)
    est = cnm.estimates
    out["caiman"] = {
        "A_shape": list(est.A.shape),
        "C_shape": list(np.asarray(est.C).shape),
        "dims": [int(v) for v in cnm.dims],
        "gSig": [int(v) for v in cnm.params.get("init", "gSig")],
        "K": int(cnm.params.get("init", "K")),
        "method_init": str(cnm.params.get("init", "method_init")),
        "idx_components": [int(i) for i in est.idx_components],
        "peaks": [
            [int(i) for i in np.unravel_index(int(np.argmax(est.A[:, k].toarray().reshape(cnm.dims, order="F"))), cnm.dims)]
            for k in range(est.A.shape[1])
        ],
    }
print(json.dumps(out))
