"""The MT comparison over several fixed splits of one dataset: is a margin the dataset's, or one split's?

:func:`run_mt_over_splits` runs :func:`~whyrec.systems.mt_experiment.run_mt_experiment` on each
split (its tables and plots in ``<out>/split-<name>/``) and :func:`combine_mt_runs` sums them up
in ``<out>/mt_splits.{md,json}`` and ``splits.png``:

* **rating**: each model's test RMSE on every split, their mean ± sd, the mean of its RMSE minus
  MT's, on how many splits MT's was lower, and the corrected resampled t-test of the splits' test
  MSEs against MT's (Nadeau & Bengio 2003, :func:`whyrec.metrics.rating.corrected_resampled_t_test`:
  the splits' train parts overlap, so the plain t-test over splits rejects far too often);
* **text**: each text model's perplexity (and MT-U/I/P's tf-idf similarity) per split, mean ± sd;
* **discriminator**: the shuffled-label accuracy of each MT variant per split, mean ± sd.

A run asked to resume reads back the splits whose results are already in ``out`` with the same
settings, so an interrupted run over five splits loses at most the split it was on (and with a
checkpoint folder, not even that split's finished MT epochs).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np

from whyrec.data.split import Split, split_label
from whyrec.errors import ConfigError
from whyrec.experiment import test_to_train_of_sizes
from whyrec.explain.decoding import Decoding
from whyrec.explain.embeddings import word_vectors_text
from whyrec.kept_elsewhere import write_or_keep_elsewhere
from whyrec.metrics.rating import corrected_resampled_t_test
from whyrec.provenance import kept_for_split
from whyrec.strict_json import sealed, strict_dumps, unsealed
from whyrec.systems.mt_config import MTConfig
from whyrec.systems.mt_holm import holm_against_mt, holm_line_against_mt
from whyrec.temporary_names import text_writer, write_together_in
from whyrec.wording import differences, shortened, shown

REFERENCE = "MT"
SUMMARY_FILES = ("mt_splits.md", "mt_splits.json", "splits.png")


def run_mt_over_splits(splits: Sequence[Split], out: str | Path, config: MTConfig, *, resume: bool = False,
                       checkpoint_dir: str | Path | None = None, decoding: Decoding | None = None,
                       log: Callable[[str], None] = print, lm_epochs: int = 60, lm_seeds: int = 1,
                       curve_steps: int = 60, also: Mapping[str, Callable[[Path], None]] | None = None,
                       **experiment) -> dict:
    """Run the MT comparison on each of ``splits`` into ``out/split-<name>/`` and write their
    summary (:func:`combine_mt_runs`) into ``out``, with the files of ``also`` (name: the function
    writing it at the path given; the command's ``run.json``); returns it. With ``resume``, a
    split whose ``mt.json`` in ``out`` was written with the same settings and decoding is read
    back instead of trained again (:func:`read_back`); a split run again where ``out`` holds an
    ``mt.json`` has the log say why (without ``resume``, that it could have been read back). With
    ``checkpoint_dir``, MT's epochs are checkpointed in ``checkpoint_dir/split-<name>/`` (and a
    split stopped midway resumes after its last epoch). ``lm_epochs``, ``lm_seeds``, ``curve_steps`` and the rest of
    ``experiment`` (``step_log``, …) go to ``run_mt_experiment``."""
    from whyrec.systems.mt_experiment import run_mt_experiment, update_report

    if len(splits) < 2:
        raise ConfigError("the MT comparison over splits needs at least two splits")
    labels = [split_label(s.name) for s in splits]
    if len(set(labels)) < len(labels):
        raise ConfigError(f"two splits share a name: {labels}")
    out = Path(out)
    baselines = {"lm_epochs": lm_epochs, "lm_seeds": lm_seeds, "curve_steps": curve_steps}
    runs = {}
    for n, (label, split) in enumerate(zip(labels, splits), start=1):
        folder = out / f"split-{label}"
        done, why_not = read_back(folder, split, config, decoding, baselines)
        if done is not None and resume:
            log(f"split {label} ({n}/{len(splits)}): read back from {folder / 'mt.json'}")
            runs[label] = update_report(done, folder)  # its tables as this version writes them
            continue
        if done is not None:  # hours of training, which a forgotten --resume would not lose
            why_not = "holds this split's results with these settings (--resume reads them back)"
        log(f"split {label} ({n}/{len(splits)})" + (f": {folder / 'mt.json'} {why_not}; run again" if why_not else ""))
        runs[label] = run_mt_experiment(
            split, folder, config, decoding=decoding, log=log, lm_epochs=lm_epochs, lm_seeds=lm_seeds,
            curve_steps=curve_steps,
            checkpoint_dir=Path(checkpoint_dir) / f"split-{label}" if checkpoint_dir is not None else None,
            **experiment)
        log(f"split {label} done: {run_line(runs[label])}")
    summary = combine_mt_runs(runs)
    # the summary of hours of training not lost to a disk that filled meanwhile: kept elsewhere, the error says where
    write_or_keep_elsewhere(lambda folder: write_splits_report(summary, folder, plot=True, also=also), out,
                            "MT summary over splits")
    return summary


def run_line(results: dict) -> str:
    """One split's results in a line: each rating model's test RMSE, and MT-U/I/P's perplexity."""
    rmse = ", ".join(f"{r['system']} {r['rmse']:.4f}" for r in results["rating"])
    ppl = ", ".join(f"{r['system']} {r['perplexity']:.2f}" for r in results["text"] if r["system"].startswith("MT-"))
    return f"test RMSE {rmse}; perplexity {ppl}"


def read_back(folder: Path, split: Split, config: MTConfig, decoding: Decoding | None,
              baselines: dict | None = None) -> tuple[dict | None, str | None]:
    """The results in ``folder/mt.json`` and None when they are of ``split`` (its name, sizes and
    records: :func:`whyrec.provenance.kept_for_split`), ``config`` (the device aside: it changes
    where MT trains, not what), ``decoding`` and, when given, ``baselines``' ``lm_epochs``,
    ``lm_seeds`` and ``curve_steps`` (read from the results: :func:`baseline_settings_of`), and not
    changed since they were written (the SHA-256 that ``mt.json`` records of its content,
    :func:`whyrec.strict_json.unsealed`, not returned). Otherwise None and why not, for the log of a
    ``--resume`` that runs the split again ("was made with other MT settings (epochs: 30 in
    mt.json, 20 now)"); (None, None) when there is no ``mt.json``."""
    path = folder / "mt.json"
    if not path.is_file():
        return None, None
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None, "is not readable JSON (cut short by the interruption?)"
    if not isinstance(results, dict):
        return None, "holds no run's results"
    results = unsealed(results)
    if results is None:
        return None, "changed since it was written"
    if not isinstance(results.get("config"), dict):
        return None, "holds no run's results (its config is not an object)"  # one written before the digest, edited
    if results.get("split") != split.name:
        return None, f"holds the results of split {shortened(str(results.get('split')), 60)}, not {split.name}"
    if results.get("sizes") != split.sizes() or not kept_for_split(results.get("split_fingerprint"), split):
        return None, f"holds the results of other records under the name {split.name}"
    wanted = {k: v for k, v in json.loads(json.dumps(config.to_dict())).items() if k != "device"}
    stored = {k: v for k, v in results["config"].items() if k != "device"}
    if stored != wanted:
        return None, f"was made with other MT settings ({differences(stored, wanted, 'in mt.json')})"
    described = decoding.describe() if decoding is not None else None
    if results.get("decoding") != described:
        then = shortened(str(results.get("decoding") or "the default"), 60)
        return None, f"was made with other decoding: {then} in mt.json, {described or 'the default'} now"
    if baselines is not None:
        asked = {k: baselines[k] for k in ("lm_epochs", "lm_seeds", "curve_steps")}
        trained = baseline_settings_of(results)
        if trained != asked:
            return None, f"was made with other baselines ({differences(trained or {}, asked, 'in mt.json')})"
    return results, None


def baseline_settings_of(results: dict) -> dict | None:
    """How ``run_mt_experiment`` trained the baselines of ``results``, as its results show it: the
    LSTM's cap on epochs (``lm_epochs``) and number of runs (``lm_seeds``), and the length of the
    discriminator's learning curve (``curve_steps``); None when they do not say."""
    try:
        lstm = next(row for row in results["text"] if row["system"] == "LSTM")
        curve = next(iter(results["discriminator"].values()))["learning_curve"]
        return {"lm_epochs": lstm["training"]["cap"], "lm_seeds": len(lstm["runs"]), "curve_steps": len(curve)}
    except (KeyError, TypeError, StopIteration, AttributeError):
        return None


def combine_mt_runs(runs: Mapping[str, dict]) -> dict:
    """The summary of ``runs`` (split name → the results of ``run_mt_experiment`` on that split;
    at least two, with the same models). MSE is what the corrected t-test compares; the ratio
    n₂/n₁ it needs is the mean test size over the mean train size of the splits."""
    if len(runs) < 2:
        raise ConfigError("a summary over splits needs the results of at least two splits")
    labels = list(runs)
    first = runs[labels[0]]
    rating_names = [r["system"] for r in first["rating"]]
    for label in labels[1:]:
        names = [r["system"] for r in runs[label]["rating"]]
        if names != rating_names:
            raise ConfigError(f"split {label} compares {names}, split {labels[0]} {rating_names}")
    per_split = {part: [runs[s]["sizes"][part] for s in labels] for part in ("train", "test")}
    sizes = {part: float(np.mean(counts)) for part, counts in per_split.items()}
    ratio = test_to_train_of_sizes(per_split["test"], per_split["train"])

    def rows_of(label: str, part: str) -> dict[str, dict]:
        return {row["system"]: row for row in runs[label][part]}

    # dtype float: a NaN that strict JSON wrote as null is read back as NaN, not as an object array
    mse = {name: np.array([rows_of(s, "rating")[name]["mse"] for s in labels], dtype=float) for name in rating_names}
    rating = []
    for name in rating_names:
        rmse = np.sqrt(mse[name])
        row = {"system": name, "rmse": rmse.tolist(), **_mean_sd(rmse)}
        if name != REFERENCE and REFERENCE in mse:
            reference_rmse = np.sqrt(mse[REFERENCE])
            t, p = corrected_resampled_t_test(mse[name], mse[REFERENCE], ratio)
            row.update(minus_mt=float((rmse - reference_rmse).mean()),
                       mt_lower_on=int((reference_rmse < rmse).sum()), t_vs_mt=t, p_vs_mt=p,
                       p_vs_mt_per_split=[rows_of(s, "rating")[name]["p_vs_mt"] for s in labels])
        rating.append(row)
    holm_against_mt(rating)
    text = []
    for name in [r["system"] for r in first["text"]]:
        present = [rows_of(s, "text").get(name) for s in labels]
        if any(r is None for r in present):
            continue  # a model not trained on every split (other variants) has no mean
        row = {"system": name, "perplexity": [r["perplexity"] for r in present],
               **_mean_sd(np.array([r["perplexity"] for r in present], dtype=float))}
        if all("tfidf" in r for r in present):
            row["tfidf"] = _mean_sd(np.array([r["tfidf"] for r in present], dtype=float))
        text.append(row)
    discriminator = {}
    for variant in first["discriminator"]:
        values = [runs[s]["discriminator"].get(variant, {}).get("shuffled_label_accuracy") for s in labels]
        if None not in values:
            discriminator[variant] = {"shuffled_label_accuracy": values, **_mean_sd(np.array(values))}
    return {"splits": labels, "split_names": [runs[s]["split"] for s in labels], "sizes": sizes,
            "test_to_train": ratio, "config": first["config"], "decoding": first.get("decoding"),
            "rating": rating, "text": text, "discriminator": discriminator,
            "word_vectors": _word_vectors_of(runs, labels),
            "wall_seconds": float(sum(runs[s].get("wall_seconds", 0.0) for s in labels))}


def write_splits_report(summary: dict, out: Path, plot: bool = False,
                        also: Mapping[str, Callable[[Path], None]] | None = None) -> None:
    """``out/mt_splits.json`` and ``out/mt_splits.md`` of a summary over splits, with ``plot``
    ``out/splits.png`` (:func:`plot_splits`) too, and the files of ``also`` (name: writer), renamed
    into place together once all are whole (:func:`whyrec.temporary_names.write_together_in`): a
    refusal leaves the last ones as they were."""
    texts = {"mt_splits.json": strict_dumps(sealed(summary), indent=1), "mt_splits.md": splits_markdown(summary)}
    writers: dict[str, Callable[[Path], None]] = {name: text_writer(text) for name, text in texts.items()}
    if plot:
        writers["splits.png"] = lambda path: plot_splits(summary, path)
    write_together_in(out, {**writers, **(also or {})})


def rewrite_splits_report(folder: str | Path) -> dict:
    """Write the reports of a comparison over splits again from their JSON, as this version writes
    them, training nothing: each ``split-<name>/`` (:func:`whyrec.systems.mt_experiment.rewrite_report`)
    and the summary, ``mt_splits.{md,json}``, with what can be worked out from the numbers already
    there (Holm's adjustment, ``p_holm``); ``splits.png`` is not touched. Returns the summary."""
    from whyrec.systems.mt_experiment import read_report, update_report

    folder = Path(folder)
    summary = read_report(folder / "mt_splits.json", "splits", "rating")
    runs = {label: read_report(folder / f"split-{label}" / "mt.json", "rating")  # all read before any is written
            for label in summary["splits"]}
    for label, results in runs.items():
        update_report(results, folder / f"split-{label}")
    holm_against_mt(summary["rating"])
    summary["word_vectors"] = _word_vectors_of(runs, summary["splits"])
    write_splits_report(summary, folder)
    return summary


def _word_vectors_of(runs: Mapping[str, dict], labels: Sequence[str]) -> list[dict]:
    """Each split's record of MT's word vectors, in the order of ``labels`` ({} where a run has none)."""
    return [runs[label].get("word_vectors", {}) for label in labels]


def _mean_sd(values: np.ndarray) -> dict:
    """``mean`` and the sample standard deviation ``sd`` (ddof 1) of one number per split."""
    return {"mean": float(values.mean()), "sd": float(values.std(ddof=1))}


def splits_word_vectors_text(records: list[dict]) -> str:
    """What MT's word vectors were on the splits (one record of
    :func:`whyrec.explain.embeddings.init_word_vectors` per split): one text when every split's
    reads the same (:func:`word_vectors_text`), the coverage of each split when only it differs
    ("glove-6b-50d for 95.7% / 95.5% of the words"), else each split's text."""
    records = [record if isinstance(record, dict) else {} for record in records]  # even hand-edited
    texts = [word_vectors_text(record) for record in records]
    if len(set(texts)) <= 1:
        return texts[0] if texts else "unknown"
    sources = {record.get("source") for record in records}
    coverages = [record.get("coverage") for record in records]
    if len(sources) == 1 and all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in coverages):
        return f"{sources.pop()} for " + " / ".join(f"{100 * c:.1f}%" for c in coverages) + " of the words"
    return " / ".join(texts)


def splits_markdown(summary: dict) -> str:
    """The summary as markdown: a table each for rating, text and the discriminator."""
    from whyrec.systems.mt_experiment import remeasured_note

    labels = summary["splits"]
    dataset = summary["split_names"][0].rsplit("/", 1)[0]
    per_split = " / ".join(labels)
    vectors = summary.get("word_vectors")  # not in a summary written before they were kept
    vectors = f"word vectors: {splits_word_vectors_text(vectors)}; " if isinstance(vectors, list) else ""
    lines = [f"# MT on {dataset}, {len(labels)} splits ({', '.join(labels)})", "",
             f"mean train {summary['sizes']['train']:,.0f} · test {summary['sizes']['test']:,.0f} records "
             f"(test/train {summary['test_to_train']:.3f}); {vectors}wall time {summary['wall_seconds']:.0f}s. "
             "Each split's tables and plots: `split-<name>/`.", "",
             "## Rating (test RMSE)", "",
             "p vs MT: the corrected resampled t-test of the splits' test MSEs against MT's (Nadeau & Bengio "
             "2003), which allows for the splits' overlapping train parts; per-split p: the paired t-test of "
             "the squared errors on that split's test records.", "",
             f"| system | mean ± sd | per split ({per_split}) | minus MT's (mean) | MT lower on | t | p vs MT | "
             "per-split p |", "|---|---|---|---|---|---|---|---|"]
    for r in summary["rating"]:
        values = " / ".join(shown(v, ".4f") for v in r["rmse"])
        spread = f"{shown(r['mean'], '.4f')} ± {shown(r['sd'], '.4f')}"
        if "p_vs_mt" in r:
            lines.append(f"| {r['system']} | {spread} | {values} | {shown(r['minus_mt'], '+.4f')} | "
                         f"{r['mt_lower_on']} of {len(labels)} | {shown(r['t_vs_mt'], '+.2f')} | "
                         f"{shown(r['p_vs_mt'], '.3g')} | "
                         + " / ".join(shown(p, ".2g") for p in r["p_vs_mt_per_split"]) + " |")
        else:
            lines.append(f"| {r['system']} | {spread} | {values} | — | — | — | — | — |")
    lines += holm_line_against_mt(summary["rating"])
    lines += ["", "## Explanations (test)", ""]
    if summary.get("decoding"):
        lines += [f"MT-U/I/P's explanations decoded by {summary['decoding']}, as `whyrec explain` shows them.", ""]
    lines += [f"| system | perplexity mean ± sd | per split ({per_split}) | tf-idf mean ± sd |", "|---|---|---|---|"]
    for r in summary["text"]:
        tfidf = f"{shown(r['tfidf']['mean'], '.4f')} ± {shown(r['tfidf']['sd'], '.4f')}" if "tfidf" in r else "—"
        lines.append(f"| {r['system']} | {shown(r['mean'], '.2f')} ± {shown(r['sd'], '.2f')}{remeasured_note(r)} | "
                     + " / ".join(shown(v, ".2f") for v in r["perplexity"]) + f" | {tfidf} |")
    lines += ["", "## Discriminator: shuffled-label accuracy", "",
              f"| variant | mean ± sd | per split ({per_split}) |", "|---|---|---|"]
    for variant, d in summary["discriminator"].items():
        lines.append(f"| {variant} | {shown(d['mean'], '.3f')} ± {shown(d['sd'], '.3f')} | "
                     + " / ".join(shown(v, ".3f") for v in d["shuffled_label_accuracy"]) + " |")
    return "\n".join(lines) + "\n"


def plot_splits(summary: dict, path: Path) -> None:
    """Left: each rating model's test RMSE on every split (a line per model, MT's thick). Right:
    each model's RMSE minus MT's on every split (above 0: MT is better there), since the splits
    differ far more from one another than the models do on one split."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = summary["splits"]
    reference = next((r for r in summary["rating"] if r["system"] == REFERENCE), None)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
    for r in summary["rating"]:
        mine = r["system"] == REFERENCE
        line = left.plot(labels, r["rmse"], marker="o", label=r["system"], lw=2.4 if mine else 1.0)[0]
        if reference is not None and not mine:
            right.plot(labels, np.subtract(r["rmse"], reference["rmse"]), marker="o", color=line.get_color(),
                       label=r["system"])
    right.axhline(0.0, color="grey", lw=0.8, ls="--")
    left.set_title("test RMSE on each split")
    right.set_title("RMSE minus MT's (above 0: MT lower)")
    for ax in (left, right):
        ax.set_xlabel("split")
    left.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=110, format="png")  # a PNG under its temporary name too
    plt.close(fig)
