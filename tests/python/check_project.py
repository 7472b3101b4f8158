"""Read a Mesmerize-RS project the way docs/projects.md shows: the DataFrame with pandas (Parquet via pyarrow),
ROI states as JSON, each ROI's curve from its sample's curves file with h5py. Prints a JSON summary on stdout."""
import json
import sys

import h5py
import pandas as pd

root = sys.argv[1]
df = pd.read_parquet(f"{root}/dataframes/root.parquet")
curve_sums = []
for _, row in df.iterrows():
    with h5py.File(f"{root}/{row.CurvePath}", "r") as f:
        uuids = [u.decode() if isinstance(u, bytes) else u for u in f["uuid_curve"][()]]
        curve = f["curves"][uuids.index(row.uuid_curve)]
        curve_sums.append(float(curve.astype("float64").sum()))
state = json.loads(df.ROI_State.iloc[0])
print(json.dumps({
    "columns": list(df.columns),
    "rows": len(df),
    "sample_ids": sorted(set(df.SampleID)),
    "stage": [None if pd.isna(v) else int(v) for v in df["stage"]],
    "odor_first": [str(x) for x in df["odor"].iloc[0]],
    "roi_type": state["roi_type"],
    "tags": state["tags"],
    "fps": json.loads(df.meta.iloc[0])["fps"],
    "curve_sums": curve_sums,
}))
