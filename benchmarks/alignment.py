"""Alignment benchmark: MMI(rating) fine-tuning of MT's GRU explainer (MT-P) on split 1.

For each shared dataset with an MT bundle in benchmarks/.cache/<dataset>/ (written by
benchmarks/mt.py), this evaluates MT-P's greedy explanations on the test split, fine-tunes the
decoder with MMI (rating target = MT's predicted rating, K samples, KL to the frozen MT-P,
entropy bonus, DWA, teacher-forced NLL kept), and evaluates again: RMSE/MAE, BLEU-1/4,
ROUGE-1/2/L, USR, FMR, FCR, DIV, sentiment accuracy (5- and 3-class, judge = tf-idf logistic
regression trained on the train reviews), I(R;E)/H(R) and wall time, into
benchmarks/results/alignment.{json,md} plus a plot of reward, KL and entropy over training.

PETER/PETER+ and the feature/joint rewards are not measured yet (see issue 4's notes).

    python benchmarks/alignment.py [--datasets ...] [--threads 2] [--encoder minilm|glove]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import warnings
from pathlib import Path

import numpy as np
import torch

from whyrec.align.mine import MINEConfig
from whyrec.align.mmi import MMIConfig, MMIData, MMITrainer
from whyrec.bundle import load_bundle
from whyrec.data import Corpus, fixed_index_split, load_corpus
from whyrec.data.features import FeatureExtractor
from whyrec.data.text import tokenize
from whyrec.explain.interface import GRUExplainer
from whyrec.explain.targets import explanation_targets
from whyrec.metrics import text as tm
from whyrec.metrics.alignment import SentimentJudge, normalised_rating_mi, sentiment_accuracy
from whyrec.metrics.rating import mae, rmse

HERE = Path(__file__).resolve().parent
DATASETS = ["amazon-digital-music", "amazon-musical-instruments", "amazon-magazine-subscriptions", "amazon-gift-cards"]


def make_encoder(kind: str, mt):
    if kind == "minilm":
        from whyrec.explain.sentence import MiniLMEncoder

        return MiniLMEncoder()
    from whyrec.explain.embeddings import init_word_vectors
    from whyrec.explain.sentence import MeanWordVectorEncoder

    vectors, _ = init_word_vectors(mt.vocab, 50, "auto")
    return MeanWordVectorEncoder(mt.vocab, vectors)


def evaluate(explainer, mt, test: Corpus, references, feature_of, feature_set, judge, encoder, seed=0) -> dict:
    began = time.perf_counter()
    texts = explainer.explain(list(test.users), list(test.items))
    predicted = mt.predict_corpus(test)
    hyps = [t.split() for t in texts]
    detected = tm.detect_features(hyps, feature_set)
    r = tm.rouge(references, hyps)
    out = {"rmse": rmse(predicted, test.ratings), "mae": mae(predicted, test.ratings),
           "bleu1": tm.corpus_bleu(references, hyps, 1), "bleu4": tm.corpus_bleu(references, hyps, 4),
           "rouge1": r["rouge_1/f_score"], "rouge2": r["rouge_2/f_score"], "rougeL": r["rouge_l/f_score"],
           "usr": tm.unique_sentence_ratio(hyps), "fmr": tm.feature_matching_ratio(detected, feature_of),
           "fcr": tm.feature_coverage_ratio(detected, feature_set), "div": tm.feature_diversity(detected)}
    out.update(sentiment_accuracy(judge.predict(texts), predicted))
    torch.manual_seed(seed)
    out["mi_over_h"] = normalised_rating_mi(encoder.encode(texts), predicted,
                                            MINEConfig(hidden=100, lr=1e-3, batch_size=256, epochs=100, seed=seed))
    out["eval_seconds"] = time.perf_counter() - began
    out["examples"] = [{"user": u, "item": i, "predicted": round(float(p), 2), "text": t}
                       for u, i, p, t in list(zip(test.users, test.items, predicted, texts))[:5]]
    return out


def run_dataset(name: str, args) -> dict | None:
    bundle = HERE / ".cache" / name
    if not (bundle / "bundle.json").exists():
        print(f"== {name}: no MT bundle in {bundle} (run benchmarks/mt.py first); skipped", flush=True)
        return None
    began = time.perf_counter()
    folder = args.data / name
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        corpus = load_corpus(folder, duplicates="keep-all")
    split = fixed_index_split(corpus, folder / args.split)
    mt = load_bundle(bundle)
    features = FeatureExtractor(min_df=3).extract(Corpus.concat([split.train, split.valid, split.test]))
    feature_at = dict(zip(features["position"].tolist(), features["feature"].tolist()))
    feature_set = set(features["feature"])
    max_words = mt.config.max_words
    test = split.test
    references = explanation_targets(test, features, max_words)
    feature_of = [feature_at.get(p, "") for p in test.positions.tolist()]
    judge = SentimentJudge().fit(list(split.train.texts), split.train.ratings)
    judge_on_reviews = sentiment_accuracy(judge.predict(list(test.texts)), test.ratings)
    encoder = make_encoder(args.encoder, mt)
    explainer = GRUExplainer.from_mt(mt, "pair")
    print(f"== {name}: judge accuracy on test reviews {judge_on_reviews}", flush=True)
    before = evaluate(explainer, mt, test, references, feature_of, feature_set, judge, encoder)
    print(f"   MT-P: {json.dumps({k: round(v, 4) for k, v in before.items() if isinstance(v, float)})}", flush=True)

    def data(part: Corpus) -> MMIData:
        return MMIData(list(part.users), list(part.items), mt.predict_corpus(part),
                       explanation_targets(part, features, max_words))

    config = MMIConfig(target="rating", samples=args.samples, epochs=args.epochs, batch_size=64, lr=args.lr,
                       max_batches_per_epoch=args.max_batches, mine_lr=1e-3, mine_batch_size=512,
                       mine_pretrain_epochs=30, dwa=True, dwa_temperature=2.0, seed=0)
    trainer = MMITrainer(explainer, encoder, config)
    started = time.perf_counter()
    train = data(split.train)
    pretrain = MMIData(train.users, train.items, split.train.ratings, train.references)  # (review, observed rating)
    trainer.pretrain(list(split.train.texts), pretrain)
    trainer.fit(train, data(split.valid),
                log=lambda r: print(f"   MMI epoch {r['epoch']} ({r['phase']}): "
                                    + ", ".join(f"{k} {v:.3f}" for k, v in r.items()
                                                if isinstance(v, float) and k != "seconds")
                                    + (f", valid MI {r['valid_mi']['rating']:.3f}" if "valid_mi" in r else ""),
                                    flush=True))
    mmi_seconds = time.perf_counter() - started
    after = evaluate(explainer, mt, test, references, feature_of, feature_set, judge, encoder)
    print(f"   MT-P + MMI(rating): {json.dumps({k: round(v, 4) for k, v in after.items() if isinstance(v, float)})}",
          flush=True)
    return {"sizes": split.sizes(), "judge_on_test_reviews": judge_on_reviews, "encoder": args.encoder,
            "config": config.__dict__, "rows": {"MT-P": before, "MT-P + MMI(rating)": after},
            "history": trainer.history, "mmi_seconds": mmi_seconds, "wall_seconds": time.perf_counter() - began}


COLUMNS = [("rmse", "RMSE", 4), ("mae", "MAE", 4), ("bleu1", "BLEU-1", 2), ("bleu4", "BLEU-4", 2),
           ("rouge1", "R-1", 2), ("rouge2", "R-2", 2), ("rougeL", "R-L", 2), ("usr", "USR", 3), ("fmr", "FMR", 3),
           ("fcr", "FCR", 3), ("div", "DIV", 3), ("acc5", "sent. acc 5", 2), ("acc3", "sent. acc 3", 2),
           ("mi_over_h", "I(R;E)/H(R)", 3)]


def markdown(results: dict) -> str:
    lines = ["# Alignment benchmark (MMI on MT's GRU explainer)", "",
             f"Split {results['split']}, {results['threads']} torch thread(s), {results['machine']}, sentence encoder "
             f"`{results['encoder']}`. Measured {results['date']}. Sentiment accuracy: % of greedy test explanations "
             "whose class by the judge (tf-idf logistic regression trained on the train reviews) equals MT's "
             "predicted rating rounded; I(R;E)/H(R) by a fresh MINE on (explanation, predicted rating) test pairs. "
             "MMI changes the decoder only, so RMSE/MAE are MT's and cannot move.", "",
             "| dataset | system | " + " | ".join(c[1] for c in COLUMNS) + " | MMI seconds |",
             "|---|---|" + "---|" * (len(COLUMNS) + 1)]
    for name, r in results["datasets"].items():
        for system, row in r["rows"].items():
            cells = " | ".join(f"{row[key]:.{digits}f}" for key, _, digits in COLUMNS)
            extra = f"{r['mmi_seconds']:.0f}" if "MMI" in system else ""
            lines.append(f"| {name} | {system} | {cells} | {extra} |")
    lines += ["", "Judge accuracy on the test *reviews* (observed ratings), for scale:", ""]
    for name, r in results["datasets"].items():
        j = r["judge_on_test_reviews"]
        lines.append(f"- {name}: 5-class {j['acc5']:.1f}%, 3-class {j['acc3']:.1f}%")
    lines += ["", "## Issue 4 target: MMI(rating) raises 5-class sentiment accuracy by ≥ 10 points (GRU explainer)", ""]
    for name, r in results["datasets"].items():
        gain = r["rows"]["MT-P + MMI(rating)"]["acc5"] - r["rows"]["MT-P"]["acc5"]
        lines.append(f"- {name}: {gain:+.1f} points — {'met' if gain >= 10 else 'NOT met'}")
    lines += ["", "PETER / PETER+ and MMI(feature) / joint are not measured yet.", ""]
    return "\n".join(lines)


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for name, r in results["datasets"].items():
        gen = [h for h in r["history"] if h["phase"] == "generator"]
        epochs = [h["epoch"] for h in gen]
        for ax, key in zip(axes, ("reward_mi", "kl", "entropy")):
            ax.plot(epochs, [h[key] for h in gen], marker="o", label=name)
            ax.set_title({"reward_mi": "MI reward (mean)", "kl": "KL to MT-P (per sequence)",
                          "entropy": "entropy −log π(e)"}[key])
            ax.set_xlabel("epoch")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=HERE.parents[1] / "shared" / "data")
    parser.add_argument("--split", default="1")
    parser.add_argument("--datasets", nargs="*", default=DATASETS)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--encoder", choices=["minilm", "glove"], default="minilm")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--samples", type=int, default=5)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--max-batches", type=int, default=30)
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    results = {"split": args.split, "date": time.strftime("%Y-%m-%d"), "threads": args.threads, "encoder": args.encoder,
               "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
               "datasets": {}}
    for name in args.datasets:
        r = run_dataset(name, args)
        if r is not None:
            results["datasets"][name] = r
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "alignment.json").write_text(json.dumps(results, indent=1, default=float))
    (args.out / "alignment.md").write_text(markdown(results))
    if results["datasets"]:
        plot(results, args.out / "alignment_training.png")
    print(markdown(results))


if __name__ == "__main__":
    main()
