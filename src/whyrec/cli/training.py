"""``whyrec train``: fit a rating model or an explanation system on a split's train part, report
its validation and test RMSE, save a bundle (in several processes with ``--processes``)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from whyrec.cli.common import app
from whyrec.cli.inputs import data_warnings_as_lines, split_line, split_of
from whyrec.cli.option_checks import (check_checkpoint, check_new_bundle, check_out, check_text_settings, check_tune_on,
                                      parse_pairs)
from whyrec.cli.options import (TEXT_SYSTEMS, ColumnMap, FoldUnicode, MaxRating, MetaFile, MinRating, Overwrite,
                                ReaderFormat, SplitSeed, TuneOn, Tuned)
from whyrec.cli.output import (EpochProgress, Throttled, console, note_random_word_vectors, print_error,
                               print_warning, status, tell_waiting)
from whyrec.systems.mt_progress import mt_epoch_text
from whyrec.wording import counted, did_you_mean


def check_model_name(model: str) -> str:
    """``model`` as `whyrec train` knows it, in any case (``MT``, ``PMF``: as the tables spell
    them); a name it does not know is refused, naming every one it does (and the likely one: the
    closest spelling, or whyrec's name for another library's, ``als`` → ``context-als``)."""
    from whyrec.errors import ConfigError

    folded = model.strip().casefold()
    if folded in TEXT_SYSTEMS:  # known without importing the rating models (and torch with them)
        return folded
    from whyrec.rating import RATING_MODELS
    from whyrec.rating.base import registered_name

    known = sorted(RATING_MODELS) + list(TEXT_SYSTEMS)
    if (registered := registered_name(model)) in known:
        return registered
    raise ConfigError(f"unknown model '{model}'{did_you_mean(model, known)}; train takes a rating model "
                      f"({', '.join(sorted(RATING_MODELS))}) or an explanation system ({', '.join(TEXT_SYSTEMS)}); "
                      "see `whyrec models`")


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
    model = check_model_name(model)  # "MT" is mt
    check_checkpoint(checkpoint, out, data)
    params = parse_pairs(param, "--param/--set")
    text_system = model in TEXT_SYSTEMS
    if text_system:  # before the heavy imports: a mistyped setting is refused at once
        check_text_settings(model, params, tuned)
    from whyrec.bundle import save_bundle
    from whyrec.metrics.rating import mae, rmse
    from whyrec.distributed import Cluster, join, launched_world
    from whyrec.errors import ConfigError
    from whyrec.explanations import explainers_of, generate, shown, word_limit
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
    if checkpoint is not None and cluster.is_main:  # before the data is read: a second run is refused at once
        from whyrec.checkpoint import claim_checkpoint_folder

        claim_checkpoint_folder(checkpoint)
    if model == "mt" and cluster.is_main:
        note_random_word_vectors(estimator.config)
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

        with data_warnings_as_lines(), status(con, "extracting features") as line:  # warnings after the status line
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
    kept = estimator.kept_epochs() if hasattr(estimator, "kept_epochs") else []  # PETER, MT, biased MF
    if kept:
        from whyrec.kept_epochs import kept_text

        con.print(f"kept: {kept_text(kept)}", highlight=False)
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
    from whyrec.kept_elsewhere import write_or_keep_elsewhere
    from whyrec.provenance import run_record_after

    def save(folder: Path) -> None:
        # the record (the command, the code, the data and split it was trained on) replaces the
        # folder's old one only with the bundle it describes
        with run_record_after(folder, data, splits=[parts], waiting=tell_waiting):
            if text_system:
                estimator.save(folder)
            else:
                save_bundle(estimator, folder)

    write_or_keep_elsewhere(save, out, f"trained {model}")
    if text_system:
        users, items = parts.test.users[:3], parts.test.items[:3]
        known = [u in estimator.user_map and i in estimator.item_map for u, i in zip(users, items)]
        users, items = [u for u, k in zip(users, known) if k], [i for i, k in zip(items, known) if k]
        names = explainers_of(estimator)  # none for MT without its decoder
        if names and users:  # as `whyrec explain` shows them: MT-P (or the one trained), never <unk>
            texts = generate(estimator, "pair" if "pair" in names else names[0], users, items)
            limit = word_limit(estimator)
            for user, item, text in zip(users, items, texts):
                con.print(f"  {user} → {item}: {shown(text, limit)}", highlight=False)
    con.print(f"saved {model} to {out}")
