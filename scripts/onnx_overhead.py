#!/usr/bin/env python3
"""Per-UNet-call time of Python's onnxruntime on the tiny-sd1 fixture, compared with nao-onnx.

The counterpart of `benches/onnx_overhead.rs`: the same `unet/model.onnx`, the same inputs
(reference `initial_latents`, prompt 0's text embeddings, t = 500; and the batch of two of
classifier-free guidance), the same intra-op thread count (`NAO_BENCH_THREADS`, default 1),
all graph optimisations, the CPU provider. Two comparisons:

- standalone: `timeit` here (the median over repeats of the mean per call, each repeat
  ≈ 50 ms, as criterion's median is over samples) against the criterion medians that
  `cargo bench --bench onnx_overhead` left in `--criterion-dir` (default `target/criterion`);
- lockstep: the speed of a shared virtual machine drifts (by up to 2×, for seconds at a time),
  so this script also starts the bench binary in its lockstep mode (`NAO_OVERHEAD_SERVE=1`)
  and alternates blocks of ≈ 30 ms: Python, Rust, Rust, Python, … Each Rust block is paired
  with the Python block beside it; the median of the per-pair ratios is the overhead figure.

Prints a Markdown table for docs/benchmarks.md. Needs numpy and onnxruntime;
`cargo xtask onnx-overhead` installs both into `.cache/venv-onnx` and runs the bench first.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import timeit
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def fixture() -> Path:
    """`shared/fixtures/tiny-sd1` beside the repository (or under $NAO_SHARED_DIR)."""
    bases = []
    if os.environ.get("NAO_SHARED_DIR"):
        bases.append(Path(os.environ["NAO_SHARED_DIR"]))
    bases += [ROOT / "shared", ROOT.parent / "shared"]
    for base in bases:
        candidate = base / "fixtures" / "tiny-sd1"
        if (candidate / "onnx" / "unet" / "model.onnx").is_file():
            return candidate
    sys.exit(f"the tiny-sd1 fixture is missing; looked in {[str(b) for b in bases]}")


def time_call(fn, repeats: int, target_s: float) -> float:
    """Median over `repeats` of the mean seconds per call, each repeat lasting ~target_s."""
    for _ in range(20):  # warm-up
        fn()
    timer = timeit.Timer(fn)
    number, elapsed = timer.autorange()
    number = max(1, int(target_s / max(elapsed / number, 1e-9)))
    runs = timer.repeat(repeat=repeats, number=number)
    return statistics.median(r / number for r in runs)


def criterion_median(criterion_dir: Path, name: str):
    """Criterion's median (seconds) of `onnx_overhead/NAME`, or None when absent."""
    path = criterion_dir / "onnx_overhead" / name / "new" / "estimates.json"
    if not path.is_file():
        return None
    with open(path) as f:
        return json.load(f)["median"]["point_estimate"] * 1e-9


def us(seconds) -> str:
    return f"{seconds * 1e6:.0f} µs" if seconds else "(not run)"


def bench_binary() -> Path:
    """The executable of the `onnx_overhead` bench (built by `cargo bench --no-run`)."""
    cargo = os.environ.get("CARGO", "cargo")
    out = subprocess.run(
        [cargo, "bench", "--bench", "onnx_overhead", "--no-run", "--message-format=json"],
        cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True,
    ).stdout
    for line in out.splitlines():
        try:
            msg = json.loads(line)
        except json.JSONDecodeError:
            continue
        target = msg.get("target", {})
        if msg.get("reason") == "compiler-artifact" and target.get("name") == "onnx_overhead" \
                and "bench" in target.get("kind", []) and msg.get("executable"):
            return Path(msg["executable"])
    sys.exit("cargo did not report the onnx_overhead bench executable")


class RustServer:
    """The bench binary in lockstep mode: `CASE N` → the seconds of N calls."""

    def __init__(self, binary: Path, threads: int):
        env = dict(os.environ, NAO_OVERHEAD_SERVE="1", NAO_BENCH_THREADS=str(threads))
        self.proc = subprocess.Popen([str(binary)], cwd=ROOT, env=env, text=True,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        if self.proc.stdout.readline().strip() != "ready":
            sys.exit(f"{binary} did not start its lockstep mode")

    def run(self, case: str, n: int) -> float:
        self.proc.stdin.write(f"{case} {n}\n")
        self.proc.stdin.flush()
        return float(self.proc.stdout.readline())

    def close(self):
        self.proc.stdin.write("quit\n")
        self.proc.stdin.flush()
        self.proc.wait(timeout=30)


def python_block(fn, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return time.perf_counter() - start


def lockstep(server: RustServer, case: str, fn, seconds: float, block_s: float = 0.03):
    """Alternate Python and Rust blocks (ABBA); per-call times and per-pair ratios."""
    for _ in range(20):
        fn()
    server.run(case, 20)
    per_call = python_block(fn, 20) / 20
    n = max(1, round(block_s / per_call))
    rust, python, ratios = [], [], []
    for k in range(max(4, int(seconds / (2 * block_s)))):
        if k % 2 == 0:
            p = python_block(fn, n) / n
            r = server.run(case, n) / n
        else:
            r = server.run(case, n) / n
            p = python_block(fn, n) / n
        rust.append(r)
        python.append(p)
        ratios.append(r / p)
    return rust, python, ratios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, help="optimum-layout ONNX folder (default: the fixture)")
    parser.add_argument("--threads", type=int, default=int(os.environ.get("NAO_BENCH_THREADS", "1")))
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("NAO_BENCH_SECONDS", "6")),
                        help="measurement time per case and side")
    parser.add_argument("--criterion-dir", type=Path, default=ROOT / "target" / "criterion")
    parser.add_argument("--no-lockstep", action="store_true", help="skip the alternating comparison")
    args = parser.parse_args()

    import numpy as np
    import onnxruntime as ort

    fix = fixture()
    model = args.model or fix / "onnx"
    ref = fix / "reference"
    latents = np.load(ref / "initial_latents.npy").astype(np.float32)
    embeddings = np.load(ref / "text_embeddings.npy").astype(np.float32)
    cond, uncond = embeddings[0:1], embeddings[2:3]

    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    session = ort.InferenceSession(
        str(model / "unet" / "model.onnx"), options, providers=["CPUExecutionProvider"]
    )

    cases = {
        "b1": {
            "sample": latents,
            "timestep": np.array([500], dtype=np.int64),
            "encoder_hidden_states": cond,
        },
        "b2": {
            "sample": np.concatenate([latents, latents]),
            "timestep": np.array([500, 500], dtype=np.int64),
            "encoder_hidden_states": np.concatenate([cond, uncond]),
        },
    }
    # the same answer as the reference (and so as the Rust side's test)
    out = session.run(None, cases["b1"])[0]
    err = float(np.abs(out - np.load(ref / "unet_t500_prompt0.npy")).max())
    print(
        f"onnxruntime {ort.__version__} (Python {platform.python_version()}, numpy {np.__version__}), "
        f"{args.threads} intra-op thread(s), {platform.machine()}, {os.cpu_count()} CPUs; "
        f"UNet max |Δ| vs reference {err:.1e}"
    )

    target_s = 0.05
    repeats = max(5, int(args.seconds / target_s))
    rows = []
    server = None if args.no_lockstep else RustServer(bench_binary(), args.threads)
    for case, feeds in cases.items():
        name = f"unet_{case}_threads{args.threads}"
        fn = lambda feeds=feeds: session.run(None, feeds)  # noqa: E731
        python_s = time_call(fn, repeats, target_s)
        rust_s = criterion_median(args.criterion_dir, name)
        row = {"name": name, "rust": rust_s, "python": python_s}
        if server:
            rust, python, ratios = lockstep(server, case, fn, args.seconds)
            q = statistics.quantiles(ratios, n=4)
            row.update(ls_rust=statistics.median(rust), ls_python=statistics.median(python),
                       ratio=statistics.median(ratios), q1=q[0], q3=q[2], pairs=len(ratios))
        rows.append(row)
    if server:
        server.close()

    print()
    print("| case | criterion median (Rust) | timeit median (Python) | Rust / Python |")
    print("|---|---|---|---|")
    for r in rows:
        ratio = f"{r['rust'] / r['python']:.3f}" if r["rust"] else "–"
        print(f"| {r['name']} | {us(r['rust'])} | {us(r['python'])} | {ratio} |")
    if server:
        print()
        print("| case (lockstep) | Rust median | Python median | Rust / Python: median of pairs | quartiles | pairs |")
        print("|---|---|---|---|---|---|")
        for r in rows:
            print(f"| {r['name']} | {us(r['ls_rust'])} | {us(r['ls_python'])} | {r['ratio']:.3f} | "
                  f"{r['q1']:.3f} – {r['q3']:.3f} | {r['pairs']} |")


if __name__ == "__main__":
    main()
