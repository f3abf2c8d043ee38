"""``whyrec explain`` (predicted ratings and explanations of pairs) and ``whyrec recommend`` (a
user's top items, each explained)."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Optional

import typer

from whyrec.cli.common import app
from whyrec.cli.inputs import history_of
from whyrec.cli.option_checks import check_data_read, check_decoding_given, decoding_of
from whyrec.cli.options import (ColumnMap, DecodingMethod, DecodingSettings, ExplainerChoice, HistorySeed, HistorySplit,
                                MaxRating, MetaFile, MinRating, ReaderFormat)
from whyrec.cli.output import console, print_warning, progress_line
from whyrec.cli.pairs import (PAIRS_AT_A_TIME, answered_in_parts, check_pair_items, in_file_order, paired_options,
                               pairs_shown, read_pairs_given, read_users_given, without_unknown_items)
from whyrec.ids import stripped_id
from whyrec.strict_json import strict_dumps
from whyrec.wording import counted, rating_text, shortened


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
                                         "(.jsonl) of objects with those keys, as --json writes them (of "
                                         "recommend --json, each item a pair), or one JSON array of them, or "
                                         "a Parquet table; any of them gzipped (reviews.json.gz); - reads "
                                         "them from standard input."),
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
        users, items, words, skipped = without_unknown_items(model, users, items, words, lines, history)
        if skipped:
            first = next(iter(skipped.values()))
            print_warning(f"{pairs_shown(pairs)}: {len(skipped):,} of {len(lines):,} rows left out, their items "
                          f"unknown to the bundle (first: row {first['row']} at line {first['line']}, "
                          f"{first['error']})")
    elif pairs is not None:
        check_pair_items(model, pairs_shown(pairs), users, items, lines, history)
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
        progress = progress_line(stack, con, "explaining", len(users) > PAIRS_AT_A_TIME)
        rows = answered_in_parts(answered, len(users), PAIRS_AT_A_TIME, progress)
        if as_json and skipped:  # every row of the file answered in its order, the skipped ones by their error
            rows = in_file_order(rows, skipped, len(lines))
        _print_explained(con, model, rows, as_json, reason, why)


def _print_explained(con, model, rows, as_json: bool, reason: str | None, why: bool) -> None:
    """Print `explain`'s rows as they come: a JSON object each, or a few lines each."""
    from whyrec.explanations import word_limit

    top, limit = _scale_top(model), word_limit(model)
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
            print(strict_dumps(_with_readable({**row, "no_explanation": reason} if reason else row, limit)))
            continue
        cold = _new_user_mark(row["did_you_mean"]) if row["cold_start"] else ""
        con.print(f"{row['user']}{cold} → {row['item']}{_title_after_id(row)}: "
                  f"{rating_text(row['predicted_rating'], top, 2)}",
                  highlight=False)
        _print_row_details(con, row, "  ", top, limit)
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
                                              "--json and `evaluate --records` write them, a Parquet table (any "
                                              "of them gzipped), or a bare list of ids, one a line (its first id "
                                              "with a digit: else first a line 'user'); - reads it from standard "
                                              "input."),
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
    from whyrec.explanations import check_explainer, word_limit
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
    con, limit = console(), word_limit(model)
    with ExitStack() as stack:  # a status line for a file of users, which may take a while
        progress = progress_line(stack, con, "recommending", users_file is not None)
        for done, name in enumerate(users):
            progress(f"answered {done:,}/{len(users):,} users")
            answer = _recommendations(served, name, top_k, explainer, decoding, why, history, feature_word)
            if as_json:
                print(strict_dumps({**answer, "items": [_with_readable(row, limit) for row in answer["items"]]}))
            else:
                _print_recommendations(con, answer, _scale_top(model), why, limit)


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


def _with_readable(row: dict, max_words: int | None = None) -> dict:
    """A ``--json`` row with ``readable`` and ``at_word_limit`` beside ``explanations``, as the
    service's answers carry them: each explanation as it is shown (:func:`whyrec.data.text.readable`),
    and whether it has the system's ``max_words`` words (:func:`whyrec.explanations.at_word_limit`:
    it may have been cut there); ``explanations`` keeps the tokens the metrics read."""
    from whyrec.data.text import readable
    from whyrec.explanations import at_word_limit

    texts = row["explanations"]
    return {**row, "readable": {name: readable(text) for name, text in texts.items()},
            "at_word_limit": {name: at_word_limit(text, max_words) for name, text in texts.items()}}


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


def _print_recommendations(con, answer: dict, top: float | None = None, why: bool = False,
                           max_words: int | None = None) -> None:
    """One user's answer as text: a heading that says which items these are, then one numbered
    line per item with its explanations (" …" after those at ``max_words``) and, with --why, its
    rating split (ratings written on the scale up to ``top``)."""
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
        _print_row_details(con, row, "     ", top, max_words)


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


def _print_row_details(con, row: dict, indent: str, top: float | None = None, max_words: int | None = None) -> None:
    """The lines under a row of :func:`whyrec.explanations.explain_pairs`: each explanation (" …"
    after one at the system's ``max_words``: :func:`whyrec.explanations.shown`), why there is none
    when a row says so, and with --why the rating's split (ratings written on the scale up to ``top``)."""
    from whyrec.explanations import EXPLAINER_LABELS, shown

    about = f" (about '{row['feature_word']}')" if row.get("feature_word") not in (None, "<unk>") else ""
    for name, text in row["explanations"].items():
        con.print(f"{indent}{EXPLAINER_LABELS[name]}{about}: {shown(text, max_words)}", highlight=False)
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

    # an item without a title is named "item 22": MovieLens' bare numbers read as ratings ("22 1★")
    because = ", ".join(f"{shortened(b['title']) if b['title'] else 'item ' + shortened(b['item'])} "
                        f"{rating_text(b['rating'], top)} "
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


def _feature_word(value: str | None) -> str | None:
    """``--feature-word`` as the features are written (:func:`whyrec.explanations.feature_word_token`:
    ``Card`` is ``card``); a blank one is refused."""
    from whyrec.errors import ConfigError
    from whyrec.explanations import feature_word_token

    if value is not None and not value.strip():
        raise ConfigError("--feature-word is empty")
    return feature_word_token(value) if value is not None else None
