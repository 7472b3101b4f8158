//! `mesmerize batch` end to end: one item of every module runs to done in worker processes in a batch whose path
//! has spaces and quotes; faults (kill -9 of a worker, kill -9 of the runner, a corrupt parameter file) stay
//! confined to their item; abort; items added while the batch runs; cluster export.

#[path = "support/cli.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{err, json, mesmerize, ok};

fn write(dir: &Path, name: &str, text: &str) -> String {
    std::fs::write(dir.join(name), text).expect("write params");
    name.to_string()
}

/// `batch add`; returns the new item's UUID (its only stdout line).
fn add(cwd: &Path, batch: &str, module: &str, input: &str, params: Option<&str>, extra: &[&str]) -> String {
    let mut args = vec!["batch", "add", batch, "--module", module, "--input", input, "--device", "cpu"];
    if let Some(p) = params {
        args.extend(["--params", p]);
    }
    args.extend(extra);
    let o = ok(&args, cwd);
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

fn items(cwd: &Path, batch: &str) -> Vec<Value> {
    json(&ok(&["batch", "list", batch, "--json"], cwd)).as_array().expect("array").clone()
}

fn item(cwd: &Path, batch: &str, uuid: &str) -> Value {
    items(cwd, batch).into_iter().find(|i| i["uuid"] == uuid).expect("item listed")
}

/// Start `batch run` in the background (stderr to a file, to read after).
fn spawn_run(cwd: &Path, batch: &str, log: &str) -> Child {
    let f = std::fs::File::create(cwd.join(log)).expect("log");
    Command::new(env!("CARGO_BIN_EXE_mesmerize"))
        .args(["batch", "run", batch])
        .current_dir(cwd)
        .stdout(Stdio::null())
        .stderr(f)
        .spawn()
        .expect("spawn runner")
}

/// Poll until `pred` holds for the item (or fail after `secs`).
fn wait_item(cwd: &Path, batch: &str, uuid: &str, secs: u64, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
    let start = Instant::now();
    loop {
        let it = item(cwd, batch, uuid);
        if pred(&it) {
            return it;
        }
        assert!(start.elapsed().as_secs() < secs, "timed out waiting for {what}: {it}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn running_with_worker(it: &Value) -> bool {
    it["status"] == "running" && it["worker_pid"].is_u64()
}

fn pid_alive(pid: u64) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.rsplit(')').next().unwrap_or("").trim_start().starts_with('Z'))
}

fn kill9(pid: u64) {
    let s = Command::new("kill").args(["-9", &pid.to_string()]).status().expect("kill");
    assert!(s.success());
}

fn wait_child(child: &mut Child, secs: u64) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(s) = child.try_wait().expect("wait") {
            return s;
        }
        if start.elapsed().as_secs() > secs {
            let _ = child.kill();
            panic!("runner did not finish in {secs} s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A movie whose piecewise-rigid correction takes a few seconds: the item to kill or abort mid-run.
fn slow_movie(cwd: &Path) -> (String, String) {
    ok(&["simulate", "--kind", "2p", "--out", "slow", "--seed", "7", "--size", "128x128", "--frames", "1500", "--motion", "rigid"], cwd);
    let p = write(cwd, "slow.json", r#"{"max_shifts": [8, 8], "pw_rigid": true, "strides": [32, 32], "overlaps": [16, 16], "niter_rig": 2}"#);
    ("slow/movie.tiff".into(), p)
}

fn quick_1p(cwd: &Path) -> (String, String) {
    ok(&["simulate", "--kind", "1p", "--out", "onep", "--seed", "1", "--size", "64x64", "--frames", "300"], cwd);
    ("onep/movie.tiff".into(), write(cwd, "cp.json", r#"{"gSig": 3}"#))
}

#[test]
fn every_module_runs_to_done_in_a_batch_with_an_awkward_path() {
    let tmp = tempfile::tempdir().expect("tmp");
    let cwd = tmp.path();
    let batch = "my batch (été) 'q' $x";
    ok(&["batch", "new", batch], cwd);
    ok(&["simulate", "--kind", "2p", "--out", "twop", "--seed", "3", "--size", "96x96", "--frames", "300", "--motion", "rigid"], cwd);
    ok(&["simulate", "--kind", "3d", "--out", "vol", "--seed", "2", "--size", "48x48", "--planes", "4", "--frames", "150"], cwd);
    let (onep, cp) = quick_1p(cwd);

    let mc_p = write(cwd, "mc.json", r#"{"max_shifts": [8, 8], "niter_rig": 1, "output_bit_depth": "Do not convert"}"#);
    let cnmf_p = write(cwd, "cnmf.json", r#"{"K": 20, "gSig": [4, 4], "gSiz": [11, 11], "p": 1, "decay_time": 0.5, "min_SNR": 2.0, "rval_thr": 0.8}"#);
    let cnmfe_p = write(cwd, "cnmfe.json", r#"{"gSig": [3, 3], "gSiz": [13, 13], "min_corr": 0.8, "min_pnr": 8, "p": 1, "decay_time": 0.6, "ring_size_factor": 1.4, "min_SNR": 1.5, "rval_thr": 0.7}"#);
    let vol_p = write(cwd, "vol.json", r#"{"K": 12, "gSig": [3, 3, 1], "gSiz": [11, 11, 3], "p": 1, "decay_time": 0.5, "rval_thr": 0.7}"#);

    let mc = add(cwd, batch, "caiman_motion_correction", "twop/movie.tiff", Some(&mc_p), &["--name", "mc of twop"]);
    let cnmf = add(cwd, batch, "cnmf", &mc, Some(&cnmf_p), &["--name", "cnmf on mc"]);
    let cnmfe = add(cwd, batch, "cnmfe", &onep, Some(&cnmfe_p), &["--copy"]);
    let seeded_p = write(cwd, "seeded.json", &format!(r#"{{"gSig": [3, 3], "gSiz": [13, 13], "p": 1, "decay_time": 0.6, "Ain": "{cnmfe}"}}"#));
    let seeded = add(cwd, batch, "cnmfe", &onep, Some(&seeded_p), &["--name", "seeded from cnmfe"]);
    let corr = add(cwd, batch, "corr_pnr", &onep, Some(&cp), &[]);
    let reuse_p = write(cwd, "reuse.json", &format!(r#"{{"gSig": 3, "use_memmap": true, "memmap_uuid": "{cnmfe}"}}"#));
    let reuse = add(cwd, batch, "corr_pnr", "twop/movie.tiff", Some(&reuse_p), &["--name", "reuses cnmfe input"]);
    let vol = add(cwd, batch, "cnmf_3d", "vol/movie.tiff", Some(&vol_p), &[]);

    let listed = items(cwd, batch);
    assert_eq!(listed.len(), 7);
    assert!(listed.iter().all(|i| i["status"] == "pending"), "{listed:?}");

    let o = mesmerize(&["batch", "run", batch], cwd);
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "{stderr}");
    assert!(stderr.contains("[mc of twop]"), "worker output is streamed to the caller: {stderr}");
    let listed = items(cwd, batch);
    for i in &listed {
        assert_eq!(i["status"], "done", "{i}");
        assert!(i["duration_s"].as_f64().is_some_and(|d| d > 0.0));
        let log = std::fs::read_to_string(i["log"].as_str().expect("log path")).expect("item log");
        assert!(log.contains("running: mesmerize"), "{log}");
    }
    let out = |uuid: &str, role: &str| PathBuf::from(item(cwd, batch, uuid)["outputs"][role].as_str().expect("output").to_string());
    // The corrected movie loads and carries its history entry, under the item's name.
    let info = json(&ok(&["info", &out(&mc, "movie").to_string_lossy(), "--json"], cwd));
    let entry = info["meta"]["history_trace"].as_array().and_then(|h| h.iter().find_map(|e| e.get("caiman_motion_correction"))).expect("mc history").clone();
    assert_eq!(entry["name_rigid"], "mc of twop", "{entry}");
    assert_eq!(info["shape"][0], 300);
    // CNMF-family results load and carry their history entries.
    for (uuid, key) in [(&cnmf, "cnmf"), (&cnmfe, "cnmfe"), (&seeded, "cnmfe"), (&vol, "cnmf_3d")] {
        let path = out(uuid, "result");
        let r = mesmerize_core::io::caiman_h5::read_result(&path).expect("result loads");
        assert!(r.k() > 0, "{key}: no components");
        assert_eq!(r.params.mode.history_key(), key);
        let bytes = std::fs::read(&path).expect("read");
        let needle = format!(r#""history_trace":[{{"{key}":"#);
        assert!(bytes.windows(needle.len()).any(|w| w == needle.as_bytes()), "{key}: no history entry in the provenance");
    }
    // The cnmf item ran on the motion-corrected movie, the seeded one on the CNMF-E item's footprints.
    let log = |uuid: &str| std::fs::read_to_string(item(cwd, batch, uuid)["log"].as_str().expect("log")).expect("log");
    assert!(log(&cnmf).contains(&format!("{mc}_mc.tiff")), "{}", log(&cnmf));
    assert!(log(&seeded).contains("Ain: spatial footprints of item"), "{}", log(&seeded));
    // The reused prepared input is the CNMF-E item's copied movie, so both corr/PNR items agree exactly.
    assert!(log(&reuse).contains("reusing the prepared input"), "{}", log(&reuse));
    assert_eq!(std::fs::read(out(&corr, "corr")).expect("corr"), std::fs::read(out(&reuse, "corr")).expect("reuse corr"));
    let info = json(&ok(&["info", &out(&corr, "pnr").to_string_lossy(), "--json"], cwd));
    let entry = info["meta"]["history_trace"].as_array().and_then(|h| h.iter().find_map(|e| e.get("corr_pnr"))).expect("corr_pnr history").clone();
    assert_eq!(entry["gSig"], serde_json::json!([3.0]), "{entry}");
    let copied = item(cwd, batch, &cnmfe)["input"]["path"].as_str().expect("copied input").to_string();
    assert!(cwd.join(batch).join(&copied).is_file(), "the copied input lives in the batch: {copied}");
}

#[test]
fn faults_stay_in_their_item_and_a_killed_runner_resumes() {
    let tmp = tempfile::tempdir().expect("tmp");
    let cwd = tmp.path();
    let (slow, slow_p) = slow_movie(cwd);
    let (onep, cp) = quick_1p(cwd);

    // kill -9 of a worker mid-item, and a parameter file corrupted after `add`: those items fail, the rest runs.
    ok(&["batch", "new", "b1"], cwd);
    let victim = add(cwd, "b1", "mc", &slow, Some(&slow_p), &[]);
    let corrupt = add(cwd, "b1", "corr_pnr", &onep, Some(&cp), &["--name", "corrupt params"]);
    let good = add(cwd, "b1", "corr_pnr", &onep, Some(&cp), &[]);
    std::fs::write(cwd.join("b1/items").join(&corrupt).join("params.json"), "{\"gSig\": 3,").expect("corrupt");
    let mut runner = spawn_run(cwd, "b1", "b1.log");
    let it = wait_item(cwd, "b1", &victim, 60, "the slow item to run", running_with_worker);
    std::thread::sleep(Duration::from_millis(500));
    kill9(it["worker_pid"].as_u64().expect("pid"));
    let status = wait_child(&mut runner, 120);
    assert!(!status.success(), "two items failed, so the run reports failure");
    let v = item(cwd, "b1", &victim);
    assert_eq!(v["status"], "error", "{v}");
    assert!(v["error"].as_str().is_some_and(|e| e.contains("signal") || e.contains("SIGKILL")), "{v}");
    let c = item(cwd, "b1", &corrupt);
    assert_eq!(c["status"], "error", "{c}");
    assert!(c["error"].as_str().is_some_and(|e| e.contains("params.json")), "the error names the file: {c}");
    assert_eq!(item(cwd, "b1", &good)["status"], "done");

    // kill -9 of the runner: its worker stops, the table stays readable, and a restart runs the item again.
    ok(&["batch", "new", "b2"], cwd);
    let first = add(cwd, "b2", "mc", &slow, Some(&slow_p), &[]);
    let second = add(cwd, "b2", "corr_pnr", &onep, Some(&cp), &[]);
    let mut runner = spawn_run(cwd, "b2", "b2.log");
    let it = wait_item(cwd, "b2", &first, 60, "the slow item to run", running_with_worker);
    let worker = it["worker_pid"].as_u64().expect("pid");
    runner.kill().expect("kill -9 the runner");
    runner.wait().expect("reap");
    let start = Instant::now();
    while pid_alive(worker) {
        assert!(start.elapsed().as_secs() < 10, "the worker outlived its runner");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(item(cwd, "b2", &first)["status"], "running", "left as the crash left it");
    let o = ok(&["batch", "run", "b2"], cwd);
    assert!(String::from_utf8_lossy(&o.stderr).contains("interrupted"), "{}", String::from_utf8_lossy(&o.stderr));
    let f = item(cwd, "b2", &first);
    assert_eq!((f["status"].as_str(), f["runs"].as_u64()), (Some("done"), Some(2)), "{f}");
    assert_eq!(item(cwd, "b2", &second)["status"], "done");
    let raw = std::fs::read_to_string(cwd.join("b2/batch.json")).expect("table");
    let table: Value = serde_json::from_str(&raw).expect("the table is whole JSON");
    assert!(table["runner"].is_null(), "the runner entry is cleared after the run");
}

#[test]
fn abort_current_item_abort_batch_and_add_while_running() {
    let tmp = tempfile::tempdir().expect("tmp");
    let cwd = tmp.path();
    let (slow, slow_p) = slow_movie(cwd);
    let (onep, cp) = quick_1p(cwd);
    ok(&["batch", "new", "b"], cwd);
    let a = add(cwd, "b", "mc", &slow, Some(&slow_p), &["--name", "to abort"]);
    let b = add(cwd, "b", "corr_pnr", &onep, Some(&cp), &[]);
    let mut runner = spawn_run(cwd, "b", "run.log");
    wait_item(cwd, "b", &a, 60, "the slow item to run", running_with_worker);
    let late = add(cwd, "b", "corr_pnr", &onep, Some(&cp), &["--name", "added while running"]);
    let skipped = add(cwd, "b", "corr_pnr", &onep, Some(&cp), &["--name", "aborted before its turn"]);
    ok(&["batch", "abort", "b", "--item", &skipped], cwd);
    assert!(err(&["batch", "run", "b"], cwd).contains("already being run"), "one runner per batch");
    ok(&["batch", "abort", "b", "--current"], cwd);
    let status = wait_child(&mut runner, 120);
    assert!(!status.success());
    let ia = item(cwd, "b", &a);
    assert_eq!((ia["status"].as_str(), ia["error"].as_str()), (Some("aborted"), Some("aborted by the user")), "{ia}");
    assert_eq!(item(cwd, "b", &b)["status"], "done");
    assert_eq!(item(cwd, "b", &late)["status"], "done", "an item added while the batch ran was picked up");
    let sk = item(cwd, "b", &skipped);
    assert_eq!((sk["status"].as_str(), sk["runs"].as_u64()), (Some("aborted"), Some(0)), "aborted before it started: {sk}");

    // Abort the batch: the current item is aborted and the rest stays pending; "Start at selection" later.
    let mut runner = spawn_run(cwd, "b", "run2.log");
    wait_item(cwd, "b", &a, 60, "the slow item to run again", running_with_worker);
    ok(&["batch", "abort", "b"], cwd);
    wait_child(&mut runner, 60);
    let c = add(cwd, "b", "corr_pnr", &onep, Some(&cp), &[]);
    assert_eq!(item(cwd, "b", &a)["status"], "aborted");
    assert_eq!(item(cwd, "b", &c)["status"], "pending");
    ok(&["batch", "run", "b", "--from", &c], cwd);
    assert_eq!(item(cwd, "b", &c)["status"], "done");
    assert_eq!(item(cwd, "b", &a)["status"], "aborted", "items before --from are left alone");
}

#[test]
fn exported_scripts_name_every_item_and_run_it() {
    let tmp = tempfile::tempdir().expect("tmp");
    let cwd = tmp.path();
    let (onep, cp) = quick_1p(cwd);
    ok(&["simulate", "--kind", "2p", "--out", "twop", "--seed", "3", "--size", "64x64", "--frames", "100", "--motion", "rigid"], cwd);
    let mc_p = write(cwd, "mc.json", r#"{"max_shifts": [6, 6], "niter_rig": 1}"#);
    let batch = "cluster batch 'x'";
    ok(&["batch", "new", batch], cwd);
    let mc = add(cwd, batch, "mc", "twop/movie.tiff", Some(&mc_p), &["--name", "motion one"]);
    let corr = add(cwd, batch, "corr_pnr", &mc, Some(&cp), &["--name", "corr of mc"]);
    let corr1p = add(cwd, batch, "corr_pnr", &onep, Some(&cp), &[]);
    ok(&["batch", "export", batch, "--slurm", "job.sh", "--scripts", "per item"], cwd);
    let script = std::fs::read_to_string(cwd.join("job.sh")).expect("slurm script");
    let waits: Vec<&str> = script.lines().filter(|l| l.trim_start().starts_with("--wait-input=")).map(str::trim).collect();
    assert_eq!(waits, ["--wait-input=0", "--wait-input=86400", "--wait-input=0"], "only the item on mc's output waits");
    assert!(Command::new("bash").arg("-n").arg(cwd.join("job.sh")).status().expect("bash -n").success(), "{script}");
    assert!(script.contains("#SBATCH --array=0-2"), "{script}");
    for (u, name) in [(&mc, "motion one"), (&corr, "corr of mc"), (&corr1p, "corr_pnr")] {
        assert!(script.contains(u.as_str()) && script.contains(name), "{u} {name} missing:\n{script}");
    }
    let mut scripts: Vec<PathBuf> = std::fs::read_dir(cwd.join("per item")).expect("scripts").map(|e| e.expect("entry").path()).collect();
    scripts.sort();
    assert_eq!(scripts.len(), 3);
    for s in &scripts {
        assert!(Command::new("bash").arg("-n").arg(s).status().expect("bash -n").success());
    }
    // Each per-item script runs its item here; the array script runs task 1 (waiting for its input if needed).
    let run = |cmd: &mut Command| {
        let o = cmd.env("MESMERIZE", env!("CARGO_BIN_EXE_mesmerize")).current_dir(cwd).output().expect("run script");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    run(&mut Command::new(&scripts[0]));
    assert_eq!(item(cwd, batch, &mc)["status"], "done");
    run(Command::new("bash").arg(cwd.join("job.sh")).env("SLURM_ARRAY_TASK_ID", "1"));
    assert_eq!(item(cwd, batch, &corr)["status"], "done");
    run(&mut Command::new(&scripts[2]));
    assert_eq!(item(cwd, batch, &corr1p)["status"], "done");
}

#[test]
fn bad_input_is_refused_when_added_and_deletion_keeps_inputs() {
    let tmp = tempfile::tempdir().expect("tmp");
    let cwd = tmp.path();
    let (onep, cp) = quick_1p(cwd);
    ok(&["batch", "new", "b"], cwd);
    assert!(err(&["batch", "new", "b"], cwd).contains("not empty"));
    assert!(err(&["batch", "list", "onep"], cwd).contains("not a batch"));
    let bad_json = write(cwd, "bad.json", "{\"gSig\": ");
    assert!(err(&["batch", "add", "b", "--module", "cnmf", "--input", &onep, "--params", &bad_json], cwd).contains("bad.json"));
    let bad_type = write(cwd, "type.json", r#"{"gSig": "four"}"#);
    let e = err(&["batch", "add", "b", "--module", "cnmfe", "--input", &onep, "--params", &bad_type], cwd);
    assert!(e.contains("type.json") && e.contains("gSig"), "{e}");
    assert!(err(&["batch", "add", "b", "--module", "corr_pnr", "--input", &onep], cwd).contains("gSig"));
    assert!(err(&["batch", "add", "b", "--module", "suite2p", "--input", &onep], cwd).contains("unknown module"));
    assert!(err(&["batch", "add", "b", "--module", "cnmf", "--input", "missing.tiff"], cwd).contains("missing.tiff"));
    let bad_ain = write(cwd, "ain.json", r#"{"Ain": "00000000-0000-4000-8000-000000000000"}"#);
    assert!(err(&["batch", "add", "b", "--module", "cnmfe", "--input", &onep, "--params", &bad_ain], cwd).contains("no such item"));
    assert!(items(cwd, "b").is_empty(), "refused items leave no rows");
    assert_eq!(std::fs::read_dir(cwd.join("b/items")).expect("items").count(), 0, "and no directories");

    let corr = add(cwd, "b", "corr_pnr", &onep, Some(&cp), &[]);
    assert!(err(&["batch", "add", "b", "--module", "cnmf", "--input", &corr], cwd).contains("makes no movie"));
    let mc = add(cwd, "b", "mc", &onep, None, &[]);
    let user = add(cwd, "b", "cnmfe", &mc, None, &[]);
    assert!(err(&["batch", "delete", "b", &mc], cwd).contains(&user));
    ok(&["batch", "delete", "b", &user], cwd);
    ok(&["batch", "delete", "b", &mc], cwd);
    assert!(!cwd.join("b/items").join(&mc).exists());
    assert_eq!(items(cwd, "b").len(), 1);
    let shown = json(&ok(&["batch", "show", "b", &corr, "--json"], cwd));
    assert_eq!(shown["params"]["gSig"], 3);
}

#[test]
fn system_configuration_sets_threads_and_work_dir_and_at_schedules() {
    let tmp = tempfile::tempdir().expect("tmp");
    let cwd = tmp.path();
    let (onep, cp) = quick_1p(cwd);
    std::fs::create_dir(cwd.join("fast disk")).expect("work dir");
    let config = cwd.join("system_config.json");
    std::fs::write(&config, serde_json::json!({"threads": 1, "work_dir": cwd.join("fast disk")}).to_string()).expect("config");
    ok(&["batch", "new", "b"], cwd);
    let u = add(cwd, "b", "corr_pnr", &onep, Some(&cp), &[]);
    // A start time in the past starts at once; a malformed one is a one-line error.
    let e = err(&["batch", "run", "b", "--at", "25:99"], cwd);
    assert!(e.contains("--at"), "{e}");
    let o = Command::new(env!("CARGO_BIN_EXE_mesmerize"))
        .args(["batch", "run", "b", "--at", "2000-01-01 00:00"])
        .env("MESMERIZE_SYSTEM_CONFIG", &config)
        .current_dir(cwd)
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    assert!(stderr.contains("1 threads"), "the thread limit reaches the worker: {stderr}");
    assert!(stderr.contains("fast disk"), "outputs go to the work dir first: {stderr}");
    assert!(stderr.contains("progress: "), "the worker reports progress as lines: {stderr}");
    let it = item(cwd, "b", &u);
    assert_eq!(it["status"], "done");
    let corr = PathBuf::from(it["outputs"]["corr"].as_str().expect("corr"));
    assert!(corr.starts_with(cwd.join("b")) && corr.is_file(), "outputs moved into the batch: {}", corr.display());
    assert_eq!(std::fs::read_dir(cwd.join("fast disk")).expect("work dir").count(), 0, "the work dir is left empty");
}
