"""``whyrec align``: MMI fine-tuning of a saved explainer, so that its explanations agree with the
system's predicted ratings (or the item features), with the change it made tested."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Optional

import typer

from whyrec.cli.common import app
from whyrec.cli.inputs import split_of, warn_if_not_held_out
from whyrec.cli.option_checks import (check_given_once, check_new_bundle, check_out, given_on_command_line,
                                      parse_pairs)
from whyrec.cli.options import (ColumnMap, MaxRating, MinRating, Overwrite, ReaderFormat, SignificanceTrials,
                                SplitSeed, asked_explainer)
from whyrec.cli.output import (EpochProgress, Throttled, console, note_random_sentence_words, print_note, status,
                               tell_waiting)


@app.command("align")
def align(
    context: typer.Context,
    bundle: Path = typer.Argument(..., help="MT or PETER/PETER+ bundle written by `whyrec train`."),
    data: Path = typer.Option(..., "--data", help="Review file or folder (the one the bundle was trained on)."),
    out: Path = typer.Option(..., "--out", help="Bundle folder for the aligned system (the input is not changed)."),
    split: Optional[Path] = typer.Option(None, "--split", help="Split folder (default: <data>/1 when present)."),
    seed: SplitSeed = None,
    format: ReaderFormat = None,
    column: ColumnMap = None,
    target: str = typer.Option("rating", help="rating, feature, or joint: (1 − ε)·I(R;E) + ε·I(F;E)."),
    rating_input: bool = typer.Option(False, "--rating-input/--no-rating-input", help="Also feed the predicted "
                                      "rating to the explainer (a zero-initialised shift per rating class)."),
    variant: Optional[str] = typer.Option(None, callback=asked_explainer, help="MT's decoder to align: user, item or "
                                          "pair, or as the output labels them: MT-U, MT-I, MT-P (default: pair)."),
    encoder: str = typer.Option("minilm", help="Sentence encoder the rewards read: minilm (the mmi "
                                "extra) or words (mean word vectors: GloVe when installed, else random)."),
    reward_encoder: str = typer.Option("rating-tuned", help="rating-tuned (a layer trained on the train reviews' "
                                       "ratings reads the rating reward) or generic."),
    reward_members: int = typer.Option(1, help="Classifiers averaged in the rating-tuned encoder (an "
                                       "ensemble, each member from its own seed: steadier than one)."),
    epochs: int = typer.Option(6, help="MMI epochs, generator and estimator alternating."),
    samples: int = typer.Option(5, help="Sampled explanations per input (K)."),
    lr: Optional[float] = typer.Option(None, help="Learning rate (default: 2e-3 for MT's GRU decoder, 3e-4 for "
                                       "PETER)."),
    batches: int = typer.Option(30, help="Batches of 64 per generator epoch (0: the whole train part)."),
    estimator_replay: float = typer.Option(0.0, help="Train reviews mixed into each estimator epoch, per "
                                           "generated explanation (0: generated only, as the MMI code)."),
    setting: Optional[list[str]] = typer.Option(None, "--set", "--param",
                                                help="Any other MMIConfig setting NAME=VALUE (repeatable)."),
    threads: int = typer.Option(1, min=1, help="torch CPU threads."),
    device: str = typer.Option("cpu", "--device", help="torch device of the explainer and the MI estimators: "
                               "cpu, cuda, cuda:N, mps, auto."),
    trials: SignificanceTrials = 1000,
    min_rating: MinRating = 1.0,
    max_rating: MaxRating = 5.0,
    overwrite: Overwrite = False,
) -> None:
    """MMI: fine-tune a saved system's explanations to agree with its predicted ratings.

    Or with the item features (--target feature|joint); reports the change and saves the aligned bundle."""
    given = parse_pairs(setting, "--set/--param")  # --set epochs=N counts as --epochs N, patience included
    check_given_once(context, given, {"target": "target", "epochs": "epochs", "samples": "samples",
                                      "max_batches_per_epoch": "batches", "lr": "lr",
                                      "estimator_replay": "estimator_replay"})
    check_out(out, data)
    import torch

    from whyrec.align import pipeline
    from whyrec.align.mmi import MMIConfig
    from whyrec.bundle import load_bundle
    from whyrec.data.features import split_features
    from whyrec.data.scale import five_point
    from whyrec.devices import resolve_device
    from whyrec.errors import ConfigError, DataError
    from whyrec.explanation_scores import judged_agreement, sentiment_judge, tested_change
    from whyrec.explanations import check_rating_scale, shown, system_label, word_limit
    from whyrec.metrics.alignment import sentiment_base_rate
    from whyrec.metrics.rating import rmse
    from whyrec.systems.peter import Peter

    torch.set_num_threads(threads)
    if out.resolve() == bundle.resolve():
        raise ConfigError("--out must be a new folder: the input bundle is kept as it is")
    pipeline.check_reward_members(reward_members)
    system = load_bundle(bundle, resolve_device(device))
    pipeline.check_alignable(system, variant)  # every setting is checked before the data is read
    check_rating_scale(system, (min_rating, max_rating))
    variant = variant or "pair"
    pipeline.check_reward_encoder(reward_encoder)
    sentence = pipeline.sentence_encoder(encoder, system.vocab)
    is_mt = not isinstance(system, Peter)
    config = MMIConfig.from_dict({"target": target, "epochs": epochs, "samples": samples,
                                  "max_batches_per_epoch": batches,
                                  "lr": lr if lr is not None else (2e-3 if is_mt else 3e-4),  # --lr 0: refused
                                  "patience": given.get("epochs", epochs), "estimator_replay": estimator_replay,
                                  "mine_lr": 1e-3, "mine_batch_size": 512, "mine_pretrain_epochs": 30, **given})
    if config.target == "feature" and given_on_command_line(context, "reward_encoder"):
        raise ConfigError("--reward-encoder chooses what reads the rating reward, and --target feature has none")
    if given_on_command_line(context, "reward_members") and (config.target == "feature" or
                                                             reward_encoder != "rating-tuned"):
        raise ConfigError("--reward-members sizes the rating-tuned encoder, which "
                          + ("--target feature does not read" if config.target == "feature" else
                             f"--reward-encoder {reward_encoder} does not train"))
    check_new_bundle(out, overwrite)  # after the settings: their errors come first, as for a new folder
    note_random_sentence_words(encoder)  # once every setting is taken, before the data is read
    note_kept_rating_input(system, variant, rating_input)
    parts = split_of(data, split, seed, format, (min_rating, max_rating), column, system.unicode_folded)
    warn_if_not_held_out(bundle, data, parts)  # its test records would be ones the system was trained on
    train, valid, test = (pipeline.known_records(system, p) for p in (parts.train, parts.valid, parts.test))
    for name, known, every, least in (("train", train, parts.train, 2), ("test", test, parts.test, 1)):
        if len(known) < least:  # MMI learns from, and reports on, the records the system can explain
            raise DataError(f"{bundle.resolve().name} knows the user and the item of {len(known):,} of the "
                            f"{len(every):,} {name} records (MMI needs at least {least}): is this the data it was "
                            "trained on?", path=data)
    con = console()
    with status(con, "extracting features") as line:
        features = split_features(parts)
        line.update("training the sentiment judge and the reward encoders")
        judge = sentiment_judge(train)
        encoders = pipeline.reward_encoders(reward_encoder, sentence, train, config.target, reward_members)

        measured, agreement = {}, {}  # kept in the aligned bundle beside the run's settings; read by the test

        def report(when: str) -> list[str]:
            texts, predicted = pipeline.explain_records(system, test, features, variant), system.predict_corpus(test)
            classes = five_point(predicted, test.rating_scale)
            agreement[when] = judged_agreement(judge, texts, classes)  # 100 or 0 per record
            acc = {name: float(agrees.mean()) for name, agrees in agreement[when].items()}
            base = sentiment_base_rate(classes)
            measured[when] = {"rmse": rmse(predicted, test.ratings), **acc, "base5": base["acc5"],
                              "base3": base["acc3"], "distinct": len(set(texts)), "explanations": len(texts)}
            con.print(f"{when}: test RMSE {measured[when]['rmse']:.4f}, sentiment accuracy "
                      f"{acc['acc5']:.1f}% (5-class) / {acc['acc3']:.1f}% (3-class; one sentence for all would score "
                      f"{base['acc5']:.1f}% / {base['acc3']:.1f}%), {len(set(texts))} distinct "
                      f"explanations of {len(texts):,}", highlight=False)
            return texts

        line.update("explaining the test part")
        before = report("before")
        line.update(f"MMI({target}) pre-training the estimators")
        progress = EpochProgress(line, f"MMI({target})", config.epochs, Throttled.every_for(con), from_first_step=True)
        pipeline.align(system, train, valid, features, encoders, config, variant=variant, rating_input=rating_input,
                       log=lambda r: progress(r, f"{r['phase']} epoch{_mi_text(r.get('valid_mi'))}"),
                       on_step=progress.step)
    run = system.alignments[-1]
    con.print(f"kept epoch {run['kept_epoch']} of {run['epochs_run']}: its explanations had the highest estimated MI"
              if run["kept_epoch"] else "kept the explainer as it was: no MMI epoch raised the estimated MI of its "
              "explanations", highlight=False)
    after = report("after")
    if trials:
        with status(con, "testing the change"):
            change = tested_change(test, features, system.config.max_words, before, after,
                                   {name: (agreement["after"][name], agreement["before"][name])
                                    for name in agreement["after"]}, trials)
        from whyrec.metrics.significance import holm_by_test
        from whyrec.results_table import metric_title, randomization_holm_note

        holm = holm_by_test([{metric: t.p for metric, t in change.items()}])[0]
        measured["after_minus_before"] = {metric: {**dataclasses.asdict(t), "p_holm": holm[metric]}
                                          for metric, t in change.items()}
        con.print(change_line(change, trials, len(test)), highlight=False)
        # read together: every metric tested (the bundle's), not only those of the line
        together = randomization_holm_note([("", change)], metric_title, "the {count} p-values of every metric tested")
        if together:
            con.print(together, highlight=False)
    limit = word_limit(system)  # an explanation that long is shown as perhaps cut there
    for user, item, old, new in list(zip(test.users, test.items, before, after))[:5]:
        con.print(f"  {user} → {item}: {shown(old, limit)}  ⇒  {shown(new, limit)}", highlight=False)
    run["test"] = {"split": parts.name, **measured}
    from whyrec.kept_elsewhere import write_or_keep_elsewhere
    from whyrec.provenance import read_run_record, run_record_after

    aligned_from = {"bundle": str(bundle.resolve()), "made_by": read_run_record(bundle)}

    def save(folder: Path) -> None:
        # this command's record, holding the one of the bundle it aligned (how that was trained),
        # put in place with the aligned bundle only
        with run_record_after(folder, data, splits=[parts], waiting=tell_waiting, aligned_from=aligned_from):
            system.save(folder)

    write_or_keep_elsewhere(save, out, f"aligned {system_label(system)}")
    con.print(f"saved the aligned {system_label(system)} to {out}")


CHANGE_SHOWN = (("bleu1", "BLEU-1", ".2f"), ("rougeL", "ROUGE-L", ".2f"), ("usr", "USR", ".3f"),
                ("fmr", "FMR", ".3f"), ("fcr", "FCR", ".3f"), ("div", "DIV", ".3f"))


def change_line(change: dict, trials: int, records: int) -> str:
    """``align``'s line of what the alignment changed: the sentiment accuracies' and a few other
    metrics' differences, after minus before, each with its p
    (:func:`whyrec.explanation_scores.tested_change`; the bundle records every metric's)."""
    parts = [f"{title} {change[key].difference:+z{spec}} (p {change[key].p:.3f})"
             for key, title, spec in CHANGE_SHOWN if key in change]
    if "acc5" in change:
        five, three = change["acc5"], change["acc3"]
        parts.insert(0, f"sentiment accuracy {five.difference:+z.1f} points (5 classes, p {five.p:.3f}) and "
                        f"{three.difference:+z.1f} (3 classes, p {three.p:.3f})")
    how = "every swap counted" if any(t.exact for t in change.values()) else f"{trials:,} random swaps"
    return f"after − before on the {records:,} test records (approximate randomization, {how}): " + ", ".join(parts)


def _mi_text(valid_mi: dict | None) -> str:
    """The estimators' validation MI for a progress line (``, validation MI rating 0.123 (nats)``),
    or nothing before the first estimate. MINE's Donsker–Varadhan estimate is a lower bound, which
    on held-out pairs can fall below 0; the line then says what that means rather than leave a
    negative information to be read as a fault."""
    if not valid_mi:
        return ""
    # z: an estimate that rounds to 0 prints 0.000, not -0.000
    text = ", validation MI " + ", ".join(f"{name} {value:z.3f}" for name, value in valid_mi.items()) + " (nats)"
    if any(value < -0.0005 for value in valid_mi.values()):  # negative as printed
        text += "; below 0: the estimator (a lower bound) found no dependence in the validation pairs"
    return text


def note_kept_rating_input(system, variant: str, asked: bool) -> None:
    """Say (a note) that the explainer to align has a rating input from an earlier alignment when
    this run did not ask for one: it is used and tuned again all the same, since the explainer
    was tuned with it (``--no-rating-input`` cannot take it away)."""
    from whyrec.explanations import EXPLAINER_LABELS, explaining_kind, is_mt

    if is_mt(system):
        kept, label = variant in system.rating_inputs, EXPLAINER_LABELS[variant]
    else:
        kept, label = system.rating_input is not None, explaining_kind(system)
    if kept and not asked:
        print_note(f"{label} was aligned with a rating input before, and its explanations were tuned with it: this "
                   "run feeds it the predicted rating too, and records that it did (a rating input is kept once "
                   "added; align the bundle it was aligned from to go without one)")
