"""Decoding benchmark: how the choice of decoding changes the explanations a bundle writes.

For each bundle, on the test records of its data's split 1 whose user and item it knows, the
explanations are written with each decoding of ``DECODINGS`` and scored as `whyrec evaluate`
scores them: BLEU-1/4 and ROUGE-L against the extracted explanation sentences, USR, FMR, FCR and
DIV with the extracted features, the share of empty explanations, and the sentiment accuracy of
a judge trained on the train reviews against the system's own predicted rating (5 classes; the
share of the commonest predicted class beside it). It also times each decoding (ms per
explanation, 1 torch thread). The first row is the plain greedy decoding the metrics of
`evaluate` and `experiment explain` score (repeats and ``<unk>`` allowed, as the reference
code decodes); the others are decoded as `whyrec explain` and the service show them
(``whyrec.explanations.generate``: repeats and ``<unk>`` blocked). Sampled rows are the mean ±
sd over the seeds of ``--seeds``. MT is scored by MT-P; PETER+ is fed each record's extracted
feature word, as in the PETER benchmark. Results: benchmarks/results/decoding.{json,md}.

    python benchmarks/decoding.py [--bundle FOLDER ...] [--seeds 0 1 2]

Without ``--bundle`` it reads the MT bundles of the four shared datasets and the PETER+ bundle of
magazines left in benchmarks/.cache/ by `mt.py` and `serve.py`, and serve.py's shorter MT when
it trained one (those missing are skipped). A bundle is scored on the shared dataset its header
names (the folder of the data it was trained on).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from whyrec.bundle import read_bundle_header

from shared_data import (DATA, DATASETS, SERVE_PETER_BUNDLE, SERVE_SHORT_MT_BUNDLE, load_split, machine,
                         mt_bundle_dir, provenance, split_features)

HERE = Path(__file__).resolve().parent
# (label, method, settings): what `--method` and `--decode` would say
DECODINGS = [
    ("greedy, plain (as scored by evaluate)", None, {}),
    ("greedy", "greedy", {}),
    ("beam 4", "beam", {"beam": 4}),
    ("beam 4, length penalty 1", "beam", {"beam": 4, "length_penalty": 1.0}),
    ("sample, T 1", "sample", {}),
    ("sample, T 0.7, top-p 0.9", "sample", {"temperature": 0.7, "top_p": 0.9}),
    ("sample, top-k 10", "sample", {"top_k": 10}),
]
METRICS = ["bleu1", "bleu4", "rougeL", "usr", "fmr", "fcr", "div", "empty", "acc5", "ms"]


def default_bundles() -> list[Path]:
    found = [mt_bundle_dir(name) for name in DATASETS] + [SERVE_SHORT_MT_BUNDLE, SERVE_PETER_BUNDLE]
    return [folder for folder in found if (folder / "bundle.json").exists()]


def data_of(bundle: Path) -> Path:
    """The shared dataset of ``bundle``: the one its header names (``whyrec train`` records the
    data folder's name), else the one named like the bundle's folder."""
    return DATA / (read_bundle_header(bundle).get("name") or bundle.name)


def measure(bundle: Path, seeds: list[int]) -> dict:
    """Every decoding's scores of one bundle's explainer (MT-P, or PETER's own), by
    :func:`whyrec.explanation_scores.write_explanations` and :func:`~whyrec.explanation_scores.score_explanations`,
    as `whyrec evaluate --method … --decode …` scores them; ``ms``: the wall time of writing the
    explanations (every explainer of the system) per explanation written."""
    import torch

    from whyrec.bundle import load_bundle
    from whyrec.explain.decoding import Decoding
    from whyrec.explanation_scores import score_explanations, sentiment_judge, write_explanations
    from whyrec.explanations import explainers_of, is_mt

    torch.set_num_threads(1)
    model = load_bundle(bundle)
    split = load_split(data_of(bundle))
    features = split_features(split)
    judge = sentiment_judge(split.train)
    explainer = "pair" if is_mt(model) else explainers_of(model)[0]
    write_explanations(model, split.test.take(list(range(16))), features, Decoding())  # warm-up, not timed
    rows, records, base5 = [], 0, None
    for label, method, settings in DECODINGS:
        runs = []
        for seed in (seeds if method == "sample" else [None]):
            decoding = None if method is None else \
                Decoding.of(method, {**settings, **({"seed": seed} if seed is not None else {})})
            start = time.perf_counter()
            written = write_explanations(model, split.test, features, decoding)
            seconds = time.perf_counter() - start
            records, scores = score_explanations(model, split.test, features, judge=judge, written=written)
            base5 = scores[explainer]["base5"]
            runs.append({**scores[explainer], "ms": 1000.0 * seconds / sum(map(len, written.texts.values()))})
        row = {"decoding": label, "method": method or "greedy", "settings": settings, "runs": len(runs)}
        for metric in METRICS:
            values = [run[metric] for run in runs]
            row[metric] = statistics.fmean(values)
            if len(values) > 1:
                row[f"{metric}_sd"] = statistics.stdev(values)
        rows.append(row)
    return {"bundle": bundle.name, "system": "MT-P" if is_mt(model) else "PETER+", "data": data_of(bundle).name,
            "epochs": len(model.history), "records": records, "base5": base5, "rows": rows}


def cell(row: dict, metric: str) -> str:
    digits = {"bleu1": 2, "bleu4": 2, "rougeL": 2, "usr": 3, "fmr": 3, "fcr": 3, "div": 2, "empty": 1, "acc5": 1,
              "ms": 2}[metric]
    value = row[metric]
    if value != value:  # NaN: no feature found
        return "–"
    text = f"{value:.{digits}f}"
    return text + (f" ± {row[metric + '_sd']:.{digits}f}" if f"{metric}_sd" in row else "")


def write_report(results: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "decoding.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    lines = ["# Decoding benchmark", "",
             f"Explanations of each bundle's test records (split 1, the pairs it knows) written with each decoding "
             f"and scored as `whyrec evaluate` scores them. The first row is the plain greedy decoding that "
             f"`evaluate` and `experiment explain` score (repeats and `<unk>` allowed, as the reference decodes); the "
             f"others are what `whyrec explain --method M --decode ...` and the service show (repeated words and "
             f"bigrams and `<unk>` blocked). Sampled rows: mean ± sd over seeds {results['seeds']}. sentiment: the "
             f"5-class accuracy of a judge trained on the train reviews against the system's own predicted rating "
             f"(beside the title, the share of the commonest predicted class, which one sentence for all would "
             f"score). ms: wall time of writing them per explanation (every explainer of the system; batches of "
             f"256), 1 torch thread. {results['machine']}. Measured {results['date']}.", ""]
    for run in results["bundles"]:
        lines += [f"## {run['system']}, {run['data']} (bundle `{run['bundle']}`, {run['epochs']} epochs; "
                  f"{run['records']} records; one sentence for all: {run['base5']:.1f}%)", "",
                  "| decoding | BLEU-1 | BLEU-4 | ROUGE-L | USR | FMR | FCR | DIV | empty % | sentiment % | ms |",
                  "|---|---|---|---|---|---|---|---|---|---|---|"]
        for row in run["rows"]:
            lines.append(f"| {row['decoding']} | " + " | ".join(cell(row, m) for m in METRICS) + " |")
        lines.append("")
    (out / "decoding.md").write_text("\n".join(lines), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", type=Path, nargs="*", default=None)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args()
    bundles = args.bundle or default_bundles()
    if not bundles:
        parser.error("no bundle given and none in benchmarks/.cache (run mt.py or serve.py first)")
    results = {"date": time.strftime("%Y-%m-%d"), "machine": machine(), "provenance": provenance(),
               "seeds": args.seeds,
               "bundles": [measure(bundle, args.seeds) for bundle in bundles]}
    write_report(results, args.out)
    print((args.out / "decoding.md").read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
