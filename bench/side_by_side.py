#!/usr/bin/python3
"""clae bench and the same training steps in PyTorch, in one run, with the ratio.

Runs `clae bench` on the reference workloads (configs/NAME.ini), then builds
each config's layer stack in PyTorch from the same INI file and times the same
step: forward, loss (+ KL for a vae layer), backward, optimizer, batch from the
config, synthetic data in [0, 1), 3 warm-up steps then --steps timed steps.
Each side is measured --repeat times (default 3) and its best kept; PyTorch also
takes the best of 1 and 2 threads (or --threads). Both vary by 10-30% from run
to run on a shared 2-core machine. Prints clae images/s, PyTorch images/s,
their ratio, clae GFLOP/s and fraction of its SGEMM peak.

Optional: needs Debian's python3-torch (run with /usr/bin/python3; install
libopenblas0-pthread before timing). clae never needs it.

usage: /usr/bin/python3 bench/side_by_side.py [--clae build/clae] [--device SPEC]
           [--steps 20] [--repeat 3] [--threads 1,2] [--json OUT] [NAME ...]
"""
import argparse
import configparser
import json
import os
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
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--threads", default="1,2")
    p.add_argument("--repeat", type=int, default=3, help="measure each side this many times, keep the best")
    p.add_argument("--json", default=None, help="write clae's and PyTorch's numbers here")
    return p.parse_args()


def run_clae(args):
    """clae bench --repeat times; per workload the run with the most images/s."""
    best = None
    for _ in range(max(1, args.repeat)):
        run = run_clae_once(args)
        if best is None:
            best = run
            continue
        for i, w in enumerate(run["workloads"]):
            if w["images_per_s"] > best["workloads"][i]["images_per_s"]:
                best["workloads"][i] = dict(w, fraction_of_peak=w["gflops"] / best["sgemm_peak_gflops"])
    return best


def run_clae_once(args):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "bench.json")
        cmd = [args.clae, "bench", ",".join(args.names), "--steps", str(args.steps), "--json", out]
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


def main():
    args = parse_args()
    clae = run_clae(args)
    try:
        import torch
    except ImportError:
        print("PyTorch is not installed (Debian: python3-torch, run with /usr/bin/python3): clae's numbers only")
        torch = None
    threads = [int(t) for t in args.threads.split(",")]
    rows = []
    for w in clae["workloads"]:
        ti = max(torch_images_per_s(torch, w["name"], args.steps, threads) for _ in range(max(1, args.repeat))) \
            if torch else None
        rows.append(dict(w, torch_images_per_s=ti, ratio=(w["images_per_s"] / ti if ti else None)))
    print(f"\ndevice: {clae['device']} ({clae['kind']}), GEMM: {clae['gemm_choices']}, "
          f"SGEMM peak {clae['sgemm_peak_gflops']:.1f} GFLOP/s; best of {args.repeat} runs each, "
          f"PyTorch also of {args.threads} threads")
    print(f"{'workload':<14} {'clae img/s':>11} {'torch img/s':>12} {'ratio':>7} {'GFLOP/s':>8} {'of peak':>8}")
    for r in rows:
        ti = f"{r['torch_images_per_s']:12.0f}" if r["torch_images_per_s"] else f"{'-':>12}"
        ra = f"{r['ratio']:6.2f}x" if r["ratio"] else f"{'-':>7}"
        print(f"{r['name']:<14} {r['images_per_s']:11.0f} {ti} {ra} {r['gflops']:8.1f} "
              f"{100 * r['fraction_of_peak']:7.1f}%")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(clae, workloads=rows, torch_threads=args.threads), f, indent=2)
        print("wrote", args.json)


if __name__ == "__main__":
    sys.exit(main())
