"""MT's decoder learning rate chosen on validation: which ``decoder_lr`` gives the lowest validation NLL?

``MTConfig.decoder_lr`` (the GRU decoders' own weights) was first set to 2e-3 after it gave MT-P a
lower *test* perplexity than the encoders' 3e-3. This script makes the choice the way it should
have been made: it trains the full MT (the MT benchmark's settings, split 1) with each rate and
compares MT's own model-selection score, the lowest mean validation NLL of MT-U/I/P over the
epochs (the generators MT keeps). No test record is scored. The run at the default rate is read
from ``results/mt/<dataset>/mt.json`` when that run used it (same code and seed, same history).
Writes ``results/mt_decoder_lr.{json,md}``.

    python benchmarks/mt_decoder_lr.py [--rates 0.001 0.002 0.003] [--datasets ...] [--threads 1]

Datasets and rates may run in separate processes (``--datasets X --rates R``); each run is kept in
``results/mt_decoder_lr/<dataset>_<rate>.json`` and ``--report-only`` rebuilds the summary from them.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from whyrec.systems.mt import MTConfig, MultiTask, adversarial_epochs, mean_valid_nll

from shared_data import (DATASETS, keep_measured, load_split, machine, measured_cell, measured_on, mt_benchmark_result,
                         mt_rerun_setup, provenance, recorded_date, recorded_threads, reported_text, split_features,
                         threads_text)


def run_rate(split, features, rate: float, epochs: int) -> dict:
    """One full MT training with ``decoder_lr=rate``: its per-epoch history (validation scores only)."""
    start = time.perf_counter()
    mt = MultiTask(MTConfig(epochs=epochs, decoder_lr=rate)).fit(split.train, split.valid, features)
    return {"decoder_lr": rate, "history": mt.history, "seconds": time.perf_counter() - start,
            "threads": torch.get_num_threads()}


def benchmark_run(recorded: Path, name: str, rate: float, epochs: int) -> dict | None:
    """The MT benchmark's run of a dataset, when it trained MT with ``rate`` and this cap on epochs."""
    result = mt_benchmark_result(recorded, name)
    if result is None:
        return None
    config = result["config"]
    if config.get("decoder_lr") != rate or config["epochs"] != epochs or config.get("seed", 0) != 0:
        return None
    return {"decoder_lr": rate, "history": result["history"]["MT"], "seconds": result["seconds"]["MT"],
            "threads": recorded_threads(recorded), "from": "results/mt", "measured": recorded_date(recorded, name)}


def run_summary(run: dict, variants=("user", "item", "pair")) -> dict:
    """The selection score of one run: its lowest mean validation NLL, that epoch, and MT-P's NLL there."""
    scored = [(mean_valid_nll(r, variants), r) for r in run["history"]]
    scored = [(nll, r) for nll, r in scored if nll is not None]
    if not scored:
        raise SystemExit(f"decoder_lr {run['decoder_lr']}: the run has no validation NLL")
    best, record = min(scored, key=lambda pair: pair[0])
    return {"decoder_lr": run["decoder_lr"], "best_mean_valid_nll": best, "best_epoch": record["epoch"],
            "pair_valid_nll_at_best": record["valid_nll_pair"], "epochs": len(run["history"]),
            "adversarial_epochs": adversarial_epochs(run["history"]), "seconds": run["seconds"],
            "threads": run.get("threads"), "from": run.get("from"), "measured": measured_on([run])}


def choice(rows: dict[str, list[dict]]) -> dict:
    """Per dataset the rate with the lowest score; overall, the rate with the lowest score averaged
    over the datasets that ran every rate."""
    per_dataset = {name: min(runs, key=lambda r: r["best_mean_valid_nll"])["decoder_lr"] for name, runs in rows.items()}
    rates = sorted({r["decoder_lr"] for runs in rows.values() for r in runs})
    complete = [runs for runs in rows.values() if {r["decoder_lr"] for r in runs} == set(rates)]
    mean = {rate: sum(r["best_mean_valid_nll"] for runs in complete for r in runs if r["decoder_lr"] == rate)
            / len(complete) for rate in rates} if complete else {}
    return {"per_dataset": per_dataset, "mean_over_datasets": mean,
            "overall": min(mean, key=mean.get) if mean else None, "datasets_with_every_rate": len(complete)}


def markdown(summary: dict) -> str:
    rates = sorted({r["decoder_lr"] for runs in summary["datasets"].values() for r in runs})
    lines = ["# MT's decoder learning rate, chosen on validation NLL", "",
             f"Split 1, MT with the benchmark's settings (at most {summary['epochs']} epochs, early stopping) and "
             f"`decoder_lr` in {rates}; {threads_text([r for runs in summary['datasets'].values() for r in runs])}, "
             f"{summary['machine']}. Measured {summary['date']}{reported_text(summary)}; the *measured* column dates "
             "each row (its newest run). "
             "Score: MT's own model-selection criterion, the lowest mean validation NLL of MT-U/I/P over the epochs "
             "(in nats per token, on up to 512 validation records); no test record is scored. "
             + ("Runs marked * were read from `results/mt` (the benchmark's run at that rate). "
                if any(r.get("from") for runs in summary["datasets"].values() for r in runs) else ""), "",
             "| dataset | " + " | ".join(f"decoder_lr {rate}" for rate in rates) + " | lowest | measured |",
             "|---|" + "---|" * len(rates) + "---|---|"]
    for name, runs in summary["datasets"].items():
        by_rate = {r["decoder_lr"]: r for r in runs}
        cells = [f"{by_rate[rate]['best_mean_valid_nll']:.4f} (epoch {by_rate[rate]['best_epoch']} of "
                 f"{by_rate[rate]['epochs']}; MT-P {by_rate[rate]['pair_valid_nll_at_best']:.4f})"
                 + ("*" if by_rate[rate].get("from") else "") if rate in by_rate else "—" for rate in rates]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {summary['choice']['per_dataset'][name]} | "
                     f"{measured_cell(runs, summary)} |")
    pick = summary["choice"]
    if pick["overall"] is not None:
        means = ", ".join(f"{rate}: {value:.4f}" for rate, value in pick["mean_over_datasets"].items())
        lines += ["", f"Mean over the {pick['datasets_with_every_rate']} datasets that ran every rate: {means}. "
                  f"Lowest: **{pick['overall']}**."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rates", nargs="+", type=float, default=[0.001, 0.002, 0.003])
    args, runs_dir = mt_rerun_setup(parser, "mt_decoder_lr")
    if not args.report_only:
        for name in args.datasets:
            data = None  # (split, features), read when a rate has to be trained
            for rate in args.rates:
                run = benchmark_run(args.recorded, name, rate, args.epochs)
                if run is None:
                    if data is None:
                        split = load_split(args.data / name)
                        data = split, split_features(split)
                    run = {**run_rate(*data, rate, args.epochs), "provenance": provenance(args.data / name, [data[0]])}
                (runs_dir / f"{name}_{rate}.json").write_text(json.dumps(run, indent=1), encoding="utf-8")
                print(name, rate, json.dumps(run_summary(run)), flush=True)
    datasets = {}
    for name in DATASETS:
        files = sorted(runs_dir.glob(f"{name}_*.json"))
        if files:
            runs = [run_summary(json.loads(f.read_text(encoding="utf-8"))) for f in files]
            datasets[name] = sorted(runs, key=lambda r: r["decoder_lr"])
    if not datasets:
        raise SystemExit(f"no runs in {runs_dir}")
    summary = {"date": time.strftime("%Y-%m-%d"), "epochs": args.epochs, "machine": machine(),
               "provenance": provenance(), "datasets": datasets, "choice": choice(datasets)}
    keep_measured(summary, args.out / "mt_decoder_lr.json", args.report_only)
    (args.out / "mt_decoder_lr.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    (args.out / "mt_decoder_lr.md").write_text(markdown(summary), encoding="utf-8")
    print(markdown(summary))


if __name__ == "__main__":
    main()
