"""Measure the n-gram baseline of the recorded MT benchmark runs again, without training MT again.

The n-gram rows of ``benchmarks/mt.py`` and ``benchmarks/mt_all_splits.py`` depend on MT only
through MT's vocabulary and the test records it knows, both a function of the split and MT's
settings. For each report under results/mt/<dataset>/ and results/mt_all_splits/<dataset>/split-*/
this rebuilds them as ``MultiTask`` does (the same split, checked by its fingerprint; the settings
the report records), fits ``InterpolatedNgramLM`` on the same targets, checks that it scores as
many test records as the report says, and replaces the report's N-gram row, keeping the value it
replaces and why (``--why``); the summaries over splits take the new rows' mean. A report is
changed only when the model as it was before reproduces its number (to 1e-6). Then every
report is written again, as the two scripts' ``--report-only`` writes them. Written when the
n-gram's unseen contexts were fixed (2026-12-07): each n-gram perplexity recorded before was of
a model whose distribution after a context unseen in training summed to less than 1.

    python benchmarks/mt_ngram.py [--data ../shared/data] [--why "..."]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from whyrec.data.features import split_features
from whyrec.explain.ngram import InterpolatedNgramLM
from whyrec.explain.targets import explanation_targets
from whyrec.ids import IdMap
from whyrec.metrics.text import perplexity
from whyrec.provenance import split_fingerprint
from whyrec.systems.mt import MTConfig, mt_vocabulary, review_token_lists
from whyrec.systems.mt_splits import combine_mt_runs

from mt import rewrite_reports
from mt_all_splits import rewrite_all
from shared_data import DATA, DATASETS, load_split

HERE = Path(__file__).resolve().parent


class UnseenAsZero(InterpolatedNgramLM):
    """The n-gram as it was before the fix: an estimate of an unseen context counted as 0. Only to
    check that a report's run is reproduced (the same vocabulary, targets and weights grid)."""

    def prob(self, u: str, v: str, w: str) -> float:
        l3, l2, l1, l0 = self.weights
        p3 = self.tri[(u, v, w)] / self.tri_ctx[(u, v)] if self.tri_ctx[(u, v)] else 0.0
        p2 = self.bi[(v, w)] / self.bi_ctx[v] if self.bi_ctx[v] else 0.0
        p1 = self.uni[w] / self.total if self.total else 0.0
        return l3 * p3 + l2 * p2 + l1 * p1 + l0 / len(self.vocab)


def ngram_perplexities(split, config: MTConfig, models: tuple[type, ...]) -> tuple[list[float], int]:
    """The MT experiment's n-gram perplexity on ``split`` under MT settings ``config``, of each of
    ``models`` (n-gram classes) fitted on the same vocabulary and targets, built once, and the
    number of test records they score (those whose user and item MT knows)."""
    features = split_features(split)
    train_targets = explanation_targets(split.train, features, config.max_words)
    vocab = mt_vocabulary(train_targets, review_token_lists(split.train, config), config)
    users, items = IdMap(split.train.user_ids()), IdMap(split.train.item_ids())
    known = (users.lookup(split.test.users) >= 0) & (items.lookup(split.test.items) >= 0)
    test_targets = [t for t, k in zip(explanation_targets(split.test, features, config.max_words), known) if k]
    valid_targets = explanation_targets(split.valid, features, config.max_words)
    values = []
    for model in models:
        ngram = model(vocab).fit(train_targets, valid_targets)
        values.append(perplexity([ngram.token_log_probs(t) for t in test_targets]))
    return values, len(test_targets)


def remeasure(path: Path, split, note: dict) -> dict:
    """The report ``path`` of a run on ``split`` with its N-gram row measured again (and written)."""
    report = json.loads(path.read_text(encoding="utf-8"))
    if report.get("split_fingerprint", split_fingerprint(split)) != split_fingerprint(split) \
            or report["sizes"] != split.sizes():  # reports before 2026-12 have no fingerprint
        sys.exit(f"{path}: its split differs from {split.name}, the one read now")
    row = next(r for r in report["text"] if r["system"] == "N-gram")
    before = row.get("remeasured", {}).get("before", row["perplexity"])  # the value of the run itself
    config = MTConfig.from_dict(report["config"])
    (reproduced, value), scored = ngram_perplexities(split, config, (UnseenAsZero, InterpolatedNgramLM))
    if scored != report["test_records_scored_for_text"] or abs(reproduced - before) > 1e-6 * before:
        sys.exit(f"{path}: its run is not reproduced (the old n-gram gives {reproduced:.4f} on {scored} records, "
                 f"the report {before:.4f} on {report['test_records_scored_for_text']}): left as it is")
    row.update(perplexity=value, remeasured={**note, "before": before})
    path.write_text(json.dumps(report, indent=1), encoding="utf-8")
    print(f"{path.parent}: n-gram perplexity {before:.2f} → {value:.2f}", flush=True)
    return report


def remeasure_splits(folder: Path, data: Path, note: dict) -> dict:
    """Every split's report of a comparison over splits (``folder``) measured again, and the
    N-gram row of its summary, ``mt_splits.json``, made of theirs. Returns that row."""
    summary_path = folder / "mt_splits.json"
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    runs = {label: remeasure(folder / f"split-{label}" / "mt.json", load_split(data, label), note)
            for label in summary["splits"]}
    row = next(r for r in combine_mt_runs(runs)["text"] if r["system"] == "N-gram")
    old = next(r for r in summary["text"] if r["system"] == "N-gram")
    row["remeasured"] = {**note, "before": old.get("remeasured", {}).get("before", old["mean"])}
    summary["text"] = [row if r["system"] == "N-gram" else r for r in summary["text"]]
    summary_path.write_text(json.dumps(summary, indent=1), encoding="utf-8")
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--split", default="1", help="the split of benchmarks/mt.py's run")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--why", default="the n-gram's unseen contexts fixed")
    args = parser.parse_args()
    note = {"date": time.strftime("%Y-%m-%d"), "why": args.why}
    for name in DATASETS:
        path = args.out / "mt" / name / "mt.json"
        if path.exists():
            remeasure(path, load_split(args.data / name, args.split), note)
    every_split = args.out / "mt_all_splits.json"
    if every_split.exists():
        whole = json.loads(every_split.read_text(encoding="utf-8"))
        for name, result in whole["datasets"].items():  # the file keeps its own copy of each summary
            row = remeasure_splits(args.out / "mt_all_splits" / name, args.data / name, note)
            result["text"] = [row if r["system"] == "N-gram" else r for r in result["text"]]
        every_split.write_text(json.dumps(whole, indent=1), encoding="utf-8")
        rewrite_all(args.out)
    print(rewrite_reports(args.out))


if __name__ == "__main__":
    main()
