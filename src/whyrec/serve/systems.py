"""What the service holds per loaded bundle, and the recommend/explain logic behind the routes.

A :class:`ServedSystem` wraps one bundle — an MT system (ratings + MT-U/I/P explanations), PETER/PETER+, or a
plain rating model (ratings only) — with its training history, item popularity, titles and
feature words, and LRU caches of generated explanations and of each user's item scores (a
bundle is read-only while served, so both stay valid; ``--cache 0`` turns both off). What the caches
do not hold is computed in passes shared by concurrent requests (:class:`SharedPasses`): the
explanations by :class:`BatchingExplainer`, every item's score for the users by :class:`BatchingScorer`.
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from pathlib import Path

import numpy as np

from whyrec.bundle import load_bundle
from whyrec.data.text import clean_html
from whyrec.errors import ConfigError
from whyrec.explain.decoding import Decoding
from whyrec.explanations import (EXPLAINER_LABELS, TitledItems, askable_feature_words, check_rating_scale,
                                 chosen_explainers, explainers_of, generate, is_mt, is_peter, item_index, rating_only,
                                 splits_over, word_limit)
from whyrec.id_search import IdSearch
from whyrec.ids import stripped_id
from whyrec.rating import ContextAwareALS

SCORE_CACHE_BYTES = 256 * 2**20
# the page's user search, when no id holds the query: ids this close to it (a partial id scores lower than a typo)
SIMILAR_SEARCH = 70.0

GREEDY = Decoding()  # what the service decodes unless a request asks otherwise


def distinct_titles(titles: dict[str, str]) -> dict[str, str]:
    """Titles that tell items apart: one that several items share ("Hearst Magazines (Women)", the
    brand and category standing for six magazines whose own titles are unreadable) gets each
    item's id after it, "Hearst Magazines (Women) · B00005N7OD"; the others are kept."""
    shared = {title for title, count in Counter(titles.values()).items() if count > 1}
    return {item: f"{title} · {item}" if title in shared else title for item, title in titles.items()}


class LRUCache:
    """A small thread-safe LRU cache: (explainer, user, item, feature word) → text, or user → item scores."""

    def __init__(self, size: int = 20000) -> None:
        self.size = size
        self._data: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key):
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                self.hits += 1
                return self._data[key]
            self.misses += 1
            return None

    def __len__(self) -> int:
        """How many entries the cache holds (at most ``size``)."""
        return len(self._data)

    entries = property(__len__, doc="``len(cache)``, by the name ``/metrics`` gives it.")

    def put(self, key, value) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)


class SharedPasses:
    """Runs the work of concurrent requests in shared passes, one model call serving many.

    A request queues its job. When no pass is running, it starts one: it takes *every* queued job
    (its own and those that arrived meanwhile), hands them to :meth:`_run` together, and hands the
    results out. Otherwise it waits; at the end of each pass the waiting requests wake, those whose
    jobs were in it return, and one of the others starts the next. Under load, one pass then serves
    many requests instead of one, and no request waits for more than one pass it is not part of.
    (Waiting on the model's lock instead, a request whose job was done could still lose the lock to
    a request starting the next pass and wait that pass out too.) ``batches`` counts the model calls
    and ``jobs`` the requests they served.
    """

    def __init__(self) -> None:
        self._queue: list = []
        self._changed = threading.Condition()  # guards the queue and ``_running``
        self._running = False
        self.batches = self.jobs = 0

    def _submit(self, job):
        """``job``'s result, from a pass this request runs or waits for; its model call's error is raised here."""
        with self._changed:
            self._queue.append(job)
            # a job is taken only by a running pass, so with none running an unfinished job is queued
            while self._running and job.result is None and job.error is None:
                self._changed.wait()
            taken = []
            if job.result is None and job.error is None:
                taken, self._queue, self._running = self._queue, [], True
        if taken:
            try:
                self._run(taken)
            finally:
                with self._changed:
                    for other in taken:  # a pass stopped by what _run does not catch leaves nobody waiting
                        if other.result is None and other.error is None:
                            other.error = RuntimeError("the batched pass stopped before this request's turn")
                    self._running = False
                    self._changed.notify_all()
        if job.error is not None:
            raise job.error
        return job.result

    def _run(self, jobs: list) -> None:
        """Set each job's ``result`` (or ``error``): the subclass's batched model calls."""
        raise NotImplementedError


class _Job:
    """One request's missing explanations, waiting to be generated."""

    __slots__ = ("explainer", "users", "items", "feature_word", "decoding", "result", "error")

    def __init__(self, explainer: str, users: list[str], items: list[str], feature_word: str | None,
                 decoding: Decoding) -> None:
        self.explainer, self.users, self.items, self.feature_word = explainer, users, items, feature_word
        self.decoding = decoding
        self.result: list[str] | None = None
        self.error: BaseException | None = None

    def group(self) -> tuple:
        """What jobs decoded in one batch share: the explainer, PETER+'s feature word and the
        decoding (seeded sampling too: each pair draws from a stream of its own,
        :mod:`whyrec.explain.pair_draws`, whatever batch it is in)."""
        return self.explainer, self.feature_word, self.decoding


class BatchingExplainer(SharedPasses):
    """Generates the explanations of concurrent requests in shared batches (:class:`SharedPasses`):
    a pass decodes its jobs grouped by explainer, PETER+'s feature word and decoding
    (:meth:`_Job.group`), in one batched call each. Under load, one decoding pass of the GRU then
    serves many requests instead of one. ``generate(explainer, users, items, feature_word, decoding)
    -> texts`` is the model call (``feature_word`` None: each item's own).
    """

    def __init__(self, generate) -> None:
        super().__init__()
        self.generate = generate

    def __call__(self, explainer: str, users: list[str], items: list[str],
                 feature_word: str | None = None, decoding: Decoding = GREEDY) -> list[str]:
        return self._submit(_Job(explainer, users, items, feature_word, decoding))

    def _run(self, jobs: list[_Job]) -> None:
        groups: dict[tuple, list[_Job]] = {}
        for job in jobs:
            groups.setdefault(job.group(), []).append(job)
        for group in groups.values():
            users = [u for job in group for u in job.users]
            items = [i for job in group for i in job.items]
            try:
                texts = self.generate(group[0].explainer, users, items, group[0].feature_word, group[0].decoding)
            except BaseException as error:  # handed to every waiting request, re-raised there
                for job in group:
                    job.error = error
                continue
            start = 0
            for job in group:
                job.result = texts[start:start + len(job.users)]
                start += len(job.users)
            self.batches += 1
            self.jobs += len(group)


class _ScoreJob:
    """One request's user, waiting for the scores of every item."""

    __slots__ = ("user", "result", "error")

    def __init__(self, user: str) -> None:
        self.user = user
        self.result: np.ndarray | None = None
        self.error: BaseException | None = None


class BatchingScorer(SharedPasses):
    """Scores every item for the users of concurrent requests (:class:`SharedPasses`): a pass makes
    one call of ``score(users) -> (len(users), items) array`` for its distinct users. PETER runs
    ``[u, i]`` through every layer for each item, and one call for eight users took 2.2 ms a user
    against 2.7 ms for one (magazines' PETER+, 157 items, one thread)."""

    def __init__(self, score) -> None:
        super().__init__()
        self.score = score

    def __call__(self, user: str) -> np.ndarray:
        return self._submit(_ScoreJob(user))

    def _run(self, jobs: list[_ScoreJob]) -> None:
        users = list(dict.fromkeys(job.user for job in jobs))
        try:
            table = self.score(users)
        except BaseException as error:  # handed to every waiting request, re-raised there
            for job in jobs:
                job.error = error
            return
        row = {user: n for n, user in enumerate(users)}
        for job in jobs:  # a copy, not a view: a cached row would keep its whole pass's table alive
            job.result = np.array(table[row[job.user]])
        self.batches += 1
        self.jobs += len(jobs)


class ServedSystem:
    """One loaded bundle and the operations the API needs."""

    def __init__(self, name: str, model, cache_size: int = 20000, history=None) -> None:
        """``history``: for a rating model, which keeps no training data, the Corpus it was trained
        on — its users' past items are then left out of their recommendations, cold starts get the
        most rated items, and an ALS model's ratings are split over the past ratings. Without it
        a rating model's users have no known past and cold starts get the best items on average
        (μ + b_i). MT and PETER carry their own."""
        self.name = name
        self.model = model
        self.made_by: dict | None = None  # how the bundle was made (from_folder reads its run.json)
        self.has_history = True
        self.cache = LRUCache(cache_size)
        self.is_mt = is_mt(model)
        self.is_peter = is_peter(model)
        self.explainers = explainers_of(model)
        self.max_words = word_limit(model)  # the most words an explanation has (None: a rating model)
        if self.is_mt:
            self.rating = model.als
            data = model.data
            self._set_history(data.rec_user, data.rec_item, model.train_ratings, len(model.user_map), len(model.item_map))
            raw_titles = model.item_titles
            self.features = set(model.feature_words)
        elif self.is_peter:
            self.rating = model
            pairs = list(model.train_ratings.items())
            self._set_history(model.user_map.lookup([u for (u, _), _ in pairs]),
                              model.item_map.lookup([i for (_, i), _ in pairs]), np.array([r for _, r in pairs]),
                              len(model.user_map), len(model.item_map))
            raw_titles = model.item_titles
            self.features = set(model.feature_words)
        else:
            self.rating, self.features, raw_titles = model, set(), {}
            if history is not None:
                check_rating_scale(model, history.rating_scale)
                u, i = model.user_map.lookup(history.users), model.item_map.lookup(history.items)
                known = (u >= 0) & (i >= 0)  # records of other data, or dropped before fitting, are not its past
                if len(history) and not known.any():  # its "most rated" items would be arbitrary ones
                    raise ConfigError(f"{name}: the data given shares no user and item with the bundle; "
                                      "give the data it was trained on")
                self._set_history(u[known], i[known], np.asarray(history.ratings)[known], len(model.user_map),
                                  len(model.item_map))
                raw_titles = {item: title for item in model.item_map.ids if (title := history.item_title(item))}
            else:
                self.has_history = False
                self.history_items = [np.zeros(0, dtype=np.int64) for _ in model.user_map.ids]
                self.history_ratings = [np.zeros(0) for _ in model.user_map.ids]
                # what the model scores for a user it has never seen (the empty id is no user's)
                self.popularity = np.asarray(model.predict_unclipped([""] * len(model.item_map), model.item_map.ids))
        # the predicted rating split over the user's past ratings (whyrec.rating.attribution)
        self.splits_ratings = self.is_mt or (self.has_history and isinstance(model, ContextAwareALS))
        # cleaned again: bundles written before the reader dropped cut-off tags carry them
        self.titles = distinct_titles({item: title for item, raw in raw_titles.items() if (title := clean_html(raw))})
        self.batcher = BatchingExplainer(self._generate)
        self.scorer = BatchingScorer(self._score_users)
        self.user_ids = self.rating.user_map.ids
        self.item_ids = self.rating.item_map.ids
        self._searches: dict[str, IdSearch] = {}  # the user and item boxes' searches (id_search)
        # the items a title names (an item asked for by its title), the most rated first; the counts
        # read at the first unknown item, not kept for every served catalogue
        self.titled = TitledItems(self.titles, (lambda: dict(zip(self.item_ids, self.popularity.tolist())))
                                  if self.has_history else None)
        # the range predict() clips to: PETER's is the train ratings', a rating model's its scale
        self.bounds = self.rating.rating_range if self.is_peter else self.rating.rating_scale
        # the data's rating scale, out of whose top the page draws its stars (a PETER bundle
        # written before PETER kept it: 1-5, unless its ratings went past that)
        self.scale = getattr(self.rating, "rating_scale", None) or (min(1.0, self.bounds[0]), max(5.0, self.bounds[1]))
        # one float32 score per item and user, within SCORE_CACHE_BYTES (a transformer's scores are
        # not cheap: PETER runs [u, i] through every layer for each item)
        per_user = 4 * max(len(self.item_ids), 1)
        self.score_cache = LRUCache(max(0, min(cache_size, SCORE_CACHE_BYTES // per_user)))

    def _set_history(self, rec_user, rec_item, ratings, n_users: int, n_items: int) -> None:
        rec_user, rec_item, ratings = np.asarray(rec_user), np.asarray(rec_item), np.asarray(ratings)
        order = np.argsort(rec_user, kind="stable")
        bounds = np.searchsorted(rec_user[order], np.arange(n_users + 1))
        self.history_items = [rec_item[order[bounds[u]:bounds[u + 1]]] for u in range(n_users)]
        self.history_ratings = [ratings[order[bounds[u]:bounds[u + 1]]] for u in range(n_users)]
        self.popularity = np.bincount(rec_item, minlength=n_items)

    def _score_users(self, users: list[str]) -> np.ndarray:
        """(len(users), items) float32: the model's score of every item for each user, before
        clipping, in one call (:class:`BatchingScorer`)."""
        n = len(self.item_ids)
        asked = [user for user in users for _ in range(n)]
        scores = self.rating.predict_unclipped(asked, list(self.item_ids) * len(users))
        return np.asarray(scores, dtype=np.float32).reshape(len(users), n)

    def _generate(self, explainer: str, users: list[str], items: list[str], feature_word: str | None,
                  decoding: Decoding) -> list[str]:
        return generate(self.model, explainer, users, items, decoding,
                        feature_words=[feature_word] * len(users) if feature_word is not None else None)

    @classmethod
    def from_folder(cls, folder: str | Path, cache_size: int = 20000, device: str = "cpu",
                    history=None) -> "ServedSystem":
        """Load a bundle (a neural one onto ``device``); it is served under its folder's name.
        ``history`` is used by rating models only (see the constructor)."""
        from whyrec.provenance import read_run_record, record_view

        served = cls(Path(folder).resolve().name, load_bundle(folder, device), cache_size, history)
        view = record_view(read_run_record(folder))  # what the service tells of it: schemas.MadeBy
        served.made_by = None if view is None else {k: view[k] for k in ("command", "date", "whyrec_commit",
                                                                         "data_sha256")}
        return served

    # --- queries ---------------------------------------------------------------------------------
    def describe(self) -> dict:
        return {"name": self.name, "users": len(self.user_ids), "items": len(self.item_ids),
                "explainers": [{"id": e, "label": EXPLAINER_LABELS[e]} for e in self.explainers],
                "kind": "mt" if self.is_mt else ("peter" if self.is_peter else type(self.model).__name__),
                "history": self.has_history, "rating_scale": [float(b) for b in self.scale],
                "feature_words": askable_feature_words(self.model),
                "max_words": self.max_words,
                "trained_on": self.model.name if self.explainers else None,
                "aligned": [f"{run.get('method', 'MMI')}({run.get('target', '?')})"
                            for run in getattr(self.model, "alignments", [])],
                "made_by": self.made_by}

    def chosen_explainers(self, explainer: str | None, cold: bool) -> tuple[list[str], str | None]:
        """The explainers that answer a request for ``explainer`` about a new (``cold``) or known
        user, and the sentence saying why those asked for that write nothing do (None: every one
        answers): none of a rating model; for a new user, not MT-U or PETER
        (:func:`whyrec.explanations.chosen_explainers`)."""
        if not self.explainers:
            return [], rating_only(self.name)
        return chosen_explainers(self.explainers, explainer, cold)

    def search_users(self, query: str, limit: int) -> list[dict]:
        """Up to ``limit`` users whose id holds ``query`` (any case), in the bundle's order; when
        none does, those whose id is close to it (:mod:`whyrec.close_ids`), marked ``similar``.
        ``query`` is stripped as ids are (:func:`whyrec.ids.stripped_id`)."""
        found, similar = self._search(query, limit, "users")
        return [{"user": self.user_ids[u], "reviews": int(len(self.history_items[u])) if self.has_history else None,
                 **({"similar": True} if similar else {})} for u in found]

    def search_items(self, query: str, limit: int) -> list[dict]:
        """Up to ``limit`` items whose id or title holds ``query`` (any case), the most rated in the
        train part first (in the bundle's order without its data); when none does, those whose id
        is close to it, marked ``similar``, as :meth:`search_users` answers. Each with its title
        and how many train ratings it has (None without the data)."""
        found, similar = self._search(query, limit, "items")
        return [{"item": self.item_ids[i], "title": self.titles.get(self.item_ids[i]),
                 "ratings": int(self.popularity[i]) if self.has_history else None,
                 **({"similar": True} if similar else {})} for i in found]

    def _search(self, query: str, limit: int, kind: str) -> tuple[list[int], bool]:
        """The positions of up to ``limit`` users or items (``kind``) whose id, or item's title,
        holds ``query`` (:class:`~whyrec.id_search.IdSearch`); when none does, those whose id
        is close to it (:meth:`whyrec.data.IdMap.close`, at :data:`SIMILAR_SEARCH`); and whether
        they are the close ones."""
        found = self.id_search(kind).holding(query, limit)
        query = stripped_id(query)
        if found or not query:
            return found, False
        id_map = self.rating.user_map if kind == "users" else self.rating.item_map
        return [id_map.index(key) for key in id_map.close(query, limit, SIMILAR_SEARCH)], True

    def id_search(self, kind: str) -> IdSearch:
        """The search of the users' or the items' (``kind``) ids, made at its first use (a thread
        making it too makes the same) or by :meth:`prepare_searches`."""
        search = self._searches.get(kind)
        if search is None:
            if kind == "users":
                search = IdSearch(self.user_ids, range(len(self.user_ids)))
            else:  # the most rated first; without the data (popularity then holds predicted ratings) the bundle's order
                order = (np.argsort(-self.popularity, kind="stable") if self.has_history
                         else np.arange(len(self.item_ids)))
                search = IdSearch(self.item_ids, order, self.titles)
            self._searches[kind] = search
        return search

    def prepare_searches(self) -> None:
        """Make the user and item searches' texts (:meth:`whyrec.id_search.IdSearch.prepare`) before
        serving: forked workers then share them, and the page's first keystrokes do not wait."""
        for kind in ("users", "items"):
            self.id_search(kind).prepare()

    def did_you_mean(self, user: str) -> str | None:
        """For a user the bundle does not know: the known id most like it, when one is that close."""
        return self.rating.user_map.closest(user)

    def history(self, user: str) -> list[dict]:
        u = self.rating.user_map.index(user, "user")
        return [{"item": self.item_ids[i], "title": self.titles.get(self.item_ids[i]), "rating": float(r)}
                for i, r in zip(self.history_items[u].tolist(), self.history_ratings[u].tolist())]

    def check_item(self, item: str) -> None:
        """Refuse an item the bundle does not know, naming the known id most like it when one is close,
        and the item whose title it is, when it is one (:func:`whyrec.explanations.item_index`)."""
        item_index(self.rating, item, self.titled)

    def recommend(self, user: str, k: int) -> tuple[list[str], np.ndarray, bool]:
        """Top-k unseen items and their predicted ratings (one batched call); cold start: popular
        items. Items are ranked by the model's score before clipping (clipped, all those predicted
        past the top of the scale would tie); the ratings returned are clipped, as ``predict``'s."""
        if user in self.rating.user_map:
            u = self.rating.user_map.index(user)
            cached = self.score_cache.get(user)
            if cached is None:
                cached = self.scorer(user)
                self.score_cache.put(user, cached)
            scores = cached.astype(np.float64)  # a copy: the cached array is never written to
            scores[self.history_items[u]] = -np.inf
            order = np.argsort(-scores, kind="stable")[:k]
            order = order[np.isfinite(scores[order])]
            return [self.item_ids[i] for i in order], np.clip(scores[order], *self.bounds), False
        order = np.argsort(-self.popularity, kind="stable")[:k]
        items = [self.item_ids[i] for i in order]
        return items, self.rating.predict([user] * len(items), items), True

    def explain(self, explainer: str, users: list[str], items: list[str], feature_word: str | None = None,
                decoding: Decoding = GREEDY) -> list[str]:
        """Explanations in one batch, decoded as ``decoding`` says (checked by the caller: PETER
        has no beam search); greedy, beam and seeded sampled ones are cached, and cached ones are
        not generated again (a seeded draw is the pair's own, :mod:`whyrec.explain.pair_draws`;
        unseeded sampled ones are drawn afresh). PETER+ is fed ``feature_word`` (checked by the
        caller; None: each item's most frequent training feature)."""
        if decoding.method == "sample" and decoding.seed is None:
            return self.batcher(explainer, users, items, feature_word, decoding)
        how = () if decoding == GREEDY else (decoding,)  # greedy keys stay as they were; the others carry their settings
        keys = [(explainer, u, i, feature_word, *how) for u, i in zip(users, items)]
        out = [self.cache.get(key) for key in keys]
        missing = [n for n, text in enumerate(out) if text is None]
        if missing:
            texts = self.batcher(explainer, [users[n] for n in missing], [items[n] for n in missing], feature_word,
                                 decoding)
            for n, text in zip(missing, texts):
                out[n] = text
                self.cache.put(keys[n], text)
        return out

    def rating_splits(self, user: str, items: list[str], top: int = 2) -> list[dict]:
        """MT, or an ALS rating model served with its history: each predicted rating split over
        ``user``'s past ratings (:func:`whyrec.explanations.splits_over`), cached with the explanations."""
        keys = [("rating-split", top, user, i) for i in items]
        out = [self.cache.get(key) for key in keys]
        missing = [n for n, split in enumerate(out) if split is None]
        if not missing:
            return out
        u = self.rating.user_map.index(user)
        if not len(self.history_items[u]):
            return [None] * len(items)  # no past ratings in the history given: nothing to split over
        # the user's past ratings from the served history index (MT's own, or the rating model's --data)
        rated = [self.item_ids[i] for i in self.history_items[u].tolist()]
        splits = splits_over(self.rating, user, [items[n] for n in missing], rated, self.history_ratings[u],
                             self.titles, top)
        for n, split in zip(missing, splits):
            out[n] = split
            self.cache.put(keys[n], split)
        return out

    def mentioned_features(self, text: str) -> list[str]:
        seen, out = set(), []
        for word in text.split():
            if word in self.features and word not in seen:
                seen.add(word)
                out.append(word)
        return out
