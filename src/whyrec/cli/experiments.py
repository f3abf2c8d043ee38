"""``whyrec experiment mt | rating``: a paper's comparison, and rating models over splits."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from whyrec.cli.common import app, experiment_app
from whyrec.cli.inputs import (data_folder, data_warnings_as_lines, given_split_folder, load_reviews,
                               read_split_folders, split_line, split_of, strangers_warning, warn_if_not_held_out)
from whyrec.cli.option_checks import (check_checkpoint, check_given_once, check_mi_read, check_out, check_relevant_at,
                                      check_split_count, check_text_settings, check_tune_on, checked_mt_config,
                                      mi_encoder, parse_pairs, scored_decoding)
from whyrec.cli.options import (TEXT_SYSTEMS, ByActivity, ColumnMap, DecodingSettings, FoldUnicode, MaxRating, MiScores,
                                MinRating, ReaderFormat, RelevantAt, ScoredMethod, SentenceEncoderName,
                                SignificanceTrials, SplitSeed, TopK, TuneOn, Tuned)
from whyrec.cli.output import (EXPLANATIONS_FILE, Throttled, console, note_random_sentence_words,
                               note_random_word_vectors, print_table, save_results, status, step_reporter)


@experiment_app.command("mt")
def experiment_mt(
    context: typer.Context,
    data: Path = typer.Option(..., "--data", help="Review file or folder."),
    split: Optional[Path] = typer.Option(None, "--split", help="Split folder (default: <data>/1 when present)."),
    splits: Optional[str] = typer.Option(None, "--splits", help="Instead of one split: the data folder's fixed "
                                         "splits to run on, all or names such as 1,2,3; each split's tables go "
                                         "to split-NAME/ in --out, and mt_splits.md gives every model's mean ± sd "
                                         "and the corrected resampled t-test against MT over them (one split: as --split)."),
    out: Path = typer.Option(Path("runs/mt"), "--out", help="Folder for mt.md, mt.json and the plots."),
    epochs: int = typer.Option(30, help="At most this many MT epochs (Algorithm 1 iterations); MT stops sooner "
                               "once 3 epochs improve neither validation RMSE nor NLL (--set patience=N, 0: off)."),
    setting: Optional[list[str]] = typer.Option(None, "--set", "--param",
                                                help="Any MT setting NAME=VALUE (see MTConfig; repeatable)."),
    checkpoint: Optional[Path] = typer.Option(None, "--checkpoint", help="Checkpoint folder: MT resumes from it "
                                              "(with --splits, each split's MT in a sub-folder)."),
    resume: bool = typer.Option(False, "--resume", help="With --splits: read back the splits that a stopped run "
                                "with the same settings finished (their results in --out) instead of running them "
                                "again."),
    lm_seeds: int = typer.Option(1, "--lm-seeds", min=1, help="Training runs (seeds) of the unconditional LSTM "
                                 "and GRU LM baselines; their rows give the mean perplexity."),
    lm_epochs: int = typer.Option(60, "--lm-epochs", min=1, help="At most this many epochs of the LSTM, GRU LM and "
                                  "GCN baselines, which stop sooner once 3 epochs bring no lower validation NLL."),
    threads: int = typer.Option(1, min=1, help="torch CPU threads."),
    seed: SplitSeed = None,
    format: ReaderFormat = None,
    column: ColumnMap = None,
    device: str = typer.Option("cpu", "--device", help="torch device of MT and its ablations: cpu, cuda, cuda:N, "
                               "mps, auto."),
    min_rating: MinRating = 1.0,
    max_rating: MaxRating = 5.0,
    fold_unicode: FoldUnicode = False,
    method: ScoredMethod = None,
    decode: DecodingSettings = None,
) -> None:
    """Train MT, its ablations and the baselines; write the paper's tables and plots."""
    decoding = scored_decoding(method, decode)  # before the heavy imports: a bad setting is refused at once
    from whyrec.systems.mt_config import MTConfig

    given = parse_pairs(setting, "--set/--param")
    check_given_once(context, given, {"epochs": "epochs"})
    settings = {"epochs": epochs, **given}
    mt_config = checked_mt_config(settings)  # so are the MT settings
    if decoding is not None:
        from whyrec.explain.decoding import check_min_words

        check_min_words(decoding.min_words, mt_config.max_words, "MT")
    check_out(out, data)
    check_checkpoint(checkpoint, out, data)
    check_split_options(split, splits, seed, resume)
    import torch

    from whyrec.devices import resolve_device
    from whyrec.provenance import RUN_FILE, run_record_writer
    from whyrec.systems.mt_experiment import run_mt_experiment
    from whyrec.systems.mt_splits import SUMMARY_FILES, run_mt_over_splits

    torch.set_num_threads(threads)
    config = MTConfig.from_dict({**settings, "device": resolve_device(device)})
    if checkpoint is not None:  # before the data is read: a second run given the folder is refused at once
        from whyrec.checkpoint import claim_checkpoint_folder

        # one split's MT epochs go in the folder itself; over splits, in its split-NAME/ folders
        claim_checkpoint_folder(checkpoint, holds_epochs=splits is None)
    note_random_word_vectors(config)
    every = _splits_of(data, splits, format, column, (min_rating, max_rating), fold_unicode) if splits is not None \
        else [split_of(data, split, seed, format, (min_rating, max_rating), column, fold_unicode)]
    con = console()
    for parts in every:
        con.print(split_line(parts))

    def log(message: str) -> None:
        con.print(message, highlight=False)

    step_log = step_reporter(log, 30.0)  # a line every 30 s
    # the command's record, made when the tables it describes are written (the run's end) and renamed with them
    record = {RUN_FILE: lambda path: run_record_writer(data, splits=every)(path)}
    if len(every) > 1:
        run_mt_over_splits(every, out, config, resume=resume, checkpoint_dir=checkpoint, decoding=decoding, log=log,
                           lm_seeds=lm_seeds, lm_epochs=lm_epochs, step_log=step_log, also=record)
        con.print((out / "mt_splits.md").read_text(encoding="utf-8"), highlight=False)
        con.print(f"written to {out}/ ({', '.join([*SUMMARY_FILES, RUN_FILE])}; each split's tables and plots in "
                  "split-NAME/)")
        return
    run_mt_experiment(every[0], out, config, lm_seeds=lm_seeds, lm_epochs=lm_epochs, checkpoint_dir=checkpoint,
                      decoding=decoding, log=log, step_log=step_log, also=record)
    con.print((out / "mt.md").read_text(encoding="utf-8"), highlight=False)
    con.print(f"written to {out}/ (mt.md, mt.json, training.png, discriminator_curve.png, {RUN_FILE})")


@experiment_app.command("rating")
def experiment_rating(
    data: Path = typer.Option(..., "--data", help="Review file or folder."),
    model: Optional[list[str]] = typer.Option(None, "--model", help="A rating model, optionally with parameters: "
                                              "pmf, context-als:factors=8,lambda_bias=3 (repeatable; default: "
                                              "every model in `whyrec models`, with its defaults). Values "
                                              "separated by | are a grid, picked on each split's validation "
                                              "part (RMSE, or --tune-on): context-als:factors=4|8|16,lambda_u=1|5|10."),
    splits: Optional[str] = typer.Option(None, "--splits", help="The data folder's fixed splits to run on: all, or "
                                         "names such as 1,2,3 (default: all it has; without any, a random split)."),
    split: Optional[Path] = typer.Option(None, "--split", help="Instead: one split folder, wherever it is (as "
                                         "`whyrec data split --out` writes them, e.g. by-time/1)."),
    kfold: int = typer.Option(0, "--kfold", help="Without fixed splits: K random folds (10% of each fold's "
                              "training records validate); 0: one random 80/10/10 split."),
    seed: Optional[int] = typer.Option(None, min=0, help="Seed of random splits: of --kfold's folds, or of one "
                                       "80/10/10 split drawn even where the data folder has fixed splits (default: "
                                       "those, else seed 0); not with --split or --splits."),
    reference: Optional[str] = typer.Option(None, "--reference", help="The model the paired t-tests compare with "
                                            "(default: the first)."),
    top_k: TopK = None,
    relevant_at: RelevantAt = None,
    out: Path = typer.Option(Path("runs/rating"), "--out", help="Folder for results.md/csv/json and rmse.png."),
    tuned: Tuned = False,
    tune_on: TuneOn = None,
    by_activity: ByActivity = False,
    format: ReaderFormat = None,
    column: ColumnMap = None,
    min_rating: MinRating = 1.0,
    max_rating: MaxRating = 5.0,
) -> None:
    """Compare rating models over the fixed splits of a dataset (or random folds).

    RMSE and MAE (with --top-k also ranking metrics), mean ± sd over splits, paired t-tests of
    the squared errors against a reference model."""
    check_out(out, data)
    from whyrec.data import kfold_splits, ratio_split, split_folders
    from whyrec.errors import ConfigError
    from whyrec.experiment import Experiment, models_from_specs

    check_relevant_at(relevant_at, top_k, tune_on)
    systems = models_from_specs(model or [], tune_on or "rmse", relevant_at, tuned)  # bad ones fail before any reading
    check_tune_on(tune_on, systems.values())
    if reference is not None and reference not in systems:  # as a model is named, in any case (PMF: pmf)
        reference = next((name for name in systems if name.casefold() == reference.strip().casefold()), reference)
    if reference is not None and reference not in systems:
        raise ConfigError(f"--reference '{reference}' is not one of the models: {', '.join(systems)}")
    if sum([splits is not None, split is not None, bool(kfold)]) > 1:
        raise ConfigError("give one of --split, --splits and --kfold")
    check_split_count("--kfold", kfold)
    if seed is not None and (splits is not None or split is not None):
        raise ConfigError("--seed draws random splits and --split or --splits names fixed ones; give one of them")
    if split is not None:
        folders = [given_split_folder(split, data)]
    elif splits is not None:
        folders = _fixed_split_folders(data, splits)
    else:  # the data folder's fixed splits, unless a seed asks for a random split (none: seed 0's)
        folders = split_folders(data_folder(data)) if seed is None else []
    seed = seed or 0
    corpus = load_reviews(data, format, column, False, "keep-all" if folders and not kfold else "keep-last",
                          (min_rating, max_rating))
    if folders and not kfold:
        parts = read_split_folders(corpus, folders, data)
    elif kfold:
        parts = kfold_splits(corpus, kfold, seed=seed, valid_share=0.1)
    else:
        parts = [ratio_split(corpus, seed=seed)]
    con = console()
    with status(con, "training") as line:
        within = Throttled(line.update, Throttled.every_for(con))  # a grid's combinations: many a second
        table = Experiment(parts, systems, reference=reference, top_k=top_k, relevant_at=relevant_at,
                           on_progress=lambda msg: line.update(f"training: {msg}"),
                           on_step=lambda msg: within(f"training: {msg}"), by_activity=by_activity).run()
    title = f"rating prediction on {corpus.name}, {len(parts)} split(s): " + ", ".join(p.name.split("/")[-1]
                                                                                      for p in parts)
    print_table(table, title)  # with its note: a top-k no shorter than the catalogue
    ranking = table.ranking_significance_markdown()  # empty without --top-k over several splits
    if ranking:
        con.print(f"{table.ranking_significance_title()}:\n{ranking}", highlight=False)
    if by_activity:
        con.print(f"{table.activity_title()}:\n{table.activity_markdown()}", highlight=False)
    for note in table.tuning_notes():  # what each tuned model kept
        con.print(f"picked on validation: {note}", highlight=False)
    save_results(table, out, title, data, parts)


@experiment_app.command("explain")
def experiment_explain(
    data: Path = typer.Option(..., "--data", help="Review file or folder."),
    system: Optional[list[str]] = typer.Option(None, "--system", help="mt, peter or peter+ (repeatable; default: "
                                               "all three)."),
    mt: Optional[list[str]] = typer.Option(None, "--mt", help="An MT setting NAME=VALUE (see MTConfig)."),
    peter: Optional[list[str]] = typer.Option(None, "--peter", help="A PETER setting NAME=VALUE (PeterConfig), for "
                                              "peter and peter+."),
    split: Optional[Path] = typer.Option(None, "--split", help="Split folder (default: <data>/1 when present)."),
    splits: Optional[str] = typer.Option(None, "--splits", help="Instead of one split: the data folder's fixed "
                                         "splits to train and score on, all or names such as 1,2,3; the table "
                                         "gives mean ± sd over them, as the PETER benchmark reports five."),
    seed: SplitSeed = None,
    format: ReaderFormat = None,
    column: ColumnMap = None,
    out: Path = typer.Option(Path("runs/explain"), "--out", help="Folder for results.md/csv/json, rmse.png, "
                             "metrics.png (RMSE and the main text and alignment scores, a chart each) and "
                             "explanations.jsonl (each test record's explanations by every system)."),
    mi: MiScores = False,
    encoder: SentenceEncoderName = None,
    threads: int = typer.Option(1, min=1, help="torch CPU threads."),
    device: str = typer.Option("cpu", "--device", help="torch device: cpu, cuda, cuda:N, mps, auto."),
    min_rating: MinRating = 1.0,
    max_rating: MaxRating = 5.0,
    fold_unicode: FoldUnicode = False,
    by_activity: ByActivity = False,
    method: ScoredMethod = None,
    decode: DecodingSettings = None,
    trials: SignificanceTrials = 1000,
    resume: bool = typer.Option(False, "--resume", help="With --splits: read back the splits that a stopped run "
                                "with the same settings finished (each is kept in splits/ in --out as it ends) "
                                "instead of training them again."),
) -> None:
    """Compare explanation systems (MT-U/I/P, PETER, PETER+) on one split or several: ratings, text, alignment."""
    decoding = scored_decoding(method, decode)  # before the heavy imports: a bad setting is refused at once
    mt_settings, peter_settings = parse_pairs(mt, "--mt"), parse_pairs(peter, "--peter")
    chosen = chosen_text_systems(system, mt_settings, peter_settings)
    for name in chosen:  # so are the systems' settings (their configs import no torch)
        check_text_settings(name, mt_settings if name == "mt" else peter_settings, False)
    check_out(out, data)
    import torch

    from whyrec.devices import resolve_device
    from whyrec.explainer_splits import compare_over_splits
    from whyrec.explanations import check_decoding
    from whyrec.systems.mt import MTConfig, MultiTask
    from whyrec.systems.peter import Peter, PeterConfig

    torch.set_num_threads(threads)
    device = resolve_device(device)
    check_split_options(split, splits, seed, resume)

    def unfitted() -> dict:
        """The systems compared, new for each split."""
        built = {}
        for name in chosen:
            if name == "mt":
                built["MT"] = MultiTask(MTConfig.from_dict({"device": device, **mt_settings}))
            else:
                use_feature = name == "peter+"
                config = PeterConfig.from_dict({"device": device, **peter_settings, "use_feature": use_feature})
                built["PETER+" if use_feature else "PETER"] = Peter(config)
        return built

    for name, built in unfitted().items():  # settings are checked before any data is read
        check_decoding(built, decoding)
        if name == "MT":
            note_random_word_vectors(built.config)
    encoder = mi_encoder(mi, encoder)
    note_random_sentence_words(encoder)
    every = _splits_of(data, splits, format, column, (min_rating, max_rating), fold_unicode) if splits is not None \
        else [split_of(data, split, seed, format, (min_rating, max_rating), column, fold_unicode)]
    con = console()
    # what a kept split must have been run with to be read back (--resume)
    run_settings = {"systems": chosen, "mt": mt_settings, "peter": peter_settings, "by_activity": by_activity,
                    "decoding": decoding.describe() if decoding is not None else None,
                    "mi": encoder, "fold_unicode": fold_unicode, "scale": [min_rating, max_rating]}
    with data_warnings_as_lines(), status(con, "extracting features") as line:  # warnings after the status line
        table, records = compare_over_splits(
            every, unfitted, keep_in=out if splits is not None else None, settings=run_settings, resume=resume,
            encoder_for=(lambda parts: _shared_encoder(parts, encoder)) if mi else None, by_activity=by_activity,
            decoding=decoding, log=lambda message: con.print(message, highlight=False), on_progress=line.update,
            on_step=step_reporter(line.update, Throttled.every_for(con)), trials=trials)
    names = ", ".join(p.name for p in every)
    _save_comparison(con, table, records, out,
                     f"explanation systems on {names}" + (f" (mean ± sd over {len(every)} splits)"
                                                           if len(every) > 1 else ""), data, every)


def check_split_options(split: Path | None, splits: str | None, seed: int | None, resume: bool) -> None:
    """``experiment mt`` and ``explain`` run on one split (``--split``, ``--seed``) or on the data
    folder's fixed ``--splits``, which ``--resume`` reads back: refuse the ones that do not go together."""
    from whyrec.errors import ConfigError

    if split is not None and splits is not None:
        raise ConfigError("give either --split (one folder) or --splits (several of the data folder's)")
    if seed is not None and splits is not None:
        raise ConfigError("--splits runs the data folder's fixed splits and --seed draws one random split; "
                          "give one of them")
    if resume and splits is None:
        raise ConfigError("--resume reads back the finished splits of a run over --splits; give --splits")


def chosen_text_systems(system: list[str] | None, mt_settings: dict, peter_settings: dict) -> list[str]:
    """The systems ``--system`` names (each once, in any case: PETER+ is peter+; none named: all
    three), refusing a name that is none of them, and settings given for no system compared
    (``--mt`` without mt), which would otherwise be dropped unread."""
    from whyrec.errors import ConfigError
    from whyrec.wording import unknown_names

    chosen = list(dict.fromkeys([s.strip().casefold() for s in system] if system else TEXT_SYSTEMS))
    unknown = [s for s in chosen if s not in TEXT_SYSTEMS]
    if unknown:
        raise ConfigError(unknown_names("system", unknown, list(TEXT_SYSTEMS)))
    if mt_settings and "mt" not in chosen:
        raise ConfigError(f"--mt sets MT, which is not among the systems compared ({', '.join(chosen)}); "
                          "add --system mt or leave --mt out")
    if peter_settings and not {"peter", "peter+"} & set(chosen):
        raise ConfigError(f"--peter sets PETER and PETER+, neither of which is among the systems compared "
                          f"({', '.join(chosen)}); add --system peter or peter+, or leave --peter out")
    return chosen


def _fixed_split_folders(data: Path, wanted: str) -> list[Path]:
    """The folders of the fixed splits ``--splits`` names (all, or 1,2,3); none is a :class:`DataError`."""
    from whyrec.data import split_folders
    from whyrec.errors import DataError

    folders = split_folders(data_folder(data), wanted)
    if not folders:
        raise DataError("--splits reads the fixed splits of a data folder (sub-folders 1, 2, … with a "
                        "train.index); there are none", path=data)
    return folders


def _splits_of(data: Path, wanted: str, fmt, columns, scale, fold_unicode: bool) -> list:
    """``--splits``: the data folder's fixed splits named by ``wanted`` (all, or 1,2,3), read once."""
    folders = _fixed_split_folders(data, wanted)
    corpus = load_reviews(data, fmt, columns, False, "keep-all", scale, fold_unicode)
    return read_split_folders(corpus, folders, data)


def _shared_encoder(parts, encoder: str):
    """``--mi``'s sentence encoder, one for every system compared: MiniLM, or mean word vectors
    over the train reviews' vocabulary."""
    from whyrec.align.pipeline import sentence_encoder
    from whyrec.data.text import Vocabulary, tokenize

    vocab = Vocabulary.build(tokenize(t) for t in parts.train.texts) if encoder == "words" else None
    return sentence_encoder(encoder, vocab)


def _save_comparison(con, table, records: list[dict], out: Path, title: str, data: Path, splits: list) -> None:
    """Print a comparison's table, and write it (results.*, charts) with ``explanations.jsonl``
    (``records``: a row per test record, the systems side by side) and ``run.json`` (how it was
    made, with the digests of the ``data`` file and of the fixed ``splits``' folders)."""
    from whyrec.prediction_records import records_writer

    print_table(table, title)  # with its note: how the explanations were decoded, when not as PETER's benchmark does
    tested = table.text_significance_markdown()  # one split, several explainers
    if tested:
        con.print(f"{table.text_significance_title()}:\n{tested}", highlight=False)
    activity = table.activity_markdown()  # empty without --by-activity
    if activity:
        con.print(f"{table.activity_title()}:\n{activity}", highlight=False)
    save_results(table, out, title, data, splits,
                 also={EXPLANATIONS_FILE: records_writer(records, Path(EXPLANATIONS_FILE))})


@app.command("compare")
def compare(
    bundles: list[Path] = typer.Argument(..., help="Bundle folders written by `whyrec train` or `whyrec align`."),
    data: Path = typer.Option(..., "--data", help="Review file or folder: the data they were trained on."),
    split: Optional[Path] = typer.Option(None, "--split", help="Split folder (default: <data>/1 when present)."),
    seed: SplitSeed = None,
    format: ReaderFormat = None,
    column: ColumnMap = None,
    out: Path = typer.Option(Path("runs/compare"), "--out", help="Folder for results.md/csv/json, rmse.png, "
                             "metrics.png and explanations.jsonl (each test record's explanations by every bundle)."),
    mi: MiScores = False,
    encoder: SentenceEncoderName = None,
    by_activity: ByActivity = False,
    method: ScoredMethod = None,
    decode: DecodingSettings = None,
    trials: SignificanceTrials = 1000,
    min_rating: MinRating = 1.0,
    max_rating: MaxRating = 5.0,
) -> None:
    """Saved bundles side by side on one split's test part, as `experiment explain` compares the
    systems it trains: one row per explainer (a rating bundle: one row), with p-values of each
    row's rating errors against the first's, the charts, and every explanation of each test record."""
    decoding = scored_decoding(method, decode)  # before the heavy imports: a bad setting is refused at once
    check_out(out, data)
    from whyrec.bundle import load_bundle
    from whyrec.data.features import split_features
    from whyrec.errors import ConfigError
    from whyrec.explainer_experiment import compare_trained
    from whyrec.explanations import check_decoding, check_rating_scale, explainers_of
    from whyrec.prediction_records import side_by_side

    names = [b.resolve().name for b in bundles]
    if len(set(names)) != len(names):
        raise ConfigError(f"two bundles share a folder name ({names}); the table names them by it")
    encoder = mi_encoder(mi, encoder)
    systems = {name: load_bundle(folder) for name, folder in zip(names, bundles)}
    for system in systems.values():
        check_rating_scale(system, (min_rating, max_rating))
        if explainers_of(system):  # a rating bundle among them has no text to decode: scored on its ratings
            check_decoding(system, decoding)
    explaining = any(explainers_of(s) for s in systems.values())
    if decoding is not None and not explaining:
        raise ConfigError("--method and --decode choose how explanations are decoded; these bundles write none")
    check_mi_read(mi, systems)
    folded = {bool(getattr(s, "unicode_folded", False)) for s in systems.values() if explainers_of(s)}
    if len(folded) > 1:
        raise ConfigError("the bundles read their texts differently (some trained with --fold-unicode, some "
                          "without): their explanations cannot be scored on the same references")
    note_random_sentence_words(encoder)
    parts = split_of(data, split, seed, format, (min_rating, max_rating), column, folded == {True})
    con = console()
    con.print(split_line(parts))
    for name, system in systems.items():
        if warning := strangers_warning(name, system, parts.test):
            con.print(warning, highlight=False)
    for folder in bundles:
        warn_if_not_held_out(folder, data, parts)
    with status(con, "extracting features" if explaining else "scoring") as line:
        features = split_features(parts) if explaining else None  # rating bundles: the data may hold no text
        records = []
        table = compare_trained(parts, systems, features, _shared_encoder(parts, encoder) if mi else None,
                                on_progress=lambda m: line.update(m),
                                on_records=lambda name, rows: records.append(rows), by_activity=by_activity,
                                decoding=decoding, trials=trials)
    _save_comparison(con, table, side_by_side(records), out, f"saved bundles on {parts.name}", data, [parts])
