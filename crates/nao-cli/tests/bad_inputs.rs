//! The bad-input suite: hostile and careless inputs to the `nao` binary, one table.
//!
//! Every case runs `nao` under `ulimit -v` (so a run that reads or allocates without bound
//! fails instead of growing) with a time limit (so a hang fails instead of blocking), and must:
//! exit with status 1 (2 for a bad command line), never panic, name the culprit in its error
//! (each expected substring), print nothing on stdout (or one `{"error": …}` object with
//! `--json`), and leave its working folder exactly as it was — every file's bytes and mode,
//! every FIFO, link and folder — so no output was replaced and no temporary file is left.
//!
//! The table is also docs/reliability.md's table of cases: `docs_table_is_in_sync` compares
//! the two, and `NAO_BLESS=1 cargo test -p nao-cli --test bad_inputs docs_table` rewrites the
//! document's table from this one.

mod common;

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use nao_npy::{write_npy_f32, write_npy_f64};

/// The address-space limit of every run, in KiB (4 GiB): far below what the unbounded reads
/// and allocations of the issue reached, well above what `nao` needs for these inputs.
const VMEM_KIB: u64 = 4 << 20;

/// The longest a failing run may take.
const TIME_LIMIT: Duration = Duration::from_secs(60);

/// What the case's output path is before and after the run (it must not change).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Absent,
    File,
    Fifo,
    Link,
    Folder,
    Device,
}

impl Target {
    fn describe(self) -> &'static str {
        match self {
            Target::Absent => "absent",
            Target::File => "file, unchanged",
            Target::Fifo => "still a FIFO",
            Target::Link => "link, unchanged",
            Target::Folder => "folder, unchanged",
            Target::Device => "device, untouched",
        }
    }
}

/// One bad input.
struct Case {
    /// Short unique name.
    name: &'static str,
    /// The class (1–8) or `x` for others.
    class: &'static str,
    /// Creates the case's input files in the (empty) working folder.
    setup: fn(&Path),
    /// `nao` arguments; `{onnx}`, `{diffusers}` and `{ws}` name the fixture models.
    args: &'static [&'static str],
    /// Substrings the error must contain (the culprit).
    expect: &'static [&'static str],
    /// The output path and what must be there after the run.
    target: Option<(&'static str, Target)>,
}

// ---------------------------------------------------------------------------------------------
// Setup helpers
// ---------------------------------------------------------------------------------------------

fn wavy(n: usize, phase: f64) -> Vec<f32> {
    common::wavy(n, phase)
        .into_iter()
        .map(|v| v as f32)
        .collect()
}

/// a.npy, b.npy, c.npy: three float32 seeds of shape (4, 4, 4).
fn seeds(d: &Path) {
    for (name, phase) in [("a.npy", 0.0), ("b.npy", 1.0), ("c.npy", 2.0)] {
        write_npy_f32(d.join(name), &[4, 4, 4], &wavy(64, phase)).unwrap();
    }
}

/// lat.npy: one latent of the embedded model, shape (4, 7, 7).
fn latent(d: &Path) {
    write_npy_f32(d.join("lat.npy"), &[4, 7, 7], &wavy(196, 0.3)).unwrap();
}

/// An existing output the command must not touch: bytes and mode 0600.
fn precious(p: &Path) {
    std::fs::write(p, b"precious").unwrap();
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o600)).unwrap();
}

fn mkfifo(p: &Path) {
    let ok = Command::new("mkfifo").arg(p).status().expect("mkfifo");
    assert!(ok.success());
}

/// An image of the embedded model's size (28×28 grey).
fn image(p: &Path) {
    let img = image::GrayImage::from_fn(28, 28, |x, y| image::Luma([(x * 9 + y * 3) as u8]));
    img.save(p).unwrap();
}

/// A .npy file from a raw header dictionary and data bytes (format 1.0).
fn npy(p: &Path, dict: &str, data: &[u8]) {
    let mut b = b"\x93NUMPY\x01\x00".to_vec();
    b.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    b.extend_from_slice(dict.as_bytes());
    b.extend_from_slice(data);
    std::fs::write(p, b).unwrap();
}

/// Grow `p` to `len` bytes with a hole (no disk used).
fn sparse(p: &Path, len: u64) {
    let f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(p)
        .unwrap();
    f.set_len(len).unwrap();
}

fn fixture(kind: &str) -> PathBuf {
    nao_test_support::shared(format!("fixtures/tiny-sd1/{kind}"))
}

fn embedded_weights() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../nao-burn/weights")
}

/// A model folder `m` in `d` whose files link to `source`'s, except `edit` (a relative path),
/// which is a copy changed by `change`.
fn model_with(d: &Path, source: &Path, edit: &str, change: fn(String) -> String) {
    let m = d.join("m");
    link_tree(source, &m, Path::new(edit));
    let text = std::fs::read_to_string(source.join(edit)).unwrap();
    let target = m.join(edit);
    std::fs::remove_file(&target).unwrap();
    std::fs::write(&target, change(text)).unwrap();
}

/// `dst` mirrors `src`: folders created, files symbolic links, except the one at `keep`
/// (relative), which is copied.
fn link_tree(src: &Path, dst: &Path, keep: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        let (from, to) = (e.path(), dst.join(e.file_name()));
        if from.is_dir() {
            let rest = keep.strip_prefix(e.file_name()).unwrap_or(Path::new("-"));
            link_tree(&from, &to, rest);
        } else if keep == Path::new(&e.file_name()) {
            std::fs::copy(&from, &to).unwrap();
        } else {
            symlink(&from, &to).unwrap();
        }
    }
}

fn onnx_with(d: &Path, edit: &str, change: fn(String) -> String) {
    model_with(d, &fixture("onnx"), edit, change);
}

fn diffusers_with(d: &Path, edit: &str, change: fn(String) -> String) {
    model_with(d, &fixture("diffusers"), edit, change);
}

fn weights_with(d: &Path, edit: &str, change: fn(String) -> String) {
    model_with(d, &embedded_weights(), edit, change);
}

/// Replace `"key": value` (the first one) by `"key": new`.
fn set_json(text: &str, key: &str, new: &str) -> String {
    let at = text
        .find(&format!("\"{key}\""))
        .unwrap_or_else(|| panic!("no {key}"));
    let start = at + text[at..].find(':').unwrap() + 1;
    let rest = &text[start..];
    let end = start + rest.find([',', '}', '\n']).unwrap_or(rest.len());
    let end = if text[start..].trim_start().starts_with('[') {
        start + rest.find(']').unwrap() + 1
    } else {
        end
    };
    format!("{} {new}{}", &text[..start], &text[end..])
}

fn deep_json(_: String) -> String {
    format!("{}{}", "[".repeat(100_000), "]".repeat(100_000))
}

// ---------------------------------------------------------------------------------------------
// Setup helpers of the second round (issue 21)
// ---------------------------------------------------------------------------------------------

/// real/bag/0.png, real/bag/1.png: two real images of a class of the embedded model.
fn real(d: &Path) {
    std::fs::create_dir_all(d.join("real/bag")).unwrap();
    image(&d.join("real/bag/0.png"));
    let img = image::GrayImage::from_fn(28, 28, |x, y| image::Luma([(x * 5 + y * 7) as u8]));
    img.save(d.join("real/bag/1.png")).unwrap();
}

/// Run `nao ARGS` in `d` as part of a setup; it must succeed.
fn nao_ok(d: &Path, args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_nao"))
        .args(args)
        .current_dir(d)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "setup: nao {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The options of the small datasets of these cases.
const SMALL: &[&str] = &["--per-class", "2", "--steps", "2"];

/// real/ and out/: a dataset made by `nao augment` (2 images of the class, merged).
fn dataset(d: &Path) {
    real(d);
    let mut args = vec!["augment", "real", "-o", "out"];
    args.extend(SMALL);
    nao_ok(d, &args);
}

/// A dataset whose class seeds were changed after the images were made (a NaN in them).
fn dataset_changed_seeds(d: &Path) {
    dataset(d);
    let p = d.join("out/seeds/bag.npy");
    let mut a = nao_npy::read_npy(&p).unwrap().to_f64_vec();
    a[3] = f64::NAN;
    let shape = nao_npy::read_npy(&p).unwrap().shape().to_vec();
    write_npy_f64(&p, &shape, &a).unwrap();
}

/// A PNG that declares `w × h` pixels and holds none (IHDR, an empty IDAT, IEND).
fn declared_png(p: &Path, w: u32, h: u32) {
    fn crc32(bytes: &[u8]) -> u32 {
        let mut c = !0u32;
        for &b in bytes {
            c ^= u32::from(b);
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
        }
        !c
    }
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend(w.to_be_bytes());
    ihdr.extend(h.to_be_bytes());
    ihdr.extend([8, 0, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    for chunk in [ihdr, b"IDAT".to_vec(), b"IEND".to_vec()] {
        png.extend((chunk.len() as u32 - 4).to_be_bytes());
        png.extend(&chunk);
        png.extend(crc32(&chunk).to_be_bytes());
    }
    std::fs::write(p, png).unwrap();
}

/// huge.png: 22 000 × 22 000 declared (a decompression bomb's header); b.png an image.
fn huge(d: &Path) {
    declared_png(&d.join("huge.png"), 22_000, 22_000);
    image(&d.join("b.png"));
}

/// wide.png: a real 3 000 000 × 1 grey image (a few KB of PNG).
fn wide(d: &Path) {
    let img = image::GrayImage::from_fn(3_000_000, 1, |x, _| image::Luma([(x % 7) as u8]));
    img.save(d.join("wide.png")).unwrap();
}

/// An ONNX classifier's labels with one class twice (case and `_` differ).
fn twice_labelled(d: &Path) {
    real(d);
    std::fs::write(d.join("clf.onnx"), b"not read before the labels").unwrap();
    std::fs::write(d.join("labels.txt"), "bag\nankle_boot\nAnkle-Boot\n").unwrap();
}

// ---------------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------------

fn none(_: &Path) {}

/// `sample` with the model folder `m` (a changed copy of the tiny Stable Diffusion fixture).
const SAMPLE_ONNX_M: &[&str] = &[
    "sample",
    "{onnx-seed}",
    "--model",
    "m",
    "--prompt",
    "a",
    "-o",
    "out",
];

/// `sample` with the model folder `m` (a changed copy of the embedded model's weights).
const SAMPLE_WEIGHTS_M: &[&str] = &[
    "sample", "lat.npy", "--model", "m", "--prompt", "trouser", "-o", "out",
];

/// The output folder `out` of `sample`, absent before and after.
const OUT_ABSENT: Option<(&str, Target)> = Some(("out", Target::Absent));

fn cases() -> Vec<Case> {
    use Target::*;
    vec![
        // 1. Output paths are refused unless they are regular files (or absent).
        Case {
            name: "seed -o /dev/null",
            class: "1",
            setup: none,
            args: &["seed", "--dim", "64", "--seed", "1", "-o", "/dev/null"],
            expect: &["/dev/null", "a device"],
            target: Some(("/dev/null", Device)),
        },
        Case {
            name: "seed -o FIFO",
            class: "1",
            setup: |d| mkfifo(&d.join("out.npy")),
            args: &["seed", "--dim", "64", "--seed", "1", "-o", "out.npy"],
            expect: &["out.npy", "FIFO"],
            target: Some(("out.npy", Fifo)),
        },
        Case {
            name: "seed -o link to a file",
            class: "1",
            setup: |d| {
                precious(&d.join("real.npy"));
                symlink("real.npy", d.join("out.npy")).unwrap();
            },
            args: &["seed", "--dim", "64", "--seed", "1", "-o", "out.npy"],
            expect: &["out.npy", "symbolic link"],
            target: Some(("out.npy", Link)),
        },
        Case {
            name: "seed -o dangling link",
            class: "1",
            setup: |d| symlink("nowhere.npy", d.join("out.npy")).unwrap(),
            args: &["seed", "--dim", "64", "--seed", "1", "-o", "out.npy"],
            expect: &["out.npy", "symbolic link"],
            target: Some(("out.npy", Link)),
        },
        Case {
            name: "seed -o folder",
            class: "1",
            setup: |d| std::fs::create_dir(d.join("out.npy")).unwrap(),
            args: &["seed", "--dim", "64", "--seed", "1", "-o", "out.npy"],
            expect: &["out.npy", "is a folder"],
            target: Some(("out.npy", Folder)),
        },
        Case {
            name: "seed -o newdir/",
            class: "8",
            setup: none,
            args: &["seed", "--dim", "64", "--seed", "1", "-o", "newdir/"],
            expect: &["newdir/", "names a folder"],
            target: Some(("newdir", Absent)),
        },
        Case {
            name: "seed -o missing folder",
            class: "1",
            setup: none,
            args: &["seed", "--dim", "64", "--seed", "1", "-o", "nodir/x.npy"],
            expect: &["nodir", "does not exist"],
            target: Some(("nodir", Absent)),
        },
        Case {
            name: "seed -o empty path",
            class: "1",
            setup: none,
            args: &["seed", "--dim", "64", "--seed", "1", "-o", ""],
            expect: &["--output"],
            target: None,
        },
        Case {
            name: "path -o FIFO",
            class: "1",
            setup: |d| {
                seeds(d);
                mkfifo(&d.join("p.npy"));
            },
            args: &["path", "a.npy", "b.npy", "-o", "p.npy"],
            expect: &["p.npy", "FIFO"],
            target: Some(("p.npy", Fifo)),
        },
        Case {
            name: "path -o /dev/null",
            class: "1",
            setup: seeds,
            args: &["path", "a.npy", "b.npy", "-o", "/dev/null", "--json"],
            expect: &["/dev/null", "a device"],
            target: Some(("/dev/null", Device)),
        },
        Case {
            name: "centroid -o link",
            class: "1",
            setup: |d| {
                seeds(d);
                precious(&d.join("real.npy"));
                symlink("real.npy", d.join("c_out.npy")).unwrap();
            },
            args: &["centroid", "a.npy", "b.npy", "-o", "c_out.npy"],
            expect: &["c_out.npy", "symbolic link"],
            target: Some(("c_out.npy", Link)),
        },
        Case {
            name: "centroid --paths-out FIFO",
            class: "1",
            setup: |d| {
                seeds(d);
                mkfifo(&d.join("paths.npy"));
            },
            args: &[
                "centroid",
                "a.npy",
                "b.npy",
                "-o",
                "c_out.npy",
                "--paths-out",
                "paths.npy",
            ],
            expect: &["--paths-out", "paths.npy", "FIFO"],
            target: Some(("c_out.npy", Absent)),
        },
        Case {
            name: "sample -o FIFO",
            class: "1",
            setup: |d| {
                latent(d);
                mkfifo(&d.join("out"));
            },
            args: &["sample", "lat.npy", "--prompt", "trouser", "-o", "out"],
            expect: &["out", "FIFO"],
            target: Some(("out", Fifo)),
        },
        Case {
            name: "sample -o file",
            class: "1",
            setup: |d| {
                latent(d);
                precious(&d.join("out"));
            },
            args: &["sample", "lat.npy", "--prompt", "trouser", "-o", "out"],
            expect: &["out", "not a folder"],
            target: Some(("out", File)),
        },
        Case {
            name: "export-onnx --out file",
            class: "1",
            setup: |d| precious(&d.join("x")),
            args: &["export-onnx", "--out", "x"],
            expect: &["--out", "not a folder"],
            target: Some(("x", File)),
        },
        Case {
            name: "demo --out FIFO",
            class: "1",
            setup: |d| mkfifo(&d.join("demo")),
            args: &["demo", "--quick", "--out", "demo"],
            expect: &["demo", "FIFO"],
            target: Some(("demo", Fifo)),
        },
        Case {
            name: "invert -o /dev/null",
            class: "1",
            setup: |d| image(&d.join("img.png")),
            args: &[
                "invert",
                "img.png",
                "--prompt",
                "trouser",
                "-o",
                "/dev/null",
            ],
            expect: &["/dev/null", "a device"],
            target: Some(("/dev/null", Device)),
        },
        Case {
            name: "reconstruct -o file",
            class: "1",
            setup: |d| {
                image(&d.join("img.png"));
                precious(&d.join("rec"));
            },
            args: &["reconstruct", "img.png", "--prompt", "trouser", "-o", "rec"],
            expect: &["rec", "not a folder"],
            target: Some(("rec", File)),
        },
        // 2. Sizes from config files are bounded and checked against the weights.
        Case {
            name: "scheduler num_train_timesteps u64::MAX",
            class: "2",
            setup: |d| {
                latent(d);
                onnx_with(d, "scheduler/scheduler_config.json", |t| {
                    set_json(&t, "num_train_timesteps", "18446744073709551615")
                })
            },
            args: SAMPLE_ONNX_M,
            expect: &["num_train_timesteps", "18446744073709551615"],
            target: OUT_ABSENT,
        },
        Case {
            name: "scheduler trained_betas \"x\"",
            class: "8",
            setup: |d| {
                onnx_with(d, "scheduler/scheduler_config.json", |t| {
                    set_json(&t, "trained_betas", "\"x\"")
                })
            },
            args: SAMPLE_ONNX_M,
            expect: &["trained_betas"],
            target: OUT_ABSENT,
        },
        Case {
            name: "scheduler beta_start negative",
            class: "2",
            setup: |d| {
                onnx_with(d, "scheduler/scheduler_config.json", |t| {
                    set_json(&t, "beta_start", "-0.5")
                })
            },
            args: SAMPLE_ONNX_M,
            expect: &["beta_start"],
            target: OUT_ABSENT,
        },
        Case {
            name: "scheduler config 100 000 nested arrays",
            class: "3",
            setup: |d| onnx_with(d, "scheduler/scheduler_config.json", deep_json),
            args: SAMPLE_ONNX_M,
            expect: &["scheduler_config.json", "recursion limit"],
            target: OUT_ABSENT,
        },
        Case {
            name: "model.json blocks u64::MAX",
            class: "2",
            setup: |d| {
                latent(d);
                weights_with(d, "model.json", |t| {
                    set_json(&t, "blocks", "18446744073709551615")
                })
            },
            args: SAMPLE_WEIGHTS_M,
            expect: &["model.json", "denoiser.blocks is 18446744073709551615"],
            target: OUT_ABSENT,
        },
        Case {
            name: "model.json hidden 10⁹",
            class: "2",
            setup: |d| {
                latent(d);
                weights_with(d, "model.json", |t| set_json(&t, "hidden", "1000000000"))
            },
            args: SAMPLE_WEIGHTS_M,
            expect: &["denoiser.hidden is 1000000000"],
            target: OUT_ABSENT,
        },
        Case {
            name: "model.json blocks 4 for 3-block weights",
            class: "2",
            setup: |d| {
                latent(d);
                weights_with(d, "model.json", |t| set_json(&t, "blocks", "4"))
            },
            args: SAMPLE_WEIGHTS_M,
            expect: &["denoiser.safetensors", "blocks.3."],
            target: OUT_ABSENT,
        },
        Case {
            name: "model.json latent_dim disagrees",
            class: "2",
            setup: |d| {
                latent(d);
                weights_with(d, "model.json", |t| set_json(&t, "latent_dim", "200"))
            },
            args: SAMPLE_WEIGHTS_M,
            expect: &["denoiser.latent_dim is 200"],
            target: OUT_ABSENT,
        },
        Case {
            name: "model.json three class names",
            class: "2",
            setup: |d| {
                latent(d);
                weights_with(d, "model.json", |t| {
                    set_json(&t, "class_names", "[\"a\", \"b\", \"c\"]")
                })
            },
            args: SAMPLE_WEIGHTS_M,
            expect: &["class_names has 3 names"],
            target: OUT_ABSENT,
        },
        Case {
            name: "model.json 100 000 nested arrays",
            class: "3",
            setup: |d| {
                latent(d);
                weights_with(d, "model.json", deep_json)
            },
            args: SAMPLE_WEIGHTS_M,
            expect: &["model.json", "bad model card"],
            target: OUT_ABSENT,
        },
        Case {
            name: "denoiser.safetensors truncated",
            class: "2",
            setup: |d| {
                latent(d);
                weights_with(d, "model.json", |t| t);
                let p = d.join("m/denoiser.safetensors");
                let bytes = std::fs::read(&p).unwrap();
                std::fs::remove_file(&p).unwrap();
                std::fs::write(&p, &bytes[..bytes.len() / 2]).unwrap();
            },
            args: SAMPLE_WEIGHTS_M,
            expect: &["denoiser.safetensors"],
            target: OUT_ABSENT,
        },
        Case {
            name: "diffusers unet block_out_channels huge",
            class: "2",
            setup: |d| {
                diffusers_with(d, "unet/config.json", |t| {
                    set_json(&t, "block_out_channels", "[1000000000, 1000000000]")
                })
            },
            args: SAMPLE_ONNX_M,
            expect: &["unet/config.json", "block_out_channels"],
            target: OUT_ABSENT,
        },
        Case {
            name: "diffusers text_encoder hidden_size huge",
            class: "2",
            setup: |d| {
                diffusers_with(d, "text_encoder/config.json", |t| {
                    set_json(&t, "hidden_size", "4000000000")
                })
            },
            args: SAMPLE_ONNX_M,
            expect: &["text_encoder/config.json", "hidden_size"],
            target: OUT_ABSENT,
        },
        Case {
            name: "tokenizer.json 100 000 nested arrays",
            class: "3",
            setup: |d| diffusers_with(d, "tokenizer/tokenizer.json", deep_json),
            args: SAMPLE_ONNX_M,
            expect: &["tokenizer.json", "recursion limit"],
            target: OUT_ABSENT,
        },
        Case {
            name: "vocab.json not JSON",
            class: "x",
            setup: |d| onnx_with(d, "tokenizer/vocab.json", |_| "{\"a\": ".into()),
            args: SAMPLE_ONNX_M,
            expect: &["vocab.json"],
            target: OUT_ABSENT,
        },
        Case {
            name: "merges.txt is a FIFO",
            class: "4",
            setup: |d| {
                onnx_with(d, "tokenizer/merges.txt", |t| t);
                let p = d.join("m/tokenizer/merges.txt");
                std::fs::remove_file(&p).unwrap();
                mkfifo(&p);
            },
            args: SAMPLE_ONNX_M,
            expect: &["merges.txt", "not a regular file"],
            target: OUT_ABSENT,
        },
        Case {
            name: "unet config.json is /dev/zero",
            class: "4",
            setup: |d| {
                onnx_with(d, "unet/config.json", |t| t);
                let p = d.join("m/unet/config.json");
                std::fs::remove_file(&p).unwrap();
                symlink("/dev/zero", &p).unwrap();
            },
            args: SAMPLE_ONNX_M,
            expect: &["unet/config.json", "not a regular file"],
            target: OUT_ABSENT,
        },
        Case {
            name: "unet model.onnx is a FIFO",
            class: "4",
            setup: |d| {
                onnx_with(d, "unet/config.json", |t| t);
                let p = d.join("m/unet/model.onnx");
                std::fs::remove_file(&p).unwrap();
                mkfifo(&p);
            },
            args: SAMPLE_ONNX_M,
            expect: &["unet/model.onnx", "not a regular file"],
            target: OUT_ABSENT,
        },
        // 3. No recursion on attacker-controlled input.
        Case {
            name: "npy header of 50 000 nested parentheses",
            class: "3",
            setup: |d| {
                let dict = format!("{}{}", "(".repeat(30_000), ")".repeat(30_000));
                npy(&d.join("deep.npy"), &dict, b"");
            },
            args: &["norms", "deep.npy"],
            expect: &["deep.npy", "nested deeper than 16"],
            target: None,
        },
        Case {
            name: "npy header with 65 axes",
            class: "3",
            setup: |d| {
                let shape = vec!["1"; 65].join(",");
                let dict = format!("{{'descr':'<f4','fortran_order':False,'shape':({shape})}}");
                npy(&d.join("axes.npy"), &dict, &[0; 4]);
            },
            args: &["norms", "axes.npy"],
            expect: &["axes.npy", "65 axes"],
            target: None,
        },
        // 4. Inputs are looked at before they are read, and read no further than they say.
        Case {
            name: "norms /dev/zero",
            class: "4",
            setup: none,
            args: &["norms", "/dev/zero"],
            expect: &["/dev/zero", "not a regular file"],
            target: None,
        },
        Case {
            name: "norms FIFO without writer",
            class: "4",
            setup: |d| mkfifo(&d.join("pipe.npy")),
            args: &["norms", "pipe.npy"],
            expect: &["pipe.npy", "not a regular file"],
            target: None,
        },
        Case {
            name: "norms 2 GiB sparse file, wrong magic",
            class: "4",
            setup: |d| sparse(&d.join("sparse.npy"), 2 << 30),
            args: &["norms", "sparse.npy"],
            expect: &["sparse.npy", "bad magic"],
            target: None,
        },
        Case {
            name: "norms folder",
            class: "4",
            setup: |d| std::fs::create_dir(d.join("dir.npy")).unwrap(),
            args: &["norms", "dir.npy"],
            expect: &["dir.npy", "is a folder"],
            target: None,
        },
        Case {
            name: "norms missing file",
            class: "4",
            setup: none,
            args: &["norms", "missing.npy", "--json"],
            expect: &["missing.npy"],
            target: None,
        },
        Case {
            name: "npy data truncated",
            class: "4",
            setup: |d| {
                let dict = "{'descr':'<f4','fortran_order':False,'shape':(64,)}";
                npy(&d.join("short.npy"), dict, &[0; 255]);
            },
            args: &["norms", "short.npy"],
            expect: &["short.npy", "truncated data"],
            target: None,
        },
        Case {
            name: "npy trailing bytes",
            class: "4",
            setup: |d| {
                let dict = "{'descr':'<f4','fortran_order':False,'shape':(2,)}";
                npy(&d.join("long.npy"), dict, &[0; 12]);
            },
            args: &["norms", "long.npy"],
            expect: &["long.npy", "4 unexpected bytes"],
            target: None,
        },
        Case {
            name: "npy header length 4 GiB",
            class: "4",
            setup: |d| {
                let mut b = b"\x93NUMPY\x02\x00".to_vec();
                b.extend_from_slice(&u32::MAX.to_le_bytes());
                b.extend_from_slice(b"{}");
                std::fs::write(d.join("hlen.npy"), b).unwrap();
            },
            args: &["norms", "hlen.npy"],
            expect: &["hlen.npy", "at most 65536"],
            target: None,
        },
        Case {
            name: "npy header past the end of the file",
            class: "4",
            setup: |d| {
                let mut b = b"\x93NUMPY\x01\x00".to_vec();
                b.extend_from_slice(&1000u16.to_le_bytes());
                b.extend_from_slice(b"{'descr'");
                std::fs::write(d.join("hcut.npy"), b).unwrap();
            },
            args: &["norms", "hcut.npy"],
            expect: &["hcut.npy", "truncated header"],
            target: None,
        },
        Case {
            name: "npy 2³¹ elements over a sparse 8 GiB file",
            class: "5",
            setup: |d| {
                let p = d.join("huge.npy");
                npy(
                    &p,
                    "{'descr':'<f4','fortran_order':False,'shape':(2147483648,)}",
                    b"",
                );
                let len = std::fs::metadata(&p).unwrap().len();
                sparse(&p, len + (8 << 30));
            },
            args: &["norms", "huge.npy"],
            expect: &["huge.npy", "2147483648 elements", "at most 1073741824"],
            target: None,
        },
        Case {
            name: "npy 2³⁰ float32 values, more than the address space holds",
            class: "5",
            setup: |d| {
                let p = d.join("big4.npy");
                npy(
                    &p,
                    "{'descr':'<f4','fortran_order':False,'shape':(1073741824,)}",
                    b"",
                );
                let len = std::fs::metadata(&p).unwrap().len();
                sparse(&p, len + (4 << 30));
            },
            args: &["norms", "big4.npy"],
            expect: &["big4.npy", "4294967296 bytes"],
            target: None,
        },
        Case {
            name: "npy shape overflows",
            class: "5",
            setup: |d| {
                let dict = "{'descr':'<f8','fortran_order':False,'shape':(4294967296,4294967296)}";
                npy(&d.join("ovf.npy"), dict, b"");
            },
            args: &["norms", "ovf.npy"],
            expect: &["ovf.npy", "too large"],
            target: None,
        },
        Case {
            name: "npy complex dtype",
            class: "x",
            setup: |d| {
                let dict = "{'descr':'<c8','fortran_order':False,'shape':(1,)}";
                npy(&d.join("cplx.npy"), dict, &[0; 8]);
            },
            args: &["norms", "cplx.npy"],
            expect: &["cplx.npy", "unsupported dtype"],
            target: None,
        },
        Case {
            name: "npy integer dtype",
            class: "x",
            setup: |d| {
                let dict = "{'descr':'<i4','fortran_order':False,'shape':(2,)}";
                npy(&d.join("int.npy"), dict, &[1; 8]);
            },
            args: &["norms", "int.npy"],
            expect: &["int.npy", "int32", "not a seed dtype"],
            target: None,
        },
        Case {
            name: "npy version 9.9",
            class: "x",
            setup: |d| std::fs::write(d.join("v9.npy"), b"\x93NUMPY\x09\x09\x00\x00").unwrap(),
            args: &["norms", "v9.npy"],
            expect: &["v9.npy", "version 9.9"],
            target: None,
        },
        Case {
            name: "invert image is /dev/zero",
            class: "4",
            setup: |d| symlink("/dev/zero", d.join("zero.png")).unwrap(),
            args: &["invert", "zero.png", "--prompt", "trouser", "-o", "s.npy"],
            expect: &["zero.png", "not a regular file"],
            target: Some(("s.npy", Absent)),
        },
        Case {
            name: "invert image is a FIFO",
            class: "4",
            setup: |d| mkfifo(&d.join("pipe.png")),
            args: &["invert", "pipe.png", "--prompt", "trouser", "-o", "s.npy"],
            expect: &["pipe.png", "not a regular file"],
            target: Some(("s.npy", Absent)),
        },
        Case {
            name: "sample seeds file is a FIFO",
            class: "4",
            setup: |d| mkfifo(&d.join("lat.npy")),
            args: &["sample", "lat.npy", "--prompt", "trouser", "-o", "out"],
            expect: &["lat.npy", "not a regular file"],
            target: OUT_ABSENT,
        },
        // 5. Sizes that would exhaust memory are refused up front.
        Case {
            name: "seed --dim 2³¹",
            class: "5",
            setup: none,
            args: &["seed", "--dim", "2147483648", "--seed", "1", "-o", "s.npy"],
            expect: &["2147483648", "1073741824"],
            target: Some(("s.npy", Absent)),
        },
        Case {
            name: "seed --count × --dim over the cap",
            class: "5",
            setup: none,
            args: &[
                "seed", "--dim", "1048576", "--count", "2048", "--seed", "1", "-o", "s.npy",
            ],
            expect: &["--count 2048", "1073741824"],
            target: Some(("s.npy", Absent)),
        },
        Case {
            name: "seed --shape overflows",
            class: "5",
            setup: none,
            args: &[
                "seed",
                "--shape",
                "4294967296,4294967296,4294967296",
                "--seed",
                "1",
                "-o",
                "s.npy",
            ],
            expect: &["--shape", "too many elements"],
            target: Some(("s.npy", Absent)),
        },
        Case {
            name: "path --frames 10⁹",
            class: "5",
            setup: seeds,
            args: &[
                "path",
                "a.npy",
                "b.npy",
                "--frames",
                "1000000000",
                "-o",
                "p.npy",
            ],
            expect: &["--frames 1000000000", "1073741824"],
            target: Some(("p.npy", Absent)),
        },
        Case {
            name: "centroid --paths-out --frames 10⁸",
            class: "5",
            setup: seeds,
            args: &[
                "centroid",
                "a.npy",
                "b.npy",
                "-o",
                "c_out.npy",
                "--paths-out",
                "p.npy",
                "--frames",
                "100000000",
            ],
            expect: &["--frames 100000000", "--paths-out"],
            target: Some(("c_out.npy", Absent)),
        },
        Case {
            name: "nao-reference path over the solver's memory limit",
            class: "5",
            setup: |d| {
                write_npy_f32(d.join("ba.npy"), &[2_000_000], &wavy(2_000_000, 0.0)).unwrap();
                write_npy_f32(d.join("bb.npy"), &[2_000_000], &wavy(2_000_000, 1.0)).unwrap();
            },
            args: &[
                "path",
                "ba.npy",
                "bb.npy",
                "--method",
                "nao-reference",
                "--frames",
                "500",
                "-o",
                "p.npy",
            ],
            expect: &["reference solver", "29.8 GiB", "500 points"],
            target: Some(("p.npy", Absent)),
        },
        Case {
            name: "nao-reference centroid over the solver's memory limit",
            class: "5",
            setup: |d| {
                write_npy_f32(d.join("ba.npy"), &[2_000_000], &wavy(2_000_000, 0.0)).unwrap();
                write_npy_f32(d.join("bb.npy"), &[2_000_000], &wavy(2_000_000, 1.0)).unwrap();
            },
            args: &[
                "centroid",
                "ba.npy",
                "bb.npy",
                "--method",
                "nao-reference",
                "-o",
                "c_out.npy",
            ],
            expect: &["reference solver", "2 path(s)", "GiB"],
            target: Some(("c_out.npy", Absent)),
        },
        // 6. All outputs of a command are checked together, after normalising their paths.
        Case {
            name: "centroid -o X --paths-out X",
            class: "6",
            setup: |d| {
                seeds(d);
                precious(&d.join("c_out.npy"));
            },
            args: &[
                "centroid",
                "a.npy",
                "b.npy",
                "-o",
                "c_out.npy",
                "--paths-out",
                "c_out.npy",
            ],
            expect: &[
                "-o/--output c_out.npy",
                "--paths-out c_out.npy",
                "same file",
            ],
            target: Some(("c_out.npy", File)),
        },
        Case {
            name: "centroid -o out/x.npy --paths-out ./out/x.npy",
            class: "6",
            setup: |d| {
                seeds(d);
                std::fs::create_dir(d.join("out")).unwrap();
            },
            args: &[
                "centroid",
                "a.npy",
                "b.npy",
                "-o",
                "out/x.npy",
                "--paths-out",
                "./out/x.npy",
            ],
            expect: &["out/x.npy", "same file"],
            target: Some(("out/x.npy", Absent)),
        },
        Case {
            name: "centroid --paths-out sub/../c.npy",
            class: "6",
            setup: |d| {
                seeds(d);
                std::fs::create_dir(d.join("sub")).unwrap();
            },
            args: &[
                "centroid",
                "a.npy",
                "b.npy",
                "-o",
                "c_out.npy",
                "--paths-out",
                "sub/../c_out.npy",
            ],
            expect: &["sub/../c_out.npy", "same file"],
            target: Some(("c_out.npy", Absent)),
        },
        Case {
            name: "centroid --paths-out a hard link of -o",
            class: "6",
            setup: |d| {
                seeds(d);
                precious(&d.join("c_out.npy"));
                std::fs::hard_link(d.join("c_out.npy"), d.join("alias.npy")).unwrap();
            },
            args: &[
                "centroid",
                "a.npy",
                "b.npy",
                "-o",
                "c_out.npy",
                "--paths-out",
                "alias.npy",
            ],
            expect: &["alias.npy", "same file"],
            target: Some(("c_out.npy", File)),
        },
        Case {
            name: "centroid --paths-out /dev/null keeps -o",
            class: "6",
            setup: |d| {
                seeds(d);
                precious(&d.join("c_out.npy"));
            },
            args: &[
                "centroid",
                "a.npy",
                "b.npy",
                "-o",
                "c_out.npy",
                "--paths-out",
                "/dev/null",
            ],
            expect: &["--paths-out /dev/null", "a device"],
            target: Some(("c_out.npy", File)),
        },
        Case {
            name: "sample -o d --save-latents d/000.png",
            class: "6",
            setup: latent,
            args: &[
                "sample",
                "lat.npy",
                "--prompt",
                "trouser",
                "-o",
                "d",
                "--save-latents",
                "d/000.png",
            ],
            expect: &["--save-latents", "d/000.png", "inside"],
            target: Some(("d", Absent)),
        },
        Case {
            name: "path -o one of its inputs' links",
            class: "6",
            setup: |d| {
                seeds(d);
                symlink("a.npy", d.join("la.npy")).unwrap();
            },
            args: &["path", "a.npy", "b.npy", "-o", "la.npy"],
            expect: &["la.npy", "symbolic link"],
            target: Some(("la.npy", Link)),
        },
        // 8. Smaller: option checks, numbers at the ends of the f64 range, degenerate results.
        Case {
            name: "sample --steps 1000 on the embedded model",
            class: "8",
            setup: latent,
            args: &[
                "sample", "lat.npy", "--prompt", "trouser", "--steps", "1000", "-o", "out",
            ],
            expect: &["--steps 1000"],
            target: OUT_ABSENT,
        },
        Case {
            name: "demo --groups 0",
            class: "8",
            setup: none,
            args: &["demo", "--quick", "--groups", "0", "--out", "demo"],
            expect: &["--groups"],
            target: Some(("demo", Absent)),
        },
        Case {
            name: "norms of float64 values near 1e200",
            class: "8",
            setup: |d| write_npy_f64(d.join("big.npy"), &[3], &[3e200, 4e200, 1e200]).unwrap(),
            args: &["norms", "big.npy", "--json"],
            expect: &["big.npy", "log χ"],
            target: None,
        },
        Case {
            name: "Euclidean centroid of antipodal seeds",
            class: "8",
            setup: |d| {
                let a = wavy(64, 0.0);
                let b: Vec<f32> = a.iter().map(|v| -v).collect();
                write_npy_f32(d.join("a.npy"), &[64], &a).unwrap();
                write_npy_f32(d.join("b.npy"), &[64], &b).unwrap();
            },
            args: &[
                "centroid",
                "a.npy",
                "b.npy",
                "--method",
                "euclidean",
                "-o",
                "c_out.npy",
            ],
            expect: &["euclidean", "zero vector"],
            target: Some(("c_out.npy", Absent)),
        },
        Case {
            name: "path seeds of different shapes",
            class: "x",
            setup: |d| {
                seeds(d);
                write_npy_f32(d.join("flat.npy"), &[64], &wavy(64, 0.5)).unwrap();
            },
            args: &["path", "a.npy", "flat.npy", "-o", "p.npy"],
            expect: &["a.npy", "flat.npy", "(4, 4, 4)", "(64,)"],
            target: Some(("p.npy", Absent)),
        },
        Case {
            name: "path seed with a NaN",
            class: "x",
            setup: |d| {
                seeds(d);
                let mut v = wavy(64, 0.0);
                v[9] = f32::NAN;
                write_npy_f32(d.join("nan.npy"), &[4, 4, 4], &v).unwrap();
            },
            args: &["path", "a.npy", "nan.npy", "-o", "p.npy", "--json"],
            expect: &["nan.npy", "flat index 9", "NaN"],
            target: Some(("p.npy", Absent)),
        },
        Case {
            name: "path all-zero seed",
            class: "x",
            setup: |d| {
                seeds(d);
                write_npy_f32(d.join("zero.npy"), &[4, 4, 4], &[0.0; 64]).unwrap();
            },
            args: &["path", "a.npy", "zero.npy", "-o", "p.npy"],
            expect: &["zero.npy", "all zeros"],
            target: Some(("p.npy", Absent)),
        },
        Case {
            name: "path --frames 1",
            class: "x",
            setup: seeds,
            args: &["path", "a.npy", "b.npy", "--frames", "1", "-o", "p.npy"],
            expect: &["--frames 1"],
            target: Some(("p.npy", Absent)),
        },
        Case {
            name: "path nao-reference --frames 2",
            class: "x",
            setup: seeds,
            args: &[
                "path",
                "a.npy",
                "b.npy",
                "--method",
                "nao-reference",
                "--frames",
                "2",
                "-o",
                "p.npy",
            ],
            expect: &["--frames 2", "at least 3"],
            target: Some(("p.npy", Absent)),
        },
        Case {
            name: "centroid --method unknown",
            class: "x",
            setup: seeds,
            args: &[
                "centroid",
                "a.npy",
                "b.npy",
                "--method",
                "median",
                "-o",
                "c_out.npy",
            ],
            expect: &["median", "nao-frechet"],
            target: Some(("c_out.npy", Absent)),
        },
        Case {
            name: "seed --rng unknown",
            class: "x",
            setup: none,
            args: &[
                "seed", "--dim", "8", "--seed", "1", "--rng", "mt19937", "-o", "s.npy",
            ],
            expect: &["--rng", "mt19937"],
            target: Some(("s.npy", Absent)),
        },
        Case {
            name: "prior --dim 0",
            class: "x",
            setup: none,
            args: &["prior", "--dim", "0", "--json"],
            expect: &["--dim"],
            target: None,
        },
        Case {
            name: "norms --rows of a 0-d array",
            class: "x",
            setup: |d| write_npy_f64(d.join("s.npy"), &[], &[1.0]).unwrap(),
            args: &["norms", "s.npy", "--rows"],
            expect: &["s.npy", "--rows", "0-d"],
            target: None,
        },
        Case {
            name: "distance between different dimensions",
            class: "x",
            setup: |d| {
                write_npy_f32(d.join("x.npy"), &[8], &wavy(8, 0.0)).unwrap();
                write_npy_f32(d.join("y.npy"), &[9], &wavy(9, 0.0)).unwrap();
            },
            args: &["distance", "x.npy", "y.npy"],
            expect: &["x.npy", "y.npy"],
            target: None,
        },
        // 9. An output may not be, lie in, or hold one of the command's inputs.
        Case {
            name: "invert -o the image itself",
            class: "9",
            setup: |d| image(&d.join("img.png")),
            args: &["invert", "img.png", "--prompt", "bag", "-o", "img.png"],
            expect: &["IMAGE img.png", "-o/--output img.png", "same file"],
            target: Some(("img.png", File)),
        },
        Case {
            name: "invert -o a hard link of the image",
            class: "9",
            setup: |d| {
                image(&d.join("img.png"));
                std::fs::hard_link(d.join("img.png"), d.join("seeds.npy")).unwrap();
            },
            args: &["invert", "img.png", "--prompt", "bag", "-o", "seeds.npy"],
            expect: &["img.png", "seeds.npy", "same file"],
            target: Some(("seeds.npy", File)),
        },
        Case {
            name: "path -o the first seed",
            class: "9",
            setup: seeds,
            args: &["path", "a.npy", "b.npy", "-o", "./a.npy"],
            expect: &["A a.npy", "./a.npy", "same file"],
            target: Some(("a.npy", File)),
        },
        Case {
            name: "centroid -o one of the seeds",
            class: "9",
            setup: seeds,
            args: &["centroid", "a.npy", "b.npy", "-o", "b.npy"],
            expect: &["SEED b.npy", "same file"],
            target: Some(("b.npy", File)),
        },
        Case {
            name: "sample --save-latents the seeds",
            class: "9",
            setup: latent,
            args: &[
                "sample",
                "lat.npy",
                "--prompt",
                "bag",
                "-o",
                "out",
                "--save-latents",
                "lat.npy",
            ],
            expect: &["SEEDS lat.npy", "--save-latents", "same file"],
            target: Some(("lat.npy", File)),
        },
        Case {
            name: "sample -o the folder of the seeds",
            class: "9",
            setup: |d| {
                std::fs::create_dir(d.join("work")).unwrap();
                write_npy_f32(d.join("work/lat.npy"), &[4, 7, 7], &wavy(196, 0.3)).unwrap();
            },
            args: &["sample", "work/lat.npy", "--prompt", "bag", "-o", "work"],
            expect: &["work/lat.npy", "-o/--output work", "holds the input"],
            target: Some(("work", Folder)),
        },
        Case {
            name: "reconstruct -o inside the model folder",
            class: "9",
            setup: |d| {
                image(&d.join("img.png"));
                link_tree(&embedded_weights(), &d.join("m"), Path::new("-"));
            },
            args: &[
                "reconstruct",
                "img.png",
                "--model",
                "m",
                "--prompt",
                "bag",
                "-o",
                "m/rec",
            ],
            expect: &["--model m", "m/rec", "inside the input"],
            target: Some(("m/rec", Absent)),
        },
        Case {
            name: "walk -o the first keyframe",
            class: "9",
            setup: |d| {
                image(&d.join("a.png"));
                image(&d.join("b.png"));
            },
            args: &["walk", "a.png", "b.png", "--prompt", "bag", "-o", "a.png"],
            expect: &["IMAGE_OR_SEED a.png", "same file"],
            target: Some(("a.png", File)),
        },
        Case {
            name: "walk --plot the second keyframe",
            class: "9",
            setup: |d| {
                image(&d.join("a.png"));
                image(&d.join("b.png"));
            },
            args: &[
                "walk", "a.png", "b.png", "--prompt", "bag", "-o", "w.gif", "--plot", "b.png",
            ],
            expect: &["IMAGE_OR_SEED b.png", "--plot b.png", "same file"],
            target: Some(("b.png", File)),
        },
        Case {
            name: "walk --frames-dir over the keyframes",
            class: "9",
            setup: |d| {
                std::fs::create_dir(d.join("keys")).unwrap();
                image(&d.join("keys/a.png"));
                image(&d.join("keys/b.png"));
            },
            args: &[
                "walk",
                "keys/a.png",
                "keys/b.png",
                "--prompt",
                "bag",
                "--frames-dir",
                "keys",
            ],
            expect: &["keys/a.png", "--frames-dir keys", "holds the input"],
            target: Some(("keys", Folder)),
        },
        Case {
            name: "walk --work-dir over the keyframes",
            class: "9",
            setup: |d| {
                std::fs::create_dir(d.join("keys")).unwrap();
                image(&d.join("keys/a.png"));
                image(&d.join("keys/b.png"));
            },
            args: &[
                "walk",
                "keys/a.png",
                "keys/b.png",
                "--prompt",
                "bag",
                "-o",
                "w.gif",
                "--work-dir",
                "keys",
            ],
            expect: &["keys/a.png", "--work-dir keys", "holds the input"],
            target: Some(("keys", Folder)),
        },
        Case {
            name: "eval -o inside a generated folder",
            class: "9",
            setup: dataset,
            args: &["eval", "out", "--real", "real", "-o", "out/eval"],
            expect: &["GENERATED out", "-o/--output out/eval", "inside the input"],
            target: Some(("out/eval", Absent)),
        },
        Case {
            name: "augment -o inside the model folder",
            class: "9",
            setup: |d| {
                real(d);
                link_tree(&embedded_weights(), &d.join("m"), Path::new("-"));
            },
            args: &[
                "augment",
                "real",
                "--model",
                "m",
                "-o",
                "m/out",
                "--per-class",
                "2",
            ],
            expect: &["--model m", "m/out", "inside the input"],
            target: Some(("m/out", Absent)),
        },
        Case {
            name: "export-onnx --out inside --model",
            class: "9",
            setup: |d| link_tree(&embedded_weights(), &d.join("m"), Path::new("-")),
            args: &["export-onnx", "--model", "m", "--out", "m/onnx"],
            expect: &["--model m", "--out m/onnx", "inside the input"],
            target: Some(("m/onnx", Absent)),
        },
        // 10. Counts that size memory or work are bounded before anything is written.
        Case {
            name: "augment --per-class 10^12",
            class: "10",
            setup: real,
            args: &[
                "augment",
                "real",
                "-o",
                "out",
                "--per-class",
                "1000000000000",
            ],
            expect: &["--per-class 1000000000000", "at most 1000000"],
            target: Some(("out", Absent)),
        },
        Case {
            name: "augment --path-positions 10^9",
            class: "10",
            setup: real,
            args: &[
                "augment",
                "real",
                "-o",
                "out",
                "--path-positions",
                "1000000000",
            ],
            expect: &["--path-positions 1000000000", "at most 1000"],
            target: Some(("out", Absent)),
        },
        Case {
            name: "augment merge of a run.json with per_class 10^12",
            class: "10",
            setup: |d| {
                dataset(d);
                let p = d.join("out/run.json");
                let text = std::fs::read_to_string(&p).unwrap();
                std::fs::write(&p, set_json(&text, "per_class", "1000000000000")).unwrap();
            },
            args: &["augment", "merge", "out"],
            expect: &["out/run.json", "per_class is 1000000000000", "damaged"],
            target: Some(("out", Folder)),
        },
        Case {
            name: "augment --steps 10^9",
            class: "10",
            setup: real,
            args: &["augment", "real", "-o", "out", "--steps", "1000000000"],
            expect: &["--steps 1000000000", "at most"],
            target: Some(("out", Absent)),
        },
        Case {
            name: "eval --input-size 30000,30000",
            class: "10",
            setup: |d| {
                real(d);
                std::fs::write(d.join("clf.onnx"), b"not read").unwrap();
                std::fs::write(d.join("labels.txt"), "bag\n").unwrap();
            },
            args: &[
                "eval",
                "real",
                "--real",
                "real",
                "--classifier",
                "clf.onnx",
                "--labels",
                "labels.txt",
                "--input-size",
                "30000,30000",
                "-o",
                "ev",
            ],
            expect: &["--input-size 30000,30000", "pixels"],
            target: Some(("ev", Absent)),
        },
        Case {
            name: "eval --k 2^64-1",
            class: "10",
            setup: real,
            args: &[
                "eval",
                "real",
                "--real",
                "real",
                "--k",
                "18446744073709551615",
                "-o",
                "ev",
            ],
            expect: &["--k 18446744073709551615", "at most"],
            target: Some(("ev", Absent)),
        },
        Case {
            name: "sample --threads 100000",
            class: "10",
            setup: latent,
            args: &[
                "sample",
                "lat.npy",
                "--prompt",
                "bag",
                "--device",
                "onnx-cpu",
                "--threads",
                "100000",
                "-o",
                "out",
            ],
            expect: &["--threads 100000", "per core"],
            target: OUT_ABSENT,
        },
        Case {
            name: "sample --threads 1000",
            class: "10",
            setup: latent,
            args: &[
                "sample",
                "lat.npy",
                "--prompt",
                "bag",
                "--device",
                "onnx-cpu",
                "--threads",
                "1000",
                "-o",
                "out",
            ],
            expect: &["--threads 1000", "per core"],
            target: OUT_ABSENT,
        },
        Case {
            name: "walk --frames 10^12",
            class: "10",
            setup: |d| {
                image(&d.join("a.png"));
                image(&d.join("b.png"));
            },
            args: &[
                "walk",
                "a.png",
                "b.png",
                "--prompt",
                "bag",
                "-o",
                "w.gif",
                "--frames",
                "1000000000000",
            ],
            expect: &["--frames 1000000000000", "at most"],
            target: Some(("w.gif", Absent)),
        },
        // 11. Images are bounded by pixels, read from their header before decoding.
        Case {
            name: "invert a 22000x22000 image",
            class: "11",
            setup: huge,
            args: &["invert", "huge.png", "--prompt", "bag", "-o", "s.npy"],
            expect: &["huge.png", "22000×22000", "million pixels"],
            target: Some(("s.npy", Absent)),
        },
        Case {
            name: "reconstruct a 22000x22000 image",
            class: "11",
            setup: huge,
            args: &["reconstruct", "huge.png", "--prompt", "bag", "-o", "rec"],
            expect: &["huge.png", "22000×22000"],
            target: Some(("rec", Absent)),
        },
        Case {
            name: "walk from a 22000x22000 image",
            class: "11",
            setup: huge,
            args: &[
                "walk", "huge.png", "b.png", "--prompt", "bag", "-o", "w.gif",
            ],
            expect: &["huge.png", "22000×22000"],
            target: Some(("w.gif", Absent)),
        },
        Case {
            name: "augment with a 22000x22000 real image",
            class: "11",
            setup: |d| {
                real(d);
                declared_png(&d.join("real/bag/2.png"), 22_000, 22_000);
            },
            args: &[
                "augment",
                "real",
                "-o",
                "out",
                "--per-class",
                "2",
                "--steps",
                "2",
            ],
            expect: &["real/bag/2.png", "22000×22000"],
            target: Some(("out", Absent)),
        },
        Case {
            name: "eval of a 22000x22000 image",
            class: "11",
            setup: |d| {
                real(d);
                std::fs::create_dir_all(d.join("gen/bag")).unwrap();
                declared_png(&d.join("gen/bag/0.png"), 22_000, 22_000);
            },
            args: &["eval", "gen", "--real", "real", "-o", "ev"],
            expect: &["gen/bag/0.png", "22000×22000"],
            target: Some(("ev", Absent)),
        },
        Case {
            name: "invert a 3000000x1 image stretched",
            class: "11",
            setup: wide,
            args: &[
                "invert", "wide.png", "--prompt", "bag", "--resize", "stretch", "-o", "s.npy",
            ],
            expect: &["wide.png", "stretch", "centre-crop"],
            target: Some(("s.npy", Absent)),
        },
        Case {
            name: "reconstruct a 3000000x1 image stretched",
            class: "11",
            setup: wide,
            args: &[
                "reconstruct",
                "wide.png",
                "--prompt",
                "bag",
                "--resize",
                "stretch",
                "-o",
                "rec",
            ],
            expect: &["wide.png", "stretch", "centre-crop"],
            target: Some(("rec", Absent)),
        },
        Case {
            name: "walk from a 3000000x1 image stretched",
            class: "11",
            setup: |d| {
                wide(d);
                image(&d.join("b.png"));
            },
            args: &[
                "walk", "wide.png", "b.png", "--prompt", "bag", "--resize", "stretch", "-o",
                "w.gif",
            ],
            expect: &["wide.png", "stretch"],
            target: Some(("w.gif", Absent)),
        },
        Case {
            name: "augment with a 3000000x1 real image stretched",
            class: "11",
            setup: |d| {
                real(d);
                wide(&d.join("real/bag"));
            },
            args: &[
                "augment",
                "real",
                "-o",
                "out",
                "--per-class",
                "2",
                "--steps",
                "2",
                "--resize",
                "stretch",
            ],
            expect: &["real/bag/wide.png", "stretch"],
            target: Some(("out", Absent)),
        },
        Case {
            name: "eval of a 3000000x1 image stretched",
            class: "11",
            setup: |d| {
                real(d);
                std::fs::create_dir_all(d.join("gen/bag")).unwrap();
                wide(&d.join("gen/bag"));
            },
            args: &[
                "eval", "gen", "--real", "real", "--resize", "stretch", "-o", "ev",
            ],
            expect: &["gen/bag/wide.png", "stretch"],
            target: Some(("ev", Absent)),
        },
        // 12. What nao wrote earlier is checked before it is trusted.
        Case {
            name: "augment resume with changed class seeds",
            class: "12",
            setup: dataset_changed_seeds,
            args: &[
                "augment",
                "real",
                "-o",
                "out",
                "--per-class",
                "2",
                "--steps",
                "2",
            ],
            expect: &["out/seeds/bag.npy", "changed since it was written"],
            target: Some(("out", Folder)),
        },
        Case {
            name: "augment merge with changed class seeds",
            class: "12",
            setup: dataset_changed_seeds,
            args: &["augment", "merge", "out"],
            expect: &["out/seeds/bag.npy", "changed since it was written"],
            target: Some(("out", Folder)),
        },
        Case {
            name: "eval of a manifest pointing outside its dataset",
            class: "12",
            setup: |d| {
                dataset(d);
                image(&d.join("elsewhere.png"));
                let p = d.join("out/manifest.jsonl");
                let text = std::fs::read_to_string(&p).unwrap();
                std::fs::write(&p, text.replacen("bag/000.png", "../elsewhere.png", 1)).unwrap();
            },
            args: &["eval", "out", "--real", "real", "-o", "ev"],
            expect: &["manifest.jsonl:1", "../elsewhere.png", "not a path inside"],
            target: Some(("ev", Absent)),
        },
        // 13. Every message names its culprit.
        Case {
            name: "sample --guidance 1e308",
            class: "13",
            setup: latent,
            args: &[
                "sample",
                "lat.npy",
                "--prompt",
                "bag",
                "--guidance",
                "1e308",
                "-o",
                "out",
            ],
            expect: &["--guidance", "0 to 1000"],
            target: OUT_ABSENT,
        },
        Case {
            name: "augment --guidance 1e308",
            class: "13",
            setup: real,
            args: &["augment", "real", "-o", "out", "--guidance", "1e308"],
            expect: &["--guidance", "0 to 1000"],
            target: Some(("out", Absent)),
        },
        Case {
            name: "walk --seconds 1e300",
            class: "13",
            setup: |d| {
                image(&d.join("a.png"));
                image(&d.join("b.png"));
            },
            args: &[
                "walk",
                "a.png",
                "b.png",
                "--prompt",
                "bag",
                "-o",
                "w.gif",
                "--seconds",
                "1e300",
            ],
            expect: &["--seconds", "frame periods"],
            target: Some(("w.gif", Absent)),
        },
        Case {
            name: "walk --hold 2^64-1",
            class: "13",
            setup: |d| {
                image(&d.join("a.png"));
                image(&d.join("b.png"));
            },
            args: &[
                "walk",
                "a.png",
                "b.png",
                "--prompt",
                "bag",
                "-o",
                "w.gif",
                "--hold",
                "18446744073709551615",
            ],
            expect: &["--hold 18446744073709551615", "at most"],
            target: Some(("w.gif", Absent)),
        },
        Case {
            name: "diffusers weights with 4 GiB of trailing bytes",
            class: "13",
            setup: |d| {
                latent(d);
                let src = fixture("diffusers");
                link_tree(
                    &src,
                    &d.join("m"),
                    Path::new("unet/diffusion_pytorch_model.safetensors"),
                );
                sparse(
                    &d.join("m/unet/diffusion_pytorch_model.safetensors"),
                    4 << 30,
                );
            },
            args: &[
                "sample",
                "{onnx-seed}",
                "--model",
                "m",
                "--prompt",
                "a",
                "-o",
                "out",
            ],
            expect: &[
                "unet/diffusion_pytorch_model.safetensors",
                "bytes after its last tensor",
            ],
            target: OUT_ABSENT,
        },
        Case {
            name: "diffusers weights a dangling link",
            class: "13",
            setup: |d| {
                let src = fixture("diffusers");
                link_tree(&src, &d.join("m"), Path::new("-"));
                let w = d.join("m/unet/diffusion_pytorch_model.safetensors");
                std::fs::remove_file(&w).unwrap();
                symlink("../../blobs/gone", &w).unwrap();
            },
            args: &[
                "sample",
                "{onnx-seed}",
                "--model",
                "m",
                "--prompt",
                "a",
                "-o",
                "out",
            ],
            expect: &["unet/diffusion_pytorch_model.safetensors"],
            target: OUT_ABSENT,
        },
        Case {
            name: "augment with a FIFO among the real images",
            class: "13",
            setup: |d| {
                real(d);
                mkfifo(&d.join("real/bag/2.png"));
            },
            args: &["augment", "real", "-o", "out", "--per-class", "2"],
            expect: &["real/bag/2.png", "FIFO"],
            target: Some(("out", Absent)),
        },
        Case {
            name: "augment resume over an image that is a link",
            class: "13",
            setup: |d| {
                dataset(d);
                std::fs::remove_file(d.join("out/bag/001.png")).unwrap();
                image(&d.join("elsewhere.png"));
                symlink("../../elsewhere.png", d.join("out/bag/001.png")).unwrap();
            },
            args: &[
                "augment",
                "real",
                "-o",
                "out",
                "--per-class",
                "2",
                "--steps",
                "2",
            ],
            expect: &["out/bag/001.png", "symbolic link"],
            target: Some(("out/bag/001.png", Link)),
        },
        Case {
            name: "eval --labels with one class twice",
            class: "13",
            setup: twice_labelled,
            args: &[
                "eval",
                "real",
                "--real",
                "real",
                "--classifier",
                "clf.onnx",
                "--labels",
                "labels.txt",
                "-o",
                "ev",
            ],
            expect: &["labels.txt", "same class", "ankle_boot"],
            target: Some(("ev", Absent)),
        },
        Case {
            name: "norm-sweep --seeds 10^12",
            class: "10",
            setup: none,
            args: &["norm-sweep", "--seeds", "1000000000000", "-o", "sweep"],
            expect: &["--seeds 1000000000000", "give 1 to 10000"],
            target: Some(("sweep", Absent)),
        },
        Case {
            name: "norm-sweep --max-scale below --min-scale",
            class: "13",
            setup: none,
            args: &[
                "norm-sweep",
                "--min-scale",
                "1.2",
                "--max-scale",
                "0.8",
                "-o",
                "sweep",
            ],
            expect: &["--min-scale 1.2", "--max-scale 0.8"],
            target: Some(("sweep", Absent)),
        },
        Case {
            name: "sampler-sweep --steps 10,100000",
            class: "10",
            setup: none,
            args: &["sampler-sweep", "--steps", "10,100000", "-o", "sweep"],
            expect: &["--steps 100000", "give 1 to"],
            target: Some(("sweep", Absent)),
        },
        Case {
            name: "sampler-sweep -o inside --real",
            class: "9",
            setup: real,
            args: &["sampler-sweep", "--real", "real", "-o", "real/sweep"],
            expect: &["--real real", "real/sweep", "inside the input"],
            target: Some(("real/sweep", Absent)),
        },
        Case {
            name: "sampler-sweep with too few real images",
            class: "13",
            setup: real,
            args: &[
                "sampler-sweep",
                "--real",
                "real",
                "--steps",
                "2",
                "-o",
                "sweep",
            ],
            expect: &["'bag' has 2 real images", "--groups 4", "--per-group 5"],
            target: Some(("sweep", Absent)),
        },
    ]
}

// ---------------------------------------------------------------------------------------------
// Running and checking
// ---------------------------------------------------------------------------------------------

/// What a path is: enough to tell whether a failed run changed it.
#[derive(Debug, PartialEq, Eq)]
enum State {
    Absent,
    File { bytes: Vec<u8>, mode: u32 },
    Folder { mode: u32 },
    Fifo,
    Link(PathBuf),
    Other,
}

impl State {
    fn of(p: &Path) -> State {
        use std::os::unix::fs::FileTypeExt;
        let Ok(meta) = std::fs::symlink_metadata(p) else {
            return State::Absent;
        };
        let ft = meta.file_type();
        let mode = meta.permissions().mode() & 0o7777;
        if ft.is_symlink() {
            State::Link(std::fs::read_link(p).unwrap())
        } else if ft.is_dir() {
            State::Folder { mode }
        } else if ft.is_fifo() {
            State::Fifo
        } else if ft.is_file() {
            // Large sparse inputs are compared by size and mode only.
            let bytes = if meta.len() <= 1 << 26 {
                std::fs::read(p).unwrap()
            } else {
                meta.len().to_le_bytes().to_vec()
            };
            State::File { bytes, mode }
        } else {
            State::Other
        }
    }

    fn kind(&self) -> Target {
        match self {
            State::Absent => Target::Absent,
            State::File { .. } => Target::File,
            State::Folder { .. } => Target::Folder,
            State::Fifo => Target::Fifo,
            State::Link(_) => Target::Link,
            State::Other => Target::Device,
        }
    }
}

/// Every path under `dir` (links not followed) with its state.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, State> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let s = State::of(&p);
            if matches!(s, State::Folder { .. }) {
                stack.push(p.clone());
            }
            out.insert(p.strip_prefix(dir).unwrap().to_path_buf(), s);
        }
    }
    out
}

/// The argument with the fixture placeholders resolved.
fn resolve(arg: &str) -> String {
    match arg {
        "{onnx-seed}" => {
            nao_test_support::shared("fixtures/tiny-sd1/reference/initial_latents.npy")
                .display()
                .to_string()
        }
        _ => arg.to_string(),
    }
}

/// Spawn `nao ARGS` in `dir` under the address-space limit, output to files in `logs`.
fn spawn(dir: &Path, logs: &Path, args: &[String]) -> Child {
    let script = format!("ulimit -v {VMEM_KIB}; exec \"$0\" \"$@\"");
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_nao"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(logs.join("stdout")).unwrap())
        .stderr(std::fs::File::create(logs.join("stderr")).unwrap())
        .spawn()
        .expect("spawn nao")
}

/// Wait for `child` at most `limit`; kill it and fail when it takes longer.
fn wait(mut child: Child, limit: Duration, what: &str) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: still running after {limit:?} (a hang)");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn read_log(logs: &Path, name: &str) -> Vec<u8> {
    let mut v = Vec::new();
    std::fs::File::open(logs.join(name))
        .unwrap()
        .read_to_end(&mut v)
        .unwrap();
    v
}

/// Run one case; returns a description of what went wrong, if anything.
fn run_case(case: &Case) -> Result<(), String> {
    let work = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let dir = work.path();
    (case.setup)(dir);
    let target_path = case.target.map(|(p, _)| dir.join(p));
    let target_before = target_path.as_deref().map(State::of);
    let before = snapshot(dir);
    let args: Vec<String> = case.args.iter().map(|a| resolve(a)).collect();
    let status = wait(spawn(dir, logs.path(), &args), TIME_LIMIT, case.name);
    let out = Output {
        status,
        stdout: read_log(logs.path(), "stdout"),
        stderr: read_log(logs.path(), "stderr"),
    };
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let fail = |why: String| Err(format!("{why}\n    args {args:?}\n    stderr: {stderr}"));
    match status.code() {
        Some(1) | Some(2) => {}
        Some(code) => return fail(format!("exit status {code}, expected 1 or 2")),
        None => return fail(format!("ended by a signal ({status}): a crash or an abort")),
    }
    if stderr.contains("panicked") {
        return fail("panicked".into());
    }
    for needle in case.expect {
        if !stderr.contains(needle) {
            return fail(format!("the error does not name {needle:?}"));
        }
    }
    let arg_refs: Vec<&str> = args.iter().map(String::as_str).collect();
    if let Err(e) = std::panic::catch_unwind(|| {
        common::check_failure_stdout(&arg_refs, &out, &stderr);
    }) {
        let msg = e
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_else(|| "stdout check failed".into());
        return fail(msg);
    }
    let after = snapshot(dir);
    if after != before {
        let changed: Vec<_> = after
            .keys()
            .chain(before.keys())
            .filter(|k| after.get(*k) != before.get(*k))
            .collect();
        return fail(format!(
            "the working folder changed (outputs replaced or temporary files left): {changed:?}"
        ));
    }
    if let (Some(p), Some((_, want))) = (&target_path, case.target) {
        let now = State::of(p);
        if now.kind() != want || Some(&now) != target_before.as_ref() {
            return fail(format!(
                "{}: expected {}, found {:?}",
                p.display(),
                want.describe(),
                now.kind()
            ));
        }
    }
    Ok(())
}

#[test]
fn every_bad_input_fails_cleanly() {
    let cases = cases();
    let mut names = std::collections::HashSet::new();
    for c in &cases {
        assert!(names.insert(c.name), "duplicate case name {}", c.name);
    }
    assert!(cases.len() >= 60, "only {} cases", cases.len());
    // Four at a time: most cases end in milliseconds, a few load a model.
    let failures: Vec<String> = std::thread::scope(|s| {
        let chunks: Vec<&[Case]> = cases.chunks(cases.len().div_ceil(4)).collect();
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                s.spawn(move || {
                    chunk
                        .iter()
                        .filter_map(|c| run_case(c).err().map(|e| format!("[{}] {e}", c.name)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// The table as docs/reliability.md shows it.
fn markdown_table() -> String {
    let mut s = String::from(
        "| # | class | case | command | error names | output path after |\n\
         |---|---|---|---|---|---|\n",
    );
    for (i, c) in cases().iter().enumerate() {
        let cmd = c
            .args
            .iter()
            .map(|a| match *a {
                "{onnx-seed}" => "LATENTS.npy".to_string(),
                "" => "''".to_string(),
                a => a.replace('|', "\\|"),
            })
            .collect::<Vec<_>>()
            .join(" ");
        let names = c
            .expect
            .iter()
            .map(|e| format!("`{}`", e.replace('|', "\\|")))
            .collect::<Vec<_>>()
            .join(", ");
        let target = match c.target {
            Some((p, t)) => format!("`{p}`: {}", t.describe()),
            None => "—".into(),
        };
        s += &format!(
            "| {} | {} | {} | `nao {cmd}` | {names} | {target} |\n",
            i + 1,
            c.class,
            c.name
        );
    }
    s
}

const BEGIN: &str = "<!-- bad-inputs table: generated by crates/nao-cli/tests/bad_inputs.rs -->\n";
const END: &str = "<!-- end of the bad-inputs table -->";

#[test]
fn docs_table_is_in_sync() {
    let doc = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/reliability.md");
    let text = std::fs::read_to_string(&doc).expect("docs/reliability.md");
    let (Some(a), Some(b)) = (text.find(BEGIN), text.find(END)) else {
        panic!("docs/reliability.md lacks the table markers");
    };
    let current = &text[a + BEGIN.len()..b];
    let table = markdown_table();
    if current != table {
        if std::env::var_os("NAO_BLESS").is_some() {
            let new = format!("{}{BEGIN}{table}{}", &text[..a], &text[b..]);
            std::fs::write(&doc, new).unwrap();
        } else {
            panic!(
                "docs/reliability.md's table differs from the test's: run \
                 NAO_BLESS=1 cargo test -p nao-cli --test bad_inputs docs_table"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Beyond the table: what succeeds must keep modes; signals must unwind.
// ---------------------------------------------------------------------------------------------

#[test]
fn a_replaced_file_keeps_its_mode() {
    let w = common::Work::new();
    precious(&w.path("s.npy"));
    w.json(&[
        "seed", "--dim", "64", "--seed", "1", "-o", "s.npy", "--json",
    ]);
    let meta = std::fs::metadata(w.path("s.npy")).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert_eq!(nao_npy::read_npy(w.path("s.npy")).unwrap().len(), 64);
}

/// When to send the signal.
enum When {
    /// Once a staged temporary file shows the write is under way (at most this long).
    Staged(Duration),
    /// After this long (the run is busy computing, nothing staged yet).
    After(Duration),
}

/// Spawn `args`, wait as `when` says, send `signal`, and check: exit status 130, no temporary
/// file, every file as before.
fn interrupt(args: &[&str], setup: fn(&Path), signal: &str, when: When) {
    let work = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let dir = work.path();
    setup(dir);
    let before = snapshot(dir);
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let child = spawn(dir, logs.path(), &args);
    // `sh` execs nao: the child's pid is nao's.
    let pid = child.id().to_string();
    let start = Instant::now();
    let staged = |d: &Path| {
        snapshot(d)
            .keys()
            .any(|k| k.to_string_lossy().contains(".nao-"))
    };
    match when {
        When::Staged(limit) => {
            while !staged(dir) && start.elapsed() < limit {
                std::thread::sleep(Duration::from_millis(20));
            }
            assert!(
                staged(dir),
                "{args:?}: no staged file appeared in {limit:?}"
            );
        }
        When::After(delay) => std::thread::sleep(delay),
    }
    let ok = Command::new("kill")
        .args([&format!("-{signal}"), &pid])
        .status()
        .unwrap();
    assert!(ok.success());
    let status = wait(child, TIME_LIMIT, "interrupted run");
    let stderr = String::from_utf8_lossy(&read_log(logs.path(), "stderr")).into_owned();
    assert_eq!(status.code(), Some(130), "{args:?} {status}: {stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(snapshot(dir), before, "{args:?}: the folder changed");
}

#[test]
fn sigint_during_a_large_write_leaves_nothing() {
    // 2·10⁸ values (800 MB): the write takes seconds, the signal lands inside it.
    interrupt(
        &["seed", "--dim", "200000000", "--seed", "1", "-o", "big.npy"],
        |d| precious(&d.join("big.npy")),
        "INT",
        When::Staged(Duration::from_secs(30)),
    );
}

#[test]
fn sigterm_during_sampling_leaves_nothing() {
    // 400 latents of the embedded model, 50 steps: long enough to be interrupted mid-run.
    interrupt(
        &[
            "sample",
            "many.npy",
            "--prompt",
            "trouser",
            "-o",
            "out",
            "--save-latents",
            "final.npy",
        ],
        |d| {
            let data: Vec<f32> = (0..400).flat_map(|i| wavy(196, i as f64)).collect();
            write_npy_f32(d.join("many.npy"), &[400, 4, 7, 7], &data).unwrap();
            precious(&d.join("final.npy"));
        },
        "TERM",
        When::After(Duration::from_secs(3)),
    );
}
