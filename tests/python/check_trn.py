#!/usr/bin/env python3
"""Load a Transmission file (.trn) written by Mesmerize-RS with plain h5py + pandas, as docs/formats.md shows, and
print a JSON summary that tests/python_interop.rs compares with what it wrote.

    python3 check_trn.py FILE.trn

Summary: column names in order, dtypes as stored, number of rows, the first value of each column, the sum of each list
column (over its non-null rows), the null count of each column, the history trace's keys, data blocks and each
block's operation names, and the other root attributes.
"""
import json
import sys

import h5py
import numpy as np
import pandas as pd


# --- the loader from docs/formats.md, "Transmission files (.trn)" ---
def load_trn(path):
    """The DataFrame, the history trace (a dict) and the other root attributes of a Mesmerize-RS .trn file."""
    with h5py.File(path, "r") as f:
        history = json.loads(f.attrs["history_trace"])
        attrs = {k: v for k, v in f.attrs.items() if k != "history_trace"}
        g = f["df"]
        entries = {e.attrs["name"]: e for e in g.values()}  # entry names escape '/' and '%': look up by attribute
        data = {}
        for name in json.loads(g.attrs["columns"]):
            e = entries[name]
            kind = e.attrs["kind"]
            if kind == "list":  # curves: one flat array + offsets -> a column of numpy arrays
                values = e["values"].asstr()[()] if e.attrs["dtype"] == "List(String)" else e["values"][()]
                offsets = e["offsets"][()]
                col = [values[a:b] for a, b in zip(offsets[:-1], offsets[1:])]  # = np.split(values, offsets[1:-1])
            else:
                ds = e if kind == "array" else e["data"]
                col = ds.asstr()[()] if e.attrs["dtype"] == "String" else ds[()]
            if kind != "array" and "valid" in e:  # nulls
                col = [v if ok else None for v, ok in zip(col, e["valid"][()])]
            data[name] = pd.Series(list(col), dtype=object) if kind != "array" else pd.Series(col)
        df = pd.DataFrame(data, index=pd.RangeIndex(int(g.attrs["n_rows"])))
    return df, history, attrs
# --- end of the loader ---


def plain(v):
    """A JSON-friendly version of one cell."""
    if v is None:
        return None
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, np.generic):
        return v.item()
    return v


def main():
    df, history, attrs = load_trn(sys.argv[1])
    with h5py.File(sys.argv[1], "r") as f:
        g = f["df"]
        kinds = {e.attrs["name"]: (e.attrs["kind"], e.attrs["dtype"]) for e in g.values()}
    out = {
        "columns": list(df.columns),
        "dtypes": {c: kinds[c][1] for c in df.columns},
        "n_rows": len(df),
        "first": {c: plain(df[c].iloc[0]) if len(df) else None for c in df.columns},
        "nulls": {c: int(df[c].isna().sum()) for c in df.columns},
        "list_sums": {
            c: float(sum(np.sum(v) for v in df[c] if v is not None)) for c in df.columns if kinds[c][0] == "list"
        },
        "list_lengths": {c: [None if v is None else len(v) for v in df[c]] for c in df.columns if kinds[c][0] == "list"},
        "history_keys": sorted(history.keys()),
        "datablocks": history["datablocks"],
        "operations": {b: [next(iter(op)) for op in ops] for b, ops in history["history"].items()},
        "attrs": {k: plain(v) for k, v in attrs.items()},
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
