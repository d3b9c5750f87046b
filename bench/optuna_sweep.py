#!/usr/bin/python3
"""One sweep file through clae sweep and through Optuna, side by side.

Optuna 3.1 (Debian's python3-optuna) gets the same search space, trial count,
sampler settings (TPESampler with the file's startup_trials and seed) and
pruner (MedianPruner with its pruner_startup and warmup_epochs; steps are
epochs counted from 0, so warm-up epochs never prune, as in clae), and drives
`clae train --report -` for every trial, stopping a pruned one with SIGTERM as
clae sweep does. Prints, for both, the best value after each trial and the wall
time, and the number of pruned trials; --json OUT keeps them. Only grid-free
files (tpe or random samplers) and the median pruner or none are supported.
  /usr/bin/python3 bench/optuna_sweep.py configs/sweeps/mlp_fmnist.ini [--clae build/clae]
"""
import argparse
import configparser
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import optuna


def read_sweep(path):
    cp = configparser.ConfigParser(inline_comment_prefixes=(";",), interpolation=None)
    cp.optionxform = str
    cp.read(path)
    settings, params = {}, {}
    for key, value in cp["sweep"].items():
        (params if "." in key else settings)[key] = value
    fixed = dict(cp["fixed"]) if cp.has_section("fixed") else {}
    base = settings["config"]
    if not os.path.isabs(base):
        base = os.path.join(os.path.dirname(path), base)
    return settings, params, fixed, base


def suggest(trial, key, text):
    m = re.fullmatch(r"\s*(\w+)\((.*)\)\s*", text)
    kind, args = m.group(1), [a.strip() for a in m.group(2).split(",")]
    if kind == "choice":
        return trial.suggest_categorical(key, args)
    if kind in ("uniform", "loguniform"):
        return trial.suggest_float(key, float(args[0]), float(args[1]), log=kind == "loguniform")
    step = int(args[2]) if len(args) > 2 else 1
    return trial.suggest_int(key, int(args[0]), int(args[1]), step=step)


def metric_of(line, metric):
    if metric in ("val_loss", "train_loss"):
        return line.get(metric)
    side, key = metric.split(".", 1)
    return line.get(side, {}).get(key)


def run_optuna(args, settings, params, fixed, base, out):
    metric = settings.get("metric", "val_loss")
    sampler = optuna.samplers.TPESampler(
        n_startup_trials=int(settings.get("startup_trials", 10)), seed=int(settings.get("seed", 1)))
    pruner = optuna.pruners.NopPruner()
    if settings.get("pruner", "none") == "median":
        pruner = optuna.pruners.MedianPruner(
            n_startup_trials=int(settings.get("pruner_startup", 5)),
            n_warmup_steps=int(settings.get("warmup_epochs", 0)))
    direction = settings.get("direction", "minimize")
    study = optuna.create_study(direction=direction, sampler=sampler, pruner=pruner)
    t0 = time.time()
    history = []

    def objective(trial):
        sets = [f"{k}={v}" for k, v in fixed.items()]
        sets += [f"{k}={suggest(trial, k, v)}" for k, v in params.items()]
        run = os.path.join(out, f"optuna-{trial.number:03d}")
        cmd = [args.clae, "train", base, "--run", run, "--report", "-"]
        for s in sets:
            cmd += ["--set", s]
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        value, pruned = None, False
        for raw in p.stdout:
            line = json.loads(raw)
            if line["event"] != "epoch" or pruned:
                continue
            value = metric_of(line, metric)
            trial.report(value, line["epoch"] - 1)
            if trial.should_prune():
                pruned = True
                p.send_signal(signal.SIGTERM)
        p.wait()
        if pruned:
            raise optuna.TrialPruned()
        if p.returncode != 0 or value is None:
            raise RuntimeError(f"trial {trial.number}: clae train exited with {p.returncode}")
        return value

    def note(study, trial):
        best = study.best_value if any(
            t.state == optuna.trial.TrialState.COMPLETE for t in study.trials) else None
        history.append({"trial": trial.number, "state": trial.state.name.lower(),
                        "value": trial.value, "best": best, "elapsed_s": time.time() - t0})

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study.optimize(objective, n_trials=int(settings.get("trials", 20)), callbacks=[note])
    return history, time.time() - t0


def run_clae(args, sweep_path, settings, out):
    local = os.path.join(out, "clae_sweep.ini")
    with open(sweep_path) as f:
        text = f.read()
    base = read_sweep(sweep_path)[3]
    text = re.sub(r"(?m)^config\s*=.*$", f"config = {os.path.abspath(base)}", text)
    text = re.sub(r"(?m)^\[sweep\]$", f"[sweep]\nout_dir = {out}", text, count=1)
    with open(local, "w") as f:
        f.write(text)
    t0 = time.time()
    subprocess.run([args.clae, "sweep", local], check=True, stdout=subprocess.DEVNULL)
    wall = time.time() - t0
    name = os.path.splitext(os.path.basename(local))[0]
    name = settings.get("name", name)
    maximize = settings.get("direction", "minimize") == "maximize"
    history, best, starts = [], None, {}
    with open(os.path.join(out, name, "journal.jsonl")) as f:
        for raw in f:
            e = json.loads(raw)
            if e["event"] != "end":
                continue
            v = e["value"]
            if e["state"] == "complete" and v is not None:
                best = v if best is None or (v > best if maximize else v < best) else best
            history.append({"trial": e["trial"], "state": e["state"], "value": v, "best": best,
                            "seconds": e["seconds"]})
    return history, wall


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("sweep")
    ap.add_argument("--clae", default="build/clae")
    ap.add_argument("--json")
    a = ap.parse_args()
    a.clae = os.path.abspath(a.clae)
    settings, params, fixed, base = read_sweep(a.sweep)
    out = tempfile.mkdtemp(prefix="clae_optuna_")
    clae_hist, clae_wall = run_clae(a, a.sweep, settings, out)
    optuna_hist, optuna_wall = run_optuna(a, settings, params, fixed, base, out)
    print(f"{'trial':>5} | {'clae state':>10} {'best':>10} | {'optuna state':>12} {'best':>10}")
    for c, o in zip(clae_hist, optuna_hist):
        cb = f"{c['best']:.5f}" if c["best"] is not None else "-"
        ob = f"{o['best']:.5f}" if o["best"] is not None else "-"
        print(f"{c['trial']:>5} | {c['state']:>10} {cb:>10} | {o['state']:>12} {ob:>10}")
    for name, h, wall in (("clae sweep", clae_hist, clae_wall), ("optuna", optuna_hist, optuna_wall)):
        pruned = sum(t["state"] == "pruned" for t in h)
        print(f"{name}: best {h[-1]['best']:.5f}, {pruned} of {len(h)} pruned, {wall:.1f} s")
    if a.json:
        cpu = open("/proc/cpuinfo").read().split("model name")[1].split("\n")[0].split(":", 1)[1]
        with open(a.json, "w") as f:
            json.dump({"sweep": a.sweep, "cpu": cpu.strip(), "optuna": optuna.__version__,
                       "clae": {"wall_s": clae_wall, "trials": clae_hist},
                       "optuna_trials": {"wall_s": optuna_wall, "trials": optuna_hist}}, f, indent=1)
            f.write("\n")
    shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
