"""How much do MT's discriminators know? Their accuracy during training against what a longer-trained one reaches.

MT's policy-gradient reward is its discriminator's probability (§3.3 of "Why I like it"), so the
adversarial phase can only teach the generators what the discriminator tells apart. This script
trains MT with the MT benchmark's settings (split 1, seed 0: the same run as ``mt.py``'s, which
the report checks epoch by epoch on the validation RMSE) and reports, per variant:

* **during training** — the discriminator's accuracy on its own training batches (real reviews
  against generated *and* mismatched ones), averaged over the epochs it trained in;
* **the trained one** — the final discriminator on 256 training records: their real
  explanation sentences against the trained generator's samples for the same owners (not held
  out from it: it drew its batches from every record);
* **a fresh one, trained longer** — ``discriminator_learning_curve`` (the §4.3 curve of
  ``mt.py``, there 60 steps) run for ``--steps`` steps on the same generator, its accuracy on
  those 256 records (held out from it) after some of them, and the mean over its last 50 steps:
  how far a discriminator of this architecture gets.

No test record is used. Writes ``results/mt_discriminator.{json,md}``; each dataset's run is kept in
``results/mt_discriminator/<dataset>.json`` (``--report-only`` rebuilds the summary).

    python benchmarks/mt_discriminator.py [--datasets ...] [--steps 800] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from whyrec.systems.mt import VARIANTS, MTConfig, MultiTask
from whyrec.systems.mt_experiment import discriminator_accuracy, discriminator_learning_curve, real_and_generated

from shared_data import (DATASETS, keep_measured, load_split, machine, measured_cell, measured_on, mt_benchmark_result,
                         mt_rerun_setup, provenance, reported_text, split_features, threads_text)

CHECKPOINTS = (8, 60, 200, 400, 800)  # 8: the default d_steps, MT's warm-up; 60: mt.py's curve
HELD_OUT = 256


def run_dataset(name: str, split, features, epochs: int, steps: int) -> dict:
    start = time.perf_counter()
    mt = MultiTask(MTConfig(epochs=epochs)).fit(split.train, split.valid, features)
    trained = time.perf_counter() - start
    rows = np.random.default_rng(0).permutation(len(mt.data.targets))[:HELD_OUT]
    variants = {}
    for variant in mt.config.variants:
        during = [r[f"d_acc_{variant}"] for r in mt.history if f"d_acc_{variant}" in r]
        held = real_and_generated(mt, variant, rows)
        curve = discriminator_learning_curve(mt, variant, steps=steps, held_out=HELD_OUT, seed=mt.config.seed)
        variants[variant] = {"during_training": float(np.mean(during)) if during else None,
                             "epochs_trained": len(during),
                             "trained": discriminator_accuracy(mt.discriminators[variant], held),
                             "fresh_curve": curve}
    return {"dataset": name, "history_valid_rmse": [r["valid_rmse"] for r in mt.history], "variants": variants,
            "train_seconds": trained, "seconds": time.perf_counter() - start, "threads": torch.get_num_threads()}


def same_as_benchmark(run: dict, recorded) -> bool | None:
    """Whether the run's validation RMSE matches ``mt.py``'s recorded MT run epoch by epoch."""
    result = mt_benchmark_result(recorded, run["dataset"])
    if result is None:
        return None
    return [r["valid_rmse"] for r in result["history"]["MT"]] == run["history_valid_rmse"]


def run_summary(run: dict, recorded) -> dict:
    """A dataset's figures for the report: per variant the accuracies of the table (the fresh
    discriminator's after each checkpoint it reached and over its last 50 steps); the curves stay
    in the run file."""
    variants = {}
    for variant, v in run["variants"].items():
        curve = v["fresh_curve"]
        variants[variant] = {**{k: v[k] for k in ("during_training", "epochs_trained", "trained")},
                             "fresh_after": {str(n): curve[n - 1] for n in CHECKPOINTS if n <= len(curve)},
                             "fresh_last_50": float(np.mean(curve[-50:]))}
    return {"same_as_benchmark": same_as_benchmark(run, recorded), "variants": variants, "threads": run["threads"],
            "seconds": run["seconds"], "measured": measured_on([run])}


def markdown(summary: dict) -> str:
    runs = list(summary["datasets"].values())
    marks = sorted({int(n) for run in runs for v in run["variants"].values() for n in v["fresh_after"]})
    lines = ["# How much MT's discriminators know", "",
             f"Split 1, MT with the benchmark's settings (at most {summary['epochs']} epochs, seed 0); "
             f"{threads_text(runs)}, {summary['machine']}. Measured {summary['date']}{reported_text(summary)}; "
             "the *measured* column dates each row. "
             "Accuracies are balanced "
             "(the mean of the real and the negative class; 0.5 is chance). *During training*: the reward "
             "discriminator on its own batches (real against generated and mismatched reviews), mean over the "
             "epochs it trained in. *Trained*: the same discriminator at the end, on "
             f"{HELD_OUT} training records (which it may have trained on), real explanation against the generator's "
             "sample for the same owners. *Fresh after n steps*: a new discriminator of the same architecture and "
             "learning rate trained n steps against the final generator, on the same pairs, held out from it "
             "(`mt.py`'s §4.3 curve is its first 60 steps); *last 50*: its mean over the last 50 steps. "
             "No test record is used.", "",
             "| dataset | same run as mt.py | variant | D epochs | during training | trained | "
             + " | ".join(f"fresh after {m}" for m in marks) + " | fresh, last 50 | measured |",
             "|---|---|---|---|---|---|" + "---|" * len(marks) + "---|---|"]
    for name, run in summary["datasets"].items():
        same = {True: "yes", False: "no", None: "?"}[run.get("same_as_benchmark")]
        for variant, v in run["variants"].items():
            during = "—" if v["during_training"] is None else f"{v['during_training']:.3f}"
            cells = [f"{v['fresh_after'][str(m)]:.3f}" if str(m) in v["fresh_after"] else "—" for m in marks]
            lines.append(f"| {name} | {same} | {variant} | {v['epochs_trained']} | {during} | "
                         f"{v['trained']:.3f} | " + " | ".join(cells) + f" | {v['fresh_last_50']:.3f} | "
                         f"{measured_cell([run], summary)} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=max(CHECKPOINTS), help="steps of the fresh discriminator")
    args, runs_dir = mt_rerun_setup(parser, "mt_discriminator")
    if not args.report_only:
        for name in args.datasets:
            split = load_split(args.data / name)
            run = {**run_dataset(name, split, split_features(split), args.epochs, args.steps),
                   "provenance": provenance(args.data / name, [split])}
            (runs_dir / f"{name}.json").write_text(json.dumps(run, indent=1), encoding="utf-8")
            print(name, f"{run['seconds']:.0f}s", flush=True)
    datasets = {}
    for name in DATASETS:
        path = runs_dir / f"{name}.json"
        if path.exists():
            datasets[name] = run_summary(json.loads(path.read_text(encoding="utf-8")), args.recorded)
    if not datasets:
        raise SystemExit(f"no runs in {runs_dir}")
    summary = {"date": time.strftime("%Y-%m-%d"), "epochs": args.epochs, "machine": machine(),
               "provenance": provenance(), "variants": list(VARIANTS), "datasets": datasets}
    keep_measured(summary, args.out / "mt_discriminator.json", args.report_only)
    (args.out / "mt_discriminator.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    (args.out / "mt_discriminator.md").write_text(markdown(summary), encoding="utf-8")
    print(markdown(summary))


if __name__ == "__main__":
    main()
