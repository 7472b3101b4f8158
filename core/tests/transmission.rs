//! Transmission and HistoryTrace: the original Mesmerize's history semantics and JSON shape, spawning and merging,
//! and the `.trn` HDF5 file (exact round trip of every stored dtype, atomic writes, clear errors, speed).

use std::path::Path;
use std::time::Instant;

use mesmerize_core::analysis::polars::prelude::*;
use mesmerize_core::analysis::{
    AnalysisError, BLOCK_COLUMN, BlockSel, HistoryTrace, Operation, RAW_CURVE, Transmission, dtype_name,
};
use serde_json::json;

fn list_f64(name: &str, rows: &[Option<Vec<f64>>]) -> Column {
    let mut b = ListPrimitiveChunkedBuilder::<Float64Type>::new(name.into(), rows.len(), 16, DataType::Float64);
    for r in rows {
        match r {
            Some(v) => b.append_slice(v),
            None => b.append_null(),
        }
    }
    b.finish().into_series().into_column()
}

fn list_of<T: PolarsNumericType>(name: &str, rows: &[Option<Vec<T::Native>>]) -> Column {
    let mut b = ListPrimitiveChunkedBuilder::<T>::new(name.into(), rows.len(), 16, T::get_static_dtype());
    for r in rows {
        match r {
            Some(v) => b.append_slice(v),
            None => b.append_null(),
        }
    }
    b.finish().into_series().into_column()
}

/// A DataFrame with every stored dtype, nulls in every column that can have them, and empty lists.
fn every_dtype() -> DataFrame {
    let cols = vec![
        Column::new("SampleID".into(), &[Some("a-_-1"), None, Some("ünïcødé / %"), Some("")]),
        Column::new("_F64".into(), &[Some(1.5f64), Some(-2.0), None, Some(f64::MAX)]),
        Column::new("_F32".into(), &[1.25f32, 2.5, -3.0, 0.0]),
        Column::new("_I64".into(), &[Some(i64::MIN), None, Some(0i64), Some(i64::MAX)]),
        Column::new("_I32".into(), &[1i32, -2, 3, -4]),
        Column::new("_U32".into(), &[Some(7u32), Some(u32::MAX), None, Some(0)]),
        Column::new("_U64".into(), &[1u64, 2, u64::MAX, 4]),
        Column::new("flag".into(), &[Some(true), None, Some(false), Some(true)]),
        Column::new("dF/F".into(), &[1.0f64, 2.0, 3.0, 4.0]),
        list_f64(RAW_CURVE, &[Some(vec![1.0, 2.0, 3.0]), Some(vec![]), None, Some(vec![4.5])]),
        list_of::<Float32Type>("_L32", &[Some(vec![1.0, 2.0]), Some(vec![3.0]), Some(vec![]), Some(vec![])]),
        list_of::<Int64Type>("_LI64", &[Some(vec![1, 2]), None, Some(vec![3]), Some(vec![i64::MAX])]),
        list_of::<Int32Type>("_LI32", &[Some(vec![]), Some(vec![-1]), Some(vec![2, 3, 4]), None]),
        list_str("odor", &[Some(vec!["water", "amino"]), Some(vec![]), None, Some(vec!["ünï / %"])]),
    ];
    DataFrame::new(4, cols).expect("df")
}

/// A List(String) column, as a project's stimulus type columns are.
fn list_str(name: &str, rows: &[Option<Vec<&str>>]) -> Column {
    let mut b = ListStringChunkedBuilder::new(name.into(), rows.len(), 8);
    for r in rows {
        match r {
            Some(v) => b.append_values_iter(v.iter().copied()),
            None => b.append_null(),
        }
    }
    b.finish().into_series().into_column()
}

fn assert_same_df(a: &DataFrame, b: &DataFrame) {
    assert_eq!(a.get_column_names(), b.get_column_names(), "column order");
    assert_eq!(a.dtypes(), b.dtypes(), "dtypes");
    assert_eq!(a.height(), b.height(), "rows");
    assert!(a.equals_missing(b), "values differ:\n{a:?}\nvs\n{b:?}");
}

fn block_ids(df: &DataFrame) -> Vec<String> {
    let c = df.column(BLOCK_COLUMN).expect("_BLOCK_");
    c.str().expect("strings").iter().map(|v| v.expect("non-null block").to_string()).collect()
}

// ---------------------------------------------------------------------------------------------------------------
// HistoryTrace

#[test]
fn history_operations_on_one_block_or_all() {
    let mut h = HistoryTrace::new();
    let mut df1 = DataFrame::new(2, vec![Column::new("a".into(), &[1i64, 2])]).expect("df");
    let mut df2 = DataFrame::new(1, vec![Column::new("a".into(), &[3i64])]).expect("df");
    let b1 = h.create_data_block(&mut df1).expect("block 1");
    let b2 = h.create_data_block(&mut df2).expect("block 2");
    assert_ne!(b1, b2);
    assert!(uuid_like(&b1), "{b1}");
    assert_eq!(block_ids(&df1), vec![b1.clone(), b1.clone()]);
    assert_eq!(h.data_blocks(), &[b1.clone(), b2.clone()]);
    assert!(h.get_data_block_history(&b1).expect("history").is_empty());

    h.add_operation(BlockSel::All, "normalize", json!({"data_column": "_RAW_CURVE"})).expect("all");
    h.add_operation(BlockSel::Block(&b2), "rfft", json!({"data_column": "_NORMALIZE"})).expect("one");
    h.add_operation(BlockSel::All, "normalize", json!({"data_column": "_RFFT"})).expect("again");
    assert_eq!(h.get_operations_list(&b1).expect("ops"), vec!["normalize", "normalize"]);
    assert_eq!(h.get_operations_list(&b2).expect("ops"), vec!["normalize", "rfft", "normalize"]);
    assert_eq!(h.get_data_block_history(&b2).expect("history")[1], Operation::new("rfft", json!({"data_column": "_NORMALIZE"})));
    // The parameters of the last occurrence.
    assert_eq!(h.get_operation_params(&b1, "normalize").expect("params"), &json!({"data_column": "_RFFT"}));
    assert!(h.check_operation_exists(&b2, "rfft"));
    assert!(!h.check_operation_exists(&b1, "rfft"));
    assert!(!h.check_operation_exists("no-such-block", "rfft"));
    assert!(matches!(h.get_operation_params(&b1, "rfft"), Err(AnalysisError::UnknownOperation { .. })));
    assert!(matches!(h.get_operations_list("nope"), Err(AnalysisError::UnknownBlock(_))));
    assert!(matches!(h.add_operation(BlockSel::Block("nope"), "x", json!({})), Err(AnalysisError::UnknownBlock(_))));
    assert!(matches!(h.add_operation(BlockSel::All, "x", json!(3)), Err(AnalysisError::BadInput(_))), "params must be an object");
    assert!(matches!(h.add_data_block(&b1, vec![]), Err(AnalysisError::DuplicateBlock(_))));

    // Re-blocking a DataFrame overwrites its _BLOCK_ column.
    let b3 = h.create_data_block(&mut df1).expect("block 3");
    assert_eq!(block_ids(&df1), vec![b3.clone(), b3]);
    assert_eq!(df1.width(), 2, "_BLOCK_ replaced, not added twice");
}

fn uuid_like(s: &str) -> bool {
    s.len() == 36 && s.chars().enumerate().all(|(i, c)| if [8, 13, 18, 23].contains(&i) { c == '-' } else { c.is_ascii_hexdigit() })
}

#[test]
fn history_json_has_the_original_to_dict_shape_and_round_trips() {
    let mut h = HistoryTrace::new();
    h.add_data_block("248a6ece-e60e-4a09-845e-188a5199d262", vec![]).expect("add");
    h.add_data_block("3e069e2d-d012-47ee-830c-93d85197e2f4", vec![Operation::new("spawn_transmission", json!({"a": 1}))])
        .expect("add");
    h.add_operation(BlockSel::All, "splice_arrays", json!({"data_column": "_RAW_CURVE", "start_ix": 0, "end_ix": 2990, "units": "time"}))
        .expect("op");
    let v = h.to_json();
    assert_eq!(
        v,
        json!({
            "history": {
                "248a6ece-e60e-4a09-845e-188a5199d262": [
                    {"splice_arrays": {"data_column": "_RAW_CURVE", "start_ix": 0, "end_ix": 2990, "units": "time"}}
                ],
                "3e069e2d-d012-47ee-830c-93d85197e2f4": [
                    {"spawn_transmission": {"a": 1}},
                    {"splice_arrays": {"data_column": "_RAW_CURVE", "start_ix": 0, "end_ix": 2990, "units": "time"}}
                ]
            },
            "datablocks": ["248a6ece-e60e-4a09-845e-188a5199d262", "3e069e2d-d012-47ee-830c-93d85197e2f4"]
        })
    );
    let back = HistoryTrace::from_json(&v).expect("from_json");
    assert_eq!(back, h);
    assert_eq!(back.data_blocks(), h.data_blocks(), "block order kept");
    // Through text, as stored in files.
    let text = serde_json::to_string(&v).expect("text");
    assert_eq!(HistoryTrace::from_json(&serde_json::from_str(&text).expect("parse")).expect("from text"), h);

    for bad in [
        json!([]),
        json!({"history": {}}),
        json!({"datablocks": []}),
        json!({"history": {"x": [{"a": {}, "b": {}}]}, "datablocks": ["x"]}),
        json!({"history": {"x": [3]}, "datablocks": ["x"]}),
        json!({"history": {"y": []}, "datablocks": ["x"]}),
        json!({"history": {}, "datablocks": ["x", "x"]}),
    ] {
        assert!(matches!(HistoryTrace::from_json(&bad), Err(AnalysisError::BadHistory(_))), "{bad}");
    }
}

#[test]
fn history_merge_unions_blocks_and_refuses_conflicts() {
    let mut a = HistoryTrace::new();
    a.add_data_block("A", vec![Operation::new("spawn_transmission", json!({}))]).expect("A");
    a.add_data_block("S", vec![Operation::new("shared", json!({"k": 1}))]).expect("S");
    let mut b = HistoryTrace::new();
    b.add_data_block("S", vec![Operation::new("shared", json!({"k": 1}))]).expect("S");
    b.add_data_block("B", vec![Operation::new("normalize", json!({}))]).expect("B");
    let m = HistoryTrace::merge(&[a.clone(), b.clone()]).expect("merge");
    assert_eq!(m.data_blocks(), &["A", "S", "B"]);
    assert_eq!(m.get_operations_list("B").expect("B"), vec!["normalize"]);
    assert_eq!(m.get_operations_list("S").expect("S"), vec!["shared"], "identical block kept once");

    let mut c = HistoryTrace::new();
    c.add_data_block("S", vec![Operation::new("shared", json!({"k": 2}))]).expect("S");
    match HistoryTrace::merge(&[a, c]) {
        Err(AnalysisError::HistoryConflict(id)) => assert_eq!(id, "S"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert!(HistoryTrace::merge(&[]).expect("empty").data_blocks().is_empty());
}

// ---------------------------------------------------------------------------------------------------------------
// Transmission

fn project_df(n: usize, tag: &str) -> DataFrame {
    let curves: Vec<Option<Vec<f64>>> = (0..n).map(|i| Some((0..5).map(|j| (i * 10 + j) as f64).collect())).collect();
    DataFrame::new(
        n,
        vec![
            Column::new("SampleID".into(), vec![tag; n]),
            Column::new("uuid_curve".into(), (0..n).map(|i| format!("{tag}-{i}")).collect::<Vec<_>>()),
            list_f64(RAW_CURVE, &curves),
        ],
    )
    .expect("df")
}

#[test]
fn spawn_sets_the_block_and_the_original_spawn_params() {
    let filters = vec![r#"df[~df["promoter"].isin(['cesa', 'hnk1'])]"#.to_string(), "df[df.x > 1]".to_string()];
    let t = Transmission::spawn(
        project_df(3, "s1"),
        Some("/data/proj".into()),
        "neuronal",
        &filters,
        vec!["cell_name".into()],
        vec!["stimulus_name".into()],
        vec!["comments".into()],
    )
    .expect("spawn");
    let blocks = t.history.data_blocks();
    assert_eq!(blocks.len(), 1);
    assert_eq!(block_ids(&t.df), vec![blocks[0].clone(); 3]);
    assert_eq!(t.history.get_operations_list(&blocks[0]).expect("ops"), vec!["spawn_transmission"]);
    assert_eq!(
        t.history.get_operation_params(&blocks[0], "spawn_transmission").expect("params"),
        &json!({
            "sub_dataframe_name": "neuronal",
            "dataframe_filter_history": {"dataframe_filter_history": [r#"df[~df["promoter"].isin(['cesa', 'hnk1'])]"#, "df[df.x > 1]"]}
        })
    );
    assert_eq!(t.last_output.as_deref(), Some("_RAW_CURVE"));
    assert_eq!(t.last_unit.as_deref(), Some("time"));
    assert_eq!(t.roi_defs, vec!["cell_name"]);
    assert_eq!(t.proj_path.as_deref(), Some(Path::new("/data/proj")));
    // Zero rows spawn too (an empty sub-DataFrame).
    let empty = Transmission::spawn(project_df(0, "e"), None, "root", &[], vec![], vec![], vec![]).expect("empty");
    assert_eq!(empty.df.height(), 0);
    assert_eq!(empty.df.column(BLOCK_COLUMN).expect("_BLOCK_").dtype(), &DataType::String);
}

#[test]
fn from_curves_builds_one_block_with_import_npy() {
    let curves = ndarray::Array2::from_shape_fn((3, 4), |(i, j)| (i * 4 + j) as f64);
    let t = Transmission::from_curves(curves.view(), RAW_CURVE, Some(10.0), "curves.npy").expect("import");
    assert_eq!(t.df.get_column_names(), vec!["uuid_curve", "meta", "_RAW_CURVE", "_BLOCK_"]);
    let (rows, equal) = t.column_as_matrix(RAW_CURVE).expect("matrix");
    assert!(equal);
    assert_eq!(rows[2], vec![8.0, 9.0, 10.0, 11.0]);
    let b = &t.history.data_blocks()[0];
    assert_eq!(t.history.get_operation_params(b, "import_npy").expect("op"), &json!({"source": "curves.npy", "fps": 10.0}));
    let meta = t.df.column("meta").expect("meta").str().expect("str").get(0).expect("meta").to_string();
    assert_eq!(serde_json::from_str::<serde_json::Value>(&meta).expect("json"), json!({"fps": 10.0}));
    let uuids = t.df.column("uuid_curve").expect("uuid").str().expect("str").iter().flatten().map(str::to_string).collect::<Vec<_>>();
    assert_eq!(uuids.len(), 3);
    assert!(uuids.iter().all(|u| uuid_like(u)) && uuids[0] != uuids[1]);
    assert_eq!(t.last_output.as_deref(), Some(RAW_CURVE));

    let no_fps = Transmission::from_curves(curves.view(), "_DFF", None, "x.npy").expect("no fps");
    assert!(no_fps.df.column("meta").is_err());
    assert_eq!(no_fps.history.get_operation_params(&no_fps.history.data_blocks()[0], "import_npy").expect("op")["fps"], json!(null));
    assert!(matches!(Transmission::from_curves(curves.view(), "dff", None, "x"), Err(AnalysisError::BadInput(_))));
    assert!(matches!(Transmission::from_curves(curves.view(), RAW_CURVE, Some(0.0), "x"), Err(AnalysisError::BadInput(_))));
    // A non-contiguous view (transposed) still imports row by row.
    let tt = Transmission::from_curves(curves.t(), RAW_CURVE, None, "t").expect("transposed");
    assert_eq!(tt.column_as_matrix(RAW_CURVE).expect("m").0[1], vec![1.0, 5.0, 9.0]);
}

#[test]
fn merge_keeps_both_blocks_histories_and_fills_missing_columns() {
    let mut a = Transmission::spawn(project_df(2, "a"), Some("/p".into()), "root", &[], vec!["x".into()], vec![], vec![]).expect("a");
    a.history.add_operation(BlockSel::All, "normalize", json!({"data_column": "_RAW_CURVE"})).expect("op");
    a.df.with_column(Column::new("_NORMALIZE".into(), &[0.5f64, 0.25])).expect("col");
    let b = Transmission::spawn(project_df(3, "b"), None, "sub", &["f".to_string()], vec!["x".into(), "y".into()], vec![], vec![])
        .expect("b");
    let (ba, bb) = (a.history.data_blocks()[0].clone(), b.history.data_blocks()[0].clone());
    let m = Transmission::merge(vec![a, b]).expect("merge");
    assert_eq!(m.df.height(), 5);
    assert_eq!(m.df.get_column_names(), vec!["SampleID", "uuid_curve", "_RAW_CURVE", "_BLOCK_", "_NORMALIZE"]);
    let norm = m.df.column("_NORMALIZE").expect("col");
    assert_eq!(norm.null_count(), 3, "rows of b have no _NORMALIZE");
    assert_eq!(m.history.data_blocks(), &[ba.clone(), bb.clone()]);
    assert_eq!(m.history.get_operations_list(&ba).expect("a"), vec!["spawn_transmission", "normalize"]);
    assert_eq!(m.history.get_operations_list(&bb).expect("b"), vec!["spawn_transmission"]);
    assert_eq!(block_ids(&m.df), vec![ba.clone(), ba, bb.clone(), bb.clone(), bb]);
    assert_eq!(m.roi_defs, vec!["x", "y"]);
    assert_eq!(m.proj_path.as_deref(), Some(Path::new("/p")));
    assert_eq!(m.last_output.as_deref(), Some(RAW_CURVE));

    // Different projects, conflicting dtypes, nothing to merge.
    let p = |path: &str| Transmission { proj_path: Some(path.into()), ..Transmission::new(project_df(1, "p"), HistoryTrace::new()) };
    assert!(matches!(Transmission::merge(vec![p("/one"), p("/two")]), Err(AnalysisError::ProjectMismatch(..))));
    let mut c = Transmission::new(project_df(1, "c"), HistoryTrace::new());
    c.df.with_column(Column::new("SampleID".into(), &[1i64])).expect("replace");
    match Transmission::merge(vec![Transmission::new(project_df(1, "d"), HistoryTrace::new()), c]) {
        Err(AnalysisError::ColumnTypeConflict { column, .. }) => assert_eq!(column, "SampleID"),
        other => panic!("expected a dtype conflict, got {other:?}"),
    }
    assert!(matches!(Transmission::merge(vec![]), Err(AnalysisError::BadInput(_))));
}

#[test]
fn column_as_matrix_reports_unequal_lengths_scalars_and_bad_columns() {
    let t = Transmission::new(every_dtype(), HistoryTrace::new());
    let (rows, equal) = t.column_as_matrix("_L32").expect("f32 lists");
    assert!(!equal);
    assert_eq!(rows, vec![vec![1.0, 2.0], vec![3.0], vec![], vec![]]);
    let (rows, equal) = t.column_as_matrix("_F64").expect("scalars");
    assert!(equal);
    assert_eq!(rows[0], vec![1.5]);
    assert!(rows[2][0].is_nan(), "null scalar -> NaN");
    assert!(matches!(t.column_as_matrix(RAW_CURVE), Err(AnalysisError::Column { .. })), "a null curve");
    assert!(matches!(t.column_as_matrix("SampleID"), Err(AnalysisError::Column { .. })), "strings");
    assert!(matches!(t.column_as_matrix("nope"), Err(AnalysisError::Column { .. })));
    let s = t.summary();
    assert_eq!(s["rows"], 4);
    assert_eq!(s["columns"][9], json!({"name": "_RAW_CURVE", "dtype": "List(Float64)"}));
}

// ---------------------------------------------------------------------------------------------------------------
// .trn files

fn full_transmission() -> Transmission {
    let mut df = every_dtype();
    let mut h = HistoryTrace::new();
    let b = h.create_data_block(&mut df).expect("block");
    // A large parameter (a linkage matrix, say) must fit: attributes are not limited to 64 KiB.
    let big: Vec<f64> = (0..200_000).map(|i| i as f64 * 0.5).collect();
    h.add_operation(BlockSel::Block(&b), "fcluster", json!({"linkage_matrix": big, "threshold": 8.0})).expect("op");
    Transmission {
        df,
        history: h,
        proj_path: Some("/data/my project".into()),
        last_output: Some("_F64".into()),
        last_unit: Some("frequency".into()),
        roi_defs: vec!["cell_name".into(), "anatomical_location".into()],
        stim_defs: vec!["odor".into()],
        custom_columns: vec![],
        plot_state: Some(json!({"data_column": "_F64", "labels": ["a", "b"]})),
    }
}

fn assert_same_transmission(a: &Transmission, b: &Transmission) {
    assert_same_df(&a.df, &b.df);
    assert_eq!(a.history, b.history);
    assert_eq!(a.history.data_blocks(), b.history.data_blocks());
    assert_eq!(a.proj_path, b.proj_path);
    assert_eq!(a.last_output, b.last_output);
    assert_eq!(a.last_unit, b.last_unit);
    assert_eq!(a.roi_defs, b.roi_defs);
    assert_eq!(a.stim_defs, b.stim_defs);
    assert_eq!(a.custom_columns, b.custom_columns);
    assert_eq!(a.plot_state, b.plot_state);
}

#[test]
fn trn_round_trip_is_exact_for_every_stored_dtype_with_nulls() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("all.trn");
    let t = full_transmission();
    t.to_hdf5(&path).expect("write");
    let back = Transmission::from_hdf5(&path).expect("read");
    assert_same_transmission(&t, &back);
    // Writing what was read gives the same again; no temporary files are left behind.
    let again = dir.path().join("again.trn");
    back.to_hdf5(&again).expect("rewrite");
    assert_same_transmission(&t, &Transmission::from_hdf5(&again).expect("reread"));
    let names: Vec<String> = std::fs::read_dir(dir.path()).expect("ls").map(|e| e.expect("entry").file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[test]
fn trn_round_trip_of_zero_rows_zero_columns_and_defaults() {
    let dir = tempfile::tempdir().expect("tmp");
    // Zero rows, every dtype.
    let zero = Transmission::new(every_dtype().slice(0, 0), HistoryTrace::new());
    let p = dir.path().join("zero.trn");
    zero.to_hdf5(&p).expect("write");
    let back = Transmission::from_hdf5(&p).expect("read");
    assert_same_transmission(&zero, &back);
    assert_eq!(back.df.width(), 14);
    // No columns at all, and all optional fields None / empty.
    let empty = Transmission::new(DataFrame::empty(), HistoryTrace::new());
    let p = dir.path().join("empty.trn");
    empty.to_hdf5(&p).expect("write");
    assert_same_transmission(&empty, &Transmission::from_hdf5(&p).expect("read"));
    // A sliced DataFrame (list offsets not starting at 0) stores only its rows.
    let sliced = Transmission::new(every_dtype().slice(1, 3), HistoryTrace::new());
    let p = dir.path().join("sliced.trn");
    sliced.to_hdf5(&p).expect("write");
    assert_same_transmission(&sliced, &Transmission::from_hdf5(&p).expect("read"));
    // Multi-chunk columns (after a vstack) store the same as one chunk.
    let mut stacked = every_dtype();
    stacked.vstack_mut(&every_dtype()).expect("vstack");
    let stacked = Transmission::new(stacked, HistoryTrace::new());
    let p = dir.path().join("stacked.trn");
    stacked.to_hdf5(&p).expect("write");
    assert_same_transmission(&stacked, &Transmission::from_hdf5(&p).expect("read"));
}

#[test]
fn trn_write_of_an_unsupported_dtype_fails_and_leaves_the_old_file_intact() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("keep.trn");
    let good = full_transmission();
    good.to_hdf5(&path).expect("write");
    let mut bad_df = every_dtype();
    let bytes: [&[u8]; 4] = [b"a", b"b", b"", b"c"];
    bad_df.with_column(Column::new("_BYTES".into(), &bytes)).expect("binary");
    let bad = Transmission::new(bad_df, HistoryTrace::new());
    match bad.to_hdf5(&path) {
        Err(AnalysisError::UnsupportedColumn { column, dtype, .. }) => {
            assert_eq!(column, "_BYTES");
            assert_eq!(dtype, "Binary");
        }
        other => panic!("expected an unsupported-dtype error, got {other:?}"),
    }
    // A failure in the middle of writing (a string HDF5 cannot hold) also leaves the old file.
    let nul = Transmission::new(
        DataFrame::new(1, vec![Column::new("_X".into(), &[1.0f64]), Column::new("s".into(), &["a\0b"])]).expect("df"),
        HistoryTrace::new(),
    );
    let e = nul.to_hdf5(&path).expect_err("NUL in a string");
    assert!(e.to_string().contains("keep.trn") && e.to_string().contains("'s'"), "{e}");
    assert_same_transmission(&good, &Transmission::from_hdf5(&path).expect("old file still loads"));
    let leftovers = std::fs::read_dir(dir.path()).expect("ls").count();
    assert_eq!(leftovers, 1, "temporary files removed");
}

#[test]
fn trn_read_errors_name_the_file_and_the_problem() {
    let dir = tempfile::tempdir().expect("tmp");
    let good = dir.path().join("good.trn");
    full_transmission().to_hdf5(&good).expect("write");
    let bytes = std::fs::read(&good).expect("read bytes");

    let truncated = dir.path().join("truncated.trn");
    std::fs::write(&truncated, &bytes[..bytes.len() / 3]).expect("write");
    let garbage = dir.path().join("garbage.trn");
    std::fs::write(&garbage, b"this is not an HDF5 file at all").expect("write");
    let missing = dir.path().join("missing.trn");
    for (p, what) in [(&truncated, "truncated"), (&garbage, "not HDF5"), (&missing, "missing")] {
        let e = Transmission::from_hdf5(p).expect_err(what);
        let name = p.file_name().expect("name").to_string_lossy().into_owned();
        assert!(e.to_string().contains(&name), "{what}: {e}");
        assert!(matches!(e, AnalysisError::File { .. }), "{what}: {e:?}");
    }

    // A valid HDF5 file that is not a .trn, one with a newer format, one with a column missing.
    let foreign = dir.path().join("foreign.h5");
    {
        let f = hdf5_metno::File::create(&foreign).expect("h5");
        f.create_group("something").expect("group");
    }
    let e = Transmission::from_hdf5(&foreign).expect_err("foreign");
    assert!(e.to_string().contains("foreign.h5") && e.to_string().contains("mesmerize_format"), "{e}");

    let edited = dir.path().join("edited.trn");
    std::fs::copy(&good, &edited).expect("copy");
    {
        let f = hdf5_metno::File::open_rw(&edited).expect("open");
        f.group("df").expect("df").unlink("_F32").expect("unlink");
    }
    let e = Transmission::from_hdf5(&edited).expect_err("missing column");
    assert!(e.to_string().contains("edited.trn") && e.to_string().contains("_F32"), "{e}");

    let newer = dir.path().join("newer.trn");
    std::fs::copy(&good, &newer).expect("copy");
    {
        let f = hdf5_metno::File::open_rw(&newer).expect("open");
        f.delete_attr("mesmerize_format").expect("delete");
        let v: hdf5_metno::types::VarLenUnicode = "trn-v9".parse().expect("text");
        f.new_attr::<hdf5_metno::types::VarLenUnicode>().create("mesmerize_format").expect("attr").write_scalar(&v).expect("write");
    }
    let e = Transmission::from_hdf5(&newer).expect_err("newer");
    assert!(e.to_string().contains("trn-v9"), "{e}");
}

#[test]
fn trn_round_trip_of_5000_curves_of_3000_points_is_fast() {
    let (n, t) = (5000, 3000);
    let curves = ndarray::Array2::from_shape_fn((n, t), |(i, j)| (i as f64).sin() + j as f64 * 1e-3);
    let tr = Transmission::from_curves(curves.view(), RAW_CURVE, Some(30.0), "bench").expect("build");
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("big.trn");
    let t0 = Instant::now();
    tr.to_hdf5(&path).expect("write");
    let write_s = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let back = Transmission::from_hdf5(&path).expect("read");
    let read_s = t1.elapsed().as_secs_f64();
    println!("trn {n} x {t} curves ({:.0} MB): write {write_s:.3} s, read {read_s:.3} s", (n * t * 8) as f64 / 1e6);
    assert_same_df(&tr.df, &back.df);
    assert!(write_s + read_s < 5.0, "write {write_s:.3} s + read {read_s:.3} s");
    assert_eq!(dtype_name(back.df.column(RAW_CURVE).expect("col").dtype()), "List(Float64)");
}
