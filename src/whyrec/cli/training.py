"""``whyrec models``, ``whyrec show``, ``whyrec train`` and ``whyrec evaluate``."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Optional

import typer

from whyrec.cli.common import app
from whyrec.cli.inputs import split_line, split_of, strangers_warning, warn_if_not_held_out
from whyrec.cli.option_checks import (check_checkpoint, check_mi_read, check_new_bundle, check_out, check_relevant_at,
                                      check_text_settings, check_tune_on, mi_encoder, parse_pairs, scored_decoding)
from whyrec.cli.options import (TEXT_SYSTEMS, ByActivity, ColumnMap, DecodingSettings, FoldUnicode, MaxRating, MetaFile,
                                MiScores, MinRating, Overwrite, ReaderFormat, RelevantAt, ScoredMethod,
                                SentenceEncoderName, SplitSeed, TopK, TuneOn, Tuned)
from whyrec.cli.output import EpochProgress, Throttled, console, labelled, print_error, print_warning, status
from whyrec.strict_json import strict_dumps
from whyrec.systems.mt_progress import mt_epoch_text
from whyrec.wording import counted


@app.command("models")
def models() -> None:
    """List what `whyrec train` fits, with each parameter's default: the rating models, then the
    explanation systems (mt: MTConfig; peter and peter+: PeterConfig, without / with the feature word)."""
    from dataclasses import asdict

    from whyrec.rating import RATING_MODELS
    from whyrec.rating.tuning import DEFAULT_GRIDS
    from whyrec.systems.mt_config import MTConfig
    from whyrec.systems.peter_config import PeterConfig

    con = console()
    con.print(labelled("rating models", "bold", " (a setting given several values, factors=4|8|16, is picked on "
                                                "validation; --tuned tries the grid shown)"))
    for name, cls in sorted(RATING_MODELS.items()):
        con.print(labelled(f"  {name}", "bold", f"  {_as_typed(cls().get_params())}"), highlight=False)
        if name in DEFAULT_GRIDS:
            con.print("    grid: " + ", ".join(f"{k}={'|'.join(f'{v:g}' for v in values)}"
                                             for k, values in DEFAULT_GRIDS[name].items()), highlight=False)
    con.print(labelled("explanation systems", "bold", " (they predict ratings too)"))
    peter = {k: v for k, v in asdict(PeterConfig()).items() if k != "use_feature"}  # set by the name
    for name, settings in (("mt", asdict(MTConfig())), ("peter, peter+", peter)):
        con.print(labelled(f"  {name}", "bold", f"  {_as_typed(settings)}"), highlight=False)


def _as_typed(settings: dict) -> str:
    """Settings as ``--set`` takes them: ``NAME=VALUE`` with the value in JSON (``true``,
    ``[1, 2]``), a string bare."""
    import json

    pairs = (f"{k}={v if isinstance(v, str) else json.dumps(v)}" for k, v in settings.items())
    return ", ".join(pairs) or "(no parameters)"


@app.command("show")
def show(
    bundle: list[Path] = typer.Argument(..., help="Bundle folders written by `whyrec train` or `align`."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per bundle instead of text."),
) -> None:
    """What saved bundles hold: the system and its training data, users and items, explainers,
    settings, how training went, what MMI alignment did to it, its files."""
    from whyrec.bundle import describe_bundle

    con = console()
    for folder in bundle:
        described = describe_bundle(folder)
        if as_json:
            print(strict_dumps(described))
        else:
            folder = str(described["folder"])  # the text's first words, shown in bold
            con.print(labelled(folder, "bold", bundle_text(described)[len(folder):]), highlight=False)


def bundle_text(d: dict) -> str:
    """A bundle's description (:func:`whyrec.bundle.describe_bundle`) as a few lines of text."""
    from whyrec.explanations import EXPLAINER_LABELS
    from whyrec.provenance import record_view

    scale = f", ratings {d['rating_scale'][0]:g}–{d['rating_scale'][1]:g}" if d["rating_scale"] else ""
    lines = [f"{d['folder']}: {d['system']}, saved by whyrec {d['whyrec_version']}",
             f"  {counted(d['users'], 'user')}, {counted(d['items'], 'item')}{scale}"]
    if d["explainers"]:
        words = d["word_vectors"]
        vectors = (f", word vectors {words['source']} ({100 * words['coverage']:.1f}% of the words)"
                   if words and "coverage" in words else "")
        folded = ", texts folded to ASCII (--fold-unicode)" if d.get("unicode_folded") else ""
        lines.append(f"  explainers {', '.join(d['explainers'])}; "
                     f"vocabulary {counted(d['vocabulary'], 'word')}{vectors}"
                     f"{folded}; {d['feature_words']:,} feature words")
    else:
        lines.append("  a rating model: it writes no explanations")
    training = d["training"]
    unit = training["unit"]
    lowest = ", ".join(f"{name} {m['value']:.4f} ({unit} {m['epoch']})" for name, m in training["lowest"].items())
    lines.append(f"  training: {counted(training['epochs'], unit)}" + (f"; lowest {lowest}" if lowest else "")
                 if training["epochs"] else "  training: the bundle keeps no per-epoch history")
    for run in d["alignments"]:  # read with care: a hand-edited bundle.json may lack any key
        which = f" of {EXPLAINER_LABELS.get(run['variant'], run['variant'])}" if run.get("variant") else ""
        test = run.get("test") or {}
        kept = ("the explainer as it was kept (no epoch raised the estimated MI)" if run.get("kept_epoch") == 0
                else f"epoch {run.get('kept_epoch', '?')} kept")
        line = (f"  aligned: {run.get('method', '?')}({run.get('target', '?')}){which} on "
                f"{test.get('split', run.get('data', '?'))}, {_epochs_run(run.get('epochs_run'))}, {kept}")
        reward = run.get("rating_reward_encoder")
        if isinstance(reward, dict):  # recorded since ensembles could read it
            classifiers = reward.get("members", "?")
            line += ("; rating reward read by the generic encoder" if reward.get("kind") == "generic" else
                     f"; rating reward read by the rating-tuned encoder ({classifiers} classifier"
                     f"{'' if classifiers == 1 else 's'})")
        if "before" in test and "after" in test:
            line += (f"; test RMSE {test['before']['rmse']:.4f} → {test['after']['rmse']:.4f}, sentiment accuracy "
                     f"{test['before']['acc5']:.1f}% → {test['after']['acc5']:.1f}% (5 classes)")
        lines.append(line)
    if isinstance(d.get("tuning"), dict):
        from whyrec.rating.tuning import describe_tuning

        lines.append(f"  settings picked on validation: {describe_tuning(d['tuning'])}")
    lines.append(f"  settings: {_as_typed(d['settings'])}")
    lines.extend(_made_by_lines(record_view(d.get("made_by"))))
    lines.append("  files: " + ", ".join(f"{name} {_size(size)}" for name, size in d["files"].items()))
    return "\n".join(lines)


def _made_by_lines(view: dict | None) -> list[str]:
    """How the bundle was made (:func:`whyrec.provenance.record_view` of its run.json): the command,
    its date and whyrec commit, the data and split with the start of their SHA-256; for an aligned
    bundle, then how the bundle it aligned was."""
    if view is None:
        return ["  made by: not recorded (no run.json: saved by code, or before whyrec wrote one)"]
    commit, threads = view["whyrec_commit"], view["torch_threads"]
    made_with = []
    if commit:
        made_with.append(f"whyrec commit {commit[:12]}{'+changes' if commit.endswith('+changes') else ''}")
    if threads:
        made_with.append(counted(threads, "torch thread"))
    line = (f"  made by `{view['command'] or '?'}` on {(view['date'] or '?')[:10]}"
            + (f" ({', '.join(made_with)})" if made_with else ""))
    if view["data_path"] or view["data_sha256"]:
        line += f"; data {view['data_path'] or '?'} (sha256 {(view['data_sha256'] or '?')[:12]}…)"
    for split in view["splits"]:
        line += f"; split {split['path'] or '?'} (sha256 {(split['sha256'] or '?')[:12]}…)"
    lines = [line]
    source = view["aligned_from"]
    if source is not None:
        aligned = f"  aligned from {source['bundle'] or '?'}"
        if source["made_by"] is not None:
            before = _made_by_lines(source["made_by"])
            lines += [f"{aligned}, which was {before[0].strip()}", *before[1:]]
        else:
            lines.append(f"{aligned} (how that was made is not recorded)")
    return lines


def _epochs_run(epochs) -> str:
    return f"{counted(epochs, 'epoch')} run" if isinstance(epochs, int) else "epochs run not recorded"


def _size(size: int) -> str:
    return f"{size / 2**20:.1f} MB" if size >= 2**20 else f"{size / 2**10:.1f} kB"


def check_model_name(model: str) -> None:
    """Refuse a name `whyrec train` does not know, naming every one it does (and the likely one)."""
    import difflib

    from whyrec.errors import ConfigError

    if model in TEXT_SYSTEMS:  # known without importing the rating models (and torch with them)
        return
    from whyrec.rating import RATING_MODELS

    known = sorted(RATING_MODELS) + list(TEXT_SYSTEMS)
    if model in known:
        return
    close = difflib.get_close_matches(model.lower(), known, n=1, cutoff=0.6)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    raise ConfigError(f"unknown model '{model}'; train takes a rating model ({', '.join(sorted(RATING_MODELS))}) "
                      f"or an explanation system ({', '.join(TEXT_SYSTEMS)}); see `whyrec models`.{hint}")


def _rating_params_on(model: str, params: dict, device: str) -> dict:
    """A rating model's ``params`` with ``--device``: its ``device`` setting where it has one (the ALS
    models), given once (by ``--device`` or ``--set device=``); a model without one trains on the
    CPU, and another device is refused rather than left unread."""
    from whyrec.errors import ConfigError
    from whyrec.rating import RATING_MODELS

    if device == "cpu":
        return params
    if "device" not in RATING_MODELS[model].param_names():
        on_device = sorted(name for name, cls in RATING_MODELS.items() if "device" in cls.param_names())
        raise ConfigError(f"{model} trains on the CPU; --device is for mt, peter, peter+ and {', '.join(on_device)}")
    if params.get("device", device) != device:
        raise ConfigError(f"give the device once: --device {device} or --set device={params['device']}")
    from whyrec.devices import resolve_device

    resolve_device(device)  # a device this machine lacks fails before the data is read
    return {**params, "device": device}


def _train_in_processes(processes: int, device: str) -> None:
    """``whyrec train ... --processes N``: the same command, without ``--processes``, run by N
    data-parallel processes (:func:`whyrec.distributed.launch`); exits with their status. On the
    CPU, more processes than the machine has cores is said to slow training down."""
    import os
    import sys

    from whyrec.distributed import launch

    cores = os.cpu_count() or 1
    if not device.startswith("cuda") and processes > cores:
        print_warning(f"{processes} processes on {counted(cores, 'CPU core')}: "
                      f"they take turns on the cores, so training is slower than with {cores}, not faster")

    args, skip = [], False
    for arg in sys.argv[1:]:  # what was typed after `whyrec`, less --processes and its value
        if skip or arg == "--processes" or arg.startswith("--processes="):
            skip = arg == "--processes"
            continue
        args.append(arg)
    code = launch(processes, args, report=print_error)
    sys.exit(code)  # not typer.Exit: the processes have said "interrupted" or their error already


@app.command("train")
def train(
    model: str = typer.Argument(..., help="A rating model, mt, peter or peter+ (see `whyrec models`)."),
    data: Path = typer.Option(..., "--data", help="Review file or folder."),
    out: Path = typer.Option(..., "--out", help="Bundle folder to write."),
    split: Optional[Path] = typer.Option(None, "--split", help="Folder with train/validation/test.index "
                                         "(default: <data>/1 when present, else a seeded 80/10/10 split)."),
    seed: SplitSeed = None,
    param: Optional[list[str]] = typer.Option(None, "--param", "--set",
                                              help="Model parameter NAME=VALUE (repeatable). For a rating "
                                              "model, NAME=A|B|C tries each value and keeps the best on "
                                              "validation (RMSE, or --tune-on)."),
    format: ReaderFormat = None,
    column: ColumnMap = None,
    device: str = typer.Option("cpu", "--device", help="torch device of MT / PETER (cpu, cuda, cuda:N, mps, auto) "
                               "and of the ALS models' solves (pmf, context-als: cpu, cuda, cuda:N, auto)."),
    checkpoint: Optional[Path] = typer.Option(None, "--checkpoint", help="MT / PETER: save the training state here "
                                              "after every epoch; rerun with the same folder to resume."),
    processes: int = typer.Option(1, "--processes", min=1, help="MT / PETER: train with this many data-parallel "
                                  "processes on this machine, as torchrun --standalone --nproc_per_node N would "
                                  "start them (on CUDA, one GPU each)."),
    min_rating: MinRating = 1.0,
    max_rating: MaxRating = 5.0,
    fold_unicode: FoldUnicode = False,
    meta: MetaFile = None,
    tuned: Tuned = False,
    tune_on: TuneOn = None,
    overwrite: Overwrite = False,
) -> None:
    """Fit a model on the train part, report validation/test RMSE, save a bundle.

    MODEL is a rating model (`whyrec models`), `mt` (the MT system; --param sets any MTConfig
    field), or `peter` / `peter+` (PETER without / with the feature word; --param sets PeterConfig).
    """
    check_out(out, data)
    check_model_name(model)
    check_checkpoint(checkpoint, out, data)
    params = parse_pairs(param, "--param")
    text_system = model in TEXT_SYSTEMS
    if text_system:  # before the heavy imports: a mistyped setting is refused at once
        check_text_settings(model, params, tuned)
    from whyrec.bundle import save_bundle
    from whyrec.metrics.rating import mae, rmse
    from whyrec.distributed import Cluster, join, launched_world
    from whyrec.errors import ConfigError
    from whyrec.explanations import explainers_of, generate, shown
    from whyrec.rating.tuning import TunedModel, describe_tuning, model_or_tuned

    if processes > 1 and not text_system:
        raise ConfigError(f"{model} trains in one process; --processes is for mt, peter and peter+")
    cluster = Cluster()
    if text_system:
        from whyrec.devices import resolve_device

        device = resolve_device(device)  # a device this machine lacks fails before the data is read
        cluster = join(device)  # under torchrun: this process's place among the launched ones
    elif launched_world() > 1:
        raise ConfigError(f"{model} trains in one process; under torchrun train mt, peter or peter+")
    if checkpoint is not None and not text_system:
        raise ConfigError(f"--checkpoint is for mt, peter and peter+; {model} trains in one go")
    if fold_unicode and not text_system:
        raise ConfigError(f"--fold-unicode changes the texts mt, peter and peter+ read; {model} reads no text")
    if model == "mt":
        from whyrec.systems.mt import MTConfig, MultiTask

        estimator = MultiTask(MTConfig.from_dict({"device": device, **params}))
    elif model in ("peter", "peter+"):
        from whyrec.systems.peter import Peter, PeterConfig, peter_epoch_text

        estimator = Peter(PeterConfig.from_dict({"device": device, **params, "use_feature": model == "peter+"}))
    else:
        params = _rating_params_on(model, params, device)
        estimator = model_or_tuned(model, params, tune_on or "rmse", tuned=tuned)  # several values: picked
    check_tune_on(tune_on, [estimator])
    check_new_bundle(out, overwrite)  # after the settings: their errors come first, as for a new folder
    if processes > 1:  # the device and settings are checked: once here, not once per process
        _train_in_processes(processes, device)
    parts = split_of(data, split, seed, format, (min_rating, max_rating), column, fold_unicode, meta)
    con = console(quiet=not cluster.is_main)  # the main process reports and saves for all
    con.print(split_line(parts), highlight=False)
    valid = parts.valid if len(parts.valid) else None
    if text_system:
        from whyrec.data.features import split_features
        from whyrec.data.text import LETTERS_LOST_WARNING, letters_lost, letters_lost_text

        parts.train.require_text(model.upper())
        lost = letters_lost(parts.train.texts)
        if lost >= LETTERS_LOST_WARNING and cluster.is_main:
            print_warning(letters_lost_text(lost))

        with status(con, "extracting features") as line:
            features = split_features(parts)
            progress = EpochProgress(line, f"training {model.upper()}", estimator.config.epochs,
                                     Throttled.every_for(con))
            line.update(f"training {model.upper()}")
            if model == "mt":
                estimator.fit(parts.train, valid, features, checkpoint_dir=checkpoint,
                              on_epoch=lambda r: progress(r, mt_epoch_text(r)), on_step=progress.step)
            else:
                estimator.fit(parts.train, valid, features, checkpoint_dir=checkpoint,
                              log=lambda r: progress(r, peter_epoch_text(r)), on_step=progress.step)
    else:
        with status(con, f"training {model} on {counted(len(parts.train), 'rating')}") as line:
            if isinstance(estimator, TunedModel):  # a grid takes long: say which combination it is at
                within = Throttled(line.update, Throttled.every_for(con))
                estimator.fit(parts.train, valid, on_trial=lambda k, n, p: within(
                    f"training {model} on {counted(len(parts.train), 'rating')}: combination {k}/{n} "
                    + ", ".join(f"{key}={value}" for key, value in p.items() if len(estimator.grid[key]) > 1)))
            else:
                estimator.fit(parts.train, valid)
        if isinstance(estimator, TunedModel):
            con.print(f"picked on validation: {describe_tuning(estimator.record())}", highlight=False)
    for name, part in (("validation", parts.valid), ("test", parts.test)):
        if len(part):
            pred = estimator.predict_corpus(part)
            con.print(f"{name}: RMSE {rmse(pred, part.ratings):.4f}  MAE {mae(pred, part.ratings):.4f}  "
                      f"({counted(len(part), 'rating')})")
    empty = [name for name, part in (("validation", parts.valid), ("test", parts.test)) if not len(part)]
    if empty:  # a small file's split (or index files) can leave a part empty: say so, not nothing
        con.print(f"{' and '.join(empty)}: no ratings in {'this part' if len(empty) == 1 else 'these parts'} of "
                  f"the split ({len(parts.train):,} train, {len(parts.valid):,} validation, {len(parts.test):,} "
                  "test): not measured", highlight=False)
    if not cluster.is_main:
        return
    if text_system:
        estimator.save(out)
        users, items = parts.test.users[:3], parts.test.items[:3]
        known = [u in estimator.user_map and i in estimator.item_map for u, i in zip(users, items)]
        users, items = [u for u, k in zip(users, known) if k], [i for i, k in zip(items, known) if k]
        names = explainers_of(estimator)  # none for MT without its decoder
        if names and users:  # as `whyrec explain` shows them: MT-P (or the one trained), never <unk>
            texts = generate(estimator, "pair" if "pair" in names else names[0], users, items)
            for user, item, text in zip(users, items, texts):
                con.print(f"  {user} → {item}: {shown(text)}", highlight=False)
    else:
        save_bundle(estimator, out)
    from whyrec.provenance import write_run_record

    write_run_record(out, data, splits=[parts])  # the command, the code, the data and split it was trained on
    con.print(f"saved {model} to {out}")


@app.command("evaluate")
def evaluate(
    bundle: Path = typer.Argument(..., help="Bundle folder written by `whyrec train`."),
    data: Path = typer.Option(..., "--data", help="Review file or folder."),
    split: Optional[Path] = typer.Option(None, "--split", help="Split folder (default: <data>/1 when present)."),
    seed: SplitSeed = None,
    format: ReaderFormat = None,
    column: ColumnMap = None,
    as_json: bool = typer.Option(False, "--json", help="Print the scores as JSON."),
    mi: MiScores = False,
    encoder: SentenceEncoderName = None,
    top_k: TopK = None,
    relevant_at: RelevantAt = None,
    records: Optional[Path] = typer.Option(None, "--records", help="Also write one row per test record to this "
                                           ".jsonl or .csv file: user, item, rating, predicted rating; for MT and "
                                           "PETER also the reference sentence, its feature word, and each "
                                           "explainer's explanation with the rating class the judge reads in it."),
    by_activity: ByActivity = False,
    method: ScoredMethod = None,
    decode: DecodingSettings = None,
    min_rating: MinRating = 1.0,
    max_rating: MaxRating = 5.0,
) -> None:
    """Score a saved model on a split's test part: ratings, and explanations with their alignment.

    RMSE and MAE; for MT and PETER also each explainer's BLEU-1/4, ROUGE-1/2/L, USR, FMR, FCR,
    DIV and perplexity, and its alignment: how often a sentiment judge trained on the train
    reviews reads an explanation as the predicted rating (5 and 3 classes). With --records, what
    was predicted and written for each test record, as scored."""
    decoding = scored_decoding(method, decode)  # before the heavy imports and the data: refused at once
    from whyrec.bundle import load_bundle
    from whyrec.explanation_scores import score_explanations, sentiment_judge, write_explanations
    from whyrec.explanations import EXPLAINER_LABELS, check_decoding, check_rating_scale, explainers_of, system_label
    from whyrec.metrics.rating import mae, rmse

    encoder = mi_encoder(mi, encoder)  # checked before the data is read
    check_relevant_at(relevant_at, top_k)
    if records is not None:
        from whyrec.prediction_records import check_records_path

        check_records_path(records)
        check_out(records, data, folder=False, option="--records")
    estimator = load_bundle(bundle)
    check_rating_scale(estimator, (min_rating, max_rating))
    check_decoding(estimator, decoding)
    check_mi_read(mi, {estimator.name: estimator})
    # the texts read as the system was trained on them (a rating model reads none)
    parts = split_of(data, split, seed, format, (min_rating, max_rating), column,
                     getattr(estimator, "unicode_folded", False))
    test = parts.test
    if len(test) == 0:
        from whyrec.errors import DataError

        raise DataError(f"split {parts.name} has no test records to score (the data may be too small to split)")
    pred = estimator.predict_corpus(test)
    unknown = int(sum(u not in estimator.user_map for u in test.users))
    report = {"system": estimator.name, "test_ratings": len(test), "rmse": rmse(pred, test.ratings),
              "mae": mae(pred, test.ratings), "unknown_users": unknown}
    not_held_out = warn_if_not_held_out(bundle, data, parts)
    if not_held_out:
        report["split_warning"] = not_held_out
    strangers = strangers_warning("the system", estimator, test)
    if strangers:  # trained on other data?
        report["strangers_warning"] = strangers
    if by_activity:
        from whyrec.experiment import rmse_by_activity

        report["rmse_by_activity"] = rmse_by_activity(parts, pred)
    if top_k is not None:
        from whyrec.ranking_evaluation import ranking_scores, relevance_threshold

        if relevant_at is None:
            relevant_at = relevance_threshold(test.rating_scale)
        users, scores = ranking_scores(estimator, parts, top_k, relevant_at)
        report["ranking"] = {"k": top_k, "relevant_at": relevant_at, "users": users, "items": len(estimator.item_map),
                             **scores}
    written = judge = None
    if explainers_of(estimator):
        from whyrec.data.features import split_features

        with status(console(), "extracting features and explaining the test records"):
            features = split_features(parts)
            sentences = None
            if mi:
                from whyrec.align.pipeline import sentence_encoder

                sentences = sentence_encoder(encoder, estimator.vocab)
            written = write_explanations(estimator, test, features, decoding)
            if decoding is not None:
                report["decoding"] = decoding.describe()
            judge = sentiment_judge(parts.train) if len(parts.train) else None
            report["explained_records"], report["explanations"] = score_explanations(
                estimator, test, features, judge=judge, encoder=sentences, written=written)
    if records is not None:
        from whyrec.prediction_records import prediction_records, save_records

        rows = prediction_records(estimator, test, pred, written, judge)
        save_records(rows, records)
        report["records_file"] = str(records)
    if as_json:  # NaN (a metric without features) is null: JSON has no NaN
        print(strict_dumps(report, indent=1))
        return
    con = console()
    con.print(f"{system_label(estimator)} on split {parts.name}, {len(test):,} test ratings: RMSE {report['rmse']:.4f}  "
              f"MAE {report['mae']:.4f}  ({unknown:,} with unknown users)", highlight=False)
    if strangers:
        con.print(f"  {strangers}", highlight=False)
    if "rmse_by_activity" in report:
        con.print("  RMSE by the user's number of training ratings: " + "  ".join(
            f"{group} {v['rmse']:.4f} (n={v['count']:,})" for group, v in report["rmse_by_activity"].items()),
            highlight=False)
    if "ranking" in report:
        r = report["ranking"]
        con.print(f"  top {r['k']} of each test user's unrated items ({counted(r['users'], 'user')} with a test item "
                  f"rated ≥ {r['relevant_at']:g}): " + "  ".join(f"{name} {r[name]:.4f}" for name in
                                                          ("precision", "recall", "hr", "mrr", "ndcg")))
        from whyrec.ranking_evaluation import whole_list_note

        whole = whole_list_note(r["k"], r["items"])
        if whole:
            con.print(f"  ({whole})", highlight=False)
    if "explanations" in report and not report["explained_records"]:
        con.print("  explanations not scored: no test record has a user and an item the system knows "
                  "(is this the data it was trained on?)")
    if report.get("explanations") and decoding is not None:
        con.print(f"  explanations decoded by {report['decoding']}, as `whyrec explain` shows them", highlight=False)
    for name, sc in report.get("explanations", {}).items():
        con.print(f"  {EXPLAINER_LABELS[name]} on {counted(report['explained_records'], 'record')} with a known user "
                  f"and item: BLEU-1 {sc['bleu1']:.2f}  BLEU-4 {sc['bleu4']:.2f}  ROUGE-1/2/L {sc['rouge1']:.2f}/"
                  f"{sc['rouge2']:.2f}/{sc['rougeL']:.2f}  USR {sc['usr']:.3f}  {_feature_scores(sc)}  "
                  f"perplexity {sc['ppl']:.2f}  sentiment "
                  f"accuracy {sc['acc5']:.1f}% / {sc['acc3']:.1f}% (5 / 3 classes; one sentence for all would score "
                  f"{sc['base5']:.1f}% / {sc['base3']:.1f}%)"
                  + (f"  I(R;E)/H(R) {_mi_value(sc['mi_rating'], 'every predicted rating in one class')}  "
                     f"I(F;E) {_mi_value(sc['mi_feature'], 'under two records with a feature word')}"
                     if "mi_rating" in sc else ""),
                  highlight=False)
        if sc.get("empty"):
            con.print(f"    {sc['empty']:.1f}% of these explanations have no words (the sentiment judge reads "
                      "those by its prior alone)", highlight=False)
    if records is not None:
        con.print(f"  each test record's prediction{' and explanations' if written else ''} written to {records}",
                  highlight=False)


def _feature_scores(scores: dict) -> str:
    """FMR, FCR and DIV for the evaluate line; each one undefined (NaN) said to be so, with why."""
    names = ("fmr", "fcr", "div")
    if all(math.isnan(scores[n]) for n in names):
        return "FMR, FCR, DIV n/a (no feature words: none was extracted from the train reviews)"
    return "  ".join(f"{n.upper()} {'n/a' if math.isnan(scores[n]) else f'{scores[n]:.3f}'}" for n in names)


def _mi_value(value: float, why_undefined: str) -> str:
    """An MI estimate for the evaluate line; NaN (undefined) said with its reason."""
    return f"undefined ({why_undefined})" if math.isnan(value) else f"{value:.3f}"
