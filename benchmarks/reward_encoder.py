"""Reward encoder benchmark: how steady is the classifier under MMI's rating-tuned reward encoder?

MMI's rating reward reads :class:`whyrec.explain.sentence.RatingTunedEncoder`: a tanh layer over
frozen all-MiniLM-L6-v2 vectors, trained full-batch with Adam as a 5-class rating classifier of
the train reviews (class-balanced). ``alignment.py`` records its accuracy on the test reviews;
on digital music that accuracy moved by 8 points between 1 and 2 torch threads. This script
asks where such a move comes from. Per dataset (split 1) and torch thread count it encodes the
train and test reviews once, as ``alignment.py`` does, then trains the classifier with each
seed of ``--seeds`` and each epoch count of ``--epochs`` and records:

- its 5- and 3-class accuracy on the train and on the test reviews (mean ± sd over the seeds);
- the share of test reviews whose class differs between two seeds (each pair of seeds), at one
  thread count: the spread that training alone brings;
- the share of test reviews whose class differs between the thread counts, at the same seed and
  epochs: what the thread count alone changes;
- the largest absolute difference between the MiniLM vectors the thread counts give.

    python benchmarks/reward_encoder.py [--datasets ...] [--seeds 0 1 2 3 4] [--epochs 100 300 1000] [--threads 1 2]
        [--members 1] [--stem reward_encoder]

The classifier's defaults (64 hidden units, 300 epochs, lr 1e-2, weight decay 1e-4, balanced) are
MMI's; ``--epochs`` varies the one setting. ``--members`` makes each seed's classifier an
ensemble of M (``RatingTunedEncoder(members=M)``, ``whyrec align --reward-members M``); its seed
disagreement then compares ensembles that share no member. Results: reward_encoder.{json,md}
(recorded 2026-12-04 with the defaults) and reward_ensemble.{json,md}, recorded with
``--epochs 300 --members 1 3 5 --stem reward_ensemble``, in benchmarks/results. Needs
``whyrec[mmi]`` (sentence-transformers' MiniLM).
"""

from __future__ import annotations

import argparse
import inspect
import itertools
import json
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

from whyrec.align.pipeline import sentence_encoder
from whyrec.data.scale import five_point
from whyrec.explain.sentence import RatingTunedEncoder
from whyrec.metrics.alignment import sentiment_accuracy, sentiment_base_rate
from whyrec.strict_json import strict_dumps

from shared_data import DATA, DATASETS, load_split, machine, provenance

HERE = Path(__file__).resolve().parent
MMI_EPOCHS = inspect.signature(RatingTunedEncoder).parameters["epochs"].default  # what MMI trains it for


class Encoded(NamedTuple):
    """The MiniLM encoder of one thread count and its vectors of the train and the test reviews."""
    encoder: object
    train: torch.Tensor
    test: torch.Tensor
    seconds: float


def encode_reviews(split, threads: int) -> Encoded:
    """The reviews encoded at ``threads`` torch threads as ``alignment.py`` encodes them (one
    memoised encoder, train reviews first)."""
    torch.set_num_threads(threads)
    encoder = sentence_encoder("minilm")  # a fresh memo: nothing carried over from another thread count
    began = time.perf_counter()
    train = encoder.encode(list(split.train.texts))
    test = encoder.encode(list(split.test.texts))
    return Encoded(encoder, train, test, time.perf_counter() - began)


def classifier_runs(split, encoded: Encoded, threads: int, seeds: list[int], epochs: int,
                    members: int = 1) -> list[dict]:
    """One trained classifier (an ensemble of ``members``) per seed: its classes of the test
    reviews and its accuracies."""
    torch.set_num_threads(threads)
    ratings = five_point(split.train.ratings, split.train.rating_scale)
    test_ratings = five_point(split.test.ratings, split.test.rating_scale)
    texts = list(split.train.texts)
    runs = []
    for seed in seeds:
        began = time.perf_counter()
        tuned = RatingTunedEncoder(encoded.encoder, epochs=epochs, seed=seed, members=members).fit(
            texts, ratings, embedded=encoded.train)
        classes = tuned.classify(encoded.test)
        runs.append({"seed": seed, "classes": classes,
                     "train": sentiment_accuracy(tuned.classify(encoded.train), ratings),
                     "test": sentiment_accuracy(classes, test_ratings), "seconds": time.perf_counter() - began})
    return runs


def mean_sd(values: list[float]) -> dict:
    values = np.asarray(values, dtype=float)
    return {"mean": float(values.mean()), "sd": float(values.std(ddof=1)) if len(values) > 1 else None,
            "min": float(values.min()), "max": float(values.max())}


def disagreement(a: np.ndarray, b: np.ndarray) -> float:
    """Share (%) of reviews given different classes by two classifiers."""
    return 100.0 * float((np.asarray(a) != np.asarray(b)).mean())


def run_dataset(name: str, args) -> dict:
    split = load_split(args.data / name)
    encoded = {}
    for threads in args.threads:
        encoded[threads] = encode_reviews(split, threads)
        print(f"== {name}: encoded at {threads} thread(s) in {encoded[threads].seconds:.0f}s", flush=True)
    rows = []
    for epochs, members, threads in itertools.product(args.epochs, args.members, args.threads):
        runs = classifier_runs(split, encoded[threads], threads, args.seeds, epochs, members)
        pairs = [disagreement(a["classes"], b["classes"]) for a, b in itertools.combinations(runs, 2)]
        rows.append({"epochs": epochs, "members": members, "threads": threads, "seeds": args.seeds,
                     "per_seed": [{k: run[k] for k in ("seed", "train", "test", "seconds")} for run in runs],
                     "test_acc5": mean_sd([r["test"]["acc5"] for r in runs]),
                     "test_acc3": mean_sd([r["test"]["acc3"] for r in runs]),
                     "train_acc5": mean_sd([r["train"]["acc5"] for r in runs]),
                     "seed_disagreement": mean_sd(pairs) if pairs else None,
                     "_classes": {r["seed"]: r["classes"] for r in runs}})
        print(f"   {epochs} epochs, {members} member(s), {threads} thread(s): test 5-class "
              f"{rows[-1]['test_acc5']['mean']:.1f}%", flush=True)
    thread_changes = []
    for epochs, members in itertools.product(args.epochs, args.members):
        by_threads = {row["threads"]: row["_classes"] for row in rows
                      if row["epochs"] == epochs and row["members"] == members}
        for low, high in itertools.combinations(sorted(by_threads), 2):
            changes = [disagreement(by_threads[low][seed], by_threads[high][seed]) for seed in args.seeds]
            thread_changes.append({"epochs": epochs, "members": members, "threads": [low, high],
                                   "disagreement": mean_sd(changes)})
    vector_gap = {f"{low} vs {high}": max(float((encoded[low].train - encoded[high].train).abs().max()),
                                          float((encoded[low].test - encoded[high].test).abs().max()))
                  for low, high in itertools.combinations(sorted(encoded), 2)}
    for row in rows:
        row.pop("_classes")
    test_ratings = five_point(split.test.ratings, split.test.rating_scale)
    return {"train_reviews": len(split.train), "test_reviews": len(split.test),
            "test_base_rate": sentiment_base_rate(test_ratings),
            "encode_seconds": {threads: e.seconds for threads, e in encoded.items()},
            "vector_gap": vector_gap, "rows": rows, "thread_changes": thread_changes,
            "as_alignment": as_alignment(name, rows, args.recorded),
            "as_recorded": as_recorded(name, rows, args.recorded), "provenance": provenance(args.data / name)}


def as_alignment(name: str, rows: list[dict], results: Path) -> list[dict]:
    """Seed 0 at MMI's epochs (300) against the accuracy ``alignment.json`` recorded for the
    reward encoder at the same thread count (the same classifier, so the same number expected)."""
    path = results / "alignment.json"
    recorded = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    by_threads = recorded.get("datasets", {}).get(name, {}).get("reward_encoder_by_threads", {})
    checks = []
    for row in rows:
        zero = next((run for run in row["per_seed"] if run["seed"] == 0), None)
        if row["epochs"] == MMI_EPOCHS and row.get("members", 1) == 1 and zero and str(row["threads"]) in by_threads:
            checks.append({"threads": row["threads"], "here": zero["test"]["acc5"],
                           "alignment": by_threads[str(row["threads"])]["acc5"]})
    return checks


def as_recorded(name: str, rows: list[dict], results: Path) -> dict | None:
    """Whether the single classifiers here (``members`` 1) score, seed by seed, what the recorded
    ``reward_encoder.json`` gives at the same epochs and thread count: {"compared": classifiers
    compared, "equal": how many scored the same test accuracy}; None when nothing compares."""
    path = results / "reward_encoder.json"
    recorded = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    before = {(row["epochs"], row["threads"], run["seed"]): run["test"]["acc5"]
              for row in recorded.get("datasets", {}).get(name, {}).get("rows", []) if row.get("members", 1) == 1
              for run in row["per_seed"]}
    pairs = [(run["test"]["acc5"], before[(row["epochs"], row["threads"], run["seed"])])
             for row in rows if row["members"] == 1 for run in row["per_seed"]
             if (row["epochs"], row["threads"], run["seed"]) in before]
    return {"compared": len(pairs), "equal": sum(here == there for here, there in pairs)} if pairs else None


def _cell(s: dict, digits: int = 1) -> str:
    sd = "" if s["sd"] is None else f" ± {s['sd']:.{digits}f}"
    return f"{s['mean']:.{digits}f}{sd} ({s['min']:.{digits}f}–{s['max']:.{digits}f})"


def _alignment_text(result: dict) -> str:
    """" Seed 0 at 300 epochs against alignment.md's reward encoder: 1 thread(s) 52.72% (recorded
    52.72%), ...": the check of :func:`as_alignment`, or nothing when there was none."""
    checks = [f"{c['threads']} thread(s) {c['here']:.2f}% (recorded {c['alignment']:.2f}%)"
              for c in result.get("as_alignment", [])]
    text = f" Seed 0 at {MMI_EPOCHS} epochs against alignment.md's reward encoder: {', '.join(checks)}."
    return text if checks else ""


def _ensembles(results: dict) -> bool:
    return any(row.get("members", 1) > 1 for r in results["datasets"].values() for row in r["rows"])


def _recorded_text(result: dict) -> str:
    """" The single classifiers against reward_encoder.json: 20 of 20 score the same.": the check of
    :func:`as_recorded`, or nothing when there was none."""
    check = result.get("as_recorded")
    return (f" The single classifiers against reward_encoder.json (same seed, epochs and threads): {check['equal']} "
            f"of {check['compared']} score the same test accuracy." if check else "")


def markdown(results: dict) -> str:
    ensembles = _ensembles(results)  # a members column only when some row is an ensemble
    member_text = (" Members: 1 is one classifier of the seed; M > 1 an ensemble of M (seeds seed·M to seed·M + M − 1, "
                   "so no two seeds share a member) whose class has the highest averaged probability; seed "
                   "disagreement then compares two ensembles." if ensembles else "")
    out = ["# Rating-tuned reward encoder: steadiness", "",
           f"The classifier under MMI's rating-tuned reward encoder (64 tanh units over all-MiniLM-L6-v2, "
           f"full-batch Adam, lr 1e-2, class-balanced), trained on the train reviews of split 1 with seeds "
           f"{results['seeds']}, read on the test reviews. Accuracy: the share (%) of reviews whose predicted "
           f"class is their rating's, mean ± sd over the seeds (min–max). Seed disagreement: the share of test "
           f"reviews two seeds' classifiers class differently, over every pair of seeds. Thread change: the share "
           f"that changes class between the thread counts at the same seed.{member_text} {results['machine']}. "
           f"Measured {results['date']}.", ""]
    members_head, members_rule = ("members | ", "---|") if ensembles else ("", "")
    for name, result in results["datasets"].items():
        base = result["test_base_rate"]
        gaps = ", ".join(f"{k} threads {v:.1e}" for k, v in result["vector_gap"].items())
        out += [f"## {name}", "",
                f"{result['train_reviews']} train and {result['test_reviews']} test reviews; the commonest test "
                f"class alone scores {base['acc5']:.1f}% (5 classes), {base['acc3']:.1f}% (3). Largest difference "
                f"between the MiniLM vectors: {gaps or 'one thread count'}.{_alignment_text(result)}"
                f"{_recorded_text(result)}", "",
                f"| epochs | {members_head}threads | train acc 5 | test acc 5 | test acc 3 "
                "| seed disagreement (test) |",
                f"|---|{members_rule}---|---|---|---|---|"]
        for row in result["rows"]:
            seeds = "—" if row["seed_disagreement"] is None else _cell(row["seed_disagreement"])
            members = f"{row.get('members', 1)} | " if ensembles else ""
            out.append(f"| {row['epochs']} | {members}{row['threads']} | {_cell(row['train_acc5'])} "
                       f"| {_cell(row['test_acc5'])} | {_cell(row['test_acc3'])} | {seeds} |")
        if result["thread_changes"]:
            out += ["", f"| epochs | {members_head}threads | test reviews changing class, mean over seeds (min–max) |",
                    f"|---|{members_rule}---|---|"]
            for change in result["thread_changes"]:
                members = f"{change.get('members', 1)} | " if ensembles else ""
                out.append(f"| {change['epochs']} | {members}{' vs '.join(map(str, change['threads']))} "
                           f"| {_cell(change['disagreement'])} |")
        out.append("")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--datasets", nargs="*", default=DATASETS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--epochs", nargs="+", type=int, default=[100, 300, 1000])
    parser.add_argument("--members", nargs="+", type=int, default=[1],
                        help="classifiers per ensemble (1: one classifier, as MMI trains by default)")
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--recorded", type=Path, default=HERE / "results",
                        help="the results folder whose alignment.json (seed 0) and reward_encoder.json (single "
                        "classifiers) are compared with")
    parser.add_argument("--stem", default="reward_encoder",
                        help="the results' file name without .json/.md (reward_ensemble: the ensembles' run)")
    parser.add_argument("--report-only", action="store_true", help="rewrite the markdown from the JSON")
    args = parser.parse_args()
    if min(args.epochs) < 1 or min(args.threads) < 1 or min(args.members) < 1:
        parser.error("epochs, members and threads must be positive")
    path = args.out / f"{args.stem}.json"
    if args.report_only:
        results = json.loads(path.read_text(encoding="utf-8"))
    else:
        results = {"date": time.strftime("%Y-%m-%d"), "machine": machine(), "seeds": args.seeds,
                   "datasets": {name: run_dataset(name, args) for name in args.datasets}, "provenance": provenance()}
        args.out.mkdir(parents=True, exist_ok=True)
        path.write_text(strict_dumps(results, indent=1), encoding="utf-8")
    (args.out / f"{args.stem}.md").write_text(markdown(results), encoding="utf-8")
    print(markdown(results))


if __name__ == "__main__":
    main()
