"""Ratings with explanations for given pairs (`whyrec explain`): MT's explainers and cold-start
default, PETER's refusal of unseen users, unknown items, and the command line."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pytest

from tests.cli.invoke import assert_one_line_error, run_cli
from tests.conftest import with_numbered_ids
from tests.systems.test_mt import TINY
from whyrec.cli.pairs import read_pairs
from whyrec.data import Corpus
from whyrec.data.text import readable
from whyrec.errors import ConfigError, UnknownIdError
from whyrec.explain.decoding import Decoding
from whyrec.explanations import PETER_NEW_USER, explain_pairs, explainers_of, is_mt, is_peter
from whyrec.rating import BiasBaseline
from whyrec.systems.mt import MultiTask
from whyrec.systems.peter import Peter


@pytest.fixture(scope="module")
def split(tiny_split):
    return tiny_split


@pytest.fixture(scope="module")
def mt(tiny_mt):
    return tiny_mt


def test_an_items_title_given_for_its_id_is_told_the_id(mt, split):
    """An item named by its title (copied from the page or a shop) is refused as an unknown id, and
    told the id of the item it titles; a title several items share lists them."""
    from whyrec.explanations import TitledItems, item_index

    user, item = split.train.users[0], split.train.items[0]
    title = mt.item_titles[item]
    with pytest.raises(UnknownIdError, match=re.escape(f"unknown item ' {title.upper()}'; that is the title of "
                                                       f"'{item}': give its id")):
        explain_pairs(mt, [user], [f" {title.upper()}"])
    # a word of titles is no title: the items whose titles hold it are named, three of them
    with pytest.raises(UnknownIdError) as word:
        explain_pairs(mt, [user], ["planted"])
    counts = split.train.reviews["item"].value_counts()  # MT's training records: the most rated first
    holding = sorted((i for i, t in mt.item_titles.items() if "planted" in t.lower()), key=lambda i: -counts[i])[:3]
    assert str(word.value) == ("unknown item 'planted'; the titles of " + ", ".join(
        f"'{i}' (“{mt.item_titles[i]}”)" for i in holding) + " and more hold it: give one of their ids")
    from whyrec.cli.pairs import without_unknown_items  # a pairs file's row, left out with --skip-unknown

    assert without_unknown_items(mt, [user], [title], None, [2])[3][0]["error"] == \
        f"unknown item '{title}'; that is the title of '{item}': give its id"
    # a rating model keeps no titles: those of the data it was given (--data), when it is given
    rating = BiasBaseline().fit(split.train)
    with pytest.raises(UnknownIdError, match=f"^unknown item '{title}'$"):
        explain_pairs(rating, [user], [title])
    with pytest.raises(UnknownIdError, match=re.escape(f"that is the title of '{item}': give its id")):
        explain_pairs(rating, [user], [title], history=split.train)
    assert without_unknown_items(rating, [user], [title], None, [2], split.train)[3][0]["error"].endswith(
        f"that is the title of '{item}': give its id")
    assert item_index(mt, item) == mt.item_map.index(item)
    shared = {"a1": "<b>Cable</b> &amp; strap", "a2": "Cable & strap · a2", "a3": "Cable & strap", "a4": "Other"}
    titled = TitledItems(shared)
    assert titled.named("cable & STRAP ") == ["a1", "a2", "a3"]  # HTML cleaned, the page's " · id" too
    assert titled.named("cable & strap · a2") == ["a2"] and titled.named(" ") == []
    many = TitledItems({f"b{n}": "Same" for n in range(5)})
    with pytest.raises(UnknownIdError, match=re.escape("that is the title of 'b0', 'b1', 'b2' and 2 more: give one "
                                                       "of their ids")):
        item_index(mt, "same", many)
    # part of one title: that item's id; a number, or fewer than three characters, is not looked for
    long = "A Very Long Title " + "of Many Words " * 8
    parts = TitledItems({"d1": "<i>Discovery</i> Girls (Ages 9-12)", "d2": "Other", "d3": long, "d4": "Cable 2000"})
    with pytest.raises(UnknownIdError, match=re.escape("unknown item ' discovery GIRLS'; the title of 'd1' "
                                                       "(“Discovery Girls (Ages 9-12)”) holds it: give its id")):
        item_index(mt, " discovery GIRLS", parts)
    with pytest.raises(UnknownIdError, match=re.escape(f"the title of 'd3' (“{long[:59].rstrip()}…”) holds it")):
        item_index(mt, "many words", parts)
    for unheld in ("2000", "ot", "nothing like it"):
        with pytest.raises(UnknownIdError, match=f"^unknown item '{unheld}'$"):
            item_index(mt, unheld, parts)
    assert parts.holding("cable", 5) == [("d4", "Cable 2000")] and len(parts.holding("e", 2)) == 2
    # with the items' numbers of ratings: the most rated first, ties in the titles' order
    rated = TitledItems({"c1": "Cable", "c2": "Cable · c2", "c3": "Cable kit", "c4": "Cable"}, {"c3": 9, "c4": 5})
    assert rated.named("cable") == ["c4", "c1", "c2"] and [i for i, _ in rated.holding("cable", 9)] == ["c3", "c4",
                                                                                                      "c1", "c2"]
    assert [i for i, _ in TitledItems(lambda: {"x": "T", "y": "T"}, lambda: {"y": 1}).holding("t", 2)] == ["y", "x"]
    # at the bounds: three items of one title all named, a fourth "1 more"; three holding a part named with no
    # "and more"; a part of three letters looked for; a title of 60 characters shown whole
    sixty = "Sixty " + "x" * 54
    three = {"e1": "Strap one", "e2": "Strap two", "e3": sixty, "e4": "Strap three"}
    for titles, asked, told in (
            ({f"b{n}": "Same" for n in range(3)}, "same", "that is the title of 'b0', 'b1', 'b2': give"),
            ({f"b{n}": "Same" for n in range(4)}, "same", "that is the title of 'b0', 'b1', 'b2' and 1 more: give"),
            (three, "strap", "the titles of 'e1' (“Strap one”), 'e2' (“Strap two”), 'e4' (“Strap three”) hold it: "
                             "give one of their ids"),
            (three, "six", f"the title of 'e3' (“{sixty}”) holds it")):
        with pytest.raises(UnknownIdError, match=re.escape(told)):
            item_index(mt, asked, TitledItems(titles))


def test_the_training_ratings_per_item_are_counted_from_what_each_model_keeps(mt, split):
    from whyrec.explanations import train_ratings_per_item

    counts = split.train.reviews["item"].value_counts().to_dict()
    assert train_ratings_per_item(mt) == counts
    rating = BiasBaseline().fit(split.train)
    assert train_ratings_per_item(rating) == {}  # a rating model keeps no records: none without its data
    assert train_ratings_per_item(rating, split.train) == counts
    reviews = split.train.reviews
    other = reviews.assign(item=reviews["item"].where(np.arange(len(reviews)) % 2 == 0, "zz"))
    assert "zz" in set(other["item"]) and "zz" not in train_ratings_per_item(rating, Corpus(other))  # unknown to it


def test_mt_gives_the_pair_explanation_and_the_item_side_to_a_new_user(mt, split):
    user, item = split.train.users[0], split.train.items[0]
    rows = explain_pairs(mt, [user, "someone-new"], [item, item])
    assert list(rows[0]["explanations"]) == ["pair"] and list(rows[1]["explanations"]) == ["item"]
    assert rows[1]["cold_start"] and not rows[0]["cold_start"]
    assert rows[0]["title"] == f"Planted item {item[1:]}"  # the item's title, as recommend shows it
    assert rows[0]["predicted_rating"] == pytest.approx(float(mt.predict([user], [item])[0]))
    assert rows[0]["explanations"]["pair"] == mt.explain([user], [item], no_repeat=True)[0]
    every = explain_pairs(mt, [user], [item], explainer="all", method="beam")[0]["explanations"]
    assert sorted(every) == ["item", "pair", "user"]
    # beam search as shown blocks repeats too (plain beam favours "who who who" loops)
    assert every["user"] == mt.explain([user], [item], variant="user", method="beam", no_repeat=True, no_unk=True)[0]
    assert "no_explanation" not in rows[0] and "no_explanation" not in rows[1]


def test_mt_u_writes_nothing_for_a_new_user_and_says_why(mt, split):
    """MT-U's only context is the user's own reviews: for a new user it used to decode from an
    empty document and show that as the user's explanation."""
    user, item = split.train.users[0], split.train.items[0]
    known, new = explain_pairs(mt, [user, "someone-new"], [item, item], explainer="all")
    assert sorted(known["explanations"]) == ["item", "pair", "user"] and "no_explanation" not in known
    assert sorted(new["explanations"]) == ["item", "pair"] and "MT-U explains nothing for a new user" in new["no_explanation"]
    only_user = explain_pairs(mt, ["someone-new"], [item], explainer="user")[0]
    assert only_user["explanations"] == {} and only_user["no_explanation"] == new["no_explanation"]
    assert only_user["predicted_rating"] == pytest.approx(float(mt.predict(["someone-new"], [item])[0]))


def test_bad_requests_are_refused_by_name(mt, split):
    user = split.train.users[0]
    with pytest.raises(UnknownIdError, match="unknown item 'nothing'"):
        explain_pairs(mt, [user], ["nothing"])
    with pytest.raises(ConfigError, match="unknown explainer 'peter'; this system has"):  # no MT explainer is close
        explain_pairs(mt, [user], [split.train.items[0]], explainer="peter")
    with pytest.raises(ConfigError, match=r"unknown explainer 'piar' \(did you mean 'pair'\?\); this system has "
                                          r"user \(MT-U\), item \(MT-I\), pair \(MT-P\) \(or all\)"):
        explain_pairs(mt, [user], [split.train.items[0]], explainer="piar")
    with pytest.raises(ConfigError, match=r"unknown explainer 'MTP' \(did you mean 'MT-P'\?\)"):  # close to a label
        explain_pairs(mt, [user], [split.train.items[0]], explainer="MTP")
    with pytest.raises(ConfigError, match=r"unknown explainer '5'; this system has"):  # was an AttributeError
        explain_pairs(mt, [user], [split.train.items[0]], explainer=5)
    # an explainer by the label whyrec prints beside its explanation, in any case
    by_label = explain_pairs(mt, [user], [split.train.items[0]], explainer="MT-I")[0]
    assert by_label["explanations"] == explain_pairs(mt, [user], [split.train.items[0]], explainer="item")[0][
        "explanations"]
    with pytest.raises(ConfigError, match="decoding: method must be one of 'greedy', 'sample', 'beam'"):
        explain_pairs(mt, [user], [split.train.items[0]], method="top-k")
    assert explainers_of(BiasBaseline()) == []
    with pytest.raises(ConfigError, match="unknown explainer 'pair'; this system is a rating model"):
        explain_pairs(BiasBaseline().fit(split.train), [user], [split.train.items[0]], explainer="pair")
    assert explain_pairs(BiasBaseline().fit(split.train), [user], [split.train.items[0]], explainer="all")[0][
        "explanations"] == {}


def test_a_rating_model_answers_with_its_ratings_alone(split):
    """No text, but the rating a bundle of it predicts: what the service's /explain answers too
    (it used to be refused, leaving the command line no way to ask a rating bundle for a pair)."""
    model = BiasBaseline().fit(split.train)
    user, item = split.train.users[0], split.train.items[0]
    rows = explain_pairs(model, [user, "someone-new"], [item, item])
    assert [r["predicted_rating"] for r in rows] == pytest.approx(model.predict([user, "someone-new"], [item, item]))
    assert [r["cold_start"] for r in rows] == [False, True] and all(r["explanations"] == {} for r in rows)
    assert rows[0]["title"] is None and "rating_split" not in rows[0]
    titled = explain_pairs(model, [user], [item], history=split.train)[0]  # --data: the item's title
    assert titled["title"] == split.train.item_title(item) and titled["predicted_rating"] == rows[0]["predicted_rating"]
    with pytest.raises(UnknownIdError, match="unknown item 'nothing'"):
        explain_pairs(model, [user], ["nothing"])
    elsewhere = Corpus(split.train.reviews, rating_scale=(0, 10))
    with pytest.raises(ConfigError, match="trained on ratings"):
        explain_pairs(model, [user], [item], history=elsewhere)


def test_pairs_given_as_numbers_are_answered_under_the_ids_the_readers_keep():
    """A frame's integer ids are kept as text ("7"); asked with the frame's own numbers (7, or 7.0
    where a gap made the column floats), the answer names "7" and finds its title, as it does
    asked with "7"; before, the rows named 7.0 and had no title."""
    from whyrec.data import corpus_from_frame
    from whyrec.data.synthetic import make_planted_corpus

    frame = with_numbered_ids(make_planted_corpus(n_users=30, n_items=15, reviews_per_user=6, seed=4).corpus.reviews)
    corpus = corpus_from_frame(frame, item_meta={str(n): {"title": f"Item number {n}"} for n in frame.item})
    model = BiasBaseline().fit(corpus)
    user, item = int(frame.user[0]), int(frame.item[0])
    as_text = explain_pairs(model, [str(user)], [str(item)], history=corpus)
    assert as_text[0]["title"] == f"Item number {item}" and as_text[0]["cold_start"] is False
    for users, items in (([user], [item]), ([float(user)], [float(item)]), (frame.user[:1].to_numpy(), [item])):
        assert explain_pairs(model, users, items, history=corpus) == as_text


def test_peter_does_not_explain_a_user_it_has_never_seen_but_answers_the_other_pairs(split, tmp_path):
    peter = Peter(emsize=16, heads=2, ffn=32, layers=1, max_words=8, epochs=1).fit(split.train, split.valid)
    user, item = split.train.users[0], split.train.items[0]
    row = explain_pairs(peter, [user], [item])[0]
    assert list(row["explanations"]) == ["peter"] and isinstance(row["explanations"]["peter"], str)
    assert "no_explanation" not in row
    from whyrec.explanations import train_ratings_per_item  # what tells the items a title part names, most rated first

    assert train_ratings_per_item(peter) == split.train.reviews["item"].value_counts().to_dict()
    # a new user among the pairs used to refuse them all
    known, new = explain_pairs(peter, [user, "someone-new"], [item, item], explainer="all")
    assert known["explanations"] == row["explanations"] and new["explanations"] == {} and new["cold_start"]
    assert new["no_explanation"] == PETER_NEW_USER and new["predicted_rating"] == pytest.approx(peter.global_mean)
    peter.save(tmp_path / "peter")
    proc = run_cli("explain", str(tmp_path / "peter"), "--user", user, "--item", item, "--user", "someone-new",
                   "--item", item)
    assert proc.returncode == 0, proc.stderr
    assert "someone-new (new user) → " in proc.stdout and f"({PETER_NEW_USER})" in proc.stdout
    with pytest.raises(ConfigError, match="rating split is of MT"):
        explain_pairs(peter, [user], [item], why=True)
    # sampled with a seed: the same explanations again; from the top word alone: the greedy ones
    users, items = list(split.test.users[:6]), list(split.test.items[:6])
    seeded = Decoding.of("sample", {"seed": 2, "temperature": 1.5})
    first = [r["explanations"]["peter"] for r in explain_pairs(peter, users, items, method=seeded)]
    assert first == [r["explanations"]["peter"] for r in explain_pairs(peter, users, items, method=seeded)]
    # each pair's own: asked alone, in another order, or in batches of two, a pair gets the same one
    assert [explain_pairs(peter, [u], [i], method=seeded)[0]["explanations"]["peter"]
            for u, i in zip(users, items)] == first
    backwards = explain_pairs(peter, users[::-1], items[::-1], method=seeded)
    assert [r["explanations"]["peter"] for r in backwards][::-1] == first
    assert peter.explain(users, items, method="sample", temperature=1.5, batch_size=2, no_unk=True,
                         no_repeat=True, generator=seeded.draws(users, items)) == first
    top_one = Decoding.of("sample", {"top_k": 1, "seed": 2})
    assert explain_pairs(peter, users, items, method=top_one) == explain_pairs(peter, users, items)
    # beam search through the key/value caches: a beam of one is greedy search
    assert explain_pairs(peter, users, items, method=Decoding.of("beam", {"beam": 1})) == \
        explain_pairs(peter, users, items)
    wide = explain_pairs(peter, users, items, method=Decoding.of("beam", {"beam": 5, "length_penalty": 0.5}))
    assert all(isinstance(r["explanations"]["peter"], str) for r in wide)


def _explain_in_parts_of_two(*args: str, cwd) -> subprocess.CompletedProcess:
    """``whyrec explain ARGS`` answering its pairs two at a time (a long file's parts, made small)."""
    code = ("import sys, whyrec.cli.explaining as e; e.PAIRS_AT_A_TIME = 2; from whyrec.cli import main; "
            "sys.argv = ['whyrec', *sys.argv[1:]]; main()")
    return subprocess.run([sys.executable, "-c", code, "explain", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300)


def test_a_long_pairs_file_is_answered_in_parts_as_it_is_whole(mt, split, tmp_path):
    mt.save(tmp_path / "mt")
    users, items = list(split.test.users[:5]), list(split.test.items[:5])
    rows = [f"{u},{i}" for u, i in zip(users, items)]
    rows[2:2] = [f"{users[0]},nothing"]  # left out, in its place, between parts
    rows.append(f"{users[1]},nothing")
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("user,item\n" + "\n".join(rows) + "\n")
    args = [str(tmp_path / "mt"), "--pairs", str(pairs), "--skip-unknown", "--json", "--explainer", "all"]
    whole, in_parts = run_cli("explain", *args, cwd=tmp_path), _explain_in_parts_of_two(*args, cwd=tmp_path)
    assert whole.returncode == 0 and in_parts.returncode == 0, in_parts.stderr
    assert in_parts.stdout == whole.stdout and len(whole.stdout.splitlines()) == 7
    assert [json.loads(line)["item"] for line in whole.stdout.splitlines()][2] == "nothing"
    assert "explaining" in in_parts.stderr.splitlines() and "explaining" not in whole.stderr.splitlines()
    # a row the system cannot answer, last in the file, is refused before the first part is answered
    pairs.write_text("user,item,feature_word\n" + "".join(f"{u},{i},\n" for u, i in zip(users, items))
                     + f"{users[0]},{items[0]},price\n")
    late = _explain_in_parts_of_two(str(tmp_path / "mt"), "--pairs", str(pairs), "--json", cwd=tmp_path)
    assert late.returncode == 2 and late.stdout == "" and "a feature word steers PETER+ only" in late.stderr


def test_the_command_reads_pairs_from_options_or_a_file(mt, split, tmp_path):
    mt.save(tmp_path / "mt")
    user, item = split.train.users[0], split.train.items[0]
    proc = run_cli("explain", str(tmp_path / "mt"), "--user", user, "--item", item, "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    row = json.loads(proc.stdout.splitlines()[0])
    assert row["user"] == user and row["explanations"]["pair"] == mt.explain([user], [item], no_repeat=True)[0]
    assert row["readable"]["pair"] == readable(row["explanations"]["pair"])  # as shown, beside the tokens
    pairs = tmp_path / "pairs.csv"
    pairs.write_text(f"user,item\n{user},{item}\nnew-user,{item}\n")
    proc = run_cli("explain", str(tmp_path / "mt"), "--pairs", str(pairs), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert f"{user} → {item} Planted item {item[1:]}:" in proc.stdout and "new-user (new user)" in proc.stdout
    assert "  MT-I: " in proc.stdout
    pairs.write_text(f"user,item\n{user},{item}\n,{item}\n")
    proc = run_cli("explain", str(tmp_path / "mt"), "--pairs", str(pairs), cwd=tmp_path)
    assert proc.returncode == 2 and proc.stderr.startswith("error:") and ":3: field 'user': missing user id" in proc.stderr
    # a zero-width space pasted after the id is stripped (as the readers strip it): the known user, split
    proc = run_cli("explain", str(tmp_path / "mt"), "--user", f"{user}\u200b", "--user", "new-user", "--item", item,
                   "--why", cwd=tmp_path)
    assert proc.returncode == 0 and "= item baseline" in proc.stdout and "text prior and rest" in proc.stdout
    assert proc.stdout.split("new-user (new user)")[1].count("(--why: no rating split, a new user has no past") == 1
    proc = run_cli("explain", str(tmp_path / "mt"), "--user", user, "--item", "nothing", cwd=tmp_path)
    assert proc.returncode == 2 and "unknown item 'nothing'" in proc.stderr and "Traceback" not in proc.stderr
    proc = run_cli("explain", str(tmp_path / "mt"), "--user", user, "--item", item.upper(), cwd=tmp_path)
    assert proc.stderr.strip() == f"error: unknown item '{item.upper()}'; did you mean '{item}'?"
    proc = run_cli("explain", str(tmp_path / "mt"), "--user", " \u200b", "--item", item, cwd=tmp_path)
    assert proc.returncode == 2 and "a --user or --item id is empty" in proc.stderr  # not a "new user" named ""
    proc = run_cli("explain", str(tmp_path / "mt"), "--pairs", str(tmp_path), cwd=tmp_path)
    assert proc.returncode == 2
    assert "is a folder; --pairs takes a CSV/TSV, JSON lines or Parquet file (maybe gzipped)" in proc.stderr
    # an unknown item: the file and line of the first such row, a close id, and how many more there are
    pairs.write_text(f"user,item\n{user},{item}\n{user},{item.upper()}\n{user},nothing\n")
    assert_one_line_error(run_cli("explain", str(tmp_path / "mt"), "--pairs", str(pairs), cwd=tmp_path),
                          f"pairs.csv:3: field 'item': unknown item '{item.upper()}'; did you mean '{item}'? "
                          "(and 1 more of the 3 rows name items the bundle does not know); "
                          "--skip-unknown answers the other rows")
    # --skip-unknown answers the others: with --json every row in the file's order, the left-out ones by their error
    skip = run_cli("explain", str(tmp_path / "mt"), "--pairs", str(pairs), "--skip-unknown", "--json", cwd=tmp_path)
    assert skip.returncode == 0, skip.stderr
    answered = [json.loads(line) for line in skip.stdout.splitlines()]
    assert [r["item"] for r in answered] == [item, item.upper(), "nothing"] and "error" not in answered[0]
    assert answered[1] == {"user": user, "item": item.upper(), "row": 2, "line": 3,
                           "error": f"unknown item '{item.upper()}'; did you mean '{item}'?"}
    assert answered[2]["line"] == 4 and answered[0]["explanations"]["pair"]
    said = " ".join(skip.stderr.split())
    assert "warning: " in said
    assert "2 of 3 rows left out, their items unknown to the bundle (first: row 2 at line 3," in said
    text = run_cli("explain", str(tmp_path / "mt"), "--pairs", str(pairs), "--skip-unknown", cwd=tmp_path)
    assert text.returncode == 0 and f"{user} → {item}" in text.stdout and "nothing" not in text.stdout
    assert_one_line_error(run_cli("explain", str(tmp_path / "mt"), "--user", user, "--item", item, "--skip-unknown"),
                          "--skip-unknown leaves out rows of a --pairs file")
    pairs.write_bytes(f"\ufeffuser,item\n{user},{item}\n".encode())  # a spreadsheet's UTF-8 CSV starts with a BOM
    proc = run_cli("explain", str(tmp_path / "mt"), "--pairs", str(pairs), cwd=tmp_path)
    assert proc.returncode == 0 and f"{user} → {item}" in proc.stdout, proc.stderr
    # what --json writes is a pairs file too (JSON lines), and answers the same
    written = tmp_path / "answers.jsonl"
    written.write_text(skip.stdout.splitlines()[0] + "\n")
    again = run_cli("explain", str(tmp_path / "mt"), "--pairs", str(written), "--json", cwd=tmp_path)
    assert again.returncode == 0 and again.stdout.splitlines() == skip.stdout.splitlines()[:1], again.stderr


def test_the_command_reads_pairs_piped_to_it_as_it_reads_a_file(mt, split, tmp_path):
    """``--pairs -``: what another program pipes in (``jq -c``, an earlier ``--json``) is answered as
    the same file would be, and its errors and warnings name ``<stdin>`` and the line."""
    mt.save(tmp_path / "mt")
    user, item = split.train.users[0], split.train.items[0]
    piped = f'{{"user": "{user}", "item": "{item}"}}\n{{"user": "{user}", "item": "nothing"}}\n'
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text(piped)
    args = [str(tmp_path / "mt"), "--skip-unknown", "--json", "--explainer", "all"]
    from_file = run_cli("explain", *args, "--pairs", str(pairs), cwd=tmp_path)
    from_pipe = run_cli("explain", *args, "--pairs", "-", cwd=tmp_path, stdin=piped)
    assert from_pipe.returncode == 0 and from_file.returncode == 0, from_pipe.stderr
    assert from_pipe.stdout == from_file.stdout and len(from_pipe.stdout.splitlines()) == 2
    said = " ".join(from_pipe.stderr.split())
    assert "warning: <stdin>: 1 of 2 rows left out, their items unknown to the bundle" in said
    assert_one_line_error(run_cli("explain", str(tmp_path / "mt"), "--pairs", "-", cwd=tmp_path, stdin=piped),
                          "<stdin>:2: field 'item': unknown item 'nothing'; --skip-unknown answers the other rows")
    as_csv = run_cli("explain", str(tmp_path / "mt"), "--pairs", "-", cwd=tmp_path, stdin=f"user,item\n{user},{item}\n")
    assert as_csv.returncode == 0 and f"{user} → {item}" in as_csv.stdout, as_csv.stderr


def test_explanations_are_decoded_as_asked_and_a_seed_repeats_them(mt, split, tmp_path):
    users, items = list(split.test.users[:8]), list(split.test.items[:8])

    def texts(decoding):
        return [r["explanations"]["pair"] for r in explain_pairs(mt, users, items, method=decoding)]

    hot = {"temperature": 2.0}
    first = texts(Decoding.of("sample", {**hot, "seed": 1}))
    assert texts(Decoding.of("sample", {**hot, "seed": 1})) == first  # the same seed, the same explanations
    assert texts(Decoding.of("sample", {**hot, "seed": 2})) != first
    assert texts(Decoding.of("sample", {"top_k": 1})) == texts("greedy")  # the top word alone is greedy
    # the settings reach the decoder: a beam of one is greedy, and the nucleus the model's own call cuts
    assert texts(Decoding.of("beam", {"beam": 1})) == texts("greedy")
    nucleus = Decoding.of("sample", {"top_p": 0.3, "seed": 4})
    assert texts(nucleus) == mt.explain(users, items, method="sample", top_p=0.3, no_repeat=True, no_unk=True,
                                        generator=nucleus.draws(users, items))
    # the command line: --decode NAME=VALUE after --method, on explain and recommend alike
    mt.save(tmp_path / "mt")
    pair = ["--user", users[0], "--item", items[0], "--json"]
    runs = [run_cli("explain", str(tmp_path / "mt"), *pair, "--method", "sample", "--decode", "seed=7", "--decode",
                    "top_p=0.9") for _ in range(2)]
    assert runs[0].returncode == 0, runs[0].stderr
    assert runs[0].stdout == runs[1].stdout
    assert json.loads(runs[0].stdout)["explanations"]["pair"] == mt.explain(
        users[:1], items[:1], method="sample", top_p=0.9, no_repeat=True, no_unk=True,
        generator=Decoding.of("sample", {"seed": 7}).draws(users[:1], items[:1]))[0]
    assert_one_line_error(run_cli("explain", str(tmp_path / "mt"), *pair, "--decode", "temperature=0.5"),
                          "decoding: temperature is a setting of sample decoding, not of greedy; choose method "
                          "sample to set it")
    # --data is a rating bundle's training data: MT keeps its own, and the data was read, then left unused
    for command, who in (("explain", pair), ("recommend", ["--user", users[0]])):
        assert_one_line_error(run_cli(command, str(tmp_path / "mt"), *who, "--data", str(tmp_path / "absent.csv")),
                              "--data gives a rating-model bundle the data it was trained on; mt keeps its own")
    assert_one_line_error(run_cli("recommend", str(tmp_path / "mt"), "--user", users[0], "--method", "beam",
                                  "--decode", "top_p=2"), "decoding: top_p must be in (0, 1], got 2")
    beam = run_cli("recommend", str(tmp_path / "mt"), "--user", users[0], "-k", "2", "--method", "beam", "--decode",
                   "beam=1", "--json")
    assert beam.returncode == 0, beam.stderr
    greedy = run_cli("recommend", str(tmp_path / "mt"), "--user", users[0], "-k", "2", "--json")
    assert json.loads(beam.stdout) == json.loads(greedy.stdout)
    assert all(row["at_word_limit"] == {name: len(text.split()) == mt.config.max_words
                                        for name, text in row["explanations"].items()}
               for row in json.loads(greedy.stdout)["items"])
    # --decode min_words=N alone refines greedy search, as every method takes it
    held = run_cli("explain", str(tmp_path / "mt"), *pair, "--decode", "min_words=5")
    assert held.returncode == 0, held.stderr
    assert len(json.loads(held.stdout)["explanations"]["pair"].split()) >= 5
    # at the system's most words, an explanation is printed with " …" (it may have been cut there)
    most = mt.config.max_words
    full = run_cli("explain", str(tmp_path / "mt"), *pair, "--decode", f"min_words={most}")
    row = json.loads(full.stdout)
    assert len(row["explanations"]["pair"].split()) == most and row["at_word_limit"] == {"pair": True}
    assert row["readable"]["pair"] == readable(row["explanations"]["pair"])  # the mark is not in the text
    printed = run_cli("explain", str(tmp_path / "mt"), *pair[:4], "--decode", f"min_words={most}")
    assert printed.stdout.rstrip().endswith(f"MT-P: {row['readable']['pair']} …"), printed.stdout
    assert json.loads(held.stdout)["at_word_limit"] == {"pair": len(json.loads(held.stdout)["explanations"]["pair"]
                                                                    .split()) == most}
    short = run_cli("explain", str(tmp_path / "mt"), *pair[:4])
    assert short.returncode == 0 and not short.stdout.rstrip().endswith("…"), short.stdout
    assert_one_line_error(run_cli("explain", str(tmp_path / "mt"), *pair, "--method", "beam", "--decode",
                                  f"min_words={mt.config.max_words + 1}"),
                          f"min_words ({mt.config.max_words + 1}) is more than the {mt.config.max_words} words MT")


def test_peter_plus_explains_about_the_feature_word_asked_for(split, tmp_path):
    """PETER+ writes about the feature word it is fed: the item's most frequent one unless another
    is asked for (--feature-word, or a pairs file's feature_word column); any other system, or a
    word PETER+ was not trained with, is refused by name."""
    from whyrec.data.features import FeatureExtractor
    from whyrec.explanations import shown

    features = FeatureExtractor(min_df=2).extract(split.train)
    plus = Peter(use_feature=True, emsize=16, heads=2, ffn=32, layers=1, max_words=8, epochs=1).fit(
        split.train, split.valid, features)
    user, item = split.train.users[0], split.train.items[0]
    own = plus.item_feature[item]
    other = next(w for w in plus.feature_words if w != own and w in plus.vocab)
    default, asked = explain_pairs(plus, [user, user], [item, item], feature_words=[None, other])
    assert default["feature_word"] == own and asked["feature_word"] == other
    capitalised = explain_pairs(plus, [user], [item], feature_words=[f" {other.capitalize()} "])[0]
    assert capitalised["feature_word"] == other and capitalised["explanations"] == asked["explanations"]
    for row, word in ((default, own), (asked, other)):  # the text is the one decoded from that word
        assert row["explanations"]["peter+"] == plus.explain([user], [item], [word], no_unk=True, no_repeat=True)[0]
    with pytest.raises(ConfigError, match="'zzz' is not one of the .* feature words PETER\\+ was trained with"):
        explain_pairs(plus, [user], [item], feature_words=["zzz"])
    with pytest.raises(ConfigError, match="one feature word .* per pair"):
        explain_pairs(plus, [user, user], [item, item], feature_words=[other])
    plain = Peter(emsize=16, heads=2, ffn=32, layers=1, max_words=8, epochs=1).fit(split.train, split.valid)
    with pytest.raises(ConfigError, match="steers PETER\\+ only; PETER .* takes none"):
        explain_pairs(plain, [user], [item], feature_words=[other])
    assert "feature_word" not in explain_pairs(plain, [user], [item])[0]
    plus.save(tmp_path / "plus")
    # asked as it is written anywhere ("Strap"): read as the features are written ("strap"), as the tokenizer does
    proc = run_cli("explain", str(tmp_path / "plus"), "--user", user, "--item", item, "--feature-word",
                   f" {other.capitalize()} ")
    assert proc.returncode == 0, proc.stderr
    assert f"PETER+ (about '{other}'): {shown(asked['explanations']['peter+'])}" in proc.stdout
    pairs = tmp_path / "pairs.csv"
    pairs.write_text(f"user,item,feature_word\n{user},{item},{other.upper()}\n{user},{item},\n")
    rows = [json.loads(line) for line in run_cli("explain", str(tmp_path / "plus"), "--pairs", str(pairs),
                                                   "--json").stdout.splitlines()]
    assert [r["feature_word"] for r in rows] == [other, own]  # a blank cell: the item's own
    assert_one_line_error(run_cli("explain", str(tmp_path / "plus"), "--pairs", str(pairs), "--feature-word", other),
                          "not both")
    assert_one_line_error(run_cli("explain", str(tmp_path / "plus"), "--user", user, "--item", item,
                                  "--feature-word", "zzz"), "'zzz' is not one of the")
    listed = run_cli("recommend", str(tmp_path / "plus"), "--user", user, "-k", "2", "--feature-word", other, "--json")
    assert listed.returncode == 0, listed.stderr
    assert [row["feature_word"] for row in json.loads(listed.stdout)["items"]] == [other, other]
    plain.save(tmp_path / "plain")
    assert_one_line_error(run_cli("recommend", str(tmp_path / "plain"), "--user", user, "--feature-word", other),
                          "steers PETER+ only")


def test_peter_plus_trained_on_planted_features_writes_about_the_word_it_is_asked_about():
    """The word asked for steers the text, not only the plumbing: on a corpus whose reviews each
    name a planted feature, the explanations mention the word asked about far more often than
    when another word is asked about (measured here: 64% against 5%)."""
    from whyrec.data import ratio_split
    from whyrec.data.features import FeatureExtractor
    from whyrec.data.synthetic import make_planted_corpus

    split = ratio_split(make_planted_corpus(n_users=120, n_items=20, reviews_per_user=10, seed=3).corpus, seed=0)
    plus = Peter(use_feature=True, emsize=32, heads=2, ffn=64, layers=2, dropout=0.1, max_words=8, batch_size=32,
                 epochs=15, patience=15).fit(split.train, split.valid, FeatureExtractor(min_df=2).extract(split.train))
    users, items = split.test.users[:10], split.test.items[:10]
    words = [w for w in plus.feature_words if w in plus.vocab][:8]
    texts = {w: [r["explanations"]["peter+"].split() for r in explain_pairs(plus, users, items, feature_words=[w] * 10)]
             for w in words}
    asked = np.mean([w in t for w in words for t in texts[w]])
    other = np.mean([w in t for w in words for v in words if v != w for t in texts[v]])
    assert asked > 0.4 and asked > 3 * other, (asked, other)


def test_why_splits_mt_ratings_over_the_users_past_ratings(mt, split):
    user, item = split.train.users[0], split.train.items[-1]
    known, new = explain_pairs(mt, [user, "someone-new"], [item, item], why=True)
    parts = known["rating_split"]
    assert parts["baseline"] + sum(b["contribution"] for b in parts["because"]) + parts["other_ratings"] + \
        parts["rest"] == pytest.approx(parts["score"])
    low, high = mt.als.rating_scale
    assert min(max(parts["score"], low), high) == pytest.approx(known["predicted_rating"])
    past = {i for u, i in zip(split.train.users, split.train.items) if u == user}
    assert {b["item"] for b in parts["because"]} <= past and len(parts["because"]) == min(3, len(past))
    assert parts["n_other"] == sum(u == user for u in split.train.users) - len(parts["because"])
    assert new["rating_split"] is None  # a new user has no past ratings
    assert "rating_split" not in explain_pairs(mt, [user], [item])[0]


@pytest.mark.parametrize("name", ["context-als", "pmf"])
def test_why_splits_an_als_rating_models_ratings_over_the_given_history(split, name):
    from whyrec.errors import WhyrecError
    from whyrec.rating import make_model

    model = make_model(name, factors=4).fit(split.train)
    user, item = split.train.users[0], split.train.items[-1]
    row, = explain_pairs(model, [user], [item], why=True, history=split.train)
    parts = row["rating_split"]
    assert row["title"] == split.train.item_title(item)  # a rating model's titles come from the history
    assert row["explanations"] == {} and row["predicted_rating"] == pytest.approx(model.predict([user], [item])[0])
    assert parts["baseline"] + sum(b["contribution"] for b in parts["because"]) + parts["other_ratings"] + \
        parts["rest"] == pytest.approx(parts["score"])
    past = {i for u, i in zip(split.train.users, split.train.items) if u == user}
    assert {b["item"] for b in parts["because"]} <= past
    assert abs(parts["rest"]) < 0.05 * (1 + abs(parts["score"]))  # no text prior: only ALS's last-sweep lag
    assert parts["baseline_of"] == {"context-als": "item", "pmf": "mean"}[name]  # PMF has no item bias
    other = split.train.items[0]
    both = explain_pairs(model, [user, "someone-new", user], [item, item, other], why=True, history=split.train)
    alone = explain_pairs(model, [user], [other], why=True, history=split.train)[0]["rating_split"]

    def numbers(account):  # one solve for several items adds in another order: equal to rounding
        return [account["score"], account["baseline"], account["rest"], *(b["contribution"] for b in account["because"])]
    assert numbers(both[0]["rating_split"]) == pytest.approx(numbers(parts))
    assert numbers(both[2]["rating_split"]) == pytest.approx(numbers(alone))
    assert both[1]["rating_split"] is None and both[1]["cold_start"]
    with pytest.raises(ConfigError, match="keeps no training data"):
        explain_pairs(model, [user], [item], why=True)
    assert "rating_split" not in explain_pairs(model, [user], [item])[0]  # without --why: the rating alone
    with pytest.raises(WhyrecError, match="has no ratings in the data given"):
        explain_pairs(model, [user], [item], why=True, history=split.test.take([]))
    elsewhere = Corpus(split.train.reviews, rating_scale=(0, 10))  # the same ratings, read on another scale
    with pytest.raises(ConfigError, match="trained on ratings 1..5 and the data is read on 0..10"):
        explain_pairs(model, [user], [item], why=True, history=elsewhere)


def test_why_refuses_rating_models_that_are_not_als(split):
    from whyrec.rating import make_model

    model = make_model("bias-baseline").fit(split.train)
    with pytest.raises(ConfigError, match="of ALS models"):
        explain_pairs(model, [split.train.users[0]], [split.train.items[0]], why=True, history=split.train)


def test_the_command_splits_an_als_models_ratings_given_its_data(split, tmp_path):
    data = tmp_path / "reviews.csv"
    Corpus.concat([split.train, split.valid, split.test]).reviews.to_csv(data, index=False)
    assert run_cli("train", "context-als", "--data", str(data), "--out", str(tmp_path / "als")).returncode == 0
    user, item = split.train.users[0], split.train.items[-1]
    proc = run_cli("explain", str(tmp_path / "als"), "--user", user, "--item", item, "--why", "--data", str(data))
    assert proc.returncode == 0, proc.stderr
    assert "= item baseline" in proc.stdout and "; rest " in proc.stdout and "text prior" not in proc.stdout
    assert_one_line_error(run_cli("explain", str(tmp_path / "als"), "--user", user, "--item", item, "--why"),
                          "keeps no training data")
    plain = run_cli("explain", str(tmp_path / "als"), "--user", user, "--item", item)
    assert plain.returncode == 0, plain.stderr
    assert "(bundle 'als' is a rating model only" in plain.stdout and "★" in plain.stdout
    row = json.loads(run_cli("explain", str(tmp_path / "als"), "--user", user, "--item", item, "--json").stdout)
    assert row["explanations"] == {} and "rating model only" in row["no_explanation"]
    # --format reaches the reader (explain had no --format; parquet here proves the CSV was read as told)
    assert_one_line_error(run_cli("explain", str(tmp_path / "als"), "--user", user, "--item", item, "--why",
                                  "--data", str(data), "--format", "parquet"), "cannot read as Parquet")


def test_what_whyrec_shows_never_holds_unk_while_the_scored_decoding_is_plain(mt, split):
    """The CLI and the service (``generate``) block ``<unk>``; the experiments' decoding, which the
    metrics score, is the paper's plain one."""
    import copy

    import torch

    from whyrec.explanations import generate

    eager = copy.deepcopy(mt)
    with torch.no_grad():
        eager.decoder("pair").out_bias[eager.vocab.unk] = 50.0  # a decoder that would say <unk> every time
    users, items = list(split.test.users[:4]), list(split.test.items[:4])
    assert all("<unk>" in text for text in eager.explain(users, items))
    for method in ("greedy", "sample", "beam"):
        assert not any("<unk>" in text for text in generate(eager, "pair", users, items, method=method)), method


def test_an_empty_explanation_is_said_to_be_empty():
    from whyrec.explanations import EMPTY_SHOWN, shown

    assert shown("great strap , i love it") == "Great strap, I love it"  # tokens joined back for reading
    assert shown("") == shown("  ") == EMPTY_SHOWN and "no words" in EMPTY_SHOWN
    # the web page says it in the same words (its script cannot import them)
    from whyrec.serve.app import STATIC

    assert EMPTY_SHOWN in (STATIC / "app.js").read_text()


def test_an_explanation_at_its_systems_word_limit_is_shown_as_perhaps_cut():
    """Decoding stops at ``max_words``: an explanation that long may have been cut mid-sentence, and
    is printed with " …" after it; a shorter one, an empty one, or one of no known limit is not."""
    from whyrec.explanations import CUT_SHOWN, EMPTY_SHOWN, at_word_limit, shown, word_limit
    from whyrec.systems.mt_config import MTConfig

    cut = "i love this magazine , and the"
    assert at_word_limit(cut, 7) and not at_word_limit(cut, 8) and not at_word_limit(cut, None)
    assert shown(cut, 7) == "I love this magazine, and the …" == shown(cut) + CUT_SHOWN
    assert shown(cut, 8) == shown(cut) == "I love this magazine, and the"
    assert shown("", 7) == EMPTY_SHOWN and not at_word_limit("", 1)
    assert word_limit(MultiTask(MTConfig(max_words=6))) == 6 and word_limit(BiasBaseline()) is None
    # the web page marks it too (its script reads the answer's at_word_limit)
    from whyrec.serve.app import STATIC

    assert "at_word_limit" in (STATIC / "app.js").read_text()


def test_data_on_another_rating_scale_than_the_model_is_refused(split, mt):
    """A bundle trained on 0–10 evaluated on 1–5 data scored and judged on the wrong scale (and
    five_point refused its predictions with a ValueError traceback)."""
    from types import SimpleNamespace

    from whyrec.explanations import check_rating_scale
    from whyrec.rating import make_model

    als = make_model("bias-baseline").fit(split.train)
    for model in (als, mt):
        check_rating_scale(model, (1, 5))
        with pytest.raises(ConfigError, match="trained on ratings 1..5 and the data is read on 0..10: give "
                                              "--min-rating 1 --max-rating 5$"):
            check_rating_scale(model, (0, 10))
    peter_like = SimpleNamespace(rating_range=(2.0, 9.0))  # PETER keeps its train ratings' range
    check_rating_scale(peter_like, (0, 10))
    with pytest.raises(ConfigError, match="outside the scale 1..5"):
        check_rating_scale(peter_like, (1, 5))
    check_rating_scale(SimpleNamespace(rating_range=(1.0, 5.0)), (1, 5))  # the range at both ends of the scale
    with pytest.raises(ConfigError, match=r"up to 0\.5\.\.4, outside the scale 1\.\.5"):  # below it only
        check_rating_scale(SimpleNamespace(rating_range=(0.5, 4.0)), (1, 5))


def test_recommend_lists_a_users_unrated_items_with_their_explanations(mt, split, tmp_path):
    mt.save(tmp_path / "mt")
    user = split.train.users[0]
    proc = run_cli("recommend", str(tmp_path / "mt"), "--user", user, "--user", "new-user", "-k", "4", "--json",
                   cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    known, new = (json.loads(line) for line in proc.stdout.splitlines())
    rated = {i for u, i in zip(split.train.users, split.train.items) if u == user}
    items = [row["item"] for row in known["items"]]
    assert len(items) == 4 and not set(items) & rated and not known["cold_start"]
    unrated = [i for i in mt.item_map.ids if i not in rated]
    best = np.argsort(-mt.predict_unclipped([user] * len(unrated), unrated), kind="stable")[:4]
    assert items == [unrated[n] for n in best]  # the highest scores among the unrated items
    for row in known["items"]:
        assert row["predicted_rating"] == pytest.approx(float(mt.predict([user], [row["item"]])[0]))
        assert row["readable"] == {name: readable(text) for name, text in row["explanations"].items()}
        assert row["explanations"]["pair"] == mt.explain([user], [row["item"]], no_repeat=True)[0]
    assert new["cold_start"] and new["cold_start_items"] == "most rated"
    assert all(list(row["explanations"]) == ["item"] for row in new["items"])
    # what it wrote is a pairs file: another bundle can be asked about the same recommendations
    (tmp_path / "top.jsonl").write_text(proc.stdout)
    users, items_read, _, lines = read_pairs(tmp_path / "top.jsonl")
    assert list(zip(users, items_read)) == [(a["user"], row["item"]) for a in (known, new) for row in a["items"]]
    assert lines == [1] * 4 + [2] * 4
    text = run_cli("recommend", str(tmp_path / "mt"), "--user", user, "--user", "new-user", "-k", "2", "--why",
                   "--explainer", "all", cwd=tmp_path)
    assert text.returncode == 0, text.stderr
    mine, theirs = text.stdout.split("new-user (new user)")
    assert "the 2 items they have not rated" in mine and "  1. " in mine and "MT-U: " in mine and "MT-P: " in mine
    assert "= item baseline" in mine and "explains nothing" not in mine
    # a new user: MT-I and MT-P, and once, why there is no MT-U
    assert "MT-U: " not in theirs and theirs.count("MT-P: ") == 2 and theirs.count("MT-U explains nothing") == 1
    # and, once, why --why splits none of its ratings (nothing was said)
    assert theirs.count("(--why: no rating split, a new user has no past ratings to split it over)") == 1
    assert "no rating split" not in mine
    assert_one_line_error(run_cli("recommend", str(tmp_path / "mt"), "--user", user, "--explainer", "peter"),
                          "unknown explainer 'peter'")
    labelled = run_cli("recommend", str(tmp_path / "mt"), "--user", user, "-k", "1", "--explainer", "mt-u")
    assert labelled.returncode == 0 and "MT-U: " in labelled.stdout and "MT-P: " not in labelled.stdout  # as printed
    assert_one_line_error(run_cli("recommend", str(tmp_path / "mt"), "--user", "\ufeff "), "a --user id is empty")


def test_recommend_answers_a_file_of_users_as_it_answers_them_one_by_one(mt, split, tmp_path):
    """``--users``: each user of the file once, in its order (a review file names a user on every
    row of theirs), as ``--user`` given for each; from standard input too."""
    mt.save(tmp_path / "mt")
    first, second = split.train.users[0], next(u for u in split.train.users if u != split.train.users[0])
    users = tmp_path / "users.csv"
    users.write_text(f"user,item\n{first},x\nnew-user,y\n{first},z\n{second},x\n")
    args = [str(tmp_path / "mt"), "-k", "2", "--json"]
    one_by_one = run_cli("recommend", *args, "--user", first, "--user", "new-user", "--user", second, cwd=tmp_path)
    from_file = run_cli("recommend", *args, "--users", str(users), cwd=tmp_path)
    assert from_file.returncode == 0 and one_by_one.returncode == 0, from_file.stderr
    assert from_file.stdout == one_by_one.stdout
    assert [json.loads(line)["user"] for line in from_file.stdout.splitlines()] == [first, "new-user", second]
    piped = run_cli("recommend", *args, "--users", "-", cwd=tmp_path, stdin=f'{{"user": "{second}"}}\n')
    assert piped.returncode == 0 and piped.stdout == one_by_one.stdout.splitlines(keepends=True)[2], piped.stderr
    assert any(ch.isdigit() for ch in first)  # a bare list (jq -r .user): its first line is a user, not a header
    bare = run_cli("recommend", *args, "--users", "-", cwd=tmp_path, stdin=f"{first}\nnew-user\n{second}\n")
    assert bare.returncode == 0 and bare.stdout == one_by_one.stdout, bare.stderr
    assert_one_line_error(run_cli("recommend", *args, "--users", str(users), "--user", first),
                          "give users either with --user or with --users, not both")
    assert_one_line_error(run_cli("recommend", *args), "give a user with --user (repeatable), or a file of them "
                                                       "with --users")
    assert_one_line_error(run_cli("recommend", *args, "--users", "-", stdin="id\nu1\n"),
                          "<stdin>:1: needs a header row with a 'user' column")


def test_recommend_with_a_rating_bundle_says_it_writes_no_explanations(split, tmp_path):
    data = tmp_path / "reviews.csv"
    Corpus.concat([split.train, split.valid, split.test]).reviews.to_csv(data, index=False)
    assert run_cli("train", "context-als", "--data", str(data), "--out", str(tmp_path / "als")).returncode == 0
    user = split.train.users[0]
    proc = run_cli("recommend", str(tmp_path / "als"), "--user", user, "-k", "3")
    assert proc.returncode == 0, proc.stderr
    assert "is a rating model only" in proc.stdout and "  3. " in proc.stdout and "= item baseline" not in proc.stdout
    assert "items they rated are not left out" in proc.stdout  # no --data: the bundle knows no past ratings
    assert_one_line_error(run_cli("recommend", str(tmp_path / "als"), "--user", user, "--explainer", "pair"),
                          "unknown explainer 'pair'; this system is a rating model: it writes no explanations")
    for command in (["recommend", str(tmp_path / "als"), "--user", user],  # a decoding asked for was left unread
                    ["explain", str(tmp_path / "als"), "--user", user, "--item", split.train.items[0]]):
        for decoding in (["--method", "beam"], ["--decode", "min_words=2"]):
            assert_one_line_error(run_cli(*command, *decoding), "--method and --decode choose how explanations are "
                                  "decoded; context-als is a rating model and writes none")
    # a mistyped id gets the cold-start answer, and the known id it is most like
    known = next(u for u in split.train.users if len(u) >= 3)  # ids as short as "u0" are like too many others
    typo = run_cli("recommend", str(tmp_path / "als"), "--user", known + "x", "-k", "1")
    assert f"{known}x (new user; did you mean '{known}'?): the highest predicted rating items" in typo.stdout, \
        typo.stderr
    plain = run_cli("explain", str(tmp_path / "als"), "--user", "zz-nobody", "--item", split.train.items[0])
    assert "zz-nobody (new user) → " in plain.stdout and "did you mean" not in plain.stdout, plain.stderr
    # the JSON rows carry it as the service's answers do: each new user's, null when none is close
    rows = [json.loads(line) for line in run_cli(
        "explain", str(tmp_path / "als"), "--user", known.upper(), "--user", "zz-nobody", "--user", known,
        "--item", split.train.items[0], "--item", split.train.items[0], "--item", split.train.items[0],
        "--json").stdout.splitlines()]
    assert [row.get("did_you_mean", "(known)") for row in rows] == [known, None, "(known)"]
    assert json.loads(typo_json := run_cli("recommend", str(tmp_path / "als"), "--user", known + "x", "-k", "1",
                                           "--json").stdout)["did_you_mean"] == known, typo_json
    assert_one_line_error(run_cli("recommend", str(tmp_path / "als"), "--user", user, "--why"),
                          "--why splits the ratings of MT or of an ALS rating model")
    why = run_cli("recommend", str(tmp_path / "als"), "--user", user, "-k", "3", "--why", "--data", str(data), "--json")
    assert why.returncode == 0, why.stderr
    answer = json.loads(why.stdout)
    rated = {i for u, i in zip(split.train.users, split.train.items) if u == user}
    assert all(row["rating_split"] for row in answer["items"]) and not {r["item"] for r in answer["items"]} & rated
    assert answer["history"]
    # item titles from a metadata file kept elsewhere (--meta), which goes with --data
    meta = tmp_path / "catalogue" / "items.jsonl"
    meta.parent.mkdir()
    meta.write_text("".join(json.dumps({"asin": i, "title": f"Title of {i}"}) + "\n" for i in set(split.train.items)))
    titled = json.loads(run_cli("recommend", str(tmp_path / "als"), "--user", user, "-k", "2", "--data", str(data),
                                "--meta", str(meta), "--json").stdout)
    assert [row["title"] for row in titled["items"]] == [f"Title of {row['item']}" for row in titled["items"]]
    assert_one_line_error(run_cli("recommend", str(tmp_path / "als"), "--user", user, "--meta", str(meta)),
                          "--meta says how to read --data (a rating-model bundle's training data), which is not "
                          "given: give --data, or leave it out")
    # so do the options of how to split it, left unread before
    assert_one_line_error(run_cli("explain", str(tmp_path / "als"), "--user", user, "--item", split.train.items[0],
                                  "--split", str(tmp_path), "--seed", "3"),
                          "--split and --seed say how to read --data (a rating-model bundle's training data), which "
                          "is not given: give --data, or leave them out")
    # and --min-rating/--max-rating, whose defaults are told from values given by where they come from
    assert_one_line_error(run_cli("recommend", str(tmp_path / "als"), "--user", user, "--max-rating", "5"),
                          "--max-rating says how to read --data")
    for command in (["explain", str(tmp_path / "als"), "--user", user, "--item", split.train.items[0]],
                    ["serve", str(tmp_path / "als"), "--port", "0"]):
        assert_one_line_error(run_cli(*command, "--min-rating", "1", "--max-rating", "10"),
                              "--min-rating and --max-rating say how to read --data")


def test_reports_name_a_system_by_its_kind_and_its_data(mt, split):
    from whyrec.errors import DataWarning
    from whyrec.explanations import system_label

    assert system_label(mt) == f"MT ({mt.name})" and mt.name == split.train.name.split("/")[0]
    assert system_label(BiasBaseline().fit(split.train)) == BiasBaseline().name
    peter = Peter(emsize=16, heads=2, ffn=32, layers=1, max_words=8, epochs=1, use_feature=True)
    with pytest.warns(DataWarning, match="no train record has a feature word"):  # the label needs none
        peter.fit(split.train, split.valid)
    assert system_label(peter) == f"PETER+ ({split.train.name.split('/')[0]})"


def test_a_decoding_is_checked_against_a_system_before_it_trains(mt):
    """experiment explain checks --method/--decode on the systems before training them: an untrained
    MT was once taken for a rating model (its generators are built by fit), refusing any decoding."""
    from whyrec.explanations import check_decoding, explaining_kind
    from whyrec.systems.mt_config import MTConfig

    sample = Decoding.of("sample", {"seed": 1})
    for system in (MultiTask(MTConfig(max_words=6)), Peter(max_words=6, use_feature=True), mt):
        check_decoding(system, sample)
        check_decoding(system, None)
    assert explainers_of(MultiTask()) == ["user", "item", "pair"]
    assert [explaining_kind(s) for s in (MultiTask(), Peter(), Peter(use_feature=True))] == ["MT", "PETER", "PETER+"]
    with pytest.raises(ConfigError, match=r"min_words \(7\) is more than the 6 words MT writes at most"):
        check_decoding(MultiTask(MTConfig(max_words=6)), Decoding.of("sample", {"min_words": 7}))
    with pytest.raises(ConfigError, match=r"min_words \(7\) is more than the 6 words PETER\+ writes at most"):
        check_decoding(Peter(max_words=6, use_feature=True), Decoding.of("greedy", {"min_words": 7}))
    with pytest.raises(ConfigError, match="is a rating model and writes none"):
        check_decoding(BiasBaseline(), sample)


def test_a_rating_model_is_refused_a_decoding_by_name():
    """The service's first check, before a decoding's settings are read: the message says what
    asked and names the bundle; a system that writes text passes."""
    from whyrec.explanations import refuse_rating_model
    from whyrec.systems.mt_config import MTConfig

    with pytest.raises(ConfigError, match=r"^a decoding chooses how explanations are decoded; bundle 'b' is a rating "
                                          r"model and writes none$"):
        refuse_rating_model(BiasBaseline(), "a decoding chooses", "bundle 'b'")
    with pytest.raises(ConfigError, match=r"--method and --decode choose .*; bias-baseline is a rating"):
        refuse_rating_model(BiasBaseline(), "--method and --decode choose")
    refuse_rating_model(MultiTask(MTConfig(max_words=6)), "a decoding chooses")


def test_systems_are_told_apart_by_their_class_and_subclasses_count():
    class TunedMT(MultiTask):
        pass

    class TunedPeter(Peter):
        pass

    class LooksLikeMT:  # the attributes MT has, without being one
        generator, als = object(), object()

    assert is_mt(TunedMT(**TINY)) and not is_peter(TunedMT(**TINY))
    assert is_peter(TunedPeter()) and not is_mt(TunedPeter())
    assert not is_mt(LooksLikeMT()) and not is_peter(BiasBaseline())


def test_asking_a_rating_model_what_it_explains_imports_no_system():
    code = ("import sys; from whyrec.explanations import explainers_of; from whyrec.rating import BiasBaseline; "
            "assert explainers_of(BiasBaseline()) == []; "
            "print(sorted(m for m in sys.modules if m.startswith('whyrec.systems.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_an_unfitted_system_shows_the_call_that_makes_it():
    from whyrec.explanations import system_repr
    from whyrec.systems.mt import MultiTask
    from whyrec.systems.peter import Peter

    assert repr(MultiTask()) == "MultiTask()"
    assert repr(MultiTask(epochs=2, variants=["pair"])) == "MultiTask(variants=('pair',), epochs=2)"
    assert repr(Peter(use_feature=True, lr=0.5)) == "Peter(use_feature=True, lr=0.5)"
    assert eval(repr(Peter(emsize=64, heads=4)), {"Peter": Peter}).config == Peter(emsize=64, heads=4).config
    assert system_repr(Peter(), fitted=False) == "Peter()"


def test_a_fitted_system_shows_how_often_mmi_aligned_it():
    from types import SimpleNamespace

    from whyrec.explanations import system_repr
    from whyrec.systems.peter_config import PeterConfig

    class Peter(SimpleNamespace):  # shown by its class's name
        pass

    system = Peter(config=PeterConfig(epochs=2), user_map=[1, 2], item_map=[1], train_ratings=[5.0, 4.0], vocab=[1],
                   history=[{}], alignments=[], name="gifts")
    assert system_repr(system, fitted=False) == "Peter(epochs=2)"
    assert system_repr(system, fitted=True) == ("<Peter(epochs=2), fitted on 'gifts': 2 users, 1 item, 2 ratings, a "
                                                "vocabulary of 1 word, 1 epoch trained>")
    for runs, said in ((1, "aligned by MMI once>"), (2, "aligned by MMI 2 times>")):
        system.alignments = [{}] * runs
        assert system_repr(system, fitted=True).endswith(", 1 epoch trained, " + said)


def test_feature_words_are_given_one_per_pair(mt, split):
    from whyrec.explanations import check_pairs

    user, item = split.train.users[0], split.train.items[0]
    with pytest.raises(ConfigError, match=r"^give one feature word \(or None\) per pair: 1 for 2 pairs$"):
        check_pairs(mt, [user, user], [item, item], feature_words=["sound"])
    assert check_pairs(mt, [user], [item], feature_words=[None])[2] == [None]  # as many: read on


def test_a_rating_split_names_its_past_items_by_their_titles(mt, split):
    """MT's titles; a rating model's, from the data it was given; none when no titles are given, and
    an empty title is none. Three past items are named, the rest summed."""
    from whyrec.explanations import rating_splits, splits_over

    user, item = split.train.users[0], split.train.items[0]
    because = rating_splits(mt, user, [item])[0]["because"]
    assert 0 < len(because) <= 3 and all(b["title"] == mt.item_titles.get(b["item"]) for b in because)
    rated = [b["item"] for b in because]
    ratings = [b["rating"] for b in because]
    untitled = splits_over(mt.als, user, [item], rated, ratings)[0]["because"]
    assert [b["title"] for b in untitled] == [None] * len(rated)
    empty = splits_over(mt.als, user, [item], rated, ratings, {rated[0]: ""})[0]["because"]
    assert next(b for b in empty if b["item"] == rated[0])["title"] is None


def test_an_explainer_is_taken_by_its_name_or_its_label_in_any_case():
    from whyrec.explanations import explainer_asked

    for asked, name in (("MT-P", "pair"), ("mt-u", "user"), (" MT-I ", "item"), ("Pair", "pair"), ("PETER+", "peter+"),
                        ("Peter", "peter"), ("ALL", "all"), ("pair", "pair")):
        assert explainer_asked(asked) == name, asked
    for other in (None, "MT-X", "pear", "peter plus", "", 5):
        assert explainer_asked(other) == other  # for check_explainer to refuse, with the name it is close to
