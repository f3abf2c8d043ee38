"""MMI alignment of a trained system, end to end: what ``whyrec align`` and the alignment
benchmark run.

From a trained MT (one of its MT-U/I/P decoders) or PETER/PETER+ and a data split:

1. the reward encoders: a frozen sentence encoder and, for the rating reward by default, a
   layer over it trained to classify the train reviews' ratings (standing in for MMI's BERT
   fine-tuned on the dataset's reviews, METHODS.md §A.3);
2. MINE pre-training on (train review, observed rating / the review's feature word) pairs;
3. MMI fine-tuning (:mod:`whyrec.align.mmi`) on the train records, the targets being the
   system's own predicted ratings, with early stopping on the validation records.

The system is tuned in place. A rating input, when asked for, is attached to the system
(``mt.rating_inputs[variant]``, ``peter.rating_input``), so saving the system afterwards saves
the aligned explainer with it.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

from whyrec.align.mmi import MMIConfig, MMIData, MMITrainer
from whyrec.data.corpus import Corpus
from whyrec.data.scale import five_point
from whyrec.errors import ConfigError
from whyrec.explain.interface import GRUExplainer
from whyrec.explain.sentence import RatingTunedEncoder
from whyrec.explain.targets import explanation_targets


def feature_words(part: Corpus, features: pd.DataFrame | None) -> list[str]:
    """Each record's extracted feature word ("" when it has none)."""
    if features is None or not len(features):
        return [""] * len(part)
    at = dict(zip(features["position"].tolist(), features["feature"].tolist()))
    return [at.get(p, "") for p in part.positions.tolist()]


def mmi_data(system, part: Corpus, features: pd.DataFrame | None, max_words: int,
             with_feature: bool = False) -> MMIData:
    """MMI's records of ``part``: the system's predicted ratings as targets, the extracted
    explanation sentences as references; only the records with a feature word when
    ``with_feature`` (the feature and joint targets need one)."""
    words = feature_words(part, features)
    data = MMIData(list(part.users), list(part.items), five_point(system.predict_corpus(part), part.rating_scale),
                   explanation_targets(part, features, max_words), words)
    return data.take(np.flatnonzero([bool(w) for w in words])) if with_feature else data


SENTENCE_ENCODERS = ("minilm", "words")


def check_sentence_encoder(kind: str) -> None:
    """Refuse an unknown sentence-encoder kind (before any data is read or model trained)."""
    if kind not in SENTENCE_ENCODERS:
        raise ConfigError(f"sentence encoder must be 'minilm' or 'words', not '{kind}'")


def words_without_glove(kind: str | None) -> bool:
    """Whether the ``kind`` sentence encoder (None: none) will read random word vectors only
    because GloVe 6B is not installed (:func:`whyrec.explain.embeddings.random_for_want_of_glove`)."""
    from whyrec.explain.embeddings import GLOVE_DIM, random_for_want_of_glove

    return kind == "words" and random_for_want_of_glove("auto", GLOVE_DIM)


def sentence_encoder(kind: str, vocab=None):
    """The frozen sentence encoder the rewards read: ``minilm`` (all-MiniLM-L6-v2, ``whyrec[mmi]``)
    or ``words`` (mean word vectors over ``vocab``: GloVe 50-d when installed, else seeded random);
    each distinct text is encoded once."""
    from whyrec.explain.embeddings import GLOVE_DIM, init_word_vectors
    from whyrec.explain.sentence import MeanWordVectorEncoder, MemoizedEncoder, MiniLMEncoder

    check_sentence_encoder(kind)
    if kind == "minilm":
        return MemoizedEncoder(MiniLMEncoder())
    if vocab is None:
        raise ConfigError("the words encoder needs a vocabulary")
    return MeanWordVectorEncoder(vocab, init_word_vectors(vocab, GLOVE_DIM, "auto")[0])


REWARD_ENCODERS = ("rating-tuned", "generic")


def check_reward_encoder(kind: str) -> None:
    """Refuse an unknown reward-encoder kind (before the data is read and the judge trained)."""
    if kind not in REWARD_ENCODERS:
        raise ConfigError(f"reward encoder must be 'rating-tuned' or 'generic', not '{kind}'")


# each member is a classifier trained on the train reviews, and adds its hidden units to the
# representation the estimators read for every sentence
MOST_REWARD_MEMBERS = 64


def check_reward_members(members: int) -> None:
    """Refuse an ensemble of fewer than one classifier, or more than :data:`MOST_REWARD_MEMBERS`,
    under the rating reward (before the data is read)."""
    if members < 1:
        raise ConfigError(f"the rating reward's classifier needs at least one member, not {members}")
    if members > MOST_REWARD_MEMBERS:
        raise ConfigError(f"the rating reward's classifier takes at most {MOST_REWARD_MEMBERS} members, not "
                          f"{members:,}: each is a classifier trained on the train reviews, and widens what the "
                          "estimators read")


def reward_encoders(kind: str, encoder, train: Corpus, target: str = "rating", members: int = 1,
                    seed: int = 0) -> dict:
    """The encoder each reward reads. ``generic``: ``encoder`` for both targets. ``rating-tuned``:
    for the rating, a layer over ``encoder`` trained on the train reviews' ratings (an ensemble of
    ``members`` such layers when more than one; ``seed``: :class:`RatingTunedEncoder`'s); the
    feature target keeps ``encoder``. MMI's ``target`` "feature" reads no rating reward: no layer is
    tuned."""
    check_reward_encoder(kind)
    check_reward_members(members)
    if kind == "generic" or target == "feature":
        return {"rating": encoder, "feature": encoder}
    texts = list(train.texts)
    tuned = RatingTunedEncoder(encoder, members=members, seed=seed)
    tuned.fit(texts, five_point(train.ratings, train.rating_scale), embedded=encoder.encode(texts))
    return {"rating": tuned, "feature": encoder}


def check_alignable(system, variant: str | None = "pair") -> None:
    """Fail early, before any expensive step, on a system MMI cannot tune. ``variant`` names MT's
    decoder (None: ``"pair"``); for PETER, which has one explainer, it must be None (or ``"pair"``)."""
    from whyrec.systems.mt import MultiTask
    from whyrec.systems.peter import Peter

    if isinstance(system, Peter) and variant not in (None, "pair"):
        raise ConfigError(f"PETER has a single explainer: a variant ('{variant}') chooses among MT's decoders")
    if isinstance(system, MultiTask):
        system.require_variant(variant or "pair")  # None: the default decoder, MT-P
    elif not isinstance(system, Peter):
        raise ConfigError(f"MMI aligns an explanation generator (MT or PETER), not '{type(system).__name__}'")


def known_records(system, part: Corpus) -> Corpus:
    """The records whose user and item the system has embeddings for (PETER explains no others)."""
    keep = [u in system.user_map and i in system.item_map for u, i in zip(part.users, part.items)]
    return part if all(keep) else part.take(np.flatnonzero(keep))


def explainer_for(system, variant: str = "pair", rating_input: bool = False):
    """The explainer interface over ``system``'s explanation generator (tuned in place)."""
    from whyrec.systems.peter import Peter, PeterExplainer

    check_alignable(system, variant)
    if isinstance(system, Peter):
        return PeterExplainer(system, rating_input=rating_input)
    return GRUExplainer.from_mt(system, variant, rating_input=rating_input)


def explain_records(system, part: Corpus, features: pd.DataFrame | None, variant: str = "pair") -> list[str]:
    """Greedy explanations of ``part``'s records: MT's ``variant`` decoder, or PETER (PETER+ is
    fed each record's extracted feature word)."""
    from whyrec.systems.peter import Peter

    if isinstance(system, Peter):
        words = feature_words(part, features) if system.config.use_feature else None
        return system.explain(part.users, part.items, words)
    return system.explain(part.users, part.items, variant=variant)


def align(system, train: Corpus, valid: Corpus | None, features: pd.DataFrame | None, encoders: dict,
          config: MMIConfig, variant: str = "pair", rating_input: bool = False, max_words: int | None = None,
          log: Callable[[dict], None] | None = None,
          on_step: Callable[[int, str], None] | None = None) -> MMITrainer:
    """Pre-train MMI's estimators and fine-tune ``system``'s explainer; returns the trainer
    (its ``history`` and ``selection`` tell what happened; ``log`` and ``on_step`` as
    :meth:`MMITrainer.fit` takes them)."""
    max_words = max_words or system.config.max_words
    with_feature = config.target != "rating"
    check_alignable(system, variant)
    if rating_input and tuple(train.rating_scale) != (1.0, 5.0):
        raise ConfigError(f"a rating input shifts the explainer by rating class 1–5; this data's scale is "
                          f"{train.rating_scale[0]:g}–{train.rating_scale[1]:g} (align without --rating-input)")
    data = mmi_data(system, train, features, max_words, with_feature)
    if len(data) < 2:
        raise ConfigError(f"MMI({config.target}): {len(data)} usable training records"
                          + (" (records need an extracted feature word)" if with_feature else ""))
    trainer = MMITrainer(explainer_for(system, variant, rating_input), encoders, config)
    keep = np.flatnonzero([bool(w) for w in feature_words(train, features)]) if with_feature else np.arange(len(train))
    # the estimators learn from human reviews first: (review, its observed rating / feature word)
    observed = MMIData(data.users, data.items, five_point(train.ratings, train.rating_scale)[keep], data.references,
                       data.features)
    trainer.pretrain([train.texts[k] for k in keep], observed)
    held_out = mmi_data(system, valid, features, max_words, with_feature) if valid is not None and len(valid) else None
    # the fit appends what it did to system.alignments (whyrec.align.alignment_records)
    trainer.fit(data, held_out if held_out is not None and len(held_out) >= 2 else None, log=log,
                on_step=on_step, data_name=train.name)
    return trainer
