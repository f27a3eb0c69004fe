//! `nao-conformance`: run the conformance checks of every model on the compiled backends and
//! print how far each output is from its reference (the numbers of docs/backends.md), or
//! write the embedded model's reference with the `flex` backend.
//!
//! ```text
//! nao-conformance [--target NAME]... [--json FILE] [--write-reference]
//! ```
#![forbid(unsafe_code)]

use std::process::ExitCode;
use std::time::Instant;

use nao_backend::Device;
use nao_conformance::{compare, devices_under_test, open, run_check, tolerance, Model, Reference};

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<bool, Box<dyn std::error::Error>> {
    let mut targets = Vec::new();
    let mut json = None;
    let mut write_reference = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--target" => {
                let name = args.next().ok_or("--target needs a name")?;
                targets.push(name.parse::<Device>()?);
            }
            "--json" => json = Some(args.next().ok_or("--json needs a file")?),
            "--write-reference" => write_reference = true,
            "-h" | "--help" => {
                println!(
                    "nao-conformance [--target NAME]... [--json FILE] [--write-reference]\n\
                     compiled devices: {}",
                    nao_models::compiled_devices()
                        .iter()
                        .map(Device::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                return Ok(true);
            }
            other => return Err(format!("unknown argument '{other}'").into()),
        }
    }
    if write_reference {
        let backend = open(Device::Cpu)?;
        let mut outputs = Vec::new();
        for &check in Model::Embedded.checks() {
            outputs.extend(run_check(&*backend, check)?);
        }
        let dir = Reference::default_dir();
        Reference::write(&dir, &outputs)?;
        println!(
            "wrote {} reference outputs to {}",
            outputs.len(),
            dir.display()
        );
        return Ok(true);
    }
    if targets.is_empty() {
        targets = devices_under_test()?;
    }
    let mut rows = Vec::new();
    let mut all_pass = true;
    println!(
        "{:<8} {:<10} {:<20} {:>11} {:>11} {:>7} {:>11} {:>9} {:>9}  result",
        "model",
        "backend",
        "output",
        "max |diff|",
        "rms diff",
        "scale",
        "scaled",
        "tolerance",
        "check s"
    );
    for model in Model::ALL {
        let reference = model.reference()?;
        for &target in &targets {
            let started = Instant::now();
            let backend = model.open(target)?;
            let open_s = started.elapsed().as_secs_f64();
            for &check in model.checks() {
                let started = Instant::now();
                let outputs = run_check(&*backend, check)?;
                let seconds = started.elapsed().as_secs_f64();
                let tol = tolerance(target, check);
                for d in compare(&outputs, &reference)? {
                    let pass = d.scaled() <= tol;
                    all_pass &= pass;
                    println!(
                        "{:<8} {:<10} {:<20} {:>11.3e} {:>11.3e} {:>7.2} {:>11.3e} {:>9.0e} {:>9.3}  {}",
                        model.name(),
                        target.to_string(),
                        d.name,
                        d.max_abs,
                        d.rms,
                        d.reference_scale,
                        d.scaled(),
                        tol,
                        seconds,
                        if pass { "ok" } else { "FAIL" }
                    );
                    rows.push(serde_json::json!({
                        "model": model.name(),
                        "backend": target.to_string(),
                        "output": d.name,
                        "max_abs_diff": d.max_abs,
                        "rms_diff": d.rms,
                        "reference_scale": d.reference_scale,
                        "scaled_diff": d.scaled(),
                        "tolerance": tol,
                        "check_seconds": seconds,
                        "open_seconds": open_s,
                        "pass": pass,
                    }));
                }
            }
        }
    }
    if let Some(path) = json {
        let text = serde_json::to_string_pretty(&serde_json::json!({ "results": rows }))?;
        nao_fs::write_file(std::path::Path::new(&path), "--json", text.as_bytes())?;
    }
    Ok(all_pass)
}
