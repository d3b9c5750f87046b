#!/usr/bin/python3
"""GAE and VGAE on Cora over seeds: clae, and PyTorch on the same edge split.

For each config (default configs/gae_cora.ini and configs/vgae_cora.ini) and
each seed, trains clae (`clae train --set train.seed=S`), then reads the run's
split.csv (training edges, validation and test pairs) and trains the same model
in PyTorch, written from Kipf & Welling's reference implementation (gae/model.py,
gae/optimizer.py): one-hot nodes, graph convolutions without bias, Glorot
init, the weighted cross-entropy over all N^2 pairs with norm and pos_weight,
VGAE's log-standard-deviation head and KL / N, Adam, full batch. Test AUC and
AP come from the node means, as the reference's get_roc_score. Prints per-seed
and mean +- std numbers and seconds per run of both; --json OUT keeps them.
Without PyTorch it reports clae alone. Run from the source folder:
  /usr/bin/python3 bench/gae_side_by_side.py [--seeds 10] [--clae build/clae]
"""
import argparse
import configparser
import csv
import json
import math
import os
import subprocess
import sys
import tempfile
import time

try:
    import torch
except ImportError:  # clae alone
    torch = None


def read_split(run):
    """Node numbering, training edges, and (u, v, edge) pairs of val and test."""
    ids, train, pairs = {}, [], {"val": [], "test": []}
    with open(os.path.join(run, "split.csv"), newline="") as f:
        for row in csv.DictReader(f):
            u = ids.setdefault(row["u"], len(ids))
            v = ids.setdefault(row["v"], len(ids))
            if row["split"] == "train":
                train.append((u, v))
            else:
                pairs[row["split"]].append((u, v, int(row["edge"])))
    return len(ids), train, pairs


def layer_units(run):
    """Hidden units, code units and whether the code is variational, from the run's config."""
    cp = configparser.ConfigParser(inline_comment_prefixes=(";",))
    cp.read(os.path.join(run, "config.ini"))
    layers = [s for s in cp.sections() if s.split(".")[0] in ("encoder", "latent")]
    units = [int(cp[s]["units"]) for s in layers]
    variational = cp[layers[-1]]["type"] == "vae"
    return units, variational, float(cp["train"]["lr"]), int(cp["train"]["epochs"])


def auc_ap(scores, truth):
    """ROC AUC (ties count half) and average precision (scikit-learn's step sum)."""
    order = sorted(range(len(scores)), key=lambda i: -scores[i])
    pos = sum(truth)
    neg = len(truth) - pos
    tp = fp = 0
    auc = ap = 0.0
    prev_tpr = 0.0
    i = 0
    while i < len(order):
        j, dtp, dfp = i, 0, 0
        while j < len(order) and scores[order[j]] == scores[order[i]]:
            dtp += truth[order[j]]
            dfp += 1 - truth[order[j]]
            j += 1
        auc += dfp * (tp + dtp / 2.0)
        tp, fp = tp + dtp, fp + dfp
        ap += (tp / pos - prev_tpr) * tp / (tp + fp)
        prev_tpr = tp / pos
        i = j
    return auc / (pos * neg), ap


def glorot(rows, cols, gen):
    r = math.sqrt(6.0 / (rows + cols))
    return (torch.rand(rows, cols, generator=gen) * 2 * r - r).requires_grad_()


def torch_run(run, seed, threads):
    n, train, pairs = read_split(run)
    units, variational, lr, epochs = layer_units(run)
    torch.set_num_threads(threads)
    gen = torch.Generator().manual_seed(seed)
    t0 = time.time()
    idx = torch.tensor(train, dtype=torch.long).t()
    adj = torch.zeros(n, n)
    adj[idx[0], idx[1]] = 1
    adj[idx[1], idx[0]] = 1
    label = adj + torch.eye(n)
    deg = label.sum(1)
    a_hat = (label / torch.sqrt(deg[:, None] * deg[None, :])).to_sparse()  # as the reference
    e2 = adj.sum().item()
    pos_weight = torch.tensor((n * n - e2) / e2)
    norm = n * n / (2.0 * (n * n - e2))
    w1 = glorot(n, units[0], gen)  # one-hot nodes: X W1 is W1
    heads = [glorot(units[0], units[1], gen) for _ in range(2 if variational else 1)]
    params = [w1] + heads
    opt = torch.optim.Adam(params, lr=lr)
    for _ in range(epochs):
        h = torch.relu(torch.sparse.mm(a_hat, w1))
        mu = torch.sparse.mm(a_hat, h @ heads[0])
        z = mu
        if variational:
            log_std = torch.sparse.mm(a_hat, h @ heads[1])
            z = mu + torch.randn(mu.shape, generator=gen) * torch.exp(log_std)
        logits = z @ z.t()
        loss = norm * torch.nn.functional.binary_cross_entropy_with_logits(
            logits, label, pos_weight=pos_weight)
        if variational:
            kl = 0.5 / n * torch.mean(torch.sum(
                1 + 2 * log_std - mu ** 2 - torch.exp(log_std) ** 2, 1))
            loss = loss - kl
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        emb = torch.sparse.mm(a_hat, torch.relu(torch.sparse.mm(a_hat, w1)) @ heads[0])
    seconds = time.time() - t0
    test = pairs["test"]
    scores = [torch.sigmoid(emb[u] @ emb[v]).item() for u, v, _ in test]
    auc, ap = auc_ap(scores, [e for _, _, e in test])
    return {"auc": auc, "ap": ap, "seconds": seconds}


def clae_run(clae, config, seed, out):
    run = os.path.join(out, f"{os.path.basename(config)[:-4]}-seed{seed}")
    t0 = time.time()
    subprocess.run([clae, "train", config, "--run", run, "--set", f"train.seed={seed}"],
                   check=True, stdout=subprocess.DEVNULL)
    seconds = time.time() - t0
    with open(os.path.join(run, "summary.json")) as f:
        s = json.load(f)
    return run, {"auc": s["test"]["auc"], "ap": s["test"]["ap"], "seconds": seconds,
                 "train_s": s["timing"]["train_s"] + s["timing"]["first_step_s"]}


def stats(rows, key):
    v = [r[key] for r in rows]
    m = sum(v) / len(v)
    sd = math.sqrt(sum((x - m) ** 2 for x in v) / (len(v) - 1)) if len(v) > 1 else 0.0
    return m, sd


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("configs", nargs="*", default=["configs/gae_cora.ini", "configs/vgae_cora.ini"])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--clae", default="build/clae")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", help="folder for the runs (default: a temporary one)")
    ap.add_argument("--json", help="write the numbers here")
    a = ap.parse_args()
    out = a.out or tempfile.mkdtemp(prefix="clae_gae_")
    cpu = open("/proc/cpuinfo").read().split("model name")[1].split("\n")[0].split(":", 1)[1]
    report = {"cpu": cpu.strip(),
              "torch": torch.__version__ if torch else None, "configs": {}}
    for config in a.configs:
        rows = {"clae": [], "torch": []}
        for seed in range(1, a.seeds + 1):
            run, c = clae_run(a.clae, config, seed, out)
            rows["clae"].append(c)
            line = f"{config} seed {seed}: clae AUC {c['auc']:.4f} AP {c['ap']:.4f} {c['seconds']:.1f} s"
            if torch:
                t = torch_run(run, seed, a.threads)
                rows["torch"].append(t)
                line += f"; torch AUC {t['auc']:.4f} AP {t['ap']:.4f} {t['seconds']:.1f} s"
            print(line, flush=True)
        summary = {}
        for side, r in rows.items():
            if not r:
                continue
            (am, asd), (pm, psd), (sm, _) = stats(r, "auc"), stats(r, "ap"), stats(r, "seconds")
            summary[side] = {"auc_mean": am, "auc_std": asd, "ap_mean": pm, "ap_std": psd,
                             "seconds_per_run": sm, "runs": r}
            print(f"{config} {side}: AUC {100 * am:.2f} +- {100 * asd:.2f}, AP {100 * pm:.2f} +- "
                  f"{100 * psd:.2f} over {len(r)} seeds, {sm:.1f} s per run")
        report["configs"][config] = summary
    if a.json:
        with open(a.json, "w") as f:
            json.dump(report, f, indent=1)
            f.write("\n")


if __name__ == "__main__":
    sys.exit(main())
