"""MT benchmark: the "Why I like it" comparison on split 1 of the four shared datasets.

For each dataset, ``whyrec.systems.mt_experiment.run_mt_experiment`` trains MT, its ablations
(MT−encoder, MT−decoder), PMF and plain ALS (rating), the n-gram/LSTM/GRU/GCN language models
(text) and runs the discriminator studies; per-dataset tables and plots go to
benchmarks/results/mt/<dataset>/, the summary to benchmarks/results/mt.{json,md}, and the
trained MT bundles to benchmarks/.cache/<dataset>/ (for `whyrec serve` and benchmarks/serve.py).

    python benchmarks/mt.py [--data ../shared/data] [--epochs 30] [--lm-seeds 3] [--threads 2] [--datasets ...]

Datasets may run in separate processes (``--threads 1 --datasets X`` each, as the recorded run
did: digital music in one, the other three in another); ``--report-only`` then rebuilds the
summary from the per-dataset JSON files (each records its torch threads), and writes each
dataset's ``mt.md``/``mt.json`` again from its JSON as this version writes them
(:func:`whyrec.systems.mt_experiment.rewrite_report`: the numbers as measured, with what can be
worked out from them, such as Holm's adjustment).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from whyrec.systems.mt import MTConfig
from whyrec.systems.mt_experiment import (adversarial_span, epochs_cell, perplexity_cell, rewrite_report,
                                          run_mt_experiment)

from shared_data import DATA, DATASETS, load_split, machine, mt_bundle_dir, provenance

HERE = Path(__file__).resolve().parent


def summary_markdown(summary: dict) -> str:
    lines = ["# MT benchmark (\"Why I like it\" comparison)", "",
             f"Split {summary['split']} of each shared dataset, MT settings {json.dumps(summary['config_overrides'])}, "
             f"{summary['machine']}, torch threads per process: the *threads* column (rows recorded before runs kept "
             f"their own: the `--threads` of the run that wrote `mt.json` last, {summary['threads']}). "
             "Measured on the date of each row's *measured* column; an n-gram cell marked re-measured was measured "
             "again later by `mt_ngram.py`, which trains the n-gram alone on the same vocabulary and targets. "
             "Per-dataset tables, training curves and the discriminator learning curve: `results/mt/<dataset>/`. "
             "The MT decoder lr, prior folds and coupling λ columns are the learning rate of the GRU decoders' own weights (`decoder_lr`; before it "
             "existed they shared the encoders' `lr` of 0.003), the number of folds of MT's cross-fitted ALS priors "
             "(`prior_folds`; 1 = the paper's loop, where an owner's prior comes from an encoder fitted to that owner's "
             "own factors, with a fixed prior scale) and the weight λ of the coupling ‖U − Ũ‖² in the generator loss "
             "(5.0 before it was lowered): rows measured with different values are not like for like. The LSTM and "
             "MT-P epochs columns say how their training ended: epochs run / the epoch kept (lowest validation NLL) "
             "(the cap); \"still improving\" marks a model the cap stopped (\"?\": not recorded by that run). The LSTM "
             "and GRU LMs (unconditional; the GRU LM is MT's decoder cell without a context) are trained with several "
             "seeds: mean ± sd (runs: lowest–highest); the targets compare MT-P's single run with the mean. The MT "
             "adversarial epochs column gives the epochs with policy-gradient steps: since `adversarial_from=0` (the "
             "default) they begin once the validation NLL stops falling; runs before it started them at epoch 3.", "",
             "| dataset | PMF RMSE | plain ALS RMSE | MT−encoder | MT−decoder | MT RMSE (p vs plain ALS) | "
             "n-gram ppl | LSTM ppl | GRU LM ppl | GCN-P ppl | MT-P ppl | MT-P tf-idf | shuffled-label acc (U / I / P) | wall (s) "
             "| MT decoder lr | MT prior folds | MT coupling λ | LSTM epochs | MT-P epochs | MT adversarial epochs "
             "| threads | measured |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, r in summary["datasets"].items():
        rating = {row["system"]: row for row in r["rating"]}
        text = {row["system"]: row for row in r["text"]}
        disc = r["discriminator"]
        acc = " / ".join(f"{disc[v]['shuffled_label_accuracy']:.3f}" for v in ("user", "item", "pair") if v in disc)
        lines.append(
            f"| {name} | {rating['PMF']['rmse']:.4f} | {rating['plain ALS']['rmse']:.4f} | "
            f"{rating['MT-encoder']['rmse']:.4f} | {rating['MT-decoder']['rmse']:.4f} | "
            f"{rating['MT']['rmse']:.4f} ({r['p_mt_vs_plain_als']:.3g}) | {perplexity_cell(text['N-gram'])} | "
            f"{perplexity_cell(text['LSTM'])} | {perplexity_cell(text['GRU LM']) if 'GRU LM' in text else '?'} | "
            f"{text['GCN-P']['perplexity']:.2f} | {text['MT-P']['perplexity']:.2f} | "
            f"{text['MT-P']['tfidf']:.4f} | {acc} | {r['wall_seconds']:.0f} | {r.get('decoder_lr', '?')} | "
            f"{r.get('prior_folds', '?')} | {r.get('coupling', '?')} | {epochs_of(text['LSTM'])} | "
            f"{epochs_of(text['MT-P'])} | {adversarial_span(r.get('mt_adversarial_epochs'))} | "
            f"{r.get('threads') or summary['threads']} | {r.get('date') or summary['date']} |")
    lines += ["", "## Checks of the issue's targets", ""]
    for name, checks in summary["checks"].items():
        rating = {row["system"]: row["rmse"] for row in summary["datasets"][name]["rating"]}
        delta = rating["MT"] - rating["plain ALS"]
        lines.append(f"- {name}: " + ", ".join(f"{k}: {'yes' if v else 'NO'}" for k, v in checks.items())
                     + f" (MT − plain ALS = {delta:+.5f} RMSE, paired t-test p = "
                     f"{summary['datasets'][name]['p_mt_vs_plain_als']:.3g})")
    seeds = summary.get("seed_checks")
    if seeds:
        lines += ["", f"## The same targets over training seeds {seeds['seeds']} (`mt_seeds.md`)", ""]
        for name, checks in seeds["datasets"].items():
            lines.append(f"- {name}: " + ", ".join(f"{k}: {v if isinstance(v, str) else ('yes' if v else 'NO')}"
                                                   for k, v in checks.items()))
    return "\n".join(lines) + "\n"


def epochs_of(row: dict) -> str:
    return epochs_cell(row["training"]) if "training" in row else "?"


def target_checks(r: dict) -> dict:
    """The issue's targets on one dataset. An RMSE "below" that a paired t-test cannot tell from
    chance (p ≥ 0.05) is reported as such rather than as a win."""
    rating = {row["system"]: row["rmse"] for row in r["rating"]}
    text = {row["system"]: row["perplexity"] for row in r["text"]}
    return {
        "MT RMSE < PMF": rating["MT"] < rating["PMF"],
        "MT RMSE < plain ALS": rating["MT"] < rating["plain ALS"],
        "MT RMSE < plain ALS with p < 0.05": rating["MT"] < rating["plain ALS"] and r["p_mt_vs_plain_als"] < 0.05,
        "MT-P ppl < LSTM": text["MT-P"] < text["LSTM"],
        "MT-P ppl < n-gram": text["MT-P"] < text["N-gram"],
        "a shuffled-label accuracy > 0.5": any(d["shuffled_label_accuracy"] > 0.5 for d in r["discriminator"].values()),
    }


def summary_row(result: dict) -> dict:
    """The part of one dataset's results (``run_mt_experiment``'s dict) the summary keeps, with the
    MT settings that changed between runs."""
    row = {k: result[k] for k in ("rating", "text", "discriminator", "wall_seconds", "seconds", "word_vectors",
                                  "sizes", "p_mt_vs_plain_als")}
    row["mt_adversarial_epochs"] = result.get("mt_adversarial_epochs")
    row["adversarial_from"] = result["config"].get("adversarial_from", 3)
    row["threads"] = result.get("torch_threads")  # None: a run from before it was recorded
    row["discriminator"] = {v: {k: x for k, x in d.items() if k != "learning_curve"}  # in the per-dataset JSON
                            for v, d in row["discriminator"].items()}
    config = result["config"]
    row.update(decoder_lr=config.get("decoder_lr") or config["lr"], prior_folds=config.get("prior_folds", 1),
               coupling=config["coupling"])
    return row


def dataset_order(name: str) -> int:
    return DATASETS.index(name) if name in DATASETS else len(DATASETS)


def per_dataset_rows(out: Path) -> dict:
    """Summary rows rebuilt from the per-dataset JSON files under ``out/mt/`` (the record of each dataset),
    each with the date of its measurement: its ``run.json``'s, else the one the summary gave it (or its own)."""
    summary = out / "mt.json"
    before = json.loads(summary.read_text(encoding="utf-8")) if summary.exists() else {}
    rows = {}
    for name in DATASETS:
        folder = out / "mt" / name
        if not (folder / "mt.json").exists():
            continue
        rows[name] = summary_row(json.loads((folder / "mt.json").read_text(encoding="utf-8")))
        run = folder / "run.json"
        kept = before.get("datasets", {}).get(name, {})
        rows[name]["date"] = (json.loads(run.read_text(encoding="utf-8"))["date"][:10] if run.exists()
                              else kept.get("date") or before.get("date"))
    return rows


def rewrite_reports(out: Path) -> str:
    """``--report-only``: every per-dataset report and the summary under ``out`` written again from
    their JSON files, training nothing. Returns the summary's markdown."""
    for name in DATASETS:
        if (out / "mt" / name / "mt.json").exists():
            rewrite_report(out / "mt" / name)
    summary = json.loads((out / "mt.json").read_text(encoding="utf-8"))
    rows = {**summary["datasets"], **per_dataset_rows(out)}  # runs on other datasets may be newer
    summary["datasets"] = {name: rows[name] for name in sorted(rows, key=dataset_order)}
    finish_summary(summary, out)
    (out / "mt.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    (out / "mt.md").write_text(summary_markdown(summary), encoding="utf-8")
    return summary_markdown(summary)


def finish_summary(summary: dict, out: Path) -> None:
    summary["checks"] = {name: target_checks(r) for name, r in summary["datasets"].items()}
    summary["seed_checks"] = seed_checks(out / "mt_seeds.json")


def seed_checks(path: Path) -> dict | None:
    """The targets judged over MT's training seeds (``benchmarks/mt_seeds.py``'s results), when
    they are there: the mean and every seed's run against plain ALS, MT-P's mean against the LSTM's."""
    if not path.exists():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    checks = {}
    for name, d in data["datasets"].items():
        n = len(d["runs"])
        checks[name] = {"MT mean RMSE < plain ALS": d["mt_rmse_mean"] < d["plain_als_rmse_mean"],
                        "MT RMSE < plain ALS on every seed": d["mt_below_plain_als"] == n,
                        "seeds with MT < plain ALS": f"{d['mt_below_plain_als']} of {n}",
                        "MT-P mean ppl < LSTM mean": d["mt_p_ppl_mean"] < d["lstm_ppl_mean"],
                        "measured": d.get("measured") or data["date"]}
    return {"seeds": data["seeds"], "date": data["date"], "datasets": checks}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--split", default="1")
    parser.add_argument("--datasets", nargs="*", default=DATASETS)
    parser.add_argument("--epochs", type=int, default=30,
                        help="MT's cap on epochs; its early stopping (patience 3) usually ends it sooner")
    parser.add_argument("--lm-seeds", type=int, default=3,
                        help="training runs (seeds) of the unconditional LSTM and GRU LMs; their rows give the mean")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--report-only", action="store_true",
                        help="rebuild the summary, checks and markdown from the per-dataset JSON files")
    args = parser.parse_args()
    if args.report_only:
        print(rewrite_reports(args.out))
        return
    torch.set_num_threads(args.threads)
    overrides = {"epochs": args.epochs}
    summary = {"split": args.split, "date": time.strftime("%Y-%m-%d"), "threads": args.threads,
               "machine": machine(), "provenance": provenance(),
               "config_overrides": overrides, "lm_seeds": args.lm_seeds, "datasets": {}, "checks": {}}
    # keep datasets measured by an earlier (or interrupted) run of this script
    summary["datasets"] = {k: v for k, v in per_dataset_rows(args.out).items() if k not in args.datasets}
    for name in args.datasets:
        folder = args.data / name
        split = load_split(folder, args.split)
        print(f"== {name}: {split.sizes()}", flush=True)
        result = run_mt_experiment(split, args.out / "mt" / name, MTConfig(**overrides), lm_seeds=args.lm_seeds,
                                   log=lambda msg: print(msg, flush=True), bundle_dir=mt_bundle_dir(name))
        (args.out / "mt" / name / "run.json").write_text(json.dumps(provenance(folder, [split]), indent=1),
                                                         encoding="utf-8")
        summary["datasets"][name] = {**summary_row(result), "date": summary["date"]}
    summary["datasets"] = {name: summary["datasets"][name] for name in sorted(summary["datasets"], key=dataset_order)}
    finish_summary(summary, args.out)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "mt.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    (args.out / "mt.md").write_text(summary_markdown(summary), encoding="utf-8")
    print(summary_markdown(summary))


if __name__ == "__main__":
    main()
