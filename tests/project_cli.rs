//! `mesmerize project` and `mesmerize trn` end to end: a CaImAn-layout CNMF result becomes a sample's ROIs, manual
//! ROIs from JSON, stimulus maps from CSV, filters, a tab, a Transmission file; and a kill during a DataFrame save
//! leaves the previous DataFrame intact.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use mesmerize_core::project::Project;

#[path = "support/cli.rs"]
mod support;
use support::{err, json, ok};

#[test]
fn project_from_the_command_line() {
    let tmp = tempfile::tempdir().expect("tmp");
    let d = tmp.path();
    ok(&["simulate", "--kind", "2p", "--out", "m", "--seed", "5", "--size", "96x96", "--frames", "300"], d);
    let params = r#"{"K": 20, "gSig": [4, 4], "gSiz": [11, 11], "nb": 1, "p": 2, "merge_thr": 0.8, "min_SNR": 2.5,
        "rval_thr": 0.8, "decay_time": 0.5}"#;
    std::fs::write(d.join("p.json"), params).expect("write");
    ok(&["cnmf", "m/movie.tiff", "--params", "p.json", "--out", "r.hdf5", "--device", "cpu"], d);
    let k = mesmerize_core::io::caiman_h5::read_result(&d.join("r.hdf5")).expect("result").k();

    ok(&["project", "new", "proj dir", "--roi-type-column", "cell_type", "--stim-type-column", "odor", "--custom-column", "stage:int", "--custom-column", "promoter:text"], d);
    std::fs::write(d.join("odor.csv"), "start,end,odor\n0,100,water\n100,200,amino\n").expect("csv");
    ok(&["project", "add-sample", "proj dir", "--image", "m/movie.tiff", "--animal", "fish1", "--trial", "1", "--rois", "r.hdf5", "--stim-map", "odor=odor.csv", "--tag", "cell_type=neuron", "--set", "stage=48", "--set", "promoter=pc2"], d);
    // Manual ROIs from states.
    let rois = r#"[{"roi_type": "ManualROI", "shape": "PolyLineROI", "roi_xs": [10, 20, 20, 10], "roi_ys": [10, 10, 20, 20], "tags": {"cell_type": "glia"}},
                   {"roi_type": "ManualROI", "shape": "EllipseROI", "pos": [50, 40], "size": [8, 6], "angle": 0, "roi_xs": [], "roi_ys": [], "tags": {}}]"#;
    std::fs::write(d.join("rois.json"), rois).expect("rois");
    ok(&["project", "add-sample", "proj dir", "--image", "m/movie.tiff", "--animal", "fish2", "--trial", "1", "--rois", "rois.json", "--set", "stage=60", "--roi-tag", "1:cell_type=neuron"], d);
    // Refusals: duplicate sample, unknown columns, bad values.
    assert!(err(&["project", "add-sample", "proj dir", "--image", "m/movie.tiff", "--animal", "fish2", "--trial", "1", "--rois", "rois.json"], d).contains("already"));
    assert!(err(&["project", "add-sample", "proj dir", "--image", "m/movie.tiff", "--animal", "fish3", "--trial", "1", "--rois", "rois.json", "--tag", "colour=red"], d).contains("colour"));
    assert!(err(&["project", "add-sample", "proj dir", "--image", "m/movie.tiff", "--animal", "fish3", "--trial", "1", "--rois", "rois.json", "--set", "stage=old"], d).contains("whole number"));

    let all = json(&ok(&["project", "list", "proj dir", "--json"], d));
    let rows = all.as_array().expect("rows");
    assert_eq!(rows.len(), k + 2);
    assert_eq!(rows[0]["SampleID"], "fish1-_-1");
    assert_eq!(rows[0]["ROI_State"]["roi_type"], "CNMFROI");
    assert_eq!(rows[0]["odor"], serde_json::json!(["amino", "water"]));
    assert_eq!(rows[k]["ROI_State"]["roi_type"], "ManualROI");
    assert_eq!(rows[k]["cell_type"], "glia");
    assert_eq!(rows[k + 1]["cell_type"], "neuron");
    assert_eq!(rows[k]["promoter"], "untagged");
    assert_eq!(rows[k]["odor"], serde_json::json!(["untagged"]));

    let count = |filters: &[&str]| {
        let mut args = vec!["project", "list", "proj dir", "--json"];
        for f in filters {
            args.extend(["--filter", f]);
        }
        json(&ok(&args, d)).as_array().expect("rows").len()
    };
    assert_eq!(count(&["cell_type=neur"]), k + 1);
    assert_eq!(count(&["cell_type=$NOT:neur"]), 1);
    assert_eq!(count(&["cell_type=$STR=:glia|neuron"]), k + 2);
    assert_eq!(count(&["SampleID=$STR!=:fish1-_-1"]), 2);
    assert_eq!(count(&["stage=$>:50"]), 2);
    assert_eq!(count(&["stage=$<=:48", "cell_type=$STR:neuron"]), k);
    assert!(err(&["project", "list", "proj dir", "--filter", "promoter=$>:3"], d).contains("number column"));

    // A tab and its Transmission.
    ok(&["project", "list", "proj dir", "--filter", "SampleID=fish2", "--save-tab", "manual"], d);
    let tabs = json(&ok(&["project", "tabs", "proj dir", "--json"], d));
    assert_eq!(tabs[0]["name"], "manual");
    ok(&["project", "export-trn", "proj dir", "--tab", "manual", "--out", "manual.trn"], d);
    let show = json(&ok(&["trn", "show", "manual.trn", "--json"], d));
    assert_eq!(show["rows"], 2);
    let blocks = show["history"]["datablocks"].as_array().expect("blocks");
    let ops = &show["history"]["history"][blocks[0].as_str().expect("id")];
    assert_eq!(ops[0]["spawn_transmission"]["sub_dataframe_name"], "manual");
    ok(&["trn", "export", "manual.trn", "--column", "_RAW_CURVE", "--npy", "raw.npy"], d);
    assert!(std::fs::metadata(d.join("raw.npy")).expect("npy").len() > 300 * 8 * 2);

    // DetrendDFoF reads the CNMF sample's dF/F (the result's F_dff) through the project, and refuses manual ROIs.
    ok(&["project", "list", "proj dir", "--filter", "SampleID=fish1", "--save-tab", "cnmf"], d);
    ok(&["project", "export-trn", "proj dir", "--tab", "cnmf", "--out", "cnmf.trn"], d);
    ok(&["node", "DetrendDFoF", "cnmf.trn", "dff.trn"], d);
    ok(&["trn", "export", "dff.trn", "--column", "_DETREND_DF_O_F", "--npy", "dff.npy"], d);
    let result = mesmerize_core::io::caiman_h5::read_result(&d.join("r.hdf5")).expect("result");
    let f_dff = result.f_dff.as_ref().expect("F_dff in the result");
    let raw = std::fs::read(d.join("dff.npy")).expect("npy");
    let vals: Vec<f64> = raw[raw.len() - k * f_dff.ncols() * 8..].chunks(8).map(|b| f64::from_le_bytes(b.try_into().expect("8"))).collect();
    let (mut worst, mut n) = (0.0f64, 0);
    for (i, row) in f_dff.rows().into_iter().enumerate().take(k) {
        for (j, v) in row.iter().enumerate() {
            worst = worst.max((f64::from(*v) - vals[i * f_dff.ncols() + j]).abs());
            n += 1;
        }
    }
    assert!(n > 0 && worst < 1e-6, "DetrendDFoF vs the result's F_dff: {worst}");
    assert!(err(&["node", "DetrendDFoF", "manual.trn", "x.trn"], d).contains("no CNMF dF/F"));

    // Configuration change from the CLI labels old rows.
    ok(&["project", "config", "proj dir", "--add-roi-type-column", "morphology", "--add-custom-column", "age:int=3"], d);
    let rows = json(&ok(&["project", "list", "proj dir", "--json"], d));
    assert!(rows.as_array().expect("rows").iter().all(|r| r["morphology"] == "untagged" && r["age"] == 3));

    // Delete, then restore the last backup.
    ok(&["project", "delete-sample", "proj dir", "fish2-_-1"], d);
    assert_eq!(count(&[]), k);
    let backups = String::from_utf8(ok(&["project", "backups", "proj dir"], d).stdout).expect("utf8");
    let last = backups.lines().last().expect("a backup").to_string();
    ok(&["project", "restore", "proj dir", &last], d);
    assert_eq!(count(&[]), k + 2);
}

/// Kill `mesmerize project config` at many points while it rewrites a large DataFrame: every time, the project
/// opens and holds either the old or the new DataFrame, never a broken one.
#[test]
fn killing_a_save_leaves_the_previous_dataframe_intact() {
    let tmp = tempfile::tempdir().expect("tmp");
    let d = tmp.path();
    ok(&["simulate", "--kind", "2p", "--out", "m", "--seed", "2", "--size", "64x64", "--frames", "20"], d);
    // 4,000 one-pixel scatter ROIs make a DataFrame that takes a while to write.
    let states: Vec<serde_json::Value> = (0..4000)
        .map(|i| serde_json::json!({"roi_type": "ScatterROI", "roi_xs": [i % 64], "roi_ys": [(i / 64) % 64], "tags": {}}))
        .collect();
    std::fs::write(d.join("rois.json"), serde_json::to_string(&states).expect("json")).expect("write");
    ok(&["project", "new", "p", "--roi-type-column", "cell"], d);
    for animal in ["a", "b", "c"] {
        ok(&["project", "add-sample", "p", "--image", "m/movie.tiff", "--animal", animal, "--trial", "1", "--rois", "rois.json"], d);
    }
    let rows = Project::open(&d.join("p")).expect("open").dataframe().height();
    assert_eq!(rows, 12_000);
    let mut completed = 0;
    for i in 0..30u64 {
        let col = format!("c{i}");
        let mut child = Command::new(env!("CARGO_BIN_EXE_mesmerize"))
            .args(["project", "config", "p", "--add-roi-type-column", &col])
            .current_dir(d)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        // The whole command takes ~60-70 ms here; kills land all through it, the backup and the save included.
        std::thread::sleep(Duration::from_millis(i * 3));
        let _ = child.kill();
        let status = child.wait().expect("wait");
        let p = Project::open(&d.join("p")).expect("the project must open after a kill");
        let df = p.dataframe();
        assert_eq!(df.height(), rows, "rows lost after a kill at step {i}");
        let has = df.column(&col).is_ok();
        // The config names the column only once the DataFrame has it (config is written after the DataFrame).
        assert!(!p.config().roi_type_columns.contains(&col) || has);
        if status.success() {
            completed += 1;
        }
    }
    eprintln!("{completed} of 30 saves completed before the kill");

    // A reader that stops early (`| head`): the listing ends quietly, no panic, exit 0.
    let mut child = Command::new(env!("CARGO_BIN_EXE_mesmerize"))
        .args(["project", "list", "p", "--json"])
        .current_dir(d)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    drop(child.stdout.take());
    let o = child.wait_with_output().expect("wait");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success() && !err.contains("panicked"), "{:?}: {err}", o.status);
}

/// A result saved by CaImAn itself (`cnm.save`, tests/fixtures/project/make_caiman_fixture.sh) becomes a sample's
/// CNMF ROIs: one ROI per component (or the accepted ones), C as curves, contours around the true neurons.
#[test]
fn caiman_saved_result_becomes_cnmf_rois() {
    let tmp = tempfile::tempdir().expect("tmp");
    let d = tmp.path();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/project/caiman_cnmf_2p_64x64x200_seed7.hdf5");
    // The movie CaImAn ran on (the simulator is deterministic).
    ok(&["simulate", "--kind", "2p", "--size", "64x64", "--frames", "200", "--seed", "7", "--out", "m"], d);
    ok(&["project", "new", "p", "--roi-type-column", "cell"], d);
    let f = fixture.to_str().expect("utf8 path");
    ok(&["project", "add-sample", "p", "--image", "m/movie.tiff", "--animal", "all", "--trial", "1", "--rois", f], d);
    ok(&["project", "add-sample", "p", "--image", "m/movie.tiff", "--animal", "accepted", "--trial", "1", "--rois", f, "--accepted-only"], d);
    let p = Project::open(&d.join("p")).expect("open");
    let all = p.open_sample("all-_-1").expect("sample");
    let accepted = p.open_sample("accepted-_-1").expect("sample");
    let r = mesmerize_core::io::caiman_h5::read_result(&fixture).expect("CaImAn's file");
    assert_eq!(all.rois.len(), r.k());
    assert_eq!(accepted.rois.len(), r.idx_components.len());
    assert_eq!(all.history.len(), 1, "the extraction is logged: {:?}", all.history);
    let truth = mesmerize_core::simulate::Truth::read_h5(&d.join("m/truth.h5")).expect("truth");
    for (k, roi) in all.rois.rois().iter().enumerate() {
        assert_eq!(roi.roi_type(), "CNMFROI");
        let curve = roi.curve.as_ref().expect("curve");
        assert_eq!(curve.as_slice(), r.c.row(k).as_slice().expect("row"), "curve = CaImAn's C");
        let state = roi.to_state(false);
        let pts = state["contour"]["coordinates"].as_array().expect("contour");
        assert!(pts.len() >= 4, "component {k} has a contour");
        // The contour's centre sits on a true neuron.
        let (mut cx, mut cy) = (0.0, 0.0);
        for p in pts {
            cx += p[0].as_f64().expect("x") / pts.len() as f64;
            cy += p[1].as_f64().expect("y") / pts.len() as f64;
        }
        let nearest = truth.neurons.iter().map(|n| ((n.cx - cx).powi(2) + (n.cy - cy).powi(2)).sqrt()).fold(f64::MAX, f64::min);
        assert!(nearest < 4.0, "component {k}: contour centre ({cx:.1}, {cy:.1}) is {nearest:.1} px from the nearest neuron");
    }
}
