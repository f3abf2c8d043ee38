"""What the benchmarks read: the shared datasets (``../shared/data``, read in place and never
copied into the project), their fixed index splits, and the extracted item features.

The scripts run as ``python benchmarks/<name>.py``, so this file is importable beside them.
"""

from __future__ import annotations

import warnings
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
DATASETS = ["amazon-digital-music", "amazon-musical-instruments", "amazon-magazine-subscriptions", "amazon-gift-cards"]


def load_split(folder: Path, split: str = "1"):
    """The fixed split ``folder/<split>`` of the dataset in ``folder``.

    Every record is kept, repeated (user, item) pairs included: the index files count them.
    The reader's warnings about skipped records (empty texts) are silenced; the split's sizes
    tell what was read."""
    from whyrec.data import fixed_index_split, load_corpus

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        corpus = load_corpus(folder, duplicates="keep-all")
    return fixed_index_split(corpus, folder / split)


def split_features(split):
    """(feature, opinion, sentence, sentiment) quadruples of every record of ``split``, as
    ``whyrec train`` extracts them (:func:`whyrec.data.features.split_features`)."""
    from whyrec.data.features import split_features as extract

    return extract(split)
