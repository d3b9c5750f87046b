#!/usr/bin/python3
"""clae latent-map's t-SNE and scikit-learn's TSNE on the same codes, in one run.

Encodes the first --n test images of a trained run (`clae encode`), maps them
with `clae latent-map RUN --n N` and with sklearn.manifold.TSNE at the same
settings (scikit-learn 1.2's defaults: perplexity 30, early exaggeration 12,
learning_rate='auto', init='pca', Barnes-Hut with angle 0.5, 1,000
iterations; n_jobs=-1 so its neighbour search uses every core too, as its
gradient does), and reports for each the seconds the map took and its
trustworthiness with k = 10 (sklearn.manifold.trustworthiness, computed by
scikit-learn for both maps). clae's own trustworthiness (in its JSON) is
printed beside it as a check of clae's implementation.

Optional: needs Debian's python3-sklearn (run with /usr/bin/python3). clae
never needs it.

usage: /usr/bin/python3 bench/latent_map_side_by_side.py RUN [--n 5000]
           [--clae build/clae] [--device SPEC] [--seed 1] [--json OUT]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import sklearn
from sklearn.manifold import TSNE, trustworthiness


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("run")
    p.add_argument("--n", type=int, default=5000)
    p.add_argument("--clae", default="build/clae")
    p.add_argument("--device", default=None)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", default=None, help="write both sides' numbers here")
    return p.parse_args()


def clae(args, *extra):
    cmd = [args.clae, *extra] + (["--device", args.device] if args.device else [])
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed: {out.stderr.strip()}")
    return out.stdout


def main():
    args = parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        clae(args, "encode", args.run, "--split", "test", "-o", os.path.join(tmp, "codes.npy"))
        codes = np.load(os.path.join(tmp, "codes.npy"))[: args.n]
        t0 = time.perf_counter()
        clae(args, "latent-map", args.run, "--n", str(len(codes)), "--seed", str(args.seed),
             "-o", os.path.join(tmp, "map.png"))
        clae_wall = time.perf_counter() - t0
        clae_map = np.load(os.path.join(tmp, "map.npy"))
        with open(os.path.join(tmp, "map.json")) as f:
            clae_json = json.load(f)
    t0 = time.perf_counter()
    sk = TSNE(n_components=2, perplexity=30.0, early_exaggeration=12.0, learning_rate="auto",
              n_iter=1000, init="pca", method="barnes_hut", angle=0.5, random_state=args.seed,
              n_jobs=-1)
    sk_map = sk.fit_transform(codes)
    sk_s = time.perf_counter() - t0
    rows = {
        "clae": {"seconds": clae_json["seconds"], "wall_seconds_with_load": clae_wall,
                 "trustworthiness_k10": float(trustworthiness(codes, clae_map, n_neighbors=10)),
                 "clae_own_trustworthiness_k10": clae_json.get("trustworthiness_k10"),
                 "kl_divergence": clae_json.get("kl_divergence"),
                 "iterations": clae_json.get("iterations"), "threads": clae_json.get("threads")},
        "sklearn": {"version": sklearn.__version__, "seconds": sk_s,
                    "trustworthiness_k10": float(trustworthiness(codes, sk_map, n_neighbors=10)),
                    "kl_divergence": float(sk.kl_divergence_), "iterations": int(sk.n_iter_) + 1},
    }
    print(f"{len(codes)} codes of {codes.shape[1]} values from {args.run}")
    print(f"{'':10s} {'seconds':>8s} {'trust k=10':>11s} {'KL':>8s}")
    for name, r in rows.items():
        print(f"{name:10s} {r['seconds']:8.2f} {r['trustworthiness_k10']:11.4f} "
              f"{r['kl_divergence']:8.4f}")
    print(f"clae's own trustworthiness: {rows['clae']['clae_own_trustworthiness_k10']:.6f} "
          f"(scikit-learn's of the same map: {rows['clae']['trustworthiness_k10']:.6f})")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"points": len(codes), "code_values": int(codes.shape[1]), **rows}, f,
                      indent=2)


if __name__ == "__main__":
    main()
