#!/usr/bin/env python3
"""One full-size Stable Diffusion UNet call on nao (burn) and on PyTorch diffusers, side by side.

The model is SD 1.5's architecture with random weights (`RandomModel::sd15` of nao-sd, written
once as a diffusers folder by the `sd_unet` bench of nao-models): both sides load the same
`unet/` folder, so they run the same weights. The inputs are those of classifier-free guidance
at 512×512: latents `[2, 4, 64, 64]`, text embeddings `[2, 77, 768]`, t = 500 for both items
(seeded normal values, written to .npy for the Rust side).

The two sides alternate call by call (PyTorch, nao, nao, PyTorch, …) with the same number of
threads, so that both are timed under the same machine conditions (a shared virtual machine's
speed drifts); each nao call is paired with the PyTorch call beside it. Reported: the median
milliseconds per call of each side, the median of the per-pair ratios nao / PyTorch with its
quartiles, each process's resident memory after loading and its peak during the calls, and
the largest difference between the two outputs (the same weights and inputs: a full-size
parity check).

Prints a Markdown table for docs/benchmarks.md. Needs torch and diffusers (e.g. a virtual
environment: `python3 -m venv V && V/bin/pip install torch diffusers`); `cargo xtask bench-sd`
runs it.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def bench_binary(release_features: str) -> Path:
    """The executable of nao-models' `sd_unet` bench (built by `cargo bench --no-run`)."""
    cargo = os.environ.get("CARGO", "cargo")
    cmd = [cargo, "bench", "-p", "nao-models", "--bench", "sd_unet", "--no-run",
           "--message-format=json"]
    if release_features:
        cmd += ["--features", release_features]
    out = subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True).stdout
    for line in out.splitlines():
        try:
            msg = json.loads(line)
        except json.JSONDecodeError:
            continue
        target = msg.get("target", {})
        if msg.get("reason") == "compiler-artifact" and target.get("name") == "sd_unet" \
                and msg.get("executable"):
            return Path(msg["executable"])
    sys.exit("cargo did not report the sd_unet bench executable")


def memory_kib():
    """(VmRSS, VmHWM) of this process in KiB."""
    fields = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.split()
    return int(fields["VmRSS"][0]), int(fields["VmHWM"][0])


def reset_peak():
    """Restart VmHWM from the current resident size."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


class RustServer:
    """The bench binary in lockstep mode: one command a line, one answer a line."""

    def __init__(self, binary: Path, model: Path, inputs: Path, device: str, dtype: str,
                 threads: int):
        env = dict(os.environ, RAYON_NUM_THREADS=str(threads))
        started = time.perf_counter()
        self.proc = subprocess.Popen(
            [str(binary), "--model", str(model), "--inputs", str(inputs), "--device", device,
             "--dtype", dtype, "--serve"],
            cwd=ROOT, env=env, text=True, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        # the server loads, resets its peak, makes one warm-up call, then says
        # `ready LOAD_S FIRST_CALL_S`
        words = self.proc.stdout.readline().split()
        if not words or words[0] != "ready":
            sys.exit(f"{binary} did not start its lockstep mode")
        self.load_s, self.first_call_s = float(words[1]), float(words[2])

    def ask(self, line: str) -> str:
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().strip()

    def call(self):
        """(wall, CPU) seconds of one call."""
        wall, cpu = self.ask("call 1").split()
        return float(wall), float(cpu)

    def memory(self):
        rss, peak = self.ask("memory").split()
        return int(rss), int(peak)

    def close(self):
        self.proc.stdin.write("quit\n")
        self.proc.stdin.flush()
        self.proc.wait(timeout=60)


def mib(kib: int) -> str:
    return f"{kib / 1024:,.0f} MiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=ROOT / ".cache" / "sd15-random",
                        help="diffusers folder (default: SD 1.5 with random weights, written "
                             "there when absent)")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--calls", type=int, default=5, help="timed calls per side")
    parser.add_argument("--dtype", default="f32", choices=["f32", "f16", "bf16"])
    parser.add_argument("--device", default="cpu", help="nao's --device (PyTorch runs on the CPU, "
                        "or on CUDA for tch-cuda/cuda devices)")
    parser.add_argument("--features", default="", help="nao-models features for the bench build "
                        "(wgpu, tch, cuda)")
    parser.add_argument("--binary", type=Path, help="a built sd_unet bench (skips the build)")
    args = parser.parse_args()

    import numpy as np
    import torch
    import diffusers
    from diffusers import UNet2DConditionModel

    binary = args.binary or bench_binary(args.features)
    if not (args.model / "unet" / "config.json").is_file():
        print(f"writing SD 1.5's architecture with random weights to {args.model} …", flush=True)
        subprocess.run([str(binary), "--write-model", str(args.model)], check=True)

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    cuda = "cuda" in args.device
    torch_device = torch.device("cuda" if cuda else "cpu")
    torch_dtype = {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}[args.dtype]

    rng = np.random.default_rng(0)
    latents = rng.standard_normal((2, 4, 64, 64), dtype=np.float32)
    context = rng.standard_normal((2, 77, 768), dtype=np.float32)
    timesteps = np.array([500, 500], dtype=np.int64)

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        np.save(tmp / "latents.npy", latents)
        np.save(tmp / "context.npy", context)
        np.save(tmp / "timesteps.npy", timesteps)

        # PyTorch first, so that its load does not overlap the Rust server's
        started = time.perf_counter()
        unet = UNet2DConditionModel.from_pretrained(args.model / "unet", torch_dtype=torch_dtype)
        unet = unet.to(torch_device).eval()
        py_load_s = time.perf_counter() - started
        py_rss_loaded, _ = memory_kib()
        feeds = dict(
            sample=torch.from_numpy(latents).to(torch_device, torch_dtype),
            timestep=torch.from_numpy(timesteps).to(torch_device),
            encoder_hidden_states=torch.from_numpy(context).to(torch_device, torch_dtype),
        )

        def py_call():
            with torch.inference_mode():
                out = unet(**feeds).sample
            if cuda:
                torch.cuda.synchronize()
            return out

        reset_peak()
        started = time.perf_counter()
        py_out = py_call()  # warm-up
        py_first_s = time.perf_counter() - started
        py_weights = sum(p.numel() * p.element_size() for p in unet.parameters()) // 1024
        server = RustServer(binary, args.model, tmp, args.device, args.dtype, args.threads)
        rust_rss_loaded, _ = server.memory()

        def timed_py_call():
            nonlocal py_out
            start, cpu = time.perf_counter(), time.process_time()
            py_out = py_call()
            return time.perf_counter() - start, time.process_time() - cpu

        rust, python, ratios, cpu_ratios = [], [], [], []
        for k in range(args.calls):
            if k % 2 == 0:
                p, p_cpu = timed_py_call()
                r, r_cpu = server.call()
            else:
                r, r_cpu = server.call()
                p, p_cpu = timed_py_call()
            rust.append((r, r_cpu))
            python.append((p, p_cpu))
            ratios.append(r / p)
            cpu_ratios.append(r_cpu / p_cpu)
            print(f"  call {k + 1}: nao {r * 1e3:,.0f} ms (CPU {r_cpu:.1f} s), PyTorch "
                  f"{p * 1e3:,.0f} ms (CPU {p_cpu:.1f} s)", flush=True)
        _, py_peak = memory_kib()
        _, rust_peak = server.memory()
        server.ask(f"save {tmp / 'nao_out.npy'}")
        server.close()
        nao_out = np.load(tmp / "nao_out.npy")
    # nao holds the whole pipeline (text encoder, UNet, VAE), converted to the compute dtype
    element = {"f32": 4, "f16": 2, "bf16": 2}[args.dtype]
    nao_weights = sum(f.stat().st_size for f in args.model.glob("*/*.safetensors")) \
        * element // 4 // 1024
    ref = py_out.float().cpu().numpy()
    diff = float(np.abs(nao_out - ref).max())
    scale = float(np.abs(ref).max())

    print()
    print(f"PyTorch {torch.__version__}, diffusers {diffusers.__version__}, "
          f"numpy {np.__version__}, Python {platform.python_version()}; {args.threads} thread(s) "
          f"each, {platform.machine()}, {os.cpu_count()} CPUs; {args.dtype}; nao device "
          f"{args.device}, PyTorch on {torch_device}")
    print(f"model {args.model}; outputs [2, 4, 64, 64]: max |nao − PyTorch| = {diff:.2e} "
          f"(output scale {scale:.2f})")
    def quartiles(xs):
        q = statistics.quantiles(xs, n=4) if len(xs) > 1 else [xs[0]] * 3
        return f"{statistics.median(xs):.2f} (quartiles {q[0]:.2f} – {q[2]:.2f})"

    def median_of(pairs, i):
        return statistics.median(p[i] for p in pairs)

    print()
    print("| UNet call, 512×512, batch 2 | nao | PyTorch | nao / PyTorch, median of pairs |")
    print("|---|---|---|---|")
    print(f"| wall time, median of {args.calls} calls | {median_of(rust, 0) * 1e3:,.0f} ms | "
          f"{median_of(python, 0) * 1e3:,.0f} ms | {quartiles(ratios)} |")
    print(f"| CPU time (all threads), median | {median_of(rust, 1):,.1f} s | "
          f"{median_of(python, 1):,.1f} s | {quartiles(cpu_ratios)} |")
    print(f"| load (nao: the pipeline; PyTorch: the UNet) | {server.load_s:.1f} s | "
          f"{py_load_s:.1f} s | |")
    print(f"| first call | {server.first_call_s * 1e3:,.0f} ms | {py_first_s * 1e3:,.0f} ms | |")
    print(f"| weights held (nao: text encoder, UNet, VAE) | {mib(nao_weights)} | "
          f"{mib(py_weights)} | |")
    print(f"| resident after loading | {mib(rust_rss_loaded)} | {mib(py_rss_loaded)} | |")
    print(f"| peak during the calls (first call included) | {mib(rust_peak)} | {mib(py_peak)} | |")
    print(f"| peak − weights | {mib(rust_peak - nao_weights)} | {mib(py_peak - py_weights)} | |")


if __name__ == "__main__":
    main()
