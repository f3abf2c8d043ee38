"""Whatever a review file holds, ``load_corpus`` gives a validated Corpus or one clear error (a
:class:`whyrec.errors.WhyrecError` naming the file), never another exception: Hypothesis draws
files of any bytes and of the characters that structure CSV and JSON, under every name the
format detection reads, and well-formed review tables of any ids, ratings and texts, which are
read back as written."""

import csv
import gzip
import io
import json
import math
import pickle
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.properties import fuzz, made_or_refused
from whyrec.data import load_corpus

# lenient reading warns of the records it skips (a DataWarning each file): expected of such files
pytestmark = pytest.mark.filterwarnings("ignore::whyrec.errors.DataWarning")
FUZZ = fuzz(200)
pieces = st.sampled_from(list(',;\t|"{}[]:\n \\.-0159') + ["user", "item", "rating", "text", "reviewerID", "asin",
                                                           "overall", "reviewText", "null", "true", "é", "\u200b"])
contents = st.one_of(st.binary(max_size=80), st.lists(pieces, max_size=50).map("".join).map(str.encode),
                     st.builds(lambda head, rows: (head + rows).encode(),
                               st.sampled_from(["user,item,rating,text\n", '{"reviewerID": ', "[{", "user\titem\n"]),
                               st.lists(pieces, max_size=30).map("".join)))
names = st.sampled_from(["reviews.csv", "reviews.tsv", "reviews.json", "reviews.jsonl", "reviews.txt", "reviews.dat",
                         "reviews.ss", "reviews.pickle", "reviews.parquet", "reviews.json.gz", "ratings.dat"])


def loaded(data: bytes, name: str, **options):
    """``load_corpus`` of a file of ``data`` named ``name``: its Corpus, or None when refused as it should be."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
        return made_or_refused(lambda: load_corpus(path, **options))


@FUZZ
@given(data=contents, name=names, strict=st.booleans())
def test_any_file_gives_a_corpus_or_one_clear_error(data, name, strict):
    corpus = loaded(data, name, strict=strict)
    if corpus is not None:  # a header with no rows is an empty corpus, which `data stats` counts and `train` refuses
        assert all(1.0 <= r <= 5.0 for r in corpus.ratings) and len(corpus.users) == len(corpus.items) == len(corpus)


@FUZZ
@given(data=st.one_of(st.binary(max_size=60), st.builds(pickle.dumps, st.recursive(
    st.one_of(st.none(), st.integers(), st.text(max_size=5), st.floats()), lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.text(max_size=4), inner, max_size=3), max_leaves=8))))
def test_a_pickle_of_anything_gives_a_corpus_or_one_clear_error(data):
    loaded(data, "reviews.pickle")


ids = st.text(alphabet=st.one_of(st.characters(categories=["L", "N"]), st.sampled_from(list("-_.:/@#,;|' "))),
              min_size=1, max_size=8).map(str.strip).filter(lambda i: any(c.isalpha() for c in i))
words = st.text(alphabet=st.one_of(st.characters(categories=["L"]), st.sampled_from(list(" ,.!'\""))), max_size=30)
reviews = st.lists(st.tuples(ids, ids, st.integers(1, 5), words.filter(lambda t: any(c.isalpha() for c in t))),
                   min_size=1, max_size=8, unique_by=lambda r: (r[0], r[1]))


@FUZZ
@given(rows=reviews, kind=st.sampled_from(["csv", "jsonl"]))
def test_a_well_written_review_table_is_read_as_written(rows, kind):
    """Each (user, item, rating) of a table a program wrote is a record of the corpus, whatever
    characters the ids and texts hold."""
    if kind == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["user", "item", "rating", "text"])
        writer.writerows(rows)
        data = out.getvalue().encode()
    else:
        objects = ({"user": u, "item": i, "rating": r, "text": t} for u, i, r, t in rows)
        data = "".join(json.dumps(o) + "\n" for o in objects).encode()
    corpus = loaded(data, f"reviews.{kind}")
    assert corpus is not None
    read = {(u, i): r for u, i, r in zip(corpus.users, corpus.items, corpus.ratings)}
    assert read == {(u, i): float(r) for u, i, r, _ in rows} and not any(math.isnan(r) for r in read.values())
