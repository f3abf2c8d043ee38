"""Whatever a ``--pairs`` or ``--users`` file holds, reading it gives ids or one clear error: a
:class:`whyrec.errors.WhyrecError` (printed as one line naming the file and line), never another
exception. Hypothesis draws the files: CSV/TSV-like and JSON-like text of the characters that
structure them, and undecodable bytes; and files a program wrote of ids of any characters, which
are read back as written. The same examples are drawn on every run (``derandomize``: CI never
fails by the draw; raise ``max_examples`` to search further), and no example database is kept
(Hypothesis's cache of constants goes to .hypothesis/, which git ignores)."""

import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from tests.properties import fuzz, made_or_refused
from whyrec.cli.pairs import read_pairs_given, read_users_given

STRUCTURE = ',;\t|"\'{}[]:\n\r \\u0.-5e'
pieces = st.sampled_from(list(STRUCTURE) + ["user", "item", "feature_word", "reviewerID", "asin", "null", "true", "1",
                                             "x", "\u200b", "é"])
texts = st.one_of(
    st.lists(pieces, max_size=40).map("".join),
    st.builds(lambda head, body: head + body,
              st.sampled_from(["user,item\n", "user\n", '{"user": ', "[", "user\titem\n", "\ufeffuser,item\n",
                               "\n\nuser;item\n"]),
              st.text(max_size=60)))
contents = st.one_of(texts.map(lambda t: t.encode("utf-8")), st.binary(max_size=60))


def read_or_refuse(read, data: bytes, suffix: str):
    """``read`` of a file of ``data`` named ``*suffix``: its answer, or None when refused as it should be."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"given{suffix}"
        path.write_bytes(data)
        return made_or_refused(lambda: read(path), one_line=True)


@fuzz(300)
@given(data=contents, suffix=st.sampled_from([".csv", ".tsv", ".txt", ".jsonl", ".json"]))
def test_a_pairs_file_gives_pairs_or_one_clear_error(data, suffix):
    read = read_or_refuse(read_pairs_given, data, suffix)
    if read is not None:
        users, items, words, lines = read
        assert len(users) == len(items) == len(lines) and (words is None or len(words) == len(users))
        assert all(isinstance(i, str) and i for i in users + items)


@fuzz(300)
@given(data=contents, suffix=st.sampled_from([".csv", ".tsv", ".txt", ".jsonl", ".json"]))
def test_a_users_file_gives_users_or_one_clear_error(data, suffix):
    read = read_or_refuse(read_users_given, data, suffix)
    if read is not None:
        users, lines = read
        assert len(users) == len(lines) == len(set(users)) and all(isinstance(u, str) and u for u in users)


# ids as the datasets write them, and worse: letters of any script, digits, punctuation and inner spaces
ids = st.text(alphabet=st.one_of(st.characters(categories=["L", "N"]), st.sampled_from(list("-_.:/@#,;|'\" \t"))),
              min_size=1, max_size=10).map(str.strip).filter(
    lambda i: any(c.isalpha() for c in i) and i.lower() not in ("user", "item", "feature_word"))


def written(rows: list[tuple[str, str]], kind: str) -> bytes:
    """``rows`` of (user, item) as a CSV (Python's csv module quoting what needs it), JSON lines or a JSON array."""
    import csv
    import io
    import json

    if kind == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["user", "item"])
        writer.writerows(rows)
        return out.getvalue().encode("utf-8")
    objects = [{"user": u, "item": i, "rating": 5} for u, i in rows]
    if kind == "jsonl":
        return "".join(json.dumps(o, ensure_ascii=False) + "\n" for o in objects).encode("utf-8")
    return json.dumps(objects).encode("utf-8")


@fuzz(300)
@given(rows=st.lists(st.tuples(ids, ids), min_size=1, max_size=6), kind=st.sampled_from(["csv", "jsonl", "json"]))
def test_a_well_written_file_is_read_as_written(rows, kind):
    """The pairs of a file a program wrote, whatever characters the ids hold, are read back as they are;
    its users, each once, in the order of their first row."""
    suffix = {"csv": ".csv", "jsonl": ".jsonl", "json": ".json"}[kind]
    users, items, words, _ = read_or_refuse(read_pairs_given, written(rows, kind), suffix)
    assert list(zip(users, items)) == rows and words is None
    assert read_or_refuse(read_users_given, written(rows, kind), suffix)[0] == list(dict.fromkeys(u for u, _ in rows))
