"""How much does the MT benchmark's margin over plain ALS depend on ALS's regularisation?

The MT benchmark (``benchmarks/mt.py``) compares MT with plain ALS at MT's own settings: the
same K, λ_U = λ_V, λ_bias, seed and number of sweeps (``plain_als_like``). That comparison is
like for like, but those λ's were never chosen for plain ALS. This script fits plain ALS on
split 1 of each shared dataset over a grid of λ_U = λ_V and λ_bias (the other settings those of
the recorded MT run), keeps the pair with the lowest *validation* RMSE, and reports its test
RMSE next to the recorded plain-ALS and MT test RMSEs (``results/mt/<dataset>/mt.json``). No
model is chosen on test records. Writes ``results/als_regularisation.{json,md}``.

    python benchmarks/als_regularisation.py [--lambdas 2 5 10 20] [--bias-lambdas 0.3 1 3 10]

About a minute on 2 cores.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from pathlib import Path

from whyrec.metrics.rating import rmse
from whyrec.rating import ContextAwareALS

from shared_data import (DATA, DATASETS, RESULTS, load_split, machine, mt_benchmark_result, provenance,
                         recorded_argument)


def recorded_setting(result: dict) -> dict:
    """Plain ALS's settings in the recorded MT run (those of ``plain_als_like``): MT's K, λ's and
    seed, and as many sweeps as MT's ALS made (its first fit, then one round per epoch run)."""
    config = result["config"]
    return {"factors": config["factors"], "lambda_u": config["lambda_u"], "lambda_bias": config["lambda_bias"],
            "seed": config.get("seed", 0), "iterations": config["als_sweeps"] * (len(result["history"]["MT"]) + 1)}


def scores(split, setting: dict, lam: float, bias_lam: float) -> dict:
    """Validation and test RMSE of plain ALS with λ_U = λ_V = ``lam`` and λ_bias = ``bias_lam``."""
    model = ContextAwareALS(factors=setting["factors"], lambda_u=lam, lambda_v=lam, lambda_bias=bias_lam,
                            iterations=setting["iterations"], seed=setting["seed"]).fit(split.train)
    return {"lambda": lam, "lambda_bias": bias_lam,
            "valid_rmse": rmse(model.predict_corpus(split.valid), split.valid.ratings),
            "test_rmse": rmse(model.predict_corpus(split.test), split.test.ratings)}


def run_dataset(folder: Path, result: dict, lambdas: list[float], bias_lambdas: list[float]) -> dict:
    split = load_split(folder)
    setting = recorded_setting(result)
    began = time.perf_counter()
    grid = [scores(split, setting, lam, b) for lam, b in itertools.product(lambdas, bias_lambdas)]
    # the recorded setting itself, in the grid or not: it should give the recorded plain-ALS RMSE
    at_recorded = scores(split, setting, setting["lambda_u"], setting["lambda_bias"])
    chosen = min(grid, key=lambda row: row["valid_rmse"])
    rating = {row["system"]: row["rmse"] for row in result["rating"]}
    return {"setting": setting, "grid": grid, "chosen": chosen, "at_recorded_setting": at_recorded,
            "recorded": {"plain ALS": rating["plain ALS"], "MT": rating["MT"]},
            "seconds": time.perf_counter() - began}


def markdown(summary: dict) -> str:
    lines = ["# Plain ALS with its regularisation chosen on validation", "",
             f"Split 1 of each shared dataset, {summary['machine']}. Measured {summary['date']}. Plain ALS "
             "(`ContextAwareALS`) with the recorded MT run's K, seed and sweeps, over λ_U = λ_V ∈ "
             f"{summary['lambdas']} and λ_bias ∈ {summary['bias_lambdas']}; the pair with the lowest validation "
             "RMSE is kept and scored on test. *Recorded* columns: `results/mt/<dataset>/mt.json` (plain ALS "
             "at MT's own λ's, and MT). *Check*: this script's plain ALS at the recorded setting, which "
             "should equal the recorded plain ALS.", "",
             "| dataset | chosen λ, λ_bias | valid RMSE | test RMSE | recorded plain ALS | check | recorded MT | "
             "MT below the chosen ALS |", "|---|---|---|---|---|---|---|---|"]
    for name, d in summary["datasets"].items():
        chosen, recorded = d["chosen"], d["recorded"]
        lines.append(f"| {name} | {chosen['lambda']:g}, {chosen['lambda_bias']:g} | {chosen['valid_rmse']:.4f} | "
                     f"{chosen['test_rmse']:.4f} | {recorded['plain ALS']:.4f} | "
                     f"{d['at_recorded_setting']['test_rmse']:.4f} | {recorded['MT']:.4f} | "
                     f"{'yes' if recorded['MT'] < chosen['test_rmse'] else 'NO'} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--datasets", nargs="*", default=DATASETS)
    parser.add_argument("--lambdas", nargs="*", type=float, default=[2.0, 5.0, 10.0, 20.0])
    parser.add_argument("--bias-lambdas", nargs="*", type=float, default=[0.3, 1.0, 3.0, 10.0])
    parser.add_argument("--out", type=Path, default=RESULTS)
    recorded_argument(parser)
    args = parser.parse_args()
    datasets = {}
    for name in args.datasets:
        result = mt_benchmark_result(args.recorded, name)
        if result is None:
            raise SystemExit(f"{name}: no recorded MT run in {args.recorded}/mt/{name}/mt.json (run benchmarks/mt.py)")
        datasets[name] = run_dataset(args.data / name, result, args.lambdas, args.bias_lambdas)
        chosen = datasets[name]["chosen"]
        print(f"{name}: λ {chosen['lambda']:g}, λ_bias {chosen['lambda_bias']:g}: test {chosen['test_rmse']:.4f}",
              flush=True)
    summary = {"date": time.strftime("%Y-%m-%d"), "machine": machine(), "provenance": provenance(),
               "lambdas": args.lambdas,
               "bias_lambdas": args.bias_lambdas, "datasets": datasets}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "als_regularisation.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    (args.out / "als_regularisation.md").write_text(markdown(summary), encoding="utf-8")
    print(markdown(summary))


if __name__ == "__main__":
    main()
