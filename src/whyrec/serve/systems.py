"""What the service holds per loaded bundle, and the recommend/explain logic behind the routes.

A :class:`ServedSystem` wraps one bundle — an MT system (ratings + MT-U/I/P explanations) or a
plain rating model (ratings only) — with its training history, item popularity, titles and
feature words, and an LRU cache of generated explanations.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

from whyrec.bundle import load_bundle
from whyrec.errors import UnknownIdError

EXPLAINER_LABELS = {"user": "MT-U", "item": "MT-I", "pair": "MT-P"}


class ExplanationCache:
    """A small thread-safe LRU cache of (explainer, user, item) → text."""

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

    def put(self, key, value) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)


class ServedSystem:
    """One loaded bundle and the operations the API needs."""

    def __init__(self, name: str, model, cache_size: int = 20000) -> None:
        self.name = name
        self.model = model
        self.cache = ExplanationCache(cache_size)
        self.lock = threading.Lock()  # torch modules are not re-entrant for our small batches
        self.is_mt = hasattr(model, "explain") and hasattr(model, "generator")
        if self.is_mt:
            self.rating = model.als
            self.explainers = list(model.config.variants) if model.config.decoder else []
            data = model.data
            self.history_items = [data.rec_item[data.rec_user == u] for u in range(len(model.user_map))]
            self.history_ratings = [model.train_ratings[data.rec_user == u] for u in range(len(model.user_map))]
            self.popularity = np.bincount(data.rec_item, minlength=len(model.item_map))
            self.titles = model.item_titles
            self.features = set(model.feature_words)
        else:
            self.rating = model
            self.explainers = []
            self.history_items = [np.zeros(0, dtype=np.int64) for _ in model.user_map.ids]
            self.history_ratings = [np.zeros(0) for _ in model.user_map.ids]
            self.popularity = np.zeros(len(model.item_map.ids))
            self.titles, self.features = {}, set()
        self.user_ids = self.rating.user_map.ids
        self.item_ids = self.rating.item_map.ids

    @classmethod
    def from_folder(cls, folder: str | Path, cache_size: int = 20000) -> "ServedSystem":
        """Load a bundle; it is served under its folder's name."""
        return cls(Path(folder).resolve().name, load_bundle(folder), cache_size)

    # --- queries ---------------------------------------------------------------------------------
    def describe(self) -> dict:
        return {"name": self.name, "users": len(self.user_ids), "items": len(self.item_ids),
                "explainers": [{"id": e, "label": EXPLAINER_LABELS[e]} for e in self.explainers],
                "kind": "mt" if self.is_mt else type(self.model).__name__}

    def search_users(self, query: str, limit: int) -> list[dict]:
        q = query.lower()
        out = []
        for u, uid in enumerate(self.user_ids):
            if q in uid.lower():
                out.append({"user": uid, "reviews": int(len(self.history_items[u]))})
                if len(out) >= limit:
                    break
        return out

    def history(self, user: str) -> list[dict]:
        u = self.rating.user_map.index(user, "user")
        return [{"item": self.item_ids[i], "title": self.titles.get(self.item_ids[i]), "rating": float(r)}
                for i, r in zip(self.history_items[u].tolist(), self.history_ratings[u].tolist())]

    def check_item(self, item: str) -> None:
        self.rating.item_map.index(item, "item")

    def recommend(self, user: str, k: int) -> tuple[list[str], np.ndarray, bool]:
        """Top-k unseen items by predicted rating (one batched call); cold start: popular items."""
        if user in self.rating.user_map:
            u = self.rating.user_map.index(user)
            scores = self.rating.predict([user] * len(self.item_ids), self.item_ids)
            scores = scores.copy()
            scores[self.history_items[u]] = -np.inf
            order = np.argsort(-scores, kind="stable")[:k]
            order = order[np.isfinite(scores[order])]
            return [self.item_ids[i] for i in order], scores[order], False
        order = np.argsort(-self.popularity, kind="stable")[:k]
        items = [self.item_ids[i] for i in order]
        return items, self.rating.predict([user] * len(items), items), True

    def explain(self, explainer: str, users: list[str], items: list[str]) -> list[str]:
        """Explanations in one batch; cached ones are not generated again."""
        keys = [(explainer, u, i) for u, i in zip(users, items)]
        out = [self.cache.get(key) for key in keys]
        missing = [n for n, text in enumerate(out) if text is None]
        if missing:
            with self.lock:
                texts = self.model.explain([users[n] for n in missing], [items[n] for n in missing], variant=explainer)
            for n, text in zip(missing, texts):
                out[n] = text
                self.cache.put(keys[n], text)
        return out

    def mentioned_features(self, text: str) -> list[str]:
        seen, out = set(), []
        for word in text.split():
            if word in self.features and word not in seen:
                seen.add(word)
                out.append(word)
        return out


def unknown(kind: str, key: str) -> UnknownIdError:
    return UnknownIdError(f"unknown {kind} '{key}'")
