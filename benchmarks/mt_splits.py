"""MT against plain ALS on every fixed split: is MT's rating margin a property of the dataset or of split 1?

The MT benchmark (``benchmarks/mt.py``) and its issue judge split 1 only. This script trains MT
(the benchmark's settings, seed 0) and plain ALS (the same λ, K and number of sweeps) on the
other fixed splits of each shared dataset and records per split the test RMSE of both, their
paired t-test p-value and MT-P's test perplexity. Split 1 is read from
``results/mt/<dataset>/mt.json`` (the same code and seed give the same numbers). Writes
``results/mt_splits.{json,md}``; each run is kept in ``results/mt_splits/<dataset>_<split>.json``.

    python benchmarks/mt_splits.py [--splits 1 2 3 4 5] [--datasets ...] [--threads 1]

Datasets may run in separate processes; ``--report-only`` rebuilds the summary from the run files.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from whyrec.data.split import read_index_file
from whyrec.metrics.rating import corrected_resampled_t_test, paired_t_test
from whyrec.metrics.text import perplexity
from whyrec.systems.mt import MTConfig, MultiTask, adversarial_epochs
from whyrec.systems.mt_experiment import adversarial_span, known_texts, plain_als_like

from shared_data import (DATASETS, keep_measured, load_split, machine, measured_cell, mt_benchmark_result,
                         mt_rerun_setup, provenance, recorded_date, recorded_threads, reported_text, split_features,
                         threads_text)


def run_split(split, epochs: int) -> dict:
    """MT and plain ALS trained on ``split``: test RMSE of both, the paired p-value, MT-P's perplexity."""
    start = time.perf_counter()
    features = split_features(split)
    mt = MultiTask(MTConfig(epochs=epochs)).fit(split.train, split.valid, features)
    plain = plain_als_like(mt).fit(split.train)
    test = split.test
    mt_err = (mt.predict_corpus(test) - test.ratings) ** 2
    plain_err = (plain.predict_corpus(test) - test.ratings) ** 2
    targets, users, items = known_texts(mt, test, features)
    return {"MT": float(np.sqrt(mt_err.mean())), "plain ALS": float(np.sqrt(plain_err.mean())),
            "p": float(paired_t_test(mt_err, plain_err)[1]),
            "MT-P ppl": perplexity(mt.token_log_probs("pair", targets, users, items)),
            "epochs": len(mt.history), "adversarial_epochs": adversarial_epochs(mt.history),
            "seconds": time.perf_counter() - start, "threads": torch.get_num_threads()}


def split_one_from(recorded: Path) -> dict[str, dict]:
    """Split 1 of each dataset from the MT benchmark's per-dataset results, when they are of seed 0."""
    runs = {}
    for name in DATASETS:
        result = mt_benchmark_result(recorded, name)
        if result is None or result["config"].get("seed", 0) != 0 or result["split"].rsplit("/", 1)[-1] != "1":
            continue
        rating = {row["system"]: row["rmse"] for row in result["rating"]}
        text = {row["system"]: row["perplexity"] for row in result["text"]}
        runs[name] = {"MT": rating["MT"], "plain ALS": rating["plain ALS"], "p": result["p_mt_vs_plain_als"],
                      "MT-P ppl": text["MT-P"], "epochs": len(result["history"]["MT"]),
                      "adversarial_epochs": result.get("mt_adversarial_epochs"), "seconds": result["seconds"]["MT"],
                      "threads": recorded_threads(recorded), "from": "results/mt",
                      "measured": recorded_date(recorded, name)}
    return runs


def test_to_train(folder: Path, splits) -> float:
    """The test part's size over the train part's, averaged over ``splits`` of the dataset in
    ``folder``, counted from their index files."""
    def size(split: str, part: str) -> int:
        return len(read_index_file(folder / split / f"{part}.index"))

    return float(np.mean([size(s, "test") for s in splits]) / np.mean([size(s, "train") for s in splits]))


def dataset_summary(runs: dict[str, dict], ratio: float) -> dict:
    """Per dataset: how many splits MT is below plain ALS on, the mean and sd of the difference,
    and the corrected resampled t-test of the splits' test MSEs (``ratio``: test over train size)."""
    diff = np.array([r["MT"] - r["plain ALS"] for r in runs.values()])
    over_splits = None
    if len(runs) > 1:
        t, p = corrected_resampled_t_test([r["MT"] ** 2 for r in runs.values()],
                                          [r["plain ALS"] ** 2 for r in runs.values()], ratio)
        over_splits = {"t": t, "p": p, "test_to_train": ratio}
    return {"splits": runs, "mt_below_plain_als": int((diff < 0).sum()), "significant_wins": int(
        sum(r["MT"] < r["plain ALS"] and r["p"] < 0.05 for r in runs.values())),
        "mean_difference": float(diff.mean()), "sd_difference": float(diff.std(ddof=1)) if len(diff) > 1 else None,
        "corrected_t_test": over_splits}


def markdown(summary: dict) -> str:
    all_runs = [r for d in summary["datasets"].values() for r in d["splits"].values()]
    lines = ["# MT against plain ALS on every fixed split", "",
             f"MT with the benchmark's settings (at most {summary['epochs']} epochs, early stopping, seed 0) and plain "
             f"ALS with the same λ, K and sweeps, on each fixed split; {threads_text(all_runs)}, {summary['machine']}. "
             f"Measured on the date of each row's *measured* column ({summary['date']} where its run does not say)"
             f"{reported_text(summary)}. "
             + ("Split 1 was read from `results/mt`. " if any(r.get("from") for r in all_runs) else "")
             + "p: paired t-test of the two systems' squared errors on the split's test records. Across the "
             "splits: the corrected resampled t-test (Nadeau & Bengio 2003) of the splits' test MSEs, which "
             "allows for the splits' overlapping train parts (`whyrec.metrics.rating.corrected_resampled_t_test`).",
             "",
             "| dataset | split | MT RMSE | plain ALS RMSE | MT − plain ALS | p | MT-P ppl | epochs (adversarial) "
             "| measured |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, d in summary["datasets"].items():
        for split, r in d["splits"].items():
            lines.append(f"| {name} | {split} | {r['MT']:.4f} | {r['plain ALS']:.4f} | {r['MT'] - r['plain ALS']:+.4f} "
                         f"| {r['p']:.3g} | {r['MT-P ppl']:.2f} | {r['epochs']} "
                         f"({adversarial_span(r.get('adversarial_epochs'))}) | {measured_cell([r], summary)} |")
    lines += ["", "Per dataset:", ""]
    for name, d in summary["datasets"].items():
        sd = f" ± {d['sd_difference']:.4f}" if d["sd_difference"] is not None else ""
        lines.append(f"- {name}: MT below plain ALS on {d['mt_below_plain_als']} of {len(d['splits'])} splits "
                     f"({d['significant_wins']} with p < 0.05); mean MT − plain ALS {d['mean_difference']:+.4f}{sd} RMSE"
                     + _across(d.get("corrected_t_test")))
    return "\n".join(lines) + "\n"


def _across(test: dict | None) -> str:
    if not test:
        return ""
    return f"; across the splits t = {test['t']:+.2f}, p = {test['p']:.3g} (test/train {test['test_to_train']:.3f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--splits", nargs="+", default=["1", "2", "3", "4", "5"])
    args, runs_dir = mt_rerun_setup(parser, "mt_splits")
    if not args.report_only:
        known = split_one_from(args.recorded)
        for name in args.datasets:
            for split_name in args.splits:
                run = known.get(name) if split_name == "1" else None
                if run is None:
                    split = load_split(args.data / name, split_name)
                    run = {**run_split(split, args.epochs), "provenance": provenance(args.data / name, [split])}
                (runs_dir / f"{name}_{split_name}.json").write_text(json.dumps(run, indent=1), encoding="utf-8")
                print(name, split_name, json.dumps({k: v for k, v in run.items() if k != "provenance"}), flush=True)
    datasets = {}
    for name in DATASETS:
        files = sorted(runs_dir.glob(f"{name}_*.json"), key=lambda f: f.stem.rsplit("_", 1)[1])
        if files:
            runs = {f.stem.rsplit("_", 1)[1]: json.loads(f.read_text(encoding="utf-8")) for f in files}
            datasets[name] = dataset_summary(runs, test_to_train(args.data / name, list(runs)))
    if not datasets:
        raise SystemExit(f"no runs in {runs_dir}")
    summary = {"date": time.strftime("%Y-%m-%d"), "epochs": args.epochs, "machine": machine(),
               "provenance": provenance(), "datasets": datasets}
    keep_measured(summary, args.out / "mt_splits.json", args.report_only)
    (args.out / "mt_splits.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    (args.out / "mt_splits.md").write_text(markdown(summary), encoding="utf-8")
    print(markdown(summary))


if __name__ == "__main__":
    main()
