"""MMI over seeds, for MT-P: are the differences between MMI's variants larger than the spread
between runs that differ only in MMI's seed?

``benchmarks/alignment.py`` runs each MMI variant of MT-P once, with seed 0. This script runs the
four recorded MT-P variants (MMI(rating); with rating input; with rating input and estimator
replay; and with c_KL 0.5) with several MMI seeds. ``MMIConfig.seed`` seeds the explainer's
sampled explanations, the estimators' initialisation, the batch permutations and the replay
draws. Every run starts from the same MT bundle, reads the same reward encoders and is scored as
``alignment.py`` scores it. Per variant the report gives the change in 5-class sentiment accuracy
per seed, its mean ± sd and the 95% t-interval of the mean, and the changes in I(R;E)/H(R) and
USR. Seed 0 is run again and compared with ``alignment.json``'s row when that row has the same
thread count and was measured before the run.

    python benchmarks/mmi_seeds.py [--datasets amazon-magazine-subscriptions] [--seeds 0 1 2] [--threads 1]

Needs the MT bundle ``benchmarks/.cache/<dataset>/`` (written by ``benchmarks/mt.py``). Seeds and
variants may run in separate processes: each run writes
``results/mmi_seeds/<dataset>/<variant>-seed<N>.json`` (a run whose file is there is skipped), and
``--report-only`` rebuilds ``results/mmi_seeds.{json,md}`` from those files. The recorded runs
(2026-12-04), two processes at a time (``--train-mt`` had trained the musical instruments and gift
cards bundles before):

    python benchmarks/mmi_seeds.py --seeds 0 1 2 3 4
    python benchmarks/mmi_seeds.py --datasets amazon-gift-cards --seeds 0 1 2 3 4
    python benchmarks/mmi_seeds.py --datasets amazon-musical-instruments --seeds 0 1 2
    python benchmarks/mmi_seeds.py --datasets amazon-musical-instruments --seeds 3 4

and later that day digital music, two processes each running two commands in turn:

    python benchmarks/mmi_seeds.py --datasets amazon-digital-music --seeds 0 1
    python benchmarks/mmi_seeds.py --datasets amazon-digital-music --seeds 4 --variants plain rating-input
    python benchmarks/mmi_seeds.py --datasets amazon-digital-music --seeds 2 3
    python benchmarks/mmi_seeds.py --datasets amazon-digital-music --seeds 4 --variants rating-input-replay \\
        rating-input-replay-kl0.5

``--reward-seeds`` and ``--reward-members`` vary the classifier under the rating reward instead
(``RatingTunedEncoder``'s seed and ensemble size; MMI's is one classifier of seed 0); the report's
last section compares runs that differ only in that seed. Recorded 2026-12-04 (checkout 8b1258c,
two processes at a time beside ``reward_encoder.py``; the first command's run of classifier seed 0
went to another folder and gave the recorded run's scores to the last digit):

    python benchmarks/mmi_seeds.py --datasets amazon-musical-instruments --variants rating-input-replay \\
        --seeds 0 --reward-members 1 --reward-seeds 0 1 2 3 4
    python benchmarks/mmi_seeds.py --datasets amazon-musical-instruments --variants rating-input-replay \\
        --seeds 0 --reward-members 5 --reward-seeds 0 1 2 3 4

and then digital music's (checkout 907d42e, two processes at a time, the CI suite on the same
cores for the first half hour; classifier seed 0 of one classifier is the recorded run):

    python benchmarks/mmi_seeds.py --datasets amazon-digital-music --variants rating-input-replay \\
        --seeds 0 --reward-members 1 --reward-seeds 1 2 3 4
    python benchmarks/mmi_seeds.py --datasets amazon-digital-music --variants rating-input-replay \\
        --seeds 0 --reward-members 5 --reward-seeds 0 1 2 3 4
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from scipy import stats

from whyrec.align.mmi import MMIConfig
from whyrec.bundle import load_bundle
from whyrec.explain.interface import GRUExplainer
from whyrec.metrics.rating import rmse
from whyrec.strict_json import strict_dumps
from whyrec.systems.mt import MTConfig, MultiTask

from alignment import ScoringSetting, arguments, make_encoder, mmi_config, reward_encoders_with_accuracy, run_variant, \
    tuned_row
from shared_data import (DATA, RESULTS, bundle_settings_match, keep_measured, machine, measured_on,
                         mt_benchmark_result, mt_bundle_dir, provenance, recorded_argument, recorded_mt_rmse,
                         recorded_threads, reported_text, threads_text)

# name → (rating input, estimator replay, c_KL): alignment.py's recorded MT-P runs
VARIANTS = {"plain": (False, 0.0, MMIConfig.kl_weight), "rating-input": (True, 0.0, MMIConfig.kl_weight),
            "rating-input-replay": (True, 1.0, MMIConfig.kl_weight), "rating-input-replay-kl0.5": (True, 1.0, 0.5)}
# what each run file keeps of a scored row (the backbone's and the tuned system's)
SCORES = ("rmse", "acc5", "acc3", "base5", "mi_over_h", "mi_feature", "bleu1", "rougeL", "usr", "div", "fmr")


def row_name(variant: str) -> str:
    """alignment.py's row name of a variant: "MT-P + MMI(rating) with rating input", ..."""
    rating_input, replay, kl_weight = VARIANTS[variant]
    return "MT-P + MMI(rating)" + run_variant(rating_input, replay, kl_weight)


class Reward(NamedTuple):
    """The rating reward's classifier: ``RatingTunedEncoder(members=..., seed=...)``."""
    members: int = 1
    seed: int = 0


def run_path(runs_dir: Path, dataset: str, variant: str, seed: int, reward: Reward = Reward()) -> Path:
    """``<dataset>/<variant>-seed<N>.json``; with another classifier than MMI's (one, seed 0), in
    ``<dataset>/reward-<members>x<seed>/``."""
    folder = runs_dir / dataset
    if reward != Reward():
        folder = folder / f"reward-{reward.members}x{reward.seed}"
    return folder / f"{variant}-seed{seed}.json"


def mt_bundle(name: str, split, features, args):
    """The MT benchmark's MT of ``name`` (``benchmarks/.cache/<dataset>/``), refused when the MT
    benchmark's recorded run of it has other settings (a bundle trained by hand, or the 10-epoch MT
    that ``serve.py`` trained there before it had a folder of its own). With ``--train-mt`` a
    missing one is trained as ``benchmarks/mt.py`` trains it (its settings, seed 0) and saved
    there, and its test RMSE is checked against the recorded one."""
    bundle = mt_bundle_dir(name)
    recorded = mt_benchmark_result(args.recorded, name)
    if (bundle / "bundle.json").exists():
        if recorded is not None and not bundle_settings_match(bundle, recorded["config"]):
            raise SystemExit(f"the MT bundle in {bundle} was not trained with the settings of the MT benchmark's "
                             f"recorded run of {name}: move it away and give --train-mt, or run benchmarks/mt.py "
                             f"--datasets {name}")
        return load_bundle(bundle)
    if not args.train_mt:
        raise SystemExit(f"no MT bundle in {bundle}: run benchmarks/mt.py --datasets {name} first, or give --train-mt")
    if recorded is None:
        raise SystemExit(f"--train-mt: no recorded MT benchmark run of {name} under {args.recorded} to check it with")
    began = time.perf_counter()
    mt = MultiTask(MTConfig.from_dict(recorded["config"])).fit(split.train, split.valid, features)
    got = rmse(mt.predict_corpus(split.test), split.test.ratings)
    want = recorded_mt_rmse(recorded)
    print(f"   MT trained in {time.perf_counter() - began:.0f}s: test RMSE {got!r}, recorded {want!r}", flush=True)
    if got != want:
        raise SystemExit(f"{name}: the retrained MT does not reproduce the MT benchmark's ({got!r} against {want!r}); "
                         f"is --threads that of its run ({recorded_threads(args.recorded)})?")
    mt.save(bundle)
    return mt


def run_dataset(name: str, args, runs_dir: Path) -> None:
    """Every (reward classifier, variant, seed) of ``name`` whose run file is not there yet."""
    rewards = [Reward(args.reward_members, s) for s in args.reward_seeds]
    todo = [(r, v, s) for r in rewards for v in args.variants for s in args.seeds
            if not run_path(runs_dir, name, v, s, r).exists()]
    if not todo:
        print(f"== {name}: every run is there", flush=True)
        return
    setting = ScoringSetting.of(name, args.mmi)
    split = setting.split
    mt = mt_bundle(name, split, setting.features, args)
    encoder = make_encoder(args.mmi.encoder, mt.vocab)
    before = setting.evaluate(GRUExplainer.from_mt(mt, "pair"), mt, encoder)
    untuned = before.pop("_outputs")
    for reward in dict.fromkeys(r for r, _, _ in todo):
        rewards_read, tuned_on_reviews = reward_encoders_with_accuracy(args.mmi.reward_encoder, encoder, split.train,
                                                                       split.test, *reward)
        print(f"   rating-tuned reward encoder {reward} on test reviews: {tuned_on_reviews}", flush=True)
        for variant, seed in [(v, s) for r, v, s in todo if r == reward]:
            rating_input, replay, kl_weight = VARIANTS[variant]
            config = replace(mmi_config(args.mmi, "rating", gru=True, seed=seed), estimator_replay=replay,
                             kl_weight=kl_weight)
            label = f"{row_name(variant)}, seed {seed}" + ("" if reward == Reward() else f", reward {reward}")
            after, _ = tuned_row(mt, split, setting.features, rewards_read, config, rating_input, label, args.mmi,
                                 lambda explainer, tuned: setting.evaluate(explainer, tuned, encoder, untuned))
            run = {"dataset": name, "variant": variant, "row": row_name(variant), "seed": seed,
                   "threads": torch.get_num_threads(), "backbone": {k: before[k] for k in SCORES},
                   "tuned": {k: after[k] for k in SCORES}, "changed": after["changed"],
                   "kept_epoch": after["mmi"]["selection"]["kept_epoch"], "mmi_seconds": after["mmi_seconds"],
                   "reward_encoder_on_test_reviews": tuned_on_reviews, "reward_classifier": reward._asdict(),
                   "mmi_config": config.__dict__, "provenance": provenance(args.data / name)}
            path = run_path(runs_dir, name, variant, seed, reward)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(strict_dumps(run, indent=1), encoding="utf-8")
            print(f"   {label}: sentiment accuracy {before['acc5']:.1f} → {after['acc5']:.1f}, kept epoch "
                  f"{run['kept_epoch']}, {after['mmi_seconds']:.0f}s", flush=True)


def spread(values: list[float]) -> dict:
    """Mean, sample sd and the 95% t-interval of the mean of ``values`` (sd and interval need two),
    and how many of them are above 0."""
    values = np.asarray(values, dtype=float)
    out = {"mean": float(values.mean()), "sd": None, "ci95": None, "above_zero": int((values > 0).sum()),
           "n": len(values)}
    if len(values) >= 2:
        interval = stats.t.interval(0.95, len(values) - 1, loc=out["mean"], scale=stats.sem(values))
        out.update(sd=float(values.std(ddof=1)), ci95=[float(end) for end in interval])
    return out


def recorded_seed_zero(alignment: dict, run: dict) -> tuple[dict, dict] | str:
    """alignment.json's rows of a seed-0 run and of its untuned MT-P; or why they are not compared:
    none at the run's thread count, or measured after the run (a re-measured row may come from
    other code; the run checked the row recorded when it ran)."""
    rows = alignment.get("datasets", {}).get(run["dataset"], {}).get("rows", {})
    row, backbone = rows.get(run["row"]), rows.get("MT-P")
    if row is None or backbone is None or row.get("threads") != run["threads"]:
        return "no row at these threads"
    measured = row.get("provenance", {}).get("date", "")
    if measured > run["provenance"]["date"]:
        return f"row re-measured after this run ({measured[:10]}): not compared"
    return row, backbone


def read_runs(runs_dir: Path) -> tuple[list[dict], list[dict]]:
    """The run files, each read once: those of MMI's own rating reward (``<dataset>/*-seed*.json``)
    and those of another reward classifier (``<dataset>/reward-*/*-seed*.json``)."""
    def read(pattern: str) -> list[dict]:
        return [json.loads(path.read_text(encoding="utf-8")) for path in sorted(runs_dir.glob(pattern))]

    return read("*/*-seed*.json"), read("*/reward-*/*-seed*.json")


def summarise(runs: list[dict], alignment_json: Path) -> dict:
    """Per dataset and variant: the changes from the backbone over seeds of ``runs`` (those of
    MMI's own rating reward)."""
    alignment = json.loads(alignment_json.read_text(encoding="utf-8")) if alignment_json.exists() else {}
    datasets: dict = {}
    for run in runs:
        datasets.setdefault(run["dataset"], {}).setdefault(run["variant"], []).append(run)
    summary = {"date": time.strftime("%Y-%m-%d"), "machine": machine(), "datasets": {}}
    for name, variants in datasets.items():
        starts = {json.dumps(run["backbone"], sort_keys=True) for runs in variants.values() for run in runs}
        if len(starts) > 1:  # the changes of runs from different MT-P bundles are not like for like
            raise SystemExit(f"{name}: the run files start from {len(starts)} different untuned MT-P scores; "
                             "remove the runs of the other bundle")
        rows = {}
        for variant in [v for v in VARIANTS if v in variants]:
            runs = sorted(variants[variant], key=lambda r: r["seed"])
            delta = {k: [r["tuned"][k] - r["backbone"][k] for r in runs] for k in ("acc5", "mi_over_h", "usr")}
            zero = next((r for r in runs if r["seed"] == 0), None)
            recorded = recorded_seed_zero(alignment, zero) if zero else "not run"
            compared = not isinstance(recorded, str)
            rows[variant] = {"row": runs[0]["row"], "seeds": [r["seed"] for r in runs], "delta_acc5": delta["acc5"],
                             "acc5": spread(delta["acc5"]), "mi_over_h": spread(delta["mi_over_h"]),
                             "usr": spread(delta["usr"]), "changed": [r["changed"] for r in runs],
                             "kept_epochs": [r["kept_epoch"] for r in runs],
                             "mmi_seconds": [r["mmi_seconds"] for r in runs], "threads": [r["threads"] for r in runs],
                             "measured": measured_on(runs),
                             "seed0_recorded_acc5": recorded[0]["acc5"] if compared else None,
                             "seed0_recorded_backbone_acc5": recorded[1]["acc5"] if compared else None,
                             "seed0_not_compared": None if compared else recorded,
                             "seed0_acc5": zero["tuned"]["acc5"] if zero else None}
        first = next(iter(variants.values()))[0]
        summary["datasets"][name] = {"backbone": first["backbone"], "rows": rows,
                                     "reward_encoder_on_test_reviews": first["reward_encoder_on_test_reviews"],
                                     "mmi_config": {k: v for k, v in first["mmi_config"].items()
                                                    if k not in ("seed", "estimator_replay", "kl_weight")}}
    return summary


def summarise_rewards(runs: list[dict]) -> dict:
    """Per dataset: the ``runs`` that differ only in the rating reward's classifier seed, grouped by
    (variant, members, MMI seed), when a group has two classifier seeds or more. A run without
    another classifier is (1 member, seed 0)."""
    groups: dict = {}
    for run in runs:
        reward = Reward(**run.get("reward_classifier", {}))
        key = (run["dataset"], run["variant"], reward.members, run["seed"])
        groups.setdefault(key, []).append((reward.seed, run))
    out: dict = {}
    for (name, variant, members, seed), runs in sorted(groups.items(), key=lambda kv: (
            kv[0][0], list(VARIANTS).index(kv[0][1]), kv[0][2], kv[0][3])):
        if len(runs) < 2:
            continue
        runs = [run for _, run in sorted(runs, key=lambda pair: pair[0])]
        delta = {k: [r["tuned"][k] - r["backbone"][k] for r in runs] for k in ("acc5", "mi_over_h")}
        out.setdefault(name, []).append({
            "row": runs[0]["row"], "variant": variant, "members": members, "mmi_seed": seed,
            "classifier_seeds": [r.get("reward_classifier", {}).get("seed", 0) for r in runs],
            "delta_acc5": delta["acc5"], "acc5": spread(delta["acc5"]), "mi_over_h": spread(delta["mi_over_h"]),
            "classifier_acc5": [r["reward_encoder_on_test_reviews"]["acc5"] for r in runs],
            "changed": [r["changed"] for r in runs], "kept_epochs": [r["kept_epoch"] for r in runs],
            "mmi_seconds": [r["mmi_seconds"] for r in runs], "threads": [r["threads"] for r in runs],
            "measured": measured_on(runs)})
    return out


def _mean_sd(s: dict, digits: int) -> str:
    """"+0.099 ± 0.036 (3 of 3 > 0)"."""
    sd = "" if s["sd"] is None else f" ± {s['sd']:.{digits}f}"
    return f"{s['mean']:+.{digits}f}{sd} ({s['above_zero']} of {s['n']} > 0)"


def _seed_zero_cell(row: dict, backbone: dict) -> str:
    """Did seed 0 give alignment.md's sentiment accuracy? When not, whether the untuned MT-P did."""
    if row["seed0_not_compared"] is not None:
        return row["seed0_not_compared"]
    if abs(row["seed0_acc5"] - row["seed0_recorded_acc5"]) < 1e-9:
        return "yes"
    start = row["seed0_recorded_backbone_acc5"]
    untuned = "the same" if abs(start - backbone["acc5"]) < 1e-9 else f"{start:.2f}"
    return f"no: {row['seed0_recorded_acc5']:.2f} there (untuned MT-P {untuned})"


def markdown(summary: dict) -> str:
    runs = [{"threads": t} for d in summary["datasets"].values() for r in d["rows"].values() for t in r["threads"]]
    out = ["# MMI over seeds (MT-P)", "",
           f"Split 1, {threads_text(runs)}, {summary['machine']}; rows measured on their *measured* date"
           f"{reported_text(summary)}. Each run fine-tunes MT-P of the MT benchmark's bundle with MMI(rating), "
           "alignment.py's settings, and one MMI seed (the explainer's draws, the estimators' start, the "
           "permutations). Δ: the tuned system's score minus the untuned MT-P's, on the test set. Sentiment "
           "accuracy: the tf-idf judge's 5-class reading of the greedy explanation against MT's predicted rating "
           "(%). The interval is the 95% t-interval of the mean Δ over the seeds.", ""]
    for name, result in summary["datasets"].items():
        b = result["backbone"]
        out += [f"## {name}", "",
                f"Untuned MT-P: sentiment accuracy {b['acc5']:.2f}% (base rate {b['base5']:.2f}%), I(R;E)/H(R) "
                f"{b['mi_over_h']:.3f}, USR {b['usr']:.3f}. Rating-tuned reward encoder on the test reviews: "
                f"{result['reward_encoder_on_test_reviews']['acc5']:.1f}%.", "",
                "| MT-P + | Δ sent. acc 5 per seed | mean ± sd | 95% interval | Δ I(R;E)/H(R) mean ± sd "
                "| Δ USR mean ± sd | changed per seed | kept epoch per seed | seed 0 as alignment.md | MMI s (mean) "
                "| measured |",
                "|---|---|---|---|---|---|---|---|---|---|---|"]
        for row in result["rows"].values():
            s = row["acc5"]
            interval = "—" if s["ci95"] is None else f"{s['ci95'][0]:+.1f} to {s['ci95'][1]:+.1f}"
            out.append(f"| {row['row'].removeprefix('MT-P + ')} | "
                       f"{' / '.join(f'{d:+.1f}' for d in row['delta_acc5'])} | {_mean_sd(s, 1)} | {interval} | "
                       f"{_mean_sd(row['mi_over_h'], 3)} | {_mean_sd(row['usr'], 3)} | "
                       f"{' / '.join(f'{c:.2f}' for c in row['changed'])} | "
                       f"{' / '.join(str(k) for k in row['kept_epochs'])} | {_seed_zero_cell(row, b)} | "
                       f"{np.mean(row['mmi_seconds']):.0f} | {row['measured']} |")
        out.append("")
    out += _reward_markdown(summary.get("reward_classifiers", {}))
    return "\n".join(out)


def _reward_markdown(by_dataset: dict) -> list[str]:
    """The section of the runs that differ only in the rating reward's classifier seed."""
    if not by_dataset:
        return []
    out = ["## The rating reward's classifier: its seed, one classifier or an ensemble", "",
           "Runs that differ only in the seed of the classifier under the rating reward (MMI's seed fixed). "
           "Classifier: one (MMI's default, `RatingTunedEncoder` of that seed) or an ensemble of M "
           "(`--reward-members M`: seeds seed·M to seed·M + M − 1, probabilities averaged; MINE reads the "
           "members' hidden units side by side). Its test accuracy: the classifier's own 5-class accuracy on the "
           "test reviews.", "",
           "| dataset | MT-P + | classifier | MMI seed | Δ sent. acc 5 per classifier seed | mean ± sd | "
           "95% interval | its test accuracy per seed | Δ I(R;E)/H(R) mean ± sd | changed per seed | measured |",
           "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, rows in by_dataset.items():
        for row in rows:
            s = row["acc5"]
            interval = "—" if s["ci95"] is None else f"{s['ci95'][0]:+.1f} to {s['ci95'][1]:+.1f}"
            kind = "one" if row["members"] == 1 else f"ensemble of {row['members']}"
            out.append(f"| {name} | {row['row'].removeprefix('MT-P + ')} | {kind} (seeds "
                       f"{', '.join(map(str, row['classifier_seeds']))}) | {row['mmi_seed']} | "
                       f"{' / '.join(f'{d:+.1f}' for d in row['delta_acc5'])} | {_mean_sd(s, 1)} | {interval} | "
                       f"{' / '.join(f'{a:.1f}' for a in row['classifier_acc5'])} | "
                       f"{_mean_sd(row['mi_over_h'], 3)} | {' / '.join(f'{c:.2f}' for c in row['changed'])} | "
                       f"{row['measured']} |")
    return out + [""] + _ensemble_against_one(by_dataset)


def _ensemble_against_one(by_dataset: dict) -> list[str]:
    """Per (dataset, variant, MMI seed) with runs of one classifier and of an ensemble: the difference
    of their mean Δ sentiment accuracy and Welch's t-test of it (two-sided)."""
    lines = []
    for name, rows in by_dataset.items():
        for one in (r for r in rows if r["members"] == 1):
            for ensemble in (r for r in rows if r["members"] > 1 and r["variant"] == one["variant"]
                             and r["mmi_seed"] == one["mmi_seed"]):
                test = stats.ttest_ind(ensemble["delta_acc5"], one["delta_acc5"], equal_var=False)
                lines.append(f"- {name}, {one['row'].removeprefix('MT-P + ')}, MMI seed {one['mmi_seed']}: the "
                             f"ensemble of {ensemble['members']} minus one classifier, "
                             f"{ensemble['acc5']['mean'] - one['acc5']['mean']:+.1f} points of Δ sentiment accuracy "
                             f"(Welch's t-test p = {test.pvalue:.2f}); sd over the classifier seeds "
                             f"{ensemble['acc5']['sd']:.1f} against {one['acc5']['sd']:.1f}.")
    return lines + [""] if lines else []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--datasets", nargs="*", default=["amazon-magazine-subscriptions"])
    parser.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2])
    parser.add_argument("--variants", nargs="*", choices=list(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--threads", type=int, default=1, help="torch threads (alignment.py's MT-P rows: 1)")
    parser.add_argument("--reward-seeds", nargs="+", type=int, default=[0],
                        help="seeds of the rating reward's classifier (MMI's: 0); runs of another classifier than "
                             "(1 member, seed 0) go to mmi_seeds/<dataset>/reward-<members>x<seed>/")
    parser.add_argument("--reward-members", type=int, default=1,
                        help="classifiers in the rating reward's encoder (RatingTunedEncoder(members=...))")
    parser.add_argument("--out", type=Path, default=RESULTS)
    recorded_argument(parser)  # also the alignment.json seed 0 is compared with
    parser.add_argument("--train-mt", action="store_true",
                        help="train a missing MT bundle as benchmarks/mt.py does (checked against its recorded RMSE)")
    parser.add_argument("--report-only", action="store_true", help="rebuild the summary from the run files")
    args = parser.parse_args()
    if args.reward_members < 1:
        parser.error("--reward-members must be at least 1")
    runs_dir = args.out / "mmi_seeds"
    if not args.report_only:
        torch.set_num_threads(args.threads)
        args.mmi = arguments().parse_args([])  # alignment.py's settings, at their defaults
        args.mmi.data = args.data
        for name in args.datasets:
            run_dataset(name, args, runs_dir)
    own_reward, other_rewards = read_runs(runs_dir)
    summary = keep_measured(summarise(own_reward, args.recorded / "alignment.json"), args.out / "mmi_seeds.json",
                            args.report_only)
    summary["reward_classifiers"] = summarise_rewards(own_reward + other_rewards)
    summary["provenance"] = provenance()
    (args.out / "mmi_seeds.json").write_text(strict_dumps(summary, indent=1), encoding="utf-8")
    (args.out / "mmi_seeds.md").write_text(markdown(summary), encoding="utf-8")
    print(markdown(summary))


if __name__ == "__main__":
    main()
