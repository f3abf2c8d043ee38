"""MT's test RMSE by the user's number of training ratings: do the text priors help the users who
have rated little, as the MT paper's motivation says review text should?

For each shared dataset (split 1), the MT of ``benchmarks/mt.py`` (its settings, seed 0) is
scored beside PMF and plain ALS (the same λ, K and sweeps, as in that benchmark) on the test
records grouped by their user's number of training ratings (``whyrec.metrics.rating``: 1–2, 3–5,
6–10, 11–20, 21+; the fixed splits have no new users), with a paired t-test of MT's squared
errors against plain ALS's in each group. An MT bundle with the benchmark's settings is reused
when one is there (``.cache/<dataset>``, which ``mt.py`` leaves, or ``.cache/mt-activity/<dataset>``,
which this script leaves); otherwise MT is trained. Each dataset's MT RMSE over all test records is
set beside the one ``mt.py`` recorded (``results/mt/<dataset>/mt.json``): seeded MT gives the same
numbers on one machine, but training on another can end slightly elsewhere (on 2026-12-01 digital
music, retrained here, gave 0.7345 against 0.7340 recorded; on 2026-12-03, reading the bundles
``mt.py`` left, all four matched).
Writes ``results/mt_activity.{json,md}``.

    python benchmarks/mt_activity.py [--datasets ...] [--threads 1]

Datasets may run in separate processes; ``--report-only`` rebuilds the summary from the
per-dataset files ``results/mt_activity/<dataset>.json``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from whyrec.bundle import load_bundle
from whyrec.experiment import activity_groups_of
from whyrec.metrics.rating import paired_p_by_group, rmse
from whyrec.metrics.significance import holm_by_test
from whyrec.results_table import HOLM_LEVEL, holm_note
from whyrec.rating.als import PMF
from whyrec.systems.mt import MTConfig, MultiTask
from whyrec.systems.mt_experiment import baseline_als_settings, plain_als_like, rating_by_activity

from shared_data import (CACHE, DATASETS, bundle_settings_match, load_split, machine, mt_benchmark_result,
                         mt_bundle_dir, mt_rerun_setup, provenance, recorded_mt_rmse, split_features)

HERE = Path(__file__).resolve().parent


def trained_mt(name: str, split, config: MTConfig) -> tuple[MultiTask, str]:
    """The benchmark's MT on ``split``: a saved one with ``config`` when there is one, else trained
    (and saved under .cache/mt-activity/). Returns it and where it came from."""
    for folder in (mt_bundle_dir(name), CACHE / "mt-activity" / name):
        if bundle_settings_match(folder, config.to_dict()):
            return load_bundle(folder), f"bundle {folder.relative_to(HERE)}"
    start = time.perf_counter()
    mt = MultiTask(config).fit(split.train, split.valid, split_features(split))
    mt.save(CACHE / "mt-activity" / name)
    return mt, f"trained here in {time.perf_counter() - start:.0f} s"


def _source_text(source: str) -> str:
    """Where a dataset's MT came from, as a sentence reads it: "from bundle …" or "trained here in …"."""
    return source if source.startswith("trained") else f"from {source}"


def run_dataset(name: str, split, config: MTConfig, results: Path) -> dict:
    mt, source = trained_mt(name, split, config)
    models = {"PMF": PMF(**baseline_als_settings(mt)).fit(split.train),
              "plain ALS": plain_als_like(mt).fit(split.train), "MT": mt}
    groups = activity_groups_of(split)
    errors = {k: (m.predict_corpus(split.test) - split.test.ratings) ** 2 for k, m in models.items()}
    p_values = paired_p_by_group(errors["MT"], errors["plain ALS"], groups)
    recorded_rmse = recorded_mt_rmse(mt_benchmark_result(results, name))
    return {"date": time.strftime("%Y-%m-%d"), "mt_source": source, "test_records": len(split.test),
            "rmse": {k: rmse(m.predict_corpus(split.test), split.test.ratings) for k, m in models.items()},
            "mt_rmse_recorded_by_mt_py": recorded_rmse, "by_activity": rating_by_activity(split, models),
            "p_mt_vs_plain_als": p_values}


def markdown(summary: dict) -> str:
    lines = ["# MT's test RMSE by the user's number of training ratings", "",
             f"Split 1 of each shared dataset, MT settings {json.dumps(summary['config_overrides'])} (those of "
             f"`mt.py`, seed 0), {summary['machine']}. Test records grouped by their "
             "user's number of ratings in the train part (the fixed splits have no new users); n: test records; "
             "p: paired t-test of MT's squared errors against plain ALS's in the group. Bold: the lowest RMSE of "
             "the group. Few records per group: read the p-values before the differences.", ""]
    for name, r in summary["datasets"].items():
        groups = list(r["by_activity"]["MT"])
        lines += [f"## {name}", "",
                  f"Measured {r['date']}; MT {_source_text(r['mt_source'])}; all test records: MT {r['rmse']['MT']:.4f} "
                  "(mt.py recorded "
                  f"{_number(r['mt_rmse_recorded_by_mt_py'])}{_differs(r)}), plain ALS {r['rmse']['plain ALS']:.4f}, "
                  f"PMF {r['rmse']['PMF']:.4f}.", "",
                  "| system | " + " | ".join(f"{g} (n={r['by_activity']['MT'][g]['count']:,})" for g in groups) + " |",
                  "|---|" + "---|" * len(groups)]
        for system, by_group in r["by_activity"].items():
            cells = []
            for g in groups:
                value = by_group[g]["rmse"]
                lowest = min(r["by_activity"][s][g]["rmse"] for s in r["by_activity"])
                cells.append(f"**{value:.4f}**" if value == lowest else f"{value:.4f}")
            lines.append(f"| {system} | " + " | ".join(cells) + " |")
        lines.append("| p (MT vs plain ALS) | " + " | ".join(_number(r["p_mt_vs_plain_als"][g], ".3g") for g in groups)
                     + " |")
        together = holm_note([("", _tested(r))], lambda group: f"{group} ratings",
                             family="the dataset's {count} p-values, one per group")
        lines += ["", together] if together else []
        lines.append("")
    lines += ["## Groups where MT is below plain ALS", ""]
    for name, r in summary["datasets"].items():
        below = [g for g in r["by_activity"]["MT"]
                 if r["by_activity"]["MT"][g]["rmse"] < r["by_activity"]["plain ALS"][g]["rmse"]]
        significant = [g for g in below if (r["p_mt_vs_plain_als"][g] or 1) < 0.05]
        adjusted = holm_by_test([_tested(r)])[0]
        kept = [g for g in significant if adjusted[g] <= HOLM_LEVEL]
        lines.append(f"- {name}: {len(below)} of {len(r['by_activity']['MT'])} groups ({', '.join(below) or 'none'}); "
                     f"with p < 0.05: {', '.join(significant) or 'none'}; with Holm's adjusted p ≤ {HOLM_LEVEL} over "
                     f"the dataset's {len(adjusted)} groups: {', '.join(kept) or 'none'}")
    return "\n".join(lines) + "\n"


def _tested(result: dict) -> dict[str, float]:
    """A dataset's p-values of MT against plain ALS by group, as one family (a group without one left out)."""
    return {g: p for g, p in result["p_mt_vs_plain_als"].items() if p is not None}


def _differs(result: dict) -> str:
    """Said when this MT's RMSE is not the one mt.py recorded (another machine's training)."""
    recorded = result["mt_rmse_recorded_by_mt_py"]
    if recorded is None or abs(recorded - result["rmse"]["MT"]) < 1e-6:
        return ""
    return "; not reproduced: this MT was trained on another machine than mt.py's, and ended elsewhere"


def _number(value, spec: str = ".4f") -> str:
    return "—" if value is None else f"{value:{spec}}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    args, runs_dir = mt_rerun_setup(parser, "mt_activity")
    overrides = {"epochs": args.epochs}
    if not args.report_only:
        for name in args.datasets:
            split = load_split(args.data / name, "1")
            print(f"== {name}: {split.sizes()}", flush=True)
            result = {**run_dataset(name, split, MTConfig(**overrides), args.recorded),
                      "provenance": provenance(args.data / name, [split])}
            (runs_dir / f"{name}.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    files = {name: runs_dir / f"{name}.json" for name in DATASETS}
    summary = {"machine": machine(), "provenance": provenance(), "config_overrides": overrides,
               "datasets": {name: json.loads(f.read_text(encoding="utf-8")) for name, f in files.items() if f.exists()}}
    (args.out / "mt_activity.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    (args.out / "mt_activity.md").write_text(markdown(summary), encoding="utf-8")
    print(markdown(summary))


if __name__ == "__main__":
    main()
