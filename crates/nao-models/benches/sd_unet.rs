//! One Stable Diffusion UNet call at full size — 512×512 images (64×64 latents), batch 2 as
//! classifier-free guidance runs it — on a nao device, with the process's memory; the Rust
//! side of `scripts/sd_unet_bench.py`, which times PyTorch diffusers' UNet on the same folder
//! and inputs beside it (`cargo xtask bench-sd` runs both).
//!
//! ```text
//! sd_unet --write-model DIR [--seed S]      write SD 1.5's architecture with random weights
//! sd_unet --model DIR [--device cpu] [--dtype f32] [--calls 5] [--inputs DIR]
//! sd_unet --model DIR ... --serve           lockstep mode for the script (stdin commands)
//! ```
//!
//! Inputs are `latents.npy` `[b, 4, h, w]`, `context.npy` `[b, 77, 768]` and `timesteps.npy`
//! `[b]` from `--inputs` (the script writes them), or else fixed pseudo-random values of batch
//! 2 at 64×64. The standalone mode prints each call's milliseconds, their median, the resident
//! memory after loading and the peak during the calls. Threads: burn's CPU backend uses one
//! per core unless `RAYON_NUM_THREADS` says otherwise.
//!
//! In lockstep mode the bench loads the model, makes one call and says `ready LOAD_S FIRST_S`;
//! then it reads commands, one per line, each answered with one line: `call N` (the wall and CPU
//! seconds of N calls), `save FILE` (the last output as .npy), `memory` (resident and peak KiB since the
//! last `reset`), `reset` (restart the peak from the current size), `quit`.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use nao_backend::{Backend, Tensor};
use nao_models::{open_model, Device, ModelSource, OpenOptions, Precision};

type Failure = Box<dyn std::error::Error>;

struct Args {
    model: Option<PathBuf>,
    write_model: Option<PathBuf>,
    seed: u64,
    device: Device,
    dtype: Precision,
    calls: usize,
    inputs: Option<PathBuf>,
    serve: bool,
}

fn parse_args() -> Result<Args, Failure> {
    let mut a = Args {
        model: None,
        write_model: None,
        seed: 0,
        device: Device::Cpu,
        dtype: Precision::F32,
        calls: 5,
        inputs: None,
        serve: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--model" => a.model = Some(value()?.into()),
            "--write-model" => a.write_model = Some(value()?.into()),
            "--seed" => a.seed = value()?.parse()?,
            "--device" => a.device = value()?.parse()?,
            "--dtype" => a.dtype = value()?.parse()?,
            "--calls" => a.calls = value()?.parse()?,
            "--inputs" => a.inputs = Some(value()?.into()),
            "--serve" => a.serve = true,
            // what `cargo bench` passes to every bench binary
            "--bench" => {}
            other => return Err(format!("unknown argument '{other}'").into()),
        }
    }
    Ok(a)
}

/// `VmRSS` and `VmHWM` (peak) of this process, in KiB.
fn memory_kib() -> Result<(u64, u64), Failure> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let field = |name: &str| -> Result<u64, Failure> {
        let line = status
            .lines()
            .find(|l| l.starts_with(name))
            .ok_or(format!("/proc/self/status has no {name}"))?;
        Ok(line
            .split_whitespace()
            .nth(1)
            .ok_or("empty field")?
            .parse()?)
    };
    Ok((field("VmRSS:")?, field("VmHWM:")?))
}

/// CPU seconds this process has used, all threads (`/proc/self/stat`'s utime + stime, in
/// clock ticks of 10 ms): under a busy machine's contention the wall time of a call says
/// little, its CPU time more.
fn cpu_seconds() -> Result<f64, Failure> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    // the fields after the command name (in parentheses, which may hold spaces)
    let rest = stat.rsplit_once(')').ok_or("malformed /proc/self/stat")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name
    let ticks: u64 = fields.get(11).ok_or("no utime")?.parse::<u64>()?
        + fields.get(12).ok_or("no stime")?.parse::<u64>()?;
    Ok(ticks as f64 / 100.0)
}

/// Restart the peak (`VmHWM`) from the current resident size.
fn reset_peak() -> Result<(), Failure> {
    std::fs::write("/proc/self/clear_refs", "5")
        .map_err(|e| format!("resetting the peak through /proc/self/clear_refs: {e}").into())
}

fn read(dir: &Path, name: &str) -> Result<Tensor, Failure> {
    let a = nao_npy::read_npy(dir.join(name))?;
    Ok(Tensor::new(a.shape().to_vec(), a.to_f32_vec())?)
}

/// Latents, timesteps, text embeddings.
fn inputs(dir: Option<&Path>) -> Result<(Tensor, Vec<i64>, Tensor), Failure> {
    if let Some(dir) = dir {
        let t = read(dir, "timesteps.npy")?;
        let t = t.data.iter().map(|&x| x as i64).collect();
        return Ok((read(dir, "latents.npy")?, t, read(dir, "context.npy")?));
    }
    let wave = |n: usize, phase: f32| -> Vec<f32> {
        (0..n)
            .map(|i| (i as f32 * 0.37 + phase).sin() * 1.2)
            .collect()
    };
    Ok((
        Tensor::new(vec![2, 4, 64, 64], wave(2 * 4 * 64 * 64, 0.0))?,
        vec![500, 500],
        Tensor::new(vec![2, 77, 768], wave(2 * 77 * 768, 1.0))?,
    ))
}

fn main() -> Result<(), Failure> {
    let args = parse_args()?;
    if let Some(dir) = &args.write_model {
        let started = Instant::now();
        let model = nao_sd::RandomModel::sd15().with_seed(args.seed);
        model.write(dir)?;
        let [t, u, v] = model.parameters()?;
        println!(
            "wrote {} (SD 1.5 architecture, random weights, seed {}): text encoder {t}, UNet \
             {u}, VAE {v} parameters in {:.0} s",
            dir.display(),
            args.seed,
            started.elapsed().as_secs_f64()
        );
        return Ok(());
    }
    let dir = args
        .model
        .clone()
        .ok_or("--model DIR is needed (or --write-model DIR to make one)")?;
    let started = Instant::now();
    let opened = open_model(
        &ModelSource::Folder(dir),
        Some(args.device),
        &OpenOptions::default().with_precision(args.dtype),
    )?;
    let load_s = started.elapsed().as_secs_f64();
    let model = opened.model;
    let (latents, timesteps, context) = inputs(args.inputs.as_deref())?;
    let call = || model.predict_noise(&latents, &timesteps, &context);
    let (rss_loaded, peak_loading) = memory_kib()?;
    reset_peak()?;
    // the first call pays one-time costs (kernel compilation on GPUs, allocator growth)
    let started = Instant::now();
    let first = call()?;
    let first_ms = started.elapsed().as_secs_f64() * 1e3;
    if args.serve {
        return serve(call, first, load_s, first_ms / 1e3);
    }
    let mut times = Vec::with_capacity(args.calls);
    let mut cpu = Vec::with_capacity(args.calls);
    for _ in 0..args.calls {
        let (started, cpu_before) = (Instant::now(), cpu_seconds()?);
        std::hint::black_box(call()?);
        times.push(started.elapsed().as_secs_f64() * 1e3);
        cpu.push(cpu_seconds()? - cpu_before);
    }
    let (_, peak_calls) = memory_kib()?;
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted.get(sorted.len() / 2).copied().unwrap_or(f64::NAN);
    let mib = |kib: u64| kib as f64 / 1024.0;
    println!(
        "{} {} latents {:?}: load {load_s:.1} s, first call {first_ms:.0} ms, calls {:?} ms \
         (CPU {:?} s), median {median:.0} ms; resident after loading {:.0} MiB (peak while \
         loading {:.0} MiB), peak during the calls {:.0} MiB",
        args.device,
        args.dtype,
        latents.shape,
        times.iter().map(|t| t.round()).collect::<Vec<_>>(),
        cpu,
        mib(rss_loaded),
        mib(peak_loading),
        mib(peak_calls)
    );
    Ok(())
}

/// Lockstep mode: see the module docs.
fn serve(
    call: impl Fn() -> Result<Tensor, nao_backend::BackendError>,
    mut last: Tensor,
    load_s: f64,
    first_s: f64,
) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "ready {load_s:.3} {first_s:.3}")?;
    out.flush()?;
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        let (command, arg) = line.split_once(' ').unwrap_or((line.as_str(), ""));
        match command {
            "call" => {
                let n: usize = arg.parse()?;
                let (started, cpu_before) = (Instant::now(), cpu_seconds()?);
                for _ in 0..n {
                    last = call()?;
                }
                let cpu = cpu_seconds()? - cpu_before;
                writeln!(out, "{:.6} {cpu:.2}", started.elapsed().as_secs_f64())?;
            }
            "save" => {
                nao_npy::write_npy_f32(Path::new(arg), &last.shape, &last.data)?;
                writeln!(out, "saved")?;
            }
            "memory" => {
                let (rss, peak) = memory_kib()?;
                writeln!(out, "{rss} {peak}")?;
            }
            "reset" => {
                reset_peak()?;
                writeln!(out, "reset")?;
            }
            "quit" | "" => return Ok(()),
            other => return Err(format!("unknown command '{other}'").into()),
        }
        out.flush()?;
    }
    Ok(())
}
