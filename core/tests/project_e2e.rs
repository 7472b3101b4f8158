//! A project end to end through the library: simulate a movie, draw ROIs on the true neurons, add three samples
//! with tags, stimulus maps and custom columns, filter with every modifier, spawn a Transmission from a tab, save
//! and reload it; change the configuration; overwrite, reopen and delete samples; restore a backup.

use std::collections::BTreeMap;

mod support;

use mesmerize_core::analysis::Transmission;
use mesmerize_core::progress::NoProgress;
use mesmerize_core::project::{CustomColumn, FilterStep, NewSample, Project, ProjectConfig, Tab, WorkEnv};
use mesmerize_core::roi::{Roi, RoiGeometry};
use mesmerize_core::simulate::Truth;
use mesmerize_core::stimulus::{StimPeriod, StimulusMap, TimeUnit};
use mesmerize_core::ImgData;
use polars::prelude::*;

const T: usize = 240;

fn movie(seed: u64) -> (ImgData, Truth) {
    support::movie(seed, 80, T)
}

fn pearson(a: &[f32], b: &[f32]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().map(|&x| f64::from(x)).sum::<f64>() / n, b.iter().map(|&x| f64::from(x)).sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (&x, &y) in a.iter().zip(b) {
        let (dx, dy) = (f64::from(x) - ma, f64::from(y) - mb);
        sab += dx * dy;
        saa += dx * dx;
        sbb += dy * dy;
    }
    sab / (saa * sbb).sqrt()
}

/// A work environment with ellipse ROIs on the first `n` true neurons (away from the border), tagged.
fn work_env(seed: u64, n: usize, cell_type: &str) -> (WorkEnv, Vec<usize>, Truth) {
    let (img, truth) = movie(seed);
    let mut env = WorkEnv::new(img);
    let mut picked = vec![];
    for (k, nrn) in truth.neurons.iter().enumerate() {
        if picked.len() == n {
            break;
        }
        if nrn.cx < 6.0 || nrn.cy < 6.0 || nrn.cx > 74.0 || nrn.cy > 74.0 {
            continue;
        }
        let mut roi = Roi::new(RoiGeometry::Ellipse { cx: nrn.cx, cy: nrn.cy, rx: 2.5, ry: 2.5, angle_deg: 0.0 });
        roi.tags.insert("cell_type".into(), cell_type.into());
        roi.tags.insert("region".into(), if picked.len() % 2 == 0 { "anterior".into() } else { "posterior".into() });
        env.rois.push(roi).expect("push");
        picked.push(k);
    }
    assert_eq!(picked.len(), n, "not enough neurons away from the border");
    let periods = vec![
        StimPeriod { name: "control".into(), start: 0.0, end: 80.0, color: [0, 75, 0, 255] },
        StimPeriod { name: "odor_A".into(), start: 80.0, end: 160.0, color: [0, 0, 125, 255] },
    ];
    env.stim_maps.insert("odor".into(), StimulusMap::new("odor", TimeUnit::Frames, periods).expect("map"));
    env.compute_curves(&NoProgress).expect("curves");
    (env, picked, truth)
}

fn config() -> ProjectConfig {
    ProjectConfig {
        roi_type_columns: vec!["cell_type".into(), "region".into()],
        stim_type_columns: vec!["odor".into()],
        custom_columns: vec![
            CustomColumn::parse("stage:int").expect("c"),
            CustomColumn::parse("promoter:text").expect("c"),
            CustomColumn::parse("dose:float").expect("c"),
        ],
        ..Default::default()
    }
}

fn strs(df: &DataFrame, col: &str) -> Vec<String> {
    df.column(col).expect("col").str().expect("str").iter().map(|s| s.unwrap_or("<null>").to_string()).collect()
}

fn filtered(p: &Project, steps: &[(&str, &str)]) -> DataFrame {
    let steps: Vec<FilterStep> = steps.iter().map(|(c, e)| FilterStep { column: c.to_string(), expr: e.to_string() }).collect();
    Tab::new("t", steps).dataframe(p.dataframe()).expect("filter")
}

#[test]
fn project_samples_filters_and_transmission() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("my project");
    let mut p = Project::create(&dir, config()).expect("create");
    for sub in ["dataframes", "images", "curves", "batches", "flowcharts", "plots"] {
        assert!(dir.join(sub).is_dir(), "{sub}");
    }

    // Three samples: 4 ROIs each, different custom values.
    let samples = [("a1", "pc2", 48, 0.5, "neuron"), ("a2", "cesa", 60, 1.0, "glia"), ("a3", "hnk1", 72, 2.5, "neuron")];
    for (i, (animal, promoter, stage, dose, cell)) in samples.iter().enumerate() {
        let (env, picked, truth) = work_env(10 + i as u64, 4, cell);
        // The ellipse curves follow the true calcium traces.
        for (roi, &k) in env.rois.rois().iter().zip(&picked) {
            let r = pearson(roi.curve.as_ref().expect("curve"), &truth.traces[k * T..(k + 1) * T]);
            assert!(r > 0.8, "sample {animal} neuron {k}: curve vs truth r = {r:.3}");
        }
        let custom = BTreeMap::from([
            ("stage".to_string(), stage.to_string()),
            ("promoter".to_string(), promoter.to_string()),
            ("dose".to_string(), dose.to_string()),
        ]);
        let s = NewSample { animal_id: animal.to_string(), trial_id: "1".into(), work_env: &env, custom, comments: String::new() };
        assert_eq!(p.add_sample(&s, &NoProgress).expect("add"), format!("{animal}-_-1"));
    }
    assert_eq!(p.dataframe().height(), 12);
    assert_eq!(p.sample_ids(), ["a1-_-1", "a2-_-1", "a3-_-1"]);

    // Duplicates and bad IDs are refused, and nothing changes.
    let (env, _, _) = work_env(10, 2, "neuron");
    let dup = NewSample { animal_id: "a1".into(), trial_id: "1".into(), work_env: &env, custom: BTreeMap::new(), comments: String::new() };
    assert!(p.add_sample(&dup, &NoProgress).expect_err("duplicate").to_string().contains("already"));
    let bad = NewSample { animal_id: "a-_-b".into(), trial_id: "1".into(), work_env: &env, custom: BTreeMap::new(), comments: String::new() };
    assert!(p.add_sample(&bad, &NoProgress).expect_err("separator").to_string().contains("-_-"));
    let bad_val = NewSample {
        animal_id: "a9".into(),
        trial_id: "1".into(),
        work_env: &env,
        custom: BTreeMap::from([("stage".to_string(), "old".to_string())]),
        comments: String::new(),
    };
    assert!(p.add_sample(&bad_val, &NoProgress).is_err());
    assert_eq!(p.dataframe().height(), 12);

    // Columns as documented.
    let df = p.dataframe();
    for c in ["SampleID", "AnimalID", "TrialID", "ImgPath", "ImgUUID", "ImgInfoPath", "CurvePath", "ROI_State", "uuid_curve", "meta", "stim_maps", "date", "comments", "cell_type", "region", "odor", "stage", "promoter", "dose"] {
        assert!(df.column(c).is_ok(), "column {c}");
    }
    assert_eq!(df.column("stage").expect("c").dtype(), &DataType::Int64);
    assert_eq!(df.column("dose").expect("c").dtype(), &DataType::Float64);
    let odor = df.column("odor").expect("c").list().expect("list").get_as_series(0).expect("row");
    assert_eq!(odor.str().expect("s").iter().flatten().collect::<Vec<_>>(), ["control", "odor_A"]);
    let state: serde_json::Value = serde_json::from_str(&strs(df, "ROI_State")[0]).expect("state json");
    assert_eq!(state["roi_type"], "ManualROI");
    assert_eq!(state["tags"]["cell_type"], "neuron");
    assert_eq!(strs(df, "date")[0], "20261126_101500");

    // Every filter modifier.
    assert_eq!(filtered(&p, &[("promoter", "pc")]).height(), 4);
    assert_eq!(filtered(&p, &[("promoter", "pc2|hnk")]).height(), 8);
    assert_eq!(filtered(&p, &[("promoter", "$NOT:pc2|hnk")]).height(), 4);
    assert_eq!(filtered(&p, &[("promoter", "$STR:es")]).height(), 4);
    assert_eq!(filtered(&p, &[("promoter", "$STR=:pc")]).height(), 0);
    assert_eq!(filtered(&p, &[("promoter", "$STR=:pc2|cesa")]).height(), 8);
    assert_eq!(filtered(&p, &[("promoter", "$STR!=:cesa")]).height(), 8);
    assert_eq!(filtered(&p, &[("stage", "$>:48")]).height(), 8);
    assert_eq!(filtered(&p, &[("stage", "$>=:60")]).height(), 8);
    assert_eq!(filtered(&p, &[("stage", "$<:60")]).height(), 4);
    assert_eq!(filtered(&p, &[("dose", "$<=:1")]).height(), 8);
    assert_eq!(filtered(&p, &[("odor", "$STR=:odor_A")]).height(), 12);
    // Sequential multi-column filters.
    let seq = filtered(&p, &[("cell_type", "$STR=:neuron"), ("region", "ant"), ("stage", "$>:50")]);
    assert_eq!(strs(&seq, "SampleID"), ["a3-_-1", "a3-_-1"]);

    // A tab, its Transmission, saved and reloaded.
    let tab = Tab::new(
        "neurons",
        vec![
            FilterStep { column: "cell_type".into(), expr: "$STR=:neuron".into() },
            FilterStep { column: "promoter".into(), expr: "$NOT:cesa".into() },
        ],
    );
    p.save_tab(tab.clone()).expect("save tab");
    let tab = p.tab("neurons").expect("tab");
    let trn = p.spawn_transmission(&tab, &NoProgress).expect("spawn");
    assert_eq!(trn.df.height(), 8);
    let curves = trn.df.column("_RAW_CURVE").expect("raw").list().expect("list").clone();
    assert_eq!(curves.get_as_series(0).expect("row").len(), T);
    let block = trn.history.data_blocks()[0].clone();
    assert_eq!(trn.history.get_operations_list(&block).expect("ops"), ["spawn_transmission"]);
    let params = trn.history.get_operation_params(&block, "spawn_transmission").expect("params");
    assert_eq!(params["sub_dataframe_name"], "neurons");
    assert_eq!(params["dataframe_filter_history"]["dataframe_filter_history"], serde_json::json!(tab.filter_history()));
    assert_eq!(trn.roi_defs, ["cell_type", "region"]);
    let path = tmp.path().join("neurons.trn");
    trn.to_hdf5(&path).expect("save trn");
    let back = Transmission::from_hdf5(&path).expect("load trn");
    assert!(back.df.equals_missing(&trn.df), "DataFrame differs after reload");
    assert_eq!(back.history.to_json(), trn.history.to_json());
    assert_eq!(back.proj_path, trn.proj_path);

    // Adding columns labels existing rows as documented, and survives reopening.
    let mut cfg = p.config().clone();
    cfg.roi_type_columns.push("morphology".into());
    cfg.stim_type_columns.push("light".into());
    cfg.custom_columns.push(CustomColumn::parse("age:int=5").expect("c"));
    cfg.custom_columns.push(CustomColumn::parse("genotype:text").expect("c"));
    p.set_config(cfg).expect("config");
    let p2 = Project::open(&dir).expect("reopen");
    let df = p2.dataframe();
    assert!(strs(df, "morphology").iter().all(|s| s == "untagged"));
    assert!(strs(df, "genotype").iter().all(|s| s == "untagged"));
    assert!(df.column("age").expect("c").i64().expect("i64").iter().all(|v| v == Some(5)));
    let light = df.column("light").expect("c").list().expect("l").get_as_series(3).expect("row");
    assert_eq!(light.str().expect("s").get(0), Some("untagged"));
    let mut shrink = p2.config().clone();
    shrink.roi_type_columns.pop();
    assert!(p.set_config(shrink).is_err(), "removing a column is refused");

    // Reopen a sample as a work environment: ROIs, tags, curves and maps as stored.
    let env = p.open_sample("a2-_-1").expect("open sample");
    assert_eq!(env.rois.len(), 4);
    assert_eq!(env.rois.rois()[0].tag("cell_type"), "glia");
    assert_eq!(env.stim_maps["odor"].periods.len(), 2);
    assert_eq!(env.img.shape().t, T);
    assert_eq!(env.sample_id.as_deref(), Some("a2-_-1"));

    // Overwrite without the image: retag, drop an ROI; the image file stays.
    let img_before = strs(&p.sample_rows("a2-_-1").expect("rows"), "ImgPath")[0].clone();
    let mut env2 = env.clone();
    env2.rois.set_tag(0, "cell_type", "neuron").expect("tag");
    let keep: Vec<Roi> = env2.rois.rois()[..3].to_vec();
    let mut set = mesmerize_core::roi::RoiSet::new(env2.rois.mode());
    for r in keep {
        set.push(r).expect("push");
    }
    env2.rois = set;
    let s = NewSample { animal_id: "a2".into(), trial_id: "1".into(), work_env: &env2, custom: BTreeMap::new(), comments: "retagged".into() };
    p.overwrite_sample(&s, false, &NoProgress).expect("overwrite");
    let rows = p.sample_rows("a2-_-1").expect("rows");
    assert_eq!(rows.height(), 3);
    assert_eq!(strs(&rows, "ImgPath")[0], img_before);
    assert_eq!(strs(&rows, "cell_type")[0], "neuron");
    assert_eq!(strs(&rows, "comments")[0], "retagged");
    assert!(dir.join(&img_before).exists());
    assert_eq!(p.open_sample("a2-_-1").expect("reopen").rois.len(), 3);

    // Delete removes rows and files; a backup brings the rows back.
    let files_before = std::fs::read_dir(dir.join("curves")).expect("ls").count();
    p.delete_sample("a1-_-1").expect("delete");
    assert_eq!(p.sample_ids(), ["a2-_-1", "a3-_-1"]);
    assert_eq!(std::fs::read_dir(dir.join("curves")).expect("ls").count(), files_before - 1);
    let backups = p.backups();
    assert!(backups.len() >= 5, "a backup before every change: {}", backups.len());
    let last = backups.last().expect("backup").clone();
    p.restore_backup(&last).expect("restore");
    assert_eq!(p.sample_ids().len(), 3);
}

#[test]
fn corrupt_dataframe_is_an_error_naming_the_file() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("p");
    Project::create(&dir, config()).expect("create");
    let root = dir.join("dataframes").join("root.parquet");
    let bytes = std::fs::read(&root).expect("read");
    std::fs::write(&root, &bytes[..bytes.len() / 2]).expect("truncate");
    let e = Project::open(&dir).expect_err("truncated");
    assert!(e.to_string().contains("root.parquet"), "{e}");
    std::fs::write(dir.join("config.json"), "{not json").expect("clobber");
    let e = Project::open(&dir).expect_err("bad config");
    assert!(e.to_string().contains("config.json"), "{e}");
    assert!(Project::open(tmp.path()).expect_err("not a project").to_string().contains("not a Mesmerize project"));
    assert!(Project::create(&dir, config()).is_err(), "an existing project is not overwritten");
}
