"""Predicted ratings with their explanations for given (user, item) pairs, from any trained
system that writes explanations (MT, PETER/PETER+): what ``whyrec explain`` prints, and the
checks of which explainer, feature word and decoding a request may ask for (the CLI and the
service share them); :mod:`whyrec.explanation_scores` scores such a system on a test set.
MT's ratings, and those of an ALS rating model given the data it was trained on, are also
split over the user's past ratings (:mod:`whyrec.rating.attribution`).

MT explains a user it has never seen from the item side (its default explainer for such a user
is MT-I; MT-P reads the item's reviews and an empty user document); MT-U, which writes from the
user's own reviews, and PETER, which has no embedding for such a user, write nothing for one and
say why (:func:`chosen_explainers`). An unknown item is refused by both. Explanations, however
decoded (:class:`whyrec.explain.decoding.Decoding`), block repeated words and bigrams and never
show ``<unk>``, as the service's do.
"""

from __future__ import annotations

import sys
from collections import Counter
from functools import partial
from typing import Callable, Mapping, Sequence

import numpy as np

from whyrec.data.text import clean_html, readable
from whyrec.errors import ConfigError, UnknownIdError, WhyrecError
from whyrec.explain.decoding import Decoding, check_min_words
from whyrec.ids import paired_ids
from whyrec.settings import changed_settings
from whyrec.wording import counted, did_you_mean

EXPLAINER_LABELS = {"user": "MT-U", "item": "MT-I", "pair": "MT-P", "peter": "PETER", "peter+": "PETER+"}


def is_mt(model) -> bool:
    """Whether ``model`` is the MT system (a :class:`~whyrec.systems.mt.MultiTask` or a subclass),
    trained or not."""
    return _instance_of(model, "whyrec.systems.mt", "MultiTask")


def is_peter(model) -> bool:
    """Whether ``model`` is PETER or PETER+ (a :class:`~whyrec.systems.peter.Peter` or a subclass)."""
    return _instance_of(model, "whyrec.systems.peter", "Peter")


def _instance_of(model, module: str, name: str) -> bool:
    """``isinstance(model, module.name)`` without importing ``module`` (the systems take seconds to
    import, and a rating bundle never needs them): no object is an instance of a class whose
    module was never imported."""
    loaded = sys.modules.get(module)
    return loaded is not None and isinstance(model, getattr(loaded, name))


def system_label(model) -> str:
    """How a report names a trained system: its kind, and the data it was trained on, which is
    what an MT or PETER system's ``name`` holds ("MT (amazon-gift-cards)"); a rating model's
    own name ("context-als")."""
    return f"{explaining_kind(model)} ({model.name})" if explainers_of(model) else model.name


def system_repr(system, fitted: bool) -> str:
    """How an explanation system (MT, PETER) shows itself in a notebook: its constructor call with
    the settings that differ from the defaults (``Peter(use_feature=True, epochs=2)``) while
    unfitted; once fitted (or loaded), in angle brackets with what it was fitted on:
    ``<Peter(use_feature=True), fitted on 'amazon-gift-cards': 457 users, 134 items, …>``."""
    settings = ", ".join(f"{k}={v!r}" for k, v in changed_settings(system.config).items())
    call = f"{type(system).__name__}({settings})"
    if not fitted:
        return call
    parts = [counted(len(system.user_map), "user"), counted(len(system.item_map), "item"),
             counted(len(system.train_ratings), "rating"), f"a vocabulary of {counted(len(system.vocab), 'word')}",
             f"{counted(len(system.history), 'epoch')} trained"]
    if runs := len(system.alignments):
        parts.append("aligned by MMI " + ("once" if runs == 1 else f"{runs} times"))
    return f"<{call}, fitted on {system.name!r}: {', '.join(parts)}>"


def explaining_kind(model) -> str:
    """MT, PETER or PETER+: which explaining system ``model`` is, trained or not."""
    if is_mt(model):
        return "MT"
    return "PETER+" if model.config.use_feature else "PETER"


def explainers_of(model) -> list[str]:
    """The explainer names a trained system offers: MT's decoders (``user``, ``item``, ``pair``)
    or PETER's own (``peter`` / ``peter+``); none for a rating model."""
    if is_mt(model):
        return list(model.config.variants) if model.config.decoder else []
    if is_peter(model):
        return ["peter+" if model.config.use_feature else "peter"]
    return []


def trained_scale(model) -> tuple[float, float] | None:
    """The rating scale ``model`` was trained on, when it kept one (a PETER bundle from before PETER
    kept its scale has none)."""
    trained = model.als.rating_scale if is_mt(model) else getattr(model, "rating_scale", None)
    return None if trained is None else (float(trained[0]), float(trained[1]))


def check_rating_scale(model, scale: tuple[float, float]) -> None:
    """Refuse data read on another rating scale than ``model`` was trained on (``--min-rating`` /
    ``--max-rating``): its predictions would be scored, judged and mapped onto the rating classes
    on the wrong scale. A PETER bundle written before PETER kept its scale has only its train
    ratings' range, which must then lie on ``scale``."""
    low, high = float(scale[0]), float(scale[1])
    trained = trained_scale(model)
    if trained is not None and trained != (low, high):
        raise ConfigError(f"the model was trained on ratings {trained[0]:g}..{trained[1]:g} and the data is read on "
                          f"{low:g}..{high:g}: give --min-rating {trained[0]:g} --max-rating {trained[1]:g}")
    seen = getattr(model, "rating_range", None) if trained is None else None
    if seen is not None and (seen[0] < low or seen[1] > high):
        raise ConfigError(f"the model was trained on ratings up to {seen[0]:g}..{seen[1]:g}, outside the scale "
                          f"{low:g}..{high:g} the data is read on: give the scale it was trained with")


def rating_only(bundle_name: str) -> str:
    """The sentence that goes with a rating bundle's answers, which carry no explanations."""
    return f"bundle '{bundle_name}' is a rating model only: it predicts ratings but writes no explanations"


# why an explainer writes nothing for a user the system has never seen (MT-I and MT-P explain one
# from the item's reviews); the CLI and the service say it in the same words
PETER_NEW_USER = ("PETER explains only users it was trained on: it has no embedding for a new user "
                  "(whose predicted rating is the train mean)")
NEW_USER_REASONS = {"user": "MT-U explains nothing for a new user: it writes from the user's own reviews",
                    "peter": PETER_NEW_USER, "peter+": PETER_NEW_USER}


def explainer_asked(explainer: str | None) -> str | None:
    """``explainer`` as whyrec names it, when it is a name or a label of :data:`EXPLAINER_LABELS`
    or ``all``, in any case and spacing: what the CLI and the service print beside an explanation
    ("MT-P") is also what they take ("pair"). Anything else is returned as it is, for
    :func:`check_explainer` to refuse."""
    if not isinstance(explainer, str):  # None, or what check_explainer refuses as it is
        return explainer
    known = {"all": "all", **{name: name for name in EXPLAINER_LABELS},
             **{label.casefold(): name for name, label in EXPLAINER_LABELS.items()}}
    return known.get(explainer.strip().casefold(), explainer)


def check_explainer(names: Sequence[str], explainer: str | None) -> None:
    """Refuse an ``explainer`` that is not among ``names``, ``"all"`` or None, with the one of them
    (or of their labels, MT-P) it is close to, when one is (``piar``: ``(did you mean 'pair'?)``); a
    rating model's (no names) refuses every named one, rather than answer with no explanation as if
    it had one. ``explainer`` is as :func:`explainer_asked` names it."""
    if explainer in (None, "all", *names):
        return
    if not names:
        raise ConfigError(f"unknown explainer '{explainer}'; this system is a rating model: it writes no explanations")
    labels = [EXPLAINER_LABELS[name] for name in names if name in EXPLAINER_LABELS]
    guess = did_you_mean(explainer, [*names, *labels, "all"])
    listed_names = ", ".join(f"{name} ({EXPLAINER_LABELS[name]})" if name in EXPLAINER_LABELS else name
                             for name in names)
    raise ConfigError(f"unknown explainer '{explainer}'{guess}; this system has {listed_names} (or all)")


def chosen_explainers(names: Sequence[str], explainer: str | None, cold: bool) -> tuple[list[str], str | None]:
    """The explainers among ``names`` that answer a request for ``explainer`` (one name, ``"all"``,
    or None: :func:`default_explainer`), and the sentence saying why those asked for that write
    nothing do (None when every one answers). For a known user that is every one asked for; for
    a new (``cold``) user MT-U and PETER write nothing (``NEW_USER_REASONS``)."""
    asked = list(names) if explainer == "all" else [explainer or default_explainer(list(names), cold)]
    if not cold:
        return asked, None
    reasons = dict.fromkeys(NEW_USER_REASONS[name] for name in asked if name in NEW_USER_REASONS)
    return [name for name in asked if name not in NEW_USER_REASONS], "; ".join(reasons) or None


def steers_by_feature(model) -> bool:
    """Whether ``model`` is PETER+, whose explanation is steered by a feature word it is fed."""
    return is_peter(model) and bool(model.config.use_feature)


def askable_feature_words(model) -> list[str]:
    """The words PETER+ can be asked to write about: its training features that its vocabulary
    holds (sorted); none for another system."""
    return [w for w in model.feature_words if w in model.vocab] if steers_by_feature(model) else []


def feature_word_token(word: str) -> str:
    """A feature word as asked (``--feature-word``, a pairs file, the service) in the tokens the
    features were extracted in (:func:`whyrec.data.text.normalize`): "Card" is "card". Words that
    make several tokens stay several ("gift card"), which no feature word is."""
    from whyrec.data.text import normalize

    return normalize(word) or word.strip()


def check_feature_words(model, words: Sequence[str | None]) -> None:
    """Refuse feature words given to a system other than PETER+, or that PETER+ was not trained
    with (a word outside its training features would be fed as ``<unk>`` or steer it nowhere it
    has learnt); None is "the item's own" and always accepted."""
    given = sorted({w for w in words if w is not None})
    if not given:
        return
    if not steers_by_feature(model):
        raise ConfigError(f"a feature word steers PETER+ only; {system_label(model)} takes none")
    known = set(askable_feature_words(model))
    unknown = [w for w in given if w not in known]
    if unknown:
        import difflib

        close = difflib.get_close_matches(unknown[0], sorted(known), n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise ConfigError(f"'{unknown[0]}' is not one of the {len(known):,} feature words PETER+ was trained "
                          f"with{hint}")


def fed_feature_words(model, items: Sequence[str], words: Sequence[str | None] | None = None) -> list[str]:
    """The feature word PETER+ is fed for each item: the one asked for, or else the item's most
    frequent training feature (``<unk>`` for an item that has none), since a recommendation has no
    review to take one from."""
    words = words if words is not None else [None] * len(items)
    return [w if w is not None else model.item_feature.get(i, "<unk>") for i, w in zip(items, words)]


def explain_pairs(model, users: Sequence[str], items: Sequence[str], explainer: str | None = None,
                  method: str | Decoding = "greedy", why: bool = False, history=None,
                  feature_words: Sequence[str | None] | None = None) -> list[dict]:
    """One row per pair: ``user``, ``item``, ``title`` (the item's, or None), ``predicted_rating``,
    ``cold_start`` (the user is unknown to the model) and ``explanations`` (explainer → text).
    What cannot be answered is refused first, by :func:`check_pairs`.

    ``explainer`` is one of :func:`explainers_of` (or its label, "MT-P": :func:`explainer_asked`),
    ``"all"``, or None (MT-P; MT-I for an unseen user; PETER's own). MT-U and PETER write nothing
    for a user the system has never seen: that row's ``no_explanation`` says why
    (:func:`chosen_explainers`). ``method`` is greedy, sample
    or beam, or a :class:`~whyrec.explain.decoding.Decoding` with its settings (temperature,
    top_k, top_p and seed of sampling; beam and length_penalty of beam search). With ``why``
    (MT), ``rating_split`` gives the predicted rating as the item's baseline plus the
    contributions of the user's past ratings (:mod:`whyrec.rating.attribution`; None for a new
    user). PETER+ is fed ``feature_words`` (one
    per pair; None: the item's most frequent training feature; each read as the features are
    written, :func:`feature_word_token`), and its rows give the word fed as ``feature_word``.

    A rating model writes no text: its rows have only the predicted ratings (and, given
    ``history``, the Corpus it was trained on, the items' titles); an ALS one (``context-als``,
    ``pmf``) still explains its ratings with ``why`` and ``history`` (:func:`splits_of_als`)."""
    explainer = explainer_asked(explainer)
    users, items, feature_words = check_pairs(model, users, items, explainer, why, history, feature_words)
    names = explainers_of(model)
    if not names:
        return _rated_pairs(model, users, items, why, history)
    decoding = method if isinstance(method, Decoding) else Decoding.of(method)
    cold = [user not in model.user_map for user in users]
    ratings = model.predict(users, items)
    rows = [{"user": u, "item": i, "title": _title(model.item_titles.get(i)), "predicted_rating": float(r),
             "cold_start": c, "explanations": {}} for u, i, r, c in zip(users, items, ratings, cold)]
    chosen = {c: chosen_explainers(names, explainer, c) for c in (False, True)}
    for row in rows:  # a new user's pair is answered too, with the sentence saying what is missing and why
        if chosen[row["cold_start"]][1]:
            row["no_explanation"] = chosen[row["cold_start"]][1]
    fed = fed_feature_words(model, items, feature_words) if steers_by_feature(model) else None
    for name in names:
        wanted = [n for n, c in enumerate(cold) if name in chosen[c][0]]
        if not wanted:
            continue
        texts = generate(model, name, [users[n] for n in wanted], [items[n] for n in wanted], decoding,
                         [fed[n] for n in wanted] if fed is not None else None)
        for n, text in zip(wanted, texts):
            rows[n]["explanations"][name] = text
            if fed is not None:
                rows[n]["feature_word"] = fed[n]
    if why:
        for row in rows:
            row["rating_split"] = None if row["cold_start"] else rating_split(model, row["user"], row["item"])
    return rows


def check_pairs(model, users: Sequence[str], items: Sequence[str], explainer: str | None = None, why: bool = False,
                history=None, feature_words: Sequence[str | None] | None = None
                ) -> tuple[list[str], list[str], list[str | None] | None]:
    """Refuse what :func:`explain_pairs` cannot answer before any work (ids not paired, an unknown
    item, explainer or feature word, ``why`` where there is no split to give), so that a caller
    answering many pairs a part at a time learns of a bad one before the first part. Returns the
    pairs' ids, and the feature words as the features are written (``Card`` is ``card``)."""
    users, items = paired_ids(users, items, "explain_pairs")
    if feature_words is not None and len(feature_words) != len(users):
        raise ConfigError(f"give one feature word (or None) per pair: {len(feature_words)} for {len(users)} pairs")
    if feature_words is not None:
        feature_words = [feature_word_token(w) if w is not None else None for w in feature_words]
    check_feature_words(model, feature_words or [])
    names = explainers_of(model)
    check_explainer(names, explainer)
    if not names:
        if why and history is None:
            raise ConfigError(f"{type(model).__name__} keeps no training data: give the data it was trained on "
                              "(--data) to split its ratings over the user's past ratings")
        if history is not None:
            check_rating_scale(model, history.rating_scale)
    elif why and not is_mt(model):
        raise ConfigError("the rating split is of MT's ALS ratings; PETER rates with its transformer")
    _check_items(model, items, history)
    return users, items, feature_words


def _rated_pairs(model, users: list[str], items: list[str], why: bool, history) -> list[dict]:
    """:func:`explain_pairs` for a rating model (its pairs checked by :func:`check_pairs`): its
    ratings (no text), split over the user's past ratings with ``why``; ``history``, when given,
    also supplies the items' titles."""
    ratings = model.predict(users, items)
    rows = [{"user": user, "item": item, "title": _title(history.item_title(item)) if history is not None else None,
             "predicted_rating": float(rating), "cold_start": user not in model.user_map, "explanations": {}}
            for user, item, rating in zip(users, items, ratings)]
    if not why:
        return rows
    by_user: dict[str, list[int]] = {}
    for n, row in enumerate(rows):
        row["rating_split"] = None
        if not row["cold_start"]:
            by_user.setdefault(row["user"], []).append(n)
    for user, wanted in by_user.items():  # one pass over the history per user
        for n, split in zip(wanted, splits_of_als(model, history, user, [items[n] for n in wanted])):
            rows[n]["rating_split"] = split
    return rows


def _title(raw: str | None) -> str | None:
    """An item's title as shown (None when it has none): cleaned again, since bundles written
    before the reader dropped cut-off HTML tags carry them."""
    return clean_html(raw) or None if raw else None


def _check_items(model, items: list[str], history=None) -> None:
    titled = TitledItems.of(model, history)  # one index, made at the first unknown item
    for item in items:
        item_index(model, item, titled)  # an unknown one: an error naming the close known item, or the one it titles


def item_index(model, item: str, titled: TitledItems | None = None) -> int:
    """``model.item_map.index(item)``. An unknown item is a :class:`UnknownIdError` naming the known
    id most like it; one that is a known item's title (``titled``, by default the model's own
    titles: copied from the page or a shop, not its id) is told that item's id as well, and one
    that is part of titles (of at least :data:`TITLE_PART_AT_LEAST` characters: "discovery
    girls") the ids of up to :data:`TITLES_TOLD` items whose titles hold it, with the titles."""
    try:
        return model.item_map.index(item, "item")
    except UnknownIdError as exc:
        told = _titles_told(item, TitledItems.of(model) if titled is None else titled)
        if told is None:
            raise
        raise UnknownIdError(f"{exc}; {told}") from None


TITLES_TOLD = 3  # the items an unknown item's error names whose titles hold it
TITLE_PART_AT_LEAST = 3  # the fewest characters looked for in the titles ("a" is in most)


def _titles_told(item: str, titled: TitledItems) -> str | None:
    """What an unknown ``item``'s error adds of the titles: the ids of the items it is the title
    of, else of those whose titles hold it (when it has a letter and at least
    :data:`TITLE_PART_AT_LEAST` characters: a number is an id more often than part of a title)."""
    ids = titled.named(item)
    if ids:
        shown = ", ".join(f"'{i}'" for i in ids[:3]) + (f" and {len(ids) - 3} more" if len(ids) > 3 else "")
        return f"that is the title of {shown}: give {'its id' if len(ids) == 1 else 'one of their ids'}"
    part = item.strip()
    if len(part) < TITLE_PART_AT_LEAST or not any(c.isalpha() for c in part):
        return None
    held = titled.holding(part, TITLES_TOLD + 1)
    if not held:
        return None
    shown = ", ".join(f"'{i}' ({_short(title)})" for i, title in held[:TITLES_TOLD])
    if len(held) == 1:
        return f"the title of {shown} holds it: give its id"
    more = " and more" if len(held) > TITLES_TOLD else ""
    return f"the titles of {shown}{more} hold it: give one of their ids"


def _short(title: str, most: int = 60) -> str:
    """``title`` quoted, cut to ``most`` characters: an Amazon title can run to hundreds."""
    return f"“{title if len(title) <= most else title[:most - 1].rstrip() + '…'}”"


class TitledItems:
    """The items each title names, as the page shows titles (HTML cleaned; with or without the
    `` · id`` that follows a title several items share), but for case, and those whose title holds
    a text: each made at its first use (:meth:`named`, :meth:`holding`), so that a file of many
    unknown items reads the titles once. ``titles``: item → title, or what gives it when first
    needed; ``ratings``: item → its number of training ratings (or what gives it), by which the
    items are told the most rated first (none: in the titles' order)."""

    def __init__(self, titles: Mapping[str, str] | Callable[[], Mapping[str, str]],
                 ratings: Mapping[str, int] | Callable[[], Mapping[str, int]] | None = None) -> None:
        self._titles = titles
        self._ratings = ratings
        self._by_title: dict[str, list[str]] | None = None
        self._pairs: list[tuple[str, str]] | None = None  # (item, cleaned title), read at the first lookup
        self._search = None  # the search of those titles, made at the first holding()

    @classmethod
    def of(cls, model, history=None) -> "TitledItems":
        """The titles of ``model``'s items: its own (MT's, PETER's), else, for a rating model given
        the data it was trained on (``history``, a :class:`~whyrec.data.Corpus`), the data's; the
        most rated first (:func:`train_ratings_per_item`)."""
        own = getattr(model, "item_titles", None)
        ratings = partial(train_ratings_per_item, model, history)  # counted at the first lookup
        if own or history is None:
            return cls(own or {}, ratings)
        return cls(lambda: {item: title for item in model.item_map.ids if (title := history.item_title(item))}, ratings)

    def _cleaned(self) -> list[tuple[str, str]]:
        """(item, title) of the items with a title, HTML cleaned, the most rated first: the titles
        read once for both lookups."""
        if self._pairs is None:
            titles = self._titles() if callable(self._titles) else self._titles
            pairs = [(item, clean) for item, title in titles.items() if (clean := clean_html(title))]
            ratings = (self._ratings() if callable(self._ratings) else self._ratings) if pairs else None
            if ratings:
                pairs.sort(key=lambda pair: -ratings.get(pair[0], 0))  # stable: ties in the titles' order
            self._pairs = pairs
        return self._pairs

    def named(self, text: str) -> list[str]:
        """The ids whose title is ``text``, but for case and the spaces around it, the most rated first."""
        if self._by_title is None:
            by_title: dict[str, list[str]] = {}  # made whole before it is kept: the service's threads share it
            for item, clean in self._cleaned():
                for form in {clean.casefold(), clean.removesuffix(f" · {item}").casefold()} - {""}:
                    by_title.setdefault(form, []).append(item)
            self._by_title = by_title
        return self._by_title.get(text.strip().casefold(), [])

    def holding(self, text: str, limit: int) -> list[tuple[str, str]]:
        """Up to ``limit`` (id, title) of the items whose title (HTML cleaned) holds ``text``, but
        for case and the spaces around it, the most rated first
        (:class:`whyrec.id_search.IdSearch`, made at the first call)."""
        pairs = self._cleaned()
        if self._search is None:
            from whyrec.id_search import IdSearch

            self._search = IdSearch([title for _, title in pairs], range(len(pairs)))
        return [pairs[n] for n in self._search.holding(text, limit)]


def train_ratings_per_item(model, history=None) -> dict[str, int]:
    """Each item's number of training ratings: those of MT's own training records, of PETER's
    (user, item) training pairs (one per pair, as PETER keeps them), else, for a rating model,
    of the records of ``history`` (the data it was trained on) whose item it knows; empty when
    neither is known."""
    if is_mt(model):
        counts = np.bincount(model.data.rec_item, minlength=len(model.item_map))
        return dict(zip(model.item_map.ids, counts.tolist()))
    if is_peter(model):
        return dict(Counter(item for _, item in model.train_ratings))
    if history is None:
        return {}
    return {item: int(n) for item, n in history.reviews["item"].value_counts(sort=False).items()
            if item in model.item_map}


def rating_split(mt, user: str, item: str, top: int = 3) -> dict:
    """MT's predicted rating of (``user``, ``item``) before clipping (``score``) as ``baseline``
    (μ + b_i), plus the ``top`` largest contributions of the user's training ratings
    (``because``), the sum of the others (``other_ratings``, over ``n_other`` ratings) and ``rest``
    (the text prior's pull and the solver's lag); see :func:`whyrec.rating.attribution.attribute_rating`."""
    return rating_splits(mt, user, [item], top)[0]


def rating_splits(mt, user: str, items: Sequence[str], top: int = 3) -> list[dict]:
    """:func:`rating_split` for several items of one user at once."""
    u = mt.user_map.index(user)
    mine = np.flatnonzero(mt.data.rec_user == u)
    rated = [mt.item_map.ids[i] for i in mt.data.rec_item[mine].tolist()]
    return splits_over(mt.als, user, items, rated, np.asarray(mt.train_ratings)[mine], getattr(mt, "item_titles", {}),
                       top)


def splits_of_als(model, history, user: str, items: Sequence[str], top: int = 3) -> list[dict]:
    """:func:`rating_splits` for a fitted ALS rating model (``context-als``, ``pmf``), which keeps
    no training data: ``history`` is the Corpus it was fitted on, where the user's past ratings
    are read (implicit's ``explain`` takes the user's items from its caller the same way)."""
    from whyrec.rating import ContextAwareALS

    if not isinstance(model, ContextAwareALS):
        raise ConfigError(f"the rating split is of ALS models (context-als, pmf, MT), not {type(model).__name__}")
    if user not in model.user_map:
        raise UnknownIdError(f"unknown user '{user}': a rating of a new user has no past ratings to split over")
    mine = np.flatnonzero(np.asarray(history.users) == user)
    if not len(mine):
        raise WhyrecError(f"'{user}' has no ratings in the data given as the model's training data; "
                          "pass the data (and split) it was trained on")
    rated = [history.items[k] for k in mine.tolist()]
    titles = {i: history.item_title(i) for i in set(rated)}
    return splits_over(model, user, items, rated, np.asarray(history.ratings)[mine], titles, top)


def splits_over(als, user: str, items: Sequence[str], rated: list[str], ratings, titles: dict | None = None,
                top: int = 3) -> list[dict]:
    """The rating splits of ``items`` for ``user`` given the user's past ``rated`` items and their
    ``ratings`` (see :func:`rating_split`); ``als`` is a fitted ALS model."""
    from whyrec.rating.attribution import BASELINE_LABELS, attribute_ratings

    titles = titles or {}
    out = []
    for split in attribute_ratings(als, user, items, rated, ratings):
        because = [{"item": i, "title": titles.get(i) or None, "rating": r, "contribution": c}
                   for i, r, c in split.top(top)]
        others = split.contributions[top:]
        out.append({"baseline": split.baseline, "baseline_of": split.baseline_of,
                    "baseline_label": BASELINE_LABELS[split.baseline_of], "because": because,
                    "other_ratings": sum(c for _, _, c in others), "n_other": len(others), "rest": split.rest,
                    "score": split.predicted})
    return out


def default_explainer(names: list[str], cold: bool) -> str:
    """The explainer used when none is asked for: MT-P, or MT-I for a user the system has never
    seen (the item side needs no user); PETER's own otherwise."""
    return "item" if cold and "item" in names else ("pair" if "pair" in names else names[0])


EMPTY_SHOWN = "(no words: the decoder ended the explanation at once)"


def at_word_limit(text: str, max_words: int | None) -> bool:
    """Whether an explanation has as many words as its system writes at most (``max_words``;
    None: no limit known). Decoding stops there, so one the decoder had not ended was cut, often
    mid-sentence ("… and the magazine is a"); one it ended at exactly that length reads the same."""
    return max_words is not None and len(text.split()) >= max_words


def word_limit(model) -> int | None:
    """The most words ``model``'s explanations have (its setting ``max_words``); None for a model
    that writes none."""
    return getattr(getattr(model, "config", None), "max_words", None) if explainers_of(model) else None


CUT_SHOWN = " …"  # after an explanation at its system's word limit, as it is printed and shown


def shown(text: str, max_words: int | None = None) -> str:
    """An explanation as the command line prints it: its tokens joined back for reading
    (:func:`whyrec.data.text.readable`: ``i do n't like it ,`` → ``I don't like it,``), followed by
    " …" when it is at its system's ``max_words`` (:func:`at_word_limit`: it may have been cut
    there); an empty one (a decoder that emits ``<eos>`` first, as an undertrained one does)
    said to be empty instead of printed as nothing."""
    if not text.strip():
        return EMPTY_SHOWN
    return readable(text) + (CUT_SHOWN if at_word_limit(text, max_words) else "")


def generate(model, explainer: str, users: list[str], items: list[str], method: str | Decoding = "greedy",
             feature_words: Sequence[str | None] | None = None) -> list[str]:
    """Explanations of (user, item) pairs as whyrec shows them (the CLI and the service): MT's
    ``explainer`` decoder, or PETER, decoded as ``method`` says (a method name, or a
    :class:`~whyrec.explain.decoding.Decoding`; a seeded one draws from a stream of its own,
    started afresh for each explainer) with repeated words and bigrams blocked; PETER+ fed
    :func:`fed_feature_words` (``feature_words``, checked by the caller, or each item's own).
    Neither ever shows ``<unk>``."""
    d = method if isinstance(method, Decoding) else Decoding.of(method)
    settings = {**d.arguments(users, items), "no_repeat": True, "no_unk": True}
    if is_mt(model):
        return model.explain(users, items, variant=explainer, **settings)
    return model.explain(users, items, fed_feature_words(model, items, feature_words), **settings)


def check_decoding(model, decoding: Decoding | None, asked_by: str = "--method and --decode choose",
                   name: str | None = None) -> None:
    """Refuse a decoding for a rating model, which writes no text to decode, and a ``min_words``
    above the words the system writes at most (checked before its data is read or it trains).
    None (the default decoding) always passes. The CLI and the service both refuse with this;
    ``asked_by`` says what asked for the decoding and ``name`` names the model (default: its
    :func:`system_label`)."""
    if decoding is None:
        return
    refuse_rating_model(model, asked_by, name)
    check_min_words(decoding.min_words, model.config.max_words, explaining_kind(model))


def refuse_rating_model(model, asked_by: str, name: str | None = None) -> None:
    """Refuse a decoding for a model that writes no text (:func:`check_decoding`'s first check,
    which the service makes before it reads the decoding's settings)."""
    if not explainers_of(model):
        raise ConfigError(f"{asked_by} how explanations are decoded; {name or system_label(model)} is a "
                          "rating model and writes none")
