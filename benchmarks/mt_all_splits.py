"""The whole MT comparison on every fixed split of a dataset, as `whyrec experiment mt --splits all` runs it.

``mt_splits.py`` trains only MT and plain ALS on each split; this runs everything the paper
compares (PMF, plain ALS, MT−encoder, MT−decoder, MT; the text baselines; the discriminator
studies) on each split with the MT benchmark's settings (at most 30 epochs, seed 0) and sums it
up with :func:`whyrec.systems.mt_splits.combine_mt_runs`: every model's mean ± sd over the splits
and the corrected resampled t-test of its test MSEs against MT's. Per dataset it writes
``results/mt_all_splits/<dataset>/`` (each split in ``split-<name>/``, ``mt_splits.{md,json}``,
``splits.png``) and the whole in ``results/mt_all_splits.{json,md}``. Gift cards is the default:
the dataset on which MT's split-1 RMSE is not below plain ALS's.

    python benchmarks/mt_all_splits.py [--datasets amazon-gift-cards] [--splits 1 2 3 4 5] [--threads 1]

Finished splits (same settings) are read back from their folders, so an interrupted run resumes
at the split it was on (``--checkpoint`` keeps MT's epochs in between). ``--report-only`` trains
nothing: it writes every report of the datasets in ``results/mt_all_splits.json`` again from their
JSON files, as this version writes them (:func:`whyrec.systems.mt_splits.rewrite_splits_report`:
the numbers as measured, with what can be worked out from them, such as Holm's adjustment).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from whyrec.systems.mt_config import MTConfig
from whyrec.systems.mt_splits import rewrite_splits_report, run_mt_over_splits, splits_markdown

from shared_data import DATA, load_split, machine, provenance

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--datasets", nargs="+", default=["amazon-gift-cards"])
    parser.add_argument("--splits", nargs="+", default=["1", "2", "3", "4", "5"])
    parser.add_argument("--epochs", type=int, default=30, help="MT's cap on epochs, as in benchmarks/mt.py")
    parser.add_argument("--threads", type=int, default=1, help="torch threads of this process")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--checkpoint", type=Path, default=HERE / ".cache" / "mt_all_splits")
    parser.add_argument("--report-only", action="store_true",
                        help="write the reports again from the JSON files; train nothing")
    args = parser.parse_args()
    if args.report_only:
        rewrite_all(args.out)
        return
    torch.set_num_threads(args.threads)
    config = MTConfig(epochs=args.epochs)
    summary = {"date": time.strftime("%Y-%m-%d"), "machine": machine(), "threads": args.threads,
               "epochs": args.epochs, "datasets": {}}
    previous = args.out / "mt_all_splits.json"
    if previous.exists():  # other datasets' earlier runs are kept
        summary["datasets"] = json.loads(previous.read_text(encoding="utf-8"))["datasets"]
    for name in args.datasets:
        splits = [load_split(args.data / name, s) for s in args.splits]
        start = time.perf_counter()
        result = run_mt_over_splits(splits, args.out / "mt_all_splits" / name, config, resume=True,
                                    checkpoint_dir=args.checkpoint / name, log=lambda m: print(m, flush=True))
        result.update(date=summary["date"], machine=summary["machine"], threads=args.threads,
                      this_run_seconds=time.perf_counter() - start, provenance=provenance(args.data / name, splits))
        summary["datasets"][name] = result
    previous.write_text(json.dumps(summary, indent=1), encoding="utf-8")
    report = markdown(summary)
    (args.out / "mt_all_splits.md").write_text(report, encoding="utf-8")
    print(report)


def rewrite_all(out: Path) -> None:
    """Every dataset's reports under ``out/mt_all_splits/`` and the whole, written again from their JSON."""
    path = out / "mt_all_splits.json"
    summary = json.loads(path.read_text(encoding="utf-8"))
    for name, result in summary["datasets"].items():  # this file keeps its own copy of each dataset's summary
        rewritten = rewrite_splits_report(out / "mt_all_splits" / name)
        result.update(rating=rewritten["rating"], word_vectors=rewritten["word_vectors"])
    path.write_text(json.dumps(summary, indent=1), encoding="utf-8")
    (out / "mt_all_splits.md").write_text(markdown(summary), encoding="utf-8")
    print(markdown(summary))


def markdown(summary: dict) -> str:
    lines = ["# The whole MT comparison on every fixed split", "",
             f"`whyrec experiment mt --splits` (`whyrec.systems.mt_splits`) with the MT benchmark's settings "
             f"(at most {summary['epochs']} epochs, early stopping, seed 0; LSTM/GRU LM one seed per split). "
             "Each dataset's section says when and where it was measured; its splits' own tables are in "
             "`results/mt_all_splits/<dataset>/split-<name>/`.", ""]
    for name, result in summary["datasets"].items():
        body = splits_markdown(result).split("\n", 1)[1]  # the dataset's heading is written here
        lines += [f"## {name}", "",
                  f"Measured {result['date']}, {result['machine']}, {result['threads']} torch thread(s).",
                  body.replace("\n## ", "\n### ")]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
