"""``whyrec explain``'s text output (its end-to-end runs are in tests/test_explanations.py), and
what answering from a saved bundle imports."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pytest
from rich.console import Console

from tests.cli.invoke import run_cli
from whyrec.cli.explaining import _feature_word, _print_recommendations, rating_split_text
from whyrec.errors import ConfigError


def test_a_rating_split_reads_as_one_line_with_counted_nouns():
    account = {"score": 4.2, "baseline": 3.9, "rest": 0.01, "n_other": 1, "other_ratings": 0.05,
               "because": [{"item": "i1", "title": "A very long item title that will surely be cut short",
                            "rating": 5.0, "contribution": 0.24}]}
    line = rating_split_text(account, has_text=True)
    assert line == ("rating 4.20 = item baseline 3.90; your ratings of A very long item title that will surely… "
                    "5★ (+0.24); your 1 other rating +0.05; text prior and rest +0.01")
    assert "your 3 other ratings" in rating_split_text({**account, "n_other": 3}, has_text=False)
    assert "other" not in rating_split_text({**account, "n_other": 0}, has_text=False)
    assert "surely… 5/10 (+0.24)" in rating_split_text(account, has_text=False, top=10.0)  # on a 1–10 scale
    # PMF's baseline is the mean rating, not an item's
    assert rating_split_text({**account, "baseline_of": "mean"}, False).startswith("rating 4.20 = mean rating 3.90;")
    # a part that rounds to zero reads +0.00, never -0.00
    tiny = rating_split_text({**account, "rest": -0.001, "other_ratings": -0.004,
                              "because": [{**account["because"][0], "contribution": -0.0049}]}, has_text=False)
    assert "-0.00" not in tiny and tiny.endswith("5★ (+0.00); your 1 other rating +0.00; rest +0.00")
    assert rating_split_text({**account, "rest": -0.006}, has_text=False).endswith("rest -0.01")
    # an item without a title is named as an item: MovieLens' "22 1★" read as two ratings
    untitled = {**account, "because": [{**account["because"][0], "item": "22", "title": None, "rating": 1.0}]}
    assert "your ratings of item 22 1★ (+0.24); " in rating_split_text(untitled, has_text=False)


def test_a_split_past_the_scale_names_the_clipped_rating_beside_the_score():
    account = {"score": 5.12, "baseline": 5.03, "rest": 0.02, "n_other": 0, "other_ratings": 0.0,
               "because": [{"item": "i1", "title": None, "rating": 5.0, "contribution": 0.07}]}
    assert rating_split_text(account, False, predicted=5.0).startswith("score 5.12 (clipped to 5.00) = item baseline")
    assert rating_split_text(account, False, predicted=5.12).startswith("rating 5.12 = ")


def test_a_blank_feature_word_is_refused_and_a_padded_one_stripped():
    assert _feature_word(" sound ") == "sound" and _feature_word(None) is None
    with pytest.raises(ConfigError, match="--feature-word is empty"):
        _feature_word("  ")


def test_a_recommended_items_shared_title_is_printed_after_its_id_without_the_id_again():
    """The service tells items sharing a title apart by their id after it; a printed line already
    starts with the id, so it is not written twice (it was: "m1 Hearst Magazines (Women) · m1")."""
    rows = [{"item": "m1", "title": "Hearst Magazines (Women) · m1", "predicted_rating": 4.5, "explanations": {}},
            {"item": "m2", "title": "Tidy · Home", "predicted_rating": 4.0, "explanations": {}},
            {"item": "m3", "title": None, "predicted_rating": 3.0, "explanations": {}}]
    out = io.StringIO()
    _print_recommendations(Console(file=out, width=200), {"user": "u1", "cold_start": False, "history": True,
                                                          "items": rows})
    assert out.getvalue().splitlines()[1:] == ["  1. m1 Hearst Magazines (Women): 4.50★",
                                               "  2. m2 Tidy · Home: 4.00★", "  3. m3: 3.00★"]


def test_a_user_who_rated_every_item_is_told_none_is_left(tmp_path):
    """recommend --data: the items a user rated in the train part are left out, and a user who rated
    them all is told so, not shown an empty list under "the 0 items they have not rated"."""
    lines = ["user,item,rating,text"] + [f"u{u},i{i},{1 + (u + i) % 5},a fine strap and a good sound"
                                         for u in range(4) for i in range(4)]
    (tmp_path / "r.csv").write_text("\n".join(lines) + "\n")
    split = tmp_path / "s"  # u0's four ratings all in train; each other user's fourth item held out
    split.mkdir()
    held = [7, 11, 15]
    (split / "train.index").write_text(" ".join(str(n) for n in range(16) if n not in held) + "\n")
    (split / "validation.index").write_text("7\n")
    (split / "test.index").write_text("11 15\n")
    data = ["--data", str(tmp_path / "r.csv"), "--split", str(split)]
    assert run_cli("train", "bias-baseline", *data, "--out", str(tmp_path / "b")).returncode == 0
    told = run_cli("recommend", str(tmp_path / "b"), "--user", "u0", *data)
    assert told.returncode == 0 and told.stdout.startswith("u0: no item left that they have not rated\n"), told.stdout
    answer = json.loads(run_cli("recommend", str(tmp_path / "b"), "--user", "u1", *data, "--json").stdout)
    assert [row["item"] for row in answer["items"]] == ["i3"] and answer["history"]  # the one u1 has not rated


_LOAD_AND_ANSWER = """
import sys
from whyrec.cli import main
for args, fails in {commands!r}:
    sys.argv = ["whyrec", *args]
    try:
        main()
    except SystemExit as exc:
        assert bool(exc.code) == fails, (args, exc.code)
    else:
        assert not fails, args
print("pandas imported:", "pandas" in sys.modules)
"""


@pytest.mark.parametrize("kind", ["mt", "peter", "rating"])
def test_answering_from_a_saved_bundle_does_not_import_pandas(kind, tiny_split, tmp_path, request):
    """pandas takes 0.3 s of every command to import, and only reading review data needs it:
    ``explain`` (an item's title and an unknown item's hint included), ``recommend`` and ``show``
    of a saved bundle do without it."""
    from whyrec.bundle import save_bundle
    from whyrec.rating import BiasBaseline
    from whyrec.systems.peter import Peter

    train = tiny_split.train
    model = {"mt": lambda: request.getfixturevalue("tiny_mt"),
             "peter": lambda: Peter(emsize=16, heads=2, ffn=32, layers=1, max_words=8, epochs=1).fit(train),
             "rating": lambda: BiasBaseline().fit(train)}[kind]()
    bundle, user, item = str(tmp_path / "bundle"), train.users[0], train.items[0]
    if kind == "rating":
        save_bundle(model, bundle)
    else:
        model.save(bundle)
    commands = [(["explain", bundle, "--user", user, "--item", item], False),
                (["recommend", bundle, "--user", user, "-k", "2"], False), (["show", bundle], False),
                (["explain", bundle, "--user", user, "--item", "Planted item"], True)]  # unknown: hinted by titles
    done = subprocess.run([sys.executable, "-c", _LOAD_AND_ANSWER.format(commands=commands)], capture_output=True,
                          text=True, timeout=300, env={**os.environ, "COLUMNS": "200"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert "unknown item 'Planted item'" in done.stderr
    if kind != "rating":  # the systems keep their items' titles, shown beside the ids
        assert "Planted item" in done.stdout and "the titles of" in done.stderr
    assert done.stdout.rstrip().endswith("pandas imported: False"), done.stdout[-2000:]
