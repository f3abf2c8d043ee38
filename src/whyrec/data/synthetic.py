"""A planted review corpus: known structure that models should recover.

Generative story (all draws from one seeded generator):

* user and item latent factors ``p_u, q_i ~ N(0, σ_f² I_K)``, biases ``b_u ~ N(0, σ_b²)``,
  ``b_i ~ N(0, σ_b²)``, global mean ``μ``;
* each user rates ``reviews_per_user`` items (at least 5, popular items more often);
  the rating is ``clip(round(μ + b_u + b_i + p_uᵀq_i + ε), 1, 5)`` with ``ε ~ N(0, noise²)``;
* each item has ``features_per_item`` true features drawn from a fixed feature list;
* a review has 1–3 sentences, each naming one of the item's true features with an opinion
  word whose polarity follows the rating (5: "excellent", 1: "terrible", ...); with
  probability ``filler_rate`` a sentence without a feature is added, and every user has a
  signature word (their "style") that appears in most of their reviews.

So a rating model can recover the factors, a feature extractor the item features, a text
model the rating–opinion link, and a discriminator the user's style.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from whyrec.data.corpus import COLUMNS, Corpus, ValidationReport

FEATURES = ("sound", "price", "battery", "screen", "design", "quality", "size", "color", "service",
            "packaging", "strap", "vocals", "delivery", "material", "weight", "cable", "lyrics", "comfort")
OPINIONS = {
    5: ("excellent", "amazing", "perfect", "fantastic"),
    4: ("good", "nice", "solid", "pleasant"),
    3: ("okay", "average", "decent", "acceptable"),
    2: ("poor", "disappointing", "weak", "mediocre"),
    1: ("terrible", "awful", "horrible", "useless"),
}
TEMPLATES = ("the {f} is {o}", "{o} {f} overall", "i found the {f} {o}", "the {f} was {o} for me",
             "really {o} {f}")
FILLERS = ("it arrived on time", "i use it every day", "my friend recommended it", "i bought it last month",
           "it came in a box", "i have had it for a while")
STYLE_WORDS = ("honestly", "frankly", "basically", "seriously", "truly", "clearly", "simply", "literally")


@dataclass
class PlantedCorpus:
    """The generated corpus and the truth it was generated from."""

    corpus: Corpus
    global_mean: float
    user_bias: np.ndarray
    item_bias: np.ndarray
    user_factors: np.ndarray
    item_factors: np.ndarray
    item_features: dict[str, list[str]]
    user_style: dict[str, str]

    def true_rating(self, users: list[str], items: list[str]) -> np.ndarray:
        """The noiseless, unrounded rating μ + b_u + b_i + p_uᵀq_i of (user, item) pairs."""
        u = np.array([int(x[1:]) for x in users])
        i = np.array([int(x[1:]) for x in items])
        return (self.global_mean + self.user_bias[u] + self.item_bias[i]
                + np.sum(self.user_factors[u] * self.item_factors[i], axis=1))


def make_planted_corpus(
    n_users: int = 300,
    n_items: int = 120,
    reviews_per_user: int = 12,
    n_factors: int = 4,
    factor_scale: float = 0.6,
    bias_scale: float = 0.5,
    global_mean: float = 3.6,
    noise: float = 0.3,
    features_per_item: int = 3,
    filler_rate: float = 0.3,
    seed: int = 0,
) -> PlantedCorpus:
    """Generate a :class:`PlantedCorpus` (see the module docstring for the story)."""
    rng = np.random.default_rng(seed)
    p = rng.normal(0, factor_scale, (n_users, n_factors))
    q = rng.normal(0, factor_scale, (n_items, n_factors))
    bu, bi = rng.normal(0, bias_scale, n_users), rng.normal(0, bias_scale, n_items)
    popularity = rng.zipf(1.6, n_items).astype(float)
    popularity = np.minimum(popularity, 50) / np.minimum(popularity, 50).sum()
    item_features = {f"i{j}": list(rng.choice(FEATURES, features_per_item, replace=False)) for j in range(n_items)}
    user_style = {f"u{u}": str(STYLE_WORDS[u % len(STYLE_WORDS)]) for u in range(n_users)}

    rows = []
    position = 0
    for u in range(n_users):
        count = max(5, int(rng.poisson(reviews_per_user)))
        items = rng.choice(n_items, size=min(count, n_items), replace=False, p=popularity)
        for j in items:
            score = global_mean + bu[u] + bi[j] + p[u] @ q[j] + rng.normal(0, noise)
            rating = int(np.clip(np.rint(score), 1, 5))
            sentences = []
            for _ in range(int(rng.integers(1, 4))):
                feature = str(rng.choice(item_features[f"i{j}"]))
                opinion = str(rng.choice(OPINIONS[rating]))
                sentences.append(str(rng.choice(TEMPLATES)).format(f=feature, o=opinion))
            if rng.random() < filler_rate:
                sentences.insert(int(rng.integers(0, len(sentences) + 1)), str(rng.choice(FILLERS)))
            if rng.random() < 0.8:
                sentences[0] = f"{user_style[f'u{u}']} {sentences[0]}"
            text = ". ".join(s.capitalize() for s in sentences) + "."
            rows.append((f"u{u}", f"i{j}", float(rating), text, float(1_500_000_000 + position * 3600),
                         "", position))
            position += 1
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    report = ValidationReport(source="planted", read=len(frame), kept=len(frame))
    meta = {f"i{j}": {"title": f"Planted item {j}", "category": ["planted"], "description": "",
                      "brand": "whyrec"} for j in range(n_items)}
    corpus = Corpus(frame, rating_scale=(1.0, 5.0), item_meta=meta, report=report, name="planted")
    return PlantedCorpus(corpus, global_mean, bu, bi, p, q, item_features, user_style)
