#!/usr/bin/python3
"""clae bench and the same training steps in PyTorch, in one run, with the ratio.

Runs `clae bench` on the reference workloads (configs/NAME.ini) and builds
each config's layer stack in PyTorch from the same INI file and times the same
step: forward, loss (+ KL for a vae layer), backward, optimizer, batch from the
config, synthetic data in [0, 1), 3 warm-up steps then the timed steps (--steps,
raised to last --seconds).
Each side is measured --repeat times (default 3) and its best kept; PyTorch also
takes the best of 1 and 2 threads (or --threads). The two sides take turns,
workload by workload and round by round (clae, PyTorch, clae, ...), so that a
slow spell of a shared machine (both sides have moved by 20-50% from minute to
minute on a 2-core VM) falls on both; each round's ratio is kept too, and their
median is printed beside the ratio of the bests. Prints clae images/s, PyTorch
images/s, both ratios, clae GFLOP/s and its shares of the SGEMM and FMA peaks.

Optional: needs Debian's python3-torch (run with /usr/bin/python3; install
libopenblas0-pthread before timing). clae never needs it.

usage: /usr/bin/python3 bench/side_by_side.py [--clae build/clae] [--device SPEC]
           [--steps 20] [--seconds 1] [--repeat 3] [--threads 1,2] [--json OUT] [NAME ...]
"""
import argparse
import configparser
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time

WORKLOADS = ["mlp_fmnist", "conv_fmnist", "convT_emoji", "vae_fmnist"]


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("names", nargs="*", default=WORKLOADS)
    p.add_argument("--clae", default="build/clae")
    p.add_argument("--device", default=None)
    p.add_argument("--steps", type=int, default=20, help="timed steps at least (see --seconds)")
    p.add_argument("--seconds", type=float, default=1.0,
                   help="time each measurement for about this long at least: the steps of a "
                        "workload are raised to fill it after a first clae run (20 steps of "
                        "mlp_fmnist last 0.1 s, too short to time on a shared machine)")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--repeat", type=int, default=3, help="measure each side this many times, keep the best")
    p.add_argument("--json", default=None, help="write clae's and PyTorch's numbers here")
    return p.parse_args()


def better(best, run):
    """The clae run with more images/s for its one workload, its peaks beside it."""
    if best is None or run["workloads"][0]["images_per_s"] > best["workloads"][0]["images_per_s"]:
        return run
    return best


def run_clae_once(args, name, steps):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "bench.json")
        cmd = [args.clae, "bench", name, "--steps", str(steps), "--json", out]
        if args.device:
            cmd += ["--device", args.device]
        print("$", " ".join(cmd), flush=True)
        subprocess.run(cmd, check=True)
        with open(out) as f:
            return json.load(f)


# --- the config's layers in PyTorch -----------------------------------------

def read_config(name):
    cp = configparser.ConfigParser(inline_comment_prefixes=(";", "#"))
    cp.optionxform = str
    cp.read(os.path.join("configs", name + ".ini"))
    return cp


def input_shape(cp):
    if cp.has_option("data", "image"):
        return tuple(int(v) for v in cp.get("data", "image").split("x"))
    return (1, 28, 28)  # idx files: Fashion-MNIST, MNIST


def activation(nn, name, slope=0.01):
    return {"relu": nn.ReLU(), "sigmoid": nn.Sigmoid(), "tanh": nn.Tanh(),
            "leaky_relu": nn.LeakyReLU(slope), "none": None, None: None}[name]


class Vae:
    """Dense to (mu, logvar), z = mu + exp(logvar / 2) eps; KL kept for the loss."""

    def __init__(self, torch, nn, inp, units):
        self.torch, self.lin, self.units, self.kl = torch, nn.Linear(inp, 2 * units), units, None

    def module(self):
        outer = self

        class M(self.torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.lin = outer.lin

            def forward(self, x):
                ml = self.lin(x)
                mu, logvar = ml[:, :outer.units], ml[:, outer.units:]
                outer.kl = -0.5 * (1 + logvar - mu * mu - logvar.exp()).sum()
                return mu + (0.5 * logvar).exp() * outer.torch.randn_like(mu)
        return M()


def build(torch, cp):
    nn = torch.nn
    shape = list(input_shape(cp))
    layers, vae = [], None
    for sec in cp.sections():
        if "." not in sec or sec.split(".")[0] not in ("encoder", "latent", "decoder"):
            continue
        s = cp[sec]
        t = s.get("type")
        act = activation(nn, s.get("activation"), float(s.get("slope", "0.01")))
        if t in ("dense", "vae"):
            if len(shape) > 1:
                layers.append(nn.Flatten())
                shape = [shape[0] * shape[1] * shape[2]]
            u = int(s["units"])
            if t == "vae":
                vae = Vae(torch, nn, shape[0], u)
                layers.append(vae.module())
            else:
                layers.append(nn.Linear(shape[0], u, bias=s.get("bias", "true") == "true"))
            shape = [u]
        elif t in ("conv", "conv_transpose"):
            k, st, pad = int(s.get("kernel", 3)), int(s.get("stride", 1)), int(s.get("padding", 0))
            c = int(s["channels"])
            if t == "conv":
                layers.append(nn.Conv2d(shape[0], c, k, st, pad))
                h = (shape[1] + 2 * pad - k) // st + 1
                w = (shape[2] + 2 * pad - k) // st + 1
            else:
                op = int(s.get("output_padding", 0))
                layers.append(nn.ConvTranspose2d(shape[0], c, k, st, pad, op))
                h = (shape[1] - 1) * st - 2 * pad + k + op
                w = (shape[2] - 1) * st - 2 * pad + k + op
            shape = [c, h, w]
        elif t in ("max_pool", "avg_pool"):
            k = int(s.get("kernel", 2))
            st = int(s.get("stride", k))
            layers.append((nn.MaxPool2d if t == "max_pool" else nn.AvgPool2d)(k, st))
            shape = [shape[0], (shape[1] - k) // st + 1, (shape[2] - k) // st + 1]
        elif t == "upsample":
            f = int(s.get("scale", 2))
            layers.append(nn.Upsample(scale_factor=f, mode=s.get("mode", "nearest")))
            shape = [shape[0], shape[1] * f, shape[2] * f]
        elif t == "reshape":
            shape = [int(v) for v in s["shape"].split("x")]
            layers.append(nn.Unflatten(1, shape))
        elif t == "dropout":
            layers.append(nn.Dropout(float(s.get("p", 0.5))))
        elif t == "batch_norm":
            layers.append(nn.BatchNorm2d(shape[0]) if len(shape) == 3 else nn.BatchNorm1d(shape[0]))
        elif t == "act":
            pass
        else:
            raise SystemExit(f"side_by_side.py: layer type {t} ({sec}) is not mapped to PyTorch here")
        if act is not None:
            layers.append(act)
    return nn.Sequential(*layers), vae


def torch_images_per_s(torch, name, steps, threads):
    cp = read_config(name)
    tr = cp["train"]
    batch = int(tr.get("batch_size", 64))
    best = 0.0
    for n in threads:
        torch.set_num_threads(n)
        torch.manual_seed(1)
        model, vae = build(torch, cp)
        model.train()
        lr, wd = float(tr.get("lr", 1e-3)), float(tr.get("weight_decay", 0))
        opt_name = tr.get("optimizer", "adam")
        opt = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}.get(opt_name, torch.optim.SGD)(
            model.parameters(), lr=lr, weight_decay=wd)
        reduction = tr.get("reduction", "mean")
        loss_fn = (torch.nn.BCELoss if tr.get("loss", "mse") == "bce" else torch.nn.MSELoss)(reduction=reduction)
        x = torch.rand((batch,) + input_shape(cp))

        def step():
            opt.zero_grad(set_to_none=True)
            y = model(x).reshape(x.shape)
            loss = loss_fn(y, x)
            if vae is not None:
                loss = loss + vae.kl * (1.0 if reduction == "sum" else 1.0 / x.numel())
            loss.backward()
            opt.step()

        for _ in range(3):
            step()
        t0 = time.perf_counter()
        for _ in range(steps):
            step()
        best = max(best, batch * steps / (time.perf_counter() - t0))
    return best


def measure(args, torch, threads):
    """Per workload: the best clae run, the best PyTorch images/s and each round's ratio."""
    rows = []
    for name in args.names:
        best, torch_best, ratios = None, 0.0, []
        first = run_clae_once(args, name, args.steps)["workloads"][0]  # also warms caches
        steps = max(args.steps, math.ceil(args.seconds * 1000.0 / first["step_ms"]))
        for _ in range(max(1, args.repeat)):
            run = run_clae_once(args, name, steps)
            best = better(best, run)
            if torch:
                ti = torch_images_per_s(torch, name, steps, threads)
                torch_best = max(torch_best, ti)
                ratios.append(run["workloads"][0]["images_per_s"] / ti)
        w = best["workloads"][0]
        rows.append(dict(w, fma_peak_gflops=best["fma_peak_gflops"],
                         sgemm_peak_gflops=best["sgemm_peak_gflops"],
                         torch_images_per_s=torch_best or None,
                         ratio=w["images_per_s"] / torch_best if torch_best else None,
                         round_ratios=ratios,
                         median_round_ratio=statistics.median(ratios) if ratios else None))
        print(f"{name}, {steps} steps: clae {w['images_per_s']:.0f} img/s, PyTorch {torch_best:.0f}; rounds "
              + ", ".join(f"{r:.2f}x" for r in ratios), flush=True)
    return best, rows


def main():
    args = parse_args()
    try:
        import torch
    except ImportError:
        print("PyTorch is not installed (Debian: python3-torch, run with /usr/bin/python3): clae's numbers only")
        torch = None
    threads = [int(t) for t in args.threads.split(",")]
    last, rows = measure(args, torch, threads)
    print(f"\ndevice: {last['device']} ({last['kind']}), GEMM: {last['gemm_choices']}; best of "
          f"{args.repeat} runs each side, taking turns, PyTorch also of {args.threads} threads")
    print(f"{'workload':<14} {'clae img/s':>11} {'torch img/s':>12} {'ratio':>7} {'rounds':>7} "
          f"{'GFLOP/s':>8} {'of SGEMM':>9} {'of FMA':>7}")
    for r in rows:
        ti = f"{r['torch_images_per_s']:12.0f}" if r["torch_images_per_s"] else f"{'-':>12}"
        ra = f"{r['ratio']:6.2f}x" if r["ratio"] else f"{'-':>7}"
        med = f"{r['median_round_ratio']:6.2f}x" if r["median_round_ratio"] else f"{'-':>7}"
        print(f"{r['name']:<14} {r['images_per_s']:11.0f} {ti} {ra} {med} {r['gflops']:8.1f} "
              f"{100 * r['fraction_of_peak']:8.1f}% {100 * r['fraction_of_fma_peak']:6.1f}%")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(last, workloads=rows, torch_threads=args.threads), f, indent=2)
        print("wrote", args.json)


if __name__ == "__main__":
    sys.exit(main())
