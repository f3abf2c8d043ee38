"""``whyrec align`` (MMI fine-tuning of a saved explainer), ``whyrec explain`` and ``whyrec recommend``."""

from __future__ import annotations

import dataclasses
from contextlib import ExitStack
from pathlib import Path
from typing import Optional

import typer

from whyrec.cli.common import app
from whyrec.cli.inputs import history_of, split_of, warn_if_not_held_out
from whyrec.cli.option_checks import (check_data_read, check_decoding_given, check_given_once, check_new_bundle,
                                      check_out, decoding_of, given_on_command_line, parse_pairs)
from whyrec.cli.options import (ColumnMap, DecodingMethod, DecodingSettings, ExplainerChoice, HistorySeed, HistorySplit,
                                MaxRating, MetaFile, MinRating, Overwrite, ReaderFormat, SignificanceTrials, SplitSeed)
from whyrec.cli.output import (EpochProgress, Throttled, console, print_warning, status, step_reporter,
                               tell_waiting)
from whyrec.cli.pairs import (PAIRS_AT_A_TIME, answered_in_parts, check_pair_items, in_file_order, paired_options,
                               pairs_shown, read_pairs_given, read_users_given, without_unknown_items)
from whyrec.ids import stripped_id
from whyrec.strict_json import strict_dumps
from whyrec.wording import counted, rating_text, shortened


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
    variant: Optional[str] = typer.Option(None, help="MT's decoder to align: user, item or pair (default: pair)."),
    encoder: str = typer.Option("minilm", help="Sentence encoder the rewards read: minilm (the mmi "
                                "extra) or words (mean word vectors: GloVe when installed, else random)."),
    reward_encoder: str = typer.Option("rating-tuned", help="rating-tuned (a layer trained on the train reviews' "
                                       "ratings reads the rating reward) or generic."),
    reward_members: int = typer.Option(1, help="Classifiers averaged in the rating-tuned encoder (an "
                                       "ensemble, each member from its own seed: steadier than one)."),
    epochs: int = typer.Option(6, help="MMI epochs, generator and estimator alternating."),
    samples: int = typer.Option(5, help="Sampled explanations per input (K)."),
    lr: Optional[float] = typer.Option(None, help="Learning rate (default: 2e-3 for MT's GRU decoder, 3e-4 for PETER)."),
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
    from whyrec.explanations import check_rating_scale, shown, system_label
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
    for user, item, old, new in list(zip(test.users, test.items, before, after))[:5]:
        con.print(f"  {user} → {item}: {shown(old)}  ⇒  {shown(new)}", highlight=False)
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


@app.command("explain")
def explain(
    context: typer.Context,
    bundle: Path = typer.Argument(..., help="MT or PETER/PETER+ bundle written by `whyrec train` (or `align`); "
                                  "or a rating model's: its ratings alone (an ALS one's split with --why and "
                                  "--data)."),
    user: Optional[list[str]] = typer.Option(None, "--user", help="User id (repeatable, paired with --item; one "
                                             "--user goes with every --item)."),
    item: Optional[list[str]] = typer.Option(None, "--item", help="Item id (repeatable, paired with --user; one "
                                             "--item goes with every --user)."),
    pairs: Optional[Path] = typer.Option(None, "--pairs", help="CSV/TSV file with 'user' and 'item' columns "
                                         "(and, for PETER+, an optional 'feature_word' one), or JSON lines "
                                         "(.jsonl) of objects with those keys, as --json writes them, or one "
                                         "JSON array of them; - reads them from standard input."),
    feature_word: Optional[str] = typer.Option(None, "--feature-word", help="PETER+: the feature word every "
                                               "explanation is to be about (default: each item's most frequent "
                                               "training feature)."),
    explainer: ExplainerChoice = None,
    method: DecodingMethod = "greedy",
    decode: DecodingSettings = None,
    why: bool = typer.Option(False, "--why", help="MT or an ALS rating model: also split the predicted rating into "
                             "the item's baseline and the contributions of the user's past ratings."),
    data: Optional[Path] = typer.Option(None, "--data", help="ALS rating models with --why: the data the model was "
                                        "trained on, where the users' past ratings are read (its train part)."),
    split: HistorySplit = None,
    seed: HistorySeed = None,
    format: ReaderFormat = None,
    column: ColumnMap = None,
    meta: MetaFile = None,
    as_json: bool = typer.Option(False, "--json", help="One JSON object per pair instead of text."),
    skip_unknown: bool = typer.Option(False, "--skip-unknown", help="With --pairs: answer the rows whose item the "
                                      "bundle knows and leave out the others, counted in a warning (with --json, "
                                      "each as {user, item, line, error} in its place); without it such a file is "
                                      "refused."),
    device: str = typer.Option("cpu", "--device", help="torch device: cpu, cuda, cuda:N, mps, auto."),
    min_rating: MinRating = 1.0,
    max_rating: MaxRating = 5.0,
) -> None:
    """Predicted ratings and explanations for (user, item) pairs."""
    decoding = decoding_of(method, decode)  # before the heavy imports: a bad setting is refused at once
    from whyrec.devices import resolve_device
    from whyrec.errors import ConfigError
    from whyrec.explanations import check_pairs, explain_pairs, explainers_of, rating_only

    device = resolve_device(device)
    words, feature_word = None, _feature_word(feature_word)
    if skip_unknown and pairs is None:
        raise ConfigError("--skip-unknown leaves out rows of a --pairs file; give one")
    if pairs is not None:
        if user or item:
            raise ConfigError("give pairs either with --pairs or with --user/--item, not both")
        users, items, words, lines = read_pairs_given(pairs)
        if words is not None and feature_word is not None:
            raise ConfigError("give the feature word with --feature-word or in the pairs file's 'feature_word' "
                              "column, not both")
    else:
        users, items = paired_options([stripped_id(u) for u in user or []], [stripped_id(i) for i in item or []])
    model, history = _answering_bundle(context, bundle, device, decoding)
    skipped: dict[int, dict] = {}  # --skip-unknown: the rows left out, by position, each with its line and why
    if pairs is not None and skip_unknown:
        users, items, words, skipped = without_unknown_items(model, users, items, words, lines)
        if skipped:
            first = next(iter(skipped.values()))
            print_warning(f"{pairs_shown(pairs)}: {len(skipped):,} of {len(lines):,} rows left out, their items "
                          f"unknown to the bundle (first: row {first['row']} at line {first['line']}, "
                          f"{first['error']})")
    elif pairs is not None:
        check_pair_items(model, pairs_shown(pairs), users, items, lines)
    if words is None and feature_word is not None:
        words = [feature_word] * len(users)
    users, items, words = check_pairs(model, users, items, explainer, why, history, words)  # before any answer

    def answered(start: int, stop: int) -> list[dict]:
        return explain_pairs(model, users[start:stop], items[start:stop], explainer, decoding, why=why,
                             history=history, feature_words=words[start:stop] if words is not None else None)

    # a rating bundle answers with its ratings alone, and says so (the service's no_explanation)
    reason = None if explainers_of(model) else rating_only(bundle.resolve().name)
    con = console()
    if reason and not as_json:
        con.print(f"({reason})", highlight=False)
    with ExitStack() as stack:  # a status line only for a file long enough to be answered in parts
        line = stack.enter_context(status(con, "explaining")) if len(users) > PAIRS_AT_A_TIME else None
        progress = step_reporter(line.update, Throttled.every_for(con)) if line else lambda message: None
        rows = answered_in_parts(answered, len(users), PAIRS_AT_A_TIME, progress)
        if as_json and skipped:  # every row of the file answered in its order, the skipped ones by their error
            rows = in_file_order(rows, skipped, len(lines))
        _print_explained(con, model, rows, as_json, reason, why)


def _print_explained(con, model, rows, as_json: bool, reason: str | None, why: bool) -> None:
    """Print `explain`'s rows as they come: a JSON object each, or a few lines each."""
    top = _scale_top(model)
    meant: dict[str, str | None] = {}  # each new user looked up once, however many rows name them
    for row in rows:
        if "error" in row:  # --skip-unknown --json: a row left out
            print(strict_dumps(row))
            continue
        if row["cold_start"]:  # as the service answers: the known id a new one may be a typo of
            if row["user"] not in meant:
                meant[row["user"]] = model.user_map.closest(row["user"])
            row["did_you_mean"] = meant[row["user"]]
        if as_json:
            print(strict_dumps(_with_readable({**row, "no_explanation": reason} if reason else row)))
            continue
        cold = _new_user_mark(row["did_you_mean"]) if row["cold_start"] else ""
        con.print(f"{row['user']}{cold} → {row['item']}{_title_after_id(row)}: "
                  f"{rating_text(row['predicted_rating'], top, 2)}",
                  highlight=False)
        _print_row_details(con, row, "  ", top)
        if why and row["cold_start"]:
            con.print(f"  ({NO_SPLIT_FOR_A_NEW_USER})", highlight=False)


@app.command("recommend")
def recommend(
    context: typer.Context,
    bundle: Path = typer.Argument(..., help="Any bundle written by `whyrec train` or `align`."),
    user: Optional[list[str]] = typer.Option(None, "--user", help="User id (repeatable)."),
    users_file: Optional[Path] = typer.Option(None, "--users", help="A file of users to answer, each once in "
                                              "its order: CSV/TSV with a 'user' column (or a review file's name "
                                              "for it), JSON lines or one JSON array of objects with that key, as "
                                              "--json and `evaluate --records` write them; - reads it from "
                                              "standard input."),
    top_k: int = typer.Option(10, "--top-k", "-k", min=1, help="Items per user."),
    explainer: ExplainerChoice = None,
    feature_word: Optional[str] = typer.Option(None, "--feature-word", help="PETER+: the feature word every "
                                               "explanation is to be about (default: each item's own)."),
    method: DecodingMethod = "greedy",
    decode: DecodingSettings = None,
    why: bool = typer.Option(False, "--why", help="MT or an ALS rating model (with --data): also split each "
                             "predicted rating over the user's past ratings."),
    data: Optional[Path] = typer.Option(None, "--data", help="Rating models: the data the model was trained on "
                                        "(its train part is each user's past: rated items are left out, a new "
                                        "user gets the most rated ones)."),
    split: HistorySplit = None,
    seed: HistorySeed = None,
    format: ReaderFormat = None,
    column: ColumnMap = None,
    meta: MetaFile = None,
    as_json: bool = typer.Option(False, "--json", help="One JSON object per user instead of text."),
    device: str = typer.Option("cpu", "--device", help="torch device: cpu, cuda, cuda:N, mps, auto."),
    min_rating: MinRating = 1.0,
    max_rating: MaxRating = 5.0,
) -> None:
    """A user's top-k items: those they have not rated, by predicted rating, each with its explanation.

    What the service's /users/USER/recommendations answers. A user the model has never seen gets
    the most rated items (MT explains them with MT-I; PETER cannot explain them)."""
    decoding = decoding_of(method, decode)  # before the heavy imports: a bad setting is refused at once
    from whyrec.devices import resolve_device
    from whyrec.errors import ConfigError
    from whyrec.explanations import check_explainer
    from whyrec.serve.systems import ServedSystem

    users = _users_asked(user, users_file)  # before the bundle is loaded: a bad file is refused at once
    model, history = _answering_bundle(context, bundle, resolve_device(device), decoding)
    served = ServedSystem(bundle.resolve().name, model, cache_size=0, history=history)
    feature_word = _feature_word(feature_word)
    if feature_word is not None:
        from whyrec.explanations import check_feature_words

        check_feature_words(model, [feature_word])  # before any user is answered
    check_explainer(served.explainers, explainer)
    if why and not served.splits_ratings:
        raise ConfigError("--why splits the ratings of MT or of an ALS rating model (context-als, pmf) given --data")
    con = console()
    with ExitStack() as stack:  # a status line for a file of users, which may take a while
        line = stack.enter_context(status(con, "recommending")) if users_file is not None else None
        progress = step_reporter(line.update, Throttled.every_for(con)) if line else lambda message: None
        for done, name in enumerate(users):
            progress(f"answered {done:,}/{len(users):,} users")
            answer = _recommendations(served, name, top_k, explainer, decoding, why, history, feature_word)
            if as_json:
                print(strict_dumps({**answer, "items": [_with_readable(row) for row in answer["items"]]}))
            else:
                _print_recommendations(con, answer, _scale_top(model), why)


def _users_asked(user: list[str] | None, users_file: Path | None) -> list[str]:
    """The users ``recommend`` answers: its ``--user`` ids, or those of its ``--users`` file (each
    once, :func:`whyrec.cli.pairs.read_users`), one way or the other."""
    from whyrec.errors import ConfigError

    if users_file is not None:
        if user:
            raise ConfigError("give users either with --user or with --users, not both")
        return read_users_given(users_file)[0]
    users = [stripped_id(u) for u in user or []]
    if not users:
        raise ConfigError("give a user with --user (repeatable), or a file of them with --users")
    if not all(users):
        raise ConfigError("a --user id is empty")
    return users


def _answering_bundle(context, bundle: Path, device: str, decoding):
    """The bundle ``explain`` and ``recommend`` answer from, loaded on ``device``, and the users' past
    ratings their ``--data`` gives (None without it), with what would go unread refused: ``--data``
    for an MT or PETER bundle, a decoding for a rating bundle, the options that read ``--data``
    without it."""
    from whyrec.bundle import load_bundle

    model = load_bundle(bundle, device)
    check_data_read(context.params["data"], {bundle.resolve().name: model})
    check_decoding_given(context, model, decoding)
    return model, history_of(context)


def _with_readable(row: dict) -> dict:
    """A ``--json`` row with ``readable`` beside ``explanations``: each explanation as it is shown
    (:func:`whyrec.data.text.readable`), as the service's answers carry it; ``explanations`` keeps
    the tokens the metrics read."""
    from whyrec.data.text import readable

    return {**row, "readable": {name: readable(text) for name, text in row["explanations"].items()}}


def _recommendations(served, user: str, k: int, explainer: str | None, decoding, why: bool, history,
                     feature_word: str | None = None) -> dict:
    """One user's answer, shaped as the service's: the top-k rows of :func:`explain_pairs` (or,
    where nothing explains them, the bare predicted ratings), with titles and, when no row has
    an explanation, the sentence saying why."""
    from whyrec.explanations import explain_pairs

    items, scores, cold = served.recommend(user, k)
    chosen, reason = served.chosen_explainers(explainer, cold)
    if items and (chosen or (why and not cold)):
        rows = explain_pairs(served.model, [user] * len(items), items, explainer, decoding, why=why, history=history,
                             feature_words=[feature_word] * len(items) if feature_word else None)
    else:
        rows = [{"user": user, "item": item, "predicted_rating": float(score), "cold_start": cold,
                 "explanations": {}} for item, score in zip(items, scores.tolist())]
    for row in rows:  # the served titles (a rating bundle's come from --data); why text is missing: said once
        row["title"] = served.titles.get(row["item"])
        row.pop("no_explanation", None)
    answer = {"user": user, "bundle": served.name, "cold_start": cold, "k": k, "items": rows,
              "history": served.has_history}  # False: a rating bundle without --data, past items not known
    if reason:
        answer["no_explanation"] = reason
    if cold:
        answer["cold_start_items"] = "most rated" if served.has_history else "highest predicted rating"
        answer["did_you_mean"] = served.did_you_mean(user)
    return answer


# what --why says of a user the model was not trained on, whose rating it cannot split
NO_SPLIT_FOR_A_NEW_USER = "--why: no rating split, a new user has no past ratings to split it over"


def _print_recommendations(con, answer: dict, top: float | None = None, why: bool = False) -> None:
    """One user's answer as text: a heading that says which items these are, then one numbered
    line per item with its explanations and, with --why, its rating split (ratings written on the
    scale up to ``top``)."""
    rows = answer["items"]
    if answer["cold_start"]:
        head = f"{answer['user']}{_new_user_mark(answer['did_you_mean'])}: the {answer['cold_start_items']} items"
    elif not answer["history"]:
        head = (f"{answer['user']}: the {counted(len(rows), 'item')} with the highest predicted rating (items "
                "they rated are not left out: the bundle keeps no ratings; give --data)")
    elif rows:
        head = (f"{answer['user']}: the {counted(len(rows), 'item')} they have not rated with the highest "
                "predicted rating")
    else:
        head = f"{answer['user']}: no item left that they have not rated"
    con.print(head, highlight=False)
    if answer.get("no_explanation"):
        con.print(f"  ({answer['no_explanation']})", highlight=False)
    if why and answer["cold_start"]:
        con.print(f"  ({NO_SPLIT_FOR_A_NEW_USER})", highlight=False)
    for rank, row in enumerate(rows, 1):
        con.print(f"  {rank}. {row['item']}{_title_after_id(row)}: {rating_text(row['predicted_rating'], top, 2)}",
                  highlight=False)
        _print_row_details(con, row, "     ", top)


def _title_after_id(row: dict) -> str:
    """The row's title as printed after its item id (" " and the title, cut to 60 characters; ""
    when it has none). A title several items share carries the item's id after it to tell them
    apart (:func:`whyrec.serve.systems.distinct_titles`, as the service and ``--json`` give it);
    printed after the id, the id is not written a second time."""
    title = row.get("title")
    if not title:
        return ""
    suffix = f" · {row['item']}"
    return f" {shortened(title.removesuffix(suffix), 60)}"


def _scale_top(model) -> float | None:
    """The top of the rating scale ``model`` was trained on (None: not kept), for :func:`rating_text`."""
    from whyrec.explanations import trained_scale

    scale = trained_scale(model)
    return None if scale is None else scale[1]


def _print_row_details(con, row: dict, indent: str, top: float | None = None) -> None:
    """The lines under a row of :func:`whyrec.explanations.explain_pairs`: each explanation, why
    there is none when a row says so, and with --why the rating's split (ratings written on the
    scale up to ``top``)."""
    from whyrec.explanations import EXPLAINER_LABELS, shown

    about = f" (about '{row['feature_word']}')" if row.get("feature_word") not in (None, "<unk>") else ""
    for name, text in row["explanations"].items():
        con.print(f"{indent}{EXPLAINER_LABELS[name]}{about}: {shown(text)}", highlight=False)
    if row.get("no_explanation"):
        con.print(f"{indent}({row['no_explanation']})", highlight=False)
    if row.get("rating_split"):
        con.print(indent + rating_split_text(row["rating_split"], bool(row["explanations"]), row["predicted_rating"],
                                             top), highlight=False)


def _new_user_mark(did_you_mean: str | None) -> str:
    """The mark of a user the model was not trained on: " (new user)", with the known id it is
    most like when one is close (a mistyped id gets the cold-start answer, not an error)."""
    return f" (new user; did you mean '{did_you_mean}'?)" if did_you_mean else " (new user)"


def rating_split_text(account: dict, has_text: bool, predicted: float | None = None,
                      top: float | None = None) -> str:
    """A predicted rating's split (:func:`whyrec.explanations.rating_split`) as one line: the
    item's baseline (PMF's: the mean rating), the user's past ratings that move it most, the
    others together, the rest (with an MT system, its text prior is part of the rest). The parts
    add up to the model's score before clipping; when that is past the scale, ``predicted`` (the
    clipped rating shown) is named beside it. The user's ratings are written on the scale up to
    ``top`` (:func:`whyrec.wording.rating_text`)."""
    from whyrec.rating.attribution import BASELINE_LABELS  # imported when used: whyrec.rating loads torch

    because = ", ".join(f"{shortened(b['title'] or b['item'])} {rating_text(b['rating'], top)} "
                        f"({b['contribution']:+z.2f})" for b in account["because"])
    n = account["n_other"]
    others = f"; your {counted(n, 'other rating')} {account['other_ratings']:+z.2f}" if n else ""
    rest = "text prior and rest" if has_text else "rest"
    score = f"rating {account['score']:.2f}"
    if predicted is not None and f"{predicted:.2f}" != f"{account['score']:.2f}":
        score = f"score {account['score']:.2f} (clipped to {predicted:.2f})"
    baseline = BASELINE_LABELS[account.get("baseline_of", "item")]
    return (f"{score} = {baseline} {account['baseline']:.2f}; your ratings of "
            f"{because}{others}; {rest} {account['rest']:+z.2f}")


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


def _feature_word(value: str | None) -> str | None:
    """``--feature-word`` as the features are written (:func:`whyrec.explanations.feature_word_token`:
    ``Card`` is ``card``); a blank one is refused."""
    from whyrec.errors import ConfigError
    from whyrec.explanations import feature_word_token

    if value is not None and not value.strip():
        raise ConfigError("--feature-word is empty")
    return feature_word_token(value) if value is not None else None
