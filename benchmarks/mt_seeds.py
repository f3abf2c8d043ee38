"""MT over several training seeds: is MT's margin over plain ALS (and MT-P's over the LSTM) more
than the spread between runs of MT itself?

``benchmarks/mt.py`` trains MT once per dataset (seed 0). This script trains the full MT (all three
decoders, the benchmark's settings) with other seeds on split 1, and records per seed the test
RMSE of MT and of plain ALS (the same λ, K and number of sweeps) and the test perplexity of
MT-U/I/P. Seed 0 is read from ``results/mt/<dataset>/mt.json`` when it is there (MT is
reproducible on one machine: the same seed and code give the same numbers there; on another,
digital music's seed 0 ended at 0.7345 against 0.7340, see ``mt_activity.md``), so only new seeds
are trained.
Writes ``results/mt_seeds.{json,md}``.

    python benchmarks/mt_seeds.py [--seeds 0 1 2] [--datasets ...] [--threads 1]

Datasets may run in separate processes; ``--report-only`` rebuilds the summary from the
per-dataset files ``results/mt_seeds/<dataset>.json``.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from whyrec.metrics.rating import rmse
from whyrec.metrics.text import perplexity
from whyrec.systems.mt import MTConfig, MultiTask, adversarial_epochs
from whyrec.systems.mt_experiment import adversarial_span, known_texts, plain_als_like

from shared_data import (DATASETS, keep_measured, load_split, machine, measured_cell, measured_on, mt_benchmark_result,
                         mt_rerun_setup, provenance, recorded_date, recorded_threads, reported_text, split_features,
                         threads_text)


def run_seed(split, features, seed: int, epochs: int) -> dict:
    """One full MT training with ``seed``: test RMSE of MT and plain ALS, MT-U/I/P perplexity."""
    start = time.perf_counter()
    mt = MultiTask(MTConfig(epochs=epochs, seed=seed)).fit(split.train, split.valid, features)
    plain = plain_als_like(mt).fit(split.train)
    targets, users, items = known_texts(mt, split.test, features)
    ppl = {f"MT-{v[0].upper()}": perplexity(mt.token_log_probs(v, targets, users, items)) for v in mt.config.variants}
    return {"seed": seed, "MT": rmse(mt.predict_corpus(split.test), split.test.ratings),
            "plain ALS": rmse(plain.predict_corpus(split.test), split.test.ratings), "perplexity": ppl,
            "epochs": len(mt.history), "adversarial_epochs": adversarial_epochs(mt.history),
            "seconds": time.perf_counter() - start, "threads": torch.get_num_threads()}


def seed_zero_from(result: dict | None, threads: int | None, measured: str | None = None) -> dict | None:
    """Seed 0's numbers from the MT benchmark's results of a dataset, when they are of seed 0
    (``threads``: the benchmark's torch threads; ``measured``: the date it measured them)."""
    if result is None or result["config"].get("seed", 0) != 0:
        return None
    rmse = {row["system"]: row["rmse"] for row in result["rating"]}
    text = {row["system"]: row for row in result["text"]}
    return {"seed": 0, "MT": rmse["MT"], "plain ALS": rmse["plain ALS"],
            "perplexity": {k: text[k]["perplexity"] for k in ("MT-U", "MT-I", "MT-P") if k in text},
            "epochs": len(result["history"]["MT"]), "adversarial_epochs": result.get("mt_adversarial_epochs"),
            "seconds": result["seconds"]["MT"], "threads": threads, "from": "results/mt", "measured": measured}


def lstm_mean(result: dict | None) -> float | None:
    """The MT benchmark's LSTM perplexity (its mean over seeds) for a dataset."""
    rows = {row["system"]: row for row in result["text"]} if result else {}
    return rows["LSTM"]["perplexity"] if "LSTM" in rows else None


def dataset_summary(name: str, runs: list[dict], lstm: float | None) -> dict:
    mt, plain = np.array([r["MT"] for r in runs]), np.array([r["plain ALS"] for r in runs])
    mtp = np.array([r["perplexity"]["MT-P"] for r in runs])
    return {"dataset": name, "runs": runs, "mt_rmse_mean": float(mt.mean()), "mt_rmse_sd": float(mt.std(ddof=1)),
            "plain_als_rmse_mean": float(plain.mean()), "mt_below_plain_als": int((mt < plain).sum()),
            "mt_p_ppl_mean": float(mtp.mean()), "mt_p_ppl_sd": float(mtp.std(ddof=1)), "lstm_ppl_mean": lstm,
            "measured": measured_on(runs)}


def markdown(summary: dict) -> str:
    lines = ["# MT over training seeds", "",
             f"Split 1, MT with the benchmark's settings (at most {summary['epochs']} epochs, early stopping), seeds "
             f"{summary['seeds']}, {threads_text([r for d in summary['datasets'].values() for r in d['runs']])}, "
             f"{summary['machine']}. Measured on the date of each row's *measured* column ({summary['date']} where "
             f"its runs do not say){reported_text(summary)}. "
             + ("Seed 0 was read from `results/mt` (the same code and seed give the same numbers). "
                if any(r.get("from") for d in summary["datasets"].values() for r in d["runs"]) else "")
             + "Plain ALS does not depend on the seed. The LSTM column is the MT benchmark's mean over its seeds.", "",
             "| dataset | plain ALS RMSE | MT RMSE per seed | MT mean ± sd | seeds with MT < plain ALS "
             "| MT-P ppl per seed | MT-P mean ± sd | LSTM ppl (mean) | epochs run (adversarial) per seed | measured |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for d in summary["datasets"].values():
        runs = d["runs"]
        lstm = f"{d['lstm_ppl_mean']:.2f}" if d["lstm_ppl_mean"] is not None else "?"
        lines.append(f"| {d['dataset']} | {d['plain_als_rmse_mean']:.4f} | "
                     + " / ".join(f"{r['MT']:.4f}" for r in runs)
                     + f" | {d['mt_rmse_mean']:.4f} ± {d['mt_rmse_sd']:.4f} | {d['mt_below_plain_als']} of {len(runs)} | "
                     + " / ".join(f"{r['perplexity']['MT-P']:.2f}" for r in runs)
                     + f" | {d['mt_p_ppl_mean']:.2f} ± {d['mt_p_ppl_sd']:.2f} | {lstm} | "
                     + " / ".join(f"{r['epochs']} ({adversarial_span(r.get('adversarial_epochs'))})" for r in runs)
                     + f" | {measured_cell(runs, summary)} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    args, per_dataset = mt_rerun_setup(parser, "mt_seeds")
    if len(args.seeds) < 2:
        parser.error("give at least two seeds")
    if not args.report_only:
        for name in args.datasets:
            folder = args.data / name
            split = load_split(folder)
            features = split_features(split)
            runs = []
            for seed in args.seeds:
                known = (seed_zero_from(mt_benchmark_result(args.recorded, name), recorded_threads(args.recorded),
                                        recorded_date(args.recorded, name)) if seed == 0 else None)
                runs.append(known or {**run_seed(split, features, seed, args.epochs),
                                      "provenance": provenance(folder, [split])})
                print(name, json.dumps({k: v for k, v in runs[-1].items() if k != "provenance"}), flush=True)
            (per_dataset / f"{name}.json").write_text(json.dumps(runs, indent=1), encoding="utf-8")
    datasets = {}
    for name in DATASETS:
        path = per_dataset / f"{name}.json"
        if path.exists():
            datasets[name] = dataset_summary(name, json.loads(path.read_text(encoding="utf-8")),
                                             lstm_mean(mt_benchmark_result(args.recorded, name)))
    summary = {"date": time.strftime("%Y-%m-%d"), "seeds": args.seeds, "epochs": args.epochs,
               "machine": machine(), "provenance": provenance(), "datasets": datasets}
    keep_measured(summary, args.out / "mt_seeds.json", args.report_only)
    (args.out / "mt_seeds.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    (args.out / "mt_seeds.md").write_text(markdown(summary), encoding="utf-8")
    print(markdown(summary))


if __name__ == "__main__":
    main()
