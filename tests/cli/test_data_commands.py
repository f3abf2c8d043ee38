"""``whyrec data stats`` and ``whyrec data split``."""

from __future__ import annotations

import json

import pytest

from tests.cli.invoke import assert_one_line_error, run_cli, run_cli_after
from tests.conftest import strict_loads


@pytest.mark.parametrize("name,reviews,users,items,outside_ascii,metadata", [
    ("amazon-digital-music", "6,908", "2,490", "382", "65 reviews hold", None),
    ("amazon-musical-instruments", "5,050", "1,381", "392", "14 reviews hold", None),
    ("amazon-magazine-subscriptions", "2,375", "348", "157", "2 reviews hold",
     "item metadata for 151 of 157 items; 148 of them without a readable title, shown as brand (category)"),
    ("amazon-gift-cards", "2,972", "458", "148", None, "item metadata for 148 of 148 items\n"),
])
def test_stats_on_shared_data(shared_data, name, reviews, users, items, outside_ascii, metadata):
    proc = run_cli("data", "stats", str(shared_data / name / "reviews.json.gz")
                   if (shared_data / name / "reviews.json.gz").exists() else str(shared_data / name / "reviews.csv"))
    assert proc.returncode == 0, proc.stderr
    assert f"in the file: {reviews} records, {users} users, {items} items" in proc.stdout
    # characters the tokenizer turns into spaces (curly quotes, accents) are reported, not dropped unseen
    if outside_ascii:
        assert f"note: {outside_ascii} characters outside ASCII" in proc.stdout
    else:
        assert "outside ASCII" not in proc.stdout
    if name == "amazon-digital-music":  # how active its users are, and when they wrote
        assert "reviews per user: fewest 1, median 2, mean 2.8, most 90 (1,160 users with one); per item: fewest 5, " \
            "median 11" in proc.stdout and "review dates: 1998-04-28 to 2014-07-07\n" in proc.stdout
        # users with one review: no k-core, and what Amazon's 5-core filter would keep of it
        assert "\nits 5-core (`data split --k-core 5`) keeps 2,480 of 6,907 user–item pairs, 268 of 2,489 users " \
            "and 206 of 382 items\n" in proc.stdout
    if name == "amazon-gift-cards":  # Amazon's 5-core, a 4-core once empty texts and repeated pairs are dropped
        assert "\na 4-core: every user rated at least 4 items and every item was rated by at least 4 users (fewest: " \
            "4 items of a user, 4 users of an item); its 5-core (`data split --k-core 5`) keeps " in proc.stdout
        # the fixed splits the commands read, with their sizes
        assert "fixed splits beside it (records listed for train / validation / test): 1, 2, 3, 4, 5: 2,372 / 297 / " \
            "297 each; the commands use 1 unless --split names another" in proc.stdout
    if metadata:  # and how many items have no readable title of their own
        assert metadata in proc.stdout
    else:
        assert "item metadata" not in proc.stdout


def test_data_split_writes_folders_the_commands_then_use(tmp_path, planted):
    from whyrec.data import fixed_index_split, load_corpus, ratio_split

    data = tmp_path / "reviews.csv"
    planted.corpus.reviews.to_csv(data, index=False)
    proc = run_cli("data", "split", str(data), "--count", "2", "--seed", "7")
    assert proc.returncode == 0, proc.stderr
    corpus = load_corpus(data)
    for k in (1, 2):  # split k is the random split of seed 7 + k − 1, as index files
        written, expected = fixed_index_split(corpus, tmp_path / str(k)), ratio_split(corpus, seed=6 + k)
        assert written.test.reviews.equals(expected.test.reviews) and len(written.train) == len(expected.train)
    assert_one_line_error(run_cli("data", "split", str(data), "--count", "3"), "already holds a split")
    assert not (tmp_path / "3").exists()  # refused before anything was written
    assert_one_line_error(run_cli("data", "split", str(data), "--out", str(data)), "is a file; the split folders")
    folds = run_cli("data", "split", str(data), "--kfold", "3", "--out", str(tmp_path / "folds"))
    assert folds.returncode == 0, folds.stderr
    tests = [set((tmp_path / "folds" / str(k) / "test.index").read_text().split()) for k in (1, 2, 3)]
    assert not (tests[0] & tests[1]) and not (tests[1] & tests[2])
    # --count and --kfold together: the count was silently ignored
    assert_one_line_error(run_cli("data", "split", str(data), "--count", "2", "--kfold", "3", "--out",
                                  str(tmp_path / "both")), "give --count (random splits) or --kfold (folds), not both")
    assert not (tmp_path / "both").exists()
    for option in ("--count", "--kfold"):  # a mistyped count had held every split in memory before writing one
        assert_one_line_error(run_cli("data", "split", str(data), option, "1001", "--out", str(tmp_path / "many")),
                              f"{option} 1,001 asks for more splits than the 1,000 one command makes")
    assert not (tmp_path / "many").exists()
    # by time: each user's latest review tests, the one before validates (the planted times are distinct)
    last = run_cli("data", "split", str(data), "--leave-last-out", "--out", str(tmp_path / "last"))
    assert last.returncode == 0 and "warning" not in last.stderr, last.stderr
    split = fixed_index_split(corpus, tmp_path / "last" / "1")
    latest = corpus.reviews.sort_values("time").groupby("user").tail(1)
    assert sorted(zip(split.test.users, split.test.items)) == sorted(zip(latest["user"], latest["item"]))
    for user, when in zip(split.valid.users, split.valid.reviews["time"]):  # later than all of the user's train
        assert when > split.train.reviews.loc[split.train.reviews["user"] == user, "time"].max()
    assert not (tmp_path / "last" / "2").exists()
    assert_one_line_error(run_cli("data", "split", str(data), "--leave-last-out", "--kfold", "3", "--out",
                                  str(tmp_path / "x")), "give --leave-last-out alone")
    assert_one_line_error(run_cli("data", "split", str(data), "--leave-last-out", "--seed", "4", "--out",
                                  str(tmp_path / "x")), "--leave-last-out draws nothing at random")
    undated = tmp_path / "undated" / "reviews.csv"
    undated.parent.mkdir()
    planted.corpus.reviews.drop(columns=["time"]).to_csv(undated, index=False)
    said = run_cli("data", "split", str(undated), "--leave-last-out")
    assert said.returncode == 0 and f"{len(corpus):,} reviews without a time: file order stands" in said.stderr


def test_a_split_folder_records_its_data_and_another_file_read_with_it_is_warned_of(tmp_path, planted):
    """Index files are positions: read on another file (or one changed since) they pick other
    records. data split now writes run.json beside them, and the commands that read them check it."""
    data = tmp_path / "reviews.csv"
    planted.corpus.reviews.to_csv(data, index=False)
    assert run_cli("data", "split", str(data), "--count", "1", "--out", str(tmp_path / "s")).returncode == 0
    record = json.loads((tmp_path / "s" / "1" / "run.json").read_text())
    assert record["data"]["path"] == str(data.resolve()) and len(record["split_fingerprints"]) == 1
    copy = tmp_path / "copy" / "reviews.csv"
    copy.parent.mkdir()
    copy.write_bytes(data.read_bytes())
    same = run_cli("train", "bias-baseline", "--data", str(copy), "--split", str(tmp_path / "s" / "1"), "--out",
                   str(tmp_path / "b"))
    assert same.returncode == 0 and "warning" not in same.stderr, same.stderr  # a copy is the same data
    planted.corpus.reviews.iloc[::-1].to_csv(copy, index=False)  # the same records, in another order
    other = run_cli("train", "bias-baseline", "--data", str(copy), "--split", str(tmp_path / "s" / "1"), "--out",
                    str(tmp_path / "c"))
    assert other.returncode == 0, other.stderr
    assert f"warning: the split in {tmp_path / 's' / '1'} was drawn from {data.resolve()} (sha256 " in other.stderr
    assert "its positions index that file's records, and may pick others here" in other.stderr


def test_experiments_over_several_split_folders_check_each_folders_record(tmp_path, planted, capsys):
    """`experiment rating` reads every split folder beside the data, and `experiment explain` and
    `experiment mt` those --splits names: each folder's run.json is checked as --split's is."""
    folder = tmp_path / "data"
    folder.mkdir()
    data = folder / "reviews.csv"
    planted.corpus.reviews.to_csv(data, index=False)
    assert run_cli("data", "split", str(data), "--count", "2").returncode == 0
    rating = ["experiment", "rating", "--data", str(folder), "--model", "bias-baseline"]
    same = run_cli(*rating, "--out", str(tmp_path / "same"))
    assert same.returncode == 0 and "warning" not in same.stderr, same.stderr
    planted.corpus.reviews.iloc[::-1].to_csv(data, index=False)  # changed in place since the split was drawn
    changed = run_cli(*rating, "--out", str(tmp_path / "changed"))
    assert changed.returncode == 0, changed.stderr
    for k in ("1", "2"):
        assert f"warning: the split in {folder / k} was drawn from {data.resolve()} (sha256 " in changed.stderr
    from whyrec.cli.experiments import _splits_of  # what explain and mt read --splits with

    assert [part.name for part in _splits_of(data, "2", None, None, (1.0, 5.0), False)] == ["data/2"]
    assert f"warning: the split in {folder / '2'} was drawn" in capsys.readouterr().err


def test_data_split_says_how_many_records_warm_start_repair_moved(tmp_path):
    """Users with one review cannot be tested: their records go to train, and the sizes say why."""
    from whyrec.data import load_corpus, ratio_split

    data = tmp_path / "reviews.csv"
    rows = [f"u{k % 10},i{k % 8},{1 + k % 5},words {k}" for k in range(40)]
    rows += [f"once{k},i1,4,only {k}" for k in range(20)]
    data.write_text("user,item,rating,text\n" + "\n".join(rows) + "\n")
    proc = run_cli("data", "split", str(data), "--count", "1")
    assert proc.returncode == 0, proc.stderr
    moved = ratio_split(load_corpus(data), seed=0).moved_to_train
    assert moved > 0 and f"train {48 + moved}, valid" in proc.stdout
    assert f"({moved} records drawn for validation or test moved to train by warm-start repair: their user or " \
        "item had no train record)" in proc.stdout


def test_stats_list_the_fixed_splits_beside_the_reviews(tmp_path, planted):
    data = tmp_path / "reviews.csv"
    planted.corpus.reviews.to_csv(data, index=False)
    alone = run_cli("data", "stats", str(data))
    assert "no fixed split beside it: the commands draw a seeded 80/10/10 split" in alone.stdout, alone.stderr
    assert run_cli("data", "split", str(data), "--count", "2").returncode == 0
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "train.index").write_text("1 2 x\n")
    proc = run_cli("data", "stats", str(data))
    sizes = {k: [len((tmp_path / k / f"{part}.index").read_text().split()) for part in ("train", "validation", "test")]
             for k in ("1", "2")}
    listed = " / ".join(f"{n:,}" for n in sizes["1"])
    said = f"1, 2: {listed} each" if sizes["1"] == sizes["2"] else \
        f"1: {listed}; 2: {' / '.join(f'{n:,}' for n in sizes['2'])}"
    assert proc.returncode == 0, proc.stderr
    assert (f"fixed splits beside it (records listed for train / validation / test): {said}; broken: unreadable "
            "(index files hold record positions, whole numbers separated by spaces; line 1 holds 'x'); the commands "
            "use 1 unless --split names another") in proc.stdout
    as_json = json.loads(run_cli("data", "stats", str(tmp_path), "--json").stdout)["fixed_splits"]
    assert as_json["2"] == dict(zip(("train", "validation", "test"), sizes["2"]))
    assert "line 1 holds 'x'" in as_json["broken"]
    (tmp_path / "1").rename(tmp_path / "first")  # no folder 1: the commands read none unless told
    assert "the commands use none of them unless --split names one" in run_cli("data", "stats", str(data)).stdout


def test_stats_of_a_file_with_no_review_left(tmp_path):
    """Nothing survives validation: counts of zero, a dash for the mean rating, and strict JSON."""
    path = tmp_path / "no_text.csv"
    path.write_text("user,item,rating,text\nu1,i1,3,\nu2,i2,4,\n")
    text = run_cli("data", "stats", str(path))
    assert text.returncode == 0 and "0 reviews" in text.stdout and "mean rating —" in text.stdout
    assert "nan" not in text.stdout and "ratings: none" in text.stdout
    as_json = run_cli("data", "stats", str(path), "--json")
    after = strict_loads(as_json.stdout)
    assert after["after_validation"]["mean_rating"] is None and after["records"] == 2
    assert after["characters_dropped"] == {"reviews": 0, "characters": {}}


def test_stats_count_one_thing_in_the_singular(tmp_path):
    path = tmp_path / "one.csv"
    path.write_text("user,item,rating,text\na,x,5,good\n")
    proc = run_cli("data", "stats", str(path))
    assert proc.returncode == 0, proc.stderr
    assert "in the file: 1 record, 1 user, 1 item" in proc.stdout and "1 record read, 1 kept" in proc.stdout
    assert "after validation: 1 review, 1 user, 1 item," in proc.stdout
    assert "reviews per user: fewest 1, median 1, mean 1.0, most 1 (1 user with one); per item: fewest 1, median 1" \
        in proc.stdout and "\nits 5-core is empty\n" in proc.stdout and "a 1-core" not in proc.stdout
    assert "review dates: none given" in proc.stdout
    features = run_cli("data", "features", str(path))  # nothing to show: said, not an empty table
    assert "coverage: 0.0% of the 1 review received a quadruple; 0 distinct features" in features.stdout
    assert "no review has a feature word" in features.stdout and "examples" not in features.stdout
    trained = run_cli("train", "pmf", "--data", str(path), "--out", str(tmp_path / "b"))
    assert trained.returncode == 0 and "training pmf on 1 rating\n" in trained.stderr + trained.stdout, trained.stderr


def test_features_show_their_example_sentences_as_read(tmp_path):
    """The examples table shows each sentence joined back for reading; the saved file keeps the tokens."""
    path = tmp_path / "r.csv"
    path.write_text("user,item,rating,text\n" + "\n".join(f'u{k},i{k % 2},{2 + k % 3},"The strap isn\'t great, sadly."'
                                                         for k in range(6)) + "\n")
    proc = run_cli("data", "features", str(path), "--examples", "1", "--out", str(tmp_path / "f.jsonl"))
    assert proc.returncode == 0, proc.stderr
    assert "The strap isn't great, sadly" in proc.stdout and "is n't" not in proc.stdout
    assert "the strap is n't great , sadly" in (tmp_path / "f.jsonl").read_text()
    none = run_cli("data", "features", str(path), "--examples", "0")
    assert none.returncode == 0 and "top features: strap" in none.stdout and "examples" not in none.stdout, none.stdout
    # --out replaces an earlier run's quadruples, but no file of anything else
    assert run_cli("data", "features", str(path), "--out", str(tmp_path / "f.jsonl")).returncode == 0
    (tmp_path / "notes.txt").write_text("keep me\n")
    assert_one_line_error(run_cli("data", "features", str(path), "--out", str(tmp_path / "notes.txt")),
                          "is a file that holds no feature quadruples; it is kept: choose another name")
    assert (tmp_path / "notes.txt").read_text() == "keep me\n"
    assert_one_line_error(run_cli("data", "features", str(path), "--out", str(tmp_path)),
                          "is a folder; give a file name")


def test_stats_say_where_item_titles_came_from(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("user_id,item_id,stars,review,product_title\na,x,5,good,Red Guitar\nb,y,4,fine,\n")
    proc = run_cli("data", "stats", str(path))
    assert proc.returncode == 0, proc.stderr
    assert "item_title ← product_title" in proc.stdout
    assert "item metadata for 1 of 2 items (titles from the product_title column where no metadata file gives " \
        "one)" in proc.stdout


def test_stats_name_the_columns_read_and_those_not_read(tmp_path):
    """Dates under a name whyrec does not guess: said beside "none given", with how to name them."""
    path = tmp_path / "r.csv"
    path.write_text("user_id,item_id,stars,review,when\na,x,5,good,1400000000\nb,y,4,fine,1500000000\n")
    proc = run_cli("data", "stats", str(path))
    assert proc.returncode == 0, proc.stderr
    assert "columns read: user ← user_id, item ← item_id, rating ← stars, text ← review; not read: when\n" \
        in proc.stdout
    assert ("review dates: none given (no column named time, unixReviewTime, timestamp, date, date_added, "
            "reviewTime or review_date; --column time=NAME reads one of the others)") in proc.stdout
    named = run_cli("data", "stats", str(path), "--column", "time=when")
    assert "text ← review, time ← when\n" in named.stdout
    assert "review dates: 2014-05-13 to 2017-07-14" in named.stdout
    assert json.loads(run_cli("data", "stats", str(path), "--json").stdout)["validation"]["columns_not_read"] == \
        ["when"]


def test_stats_note_the_characters_the_tokenizer_turns_into_spaces(tmp_path):
    import json

    path = tmp_path / "accents.csv"
    path.write_text("user,item,rating,text\na,x,5,It isn’t a café\nb,x,4,plain\nc,y,3,zero​width\n",
                    encoding="utf-8")
    proc = run_cli("data", "stats", str(path))
    assert proc.returncode == 0, proc.stderr
    assert "note: 2 reviews hold characters outside ASCII" in proc.stdout and "(isn’t → isn t)" in proc.stdout
    assert "’ ×1, é ×1, U+200B ×1" in proc.stdout  # one that would not show is named by its code point
    counted = json.loads(run_cli("data", "stats", str(path), "--json").stdout)["characters_dropped"]
    assert counted == {"reviews": 2, "characters": {"’": 1, "é": 1, "​": 1}}
    assert "warning" not in proc.stdout  # accents fold to ASCII: nothing much is lost
    russian = tmp_path / "russian.csv"
    russian.write_text("user,item,rating,text\na,x,5,Отличный звук\nb,x,4,Струны хорошие 10/10\n", encoding="utf-8")
    proc = run_cli("data", "stats", str(russian))
    assert "warning: 100% of the letters are outside ASCII" in proc.stdout and "--fold-unicode" in proc.stdout
    assert json.loads(run_cli("data", "stats", str(russian), "--json").stdout)["letters_lost"] == 1.0
    folded = run_cli("data", "stats", str(russian), "--fold-unicode")  # transliterated: nothing to warn of
    assert folded.returncode == 0 and "warning" not in folded.stdout, folded.stdout


def test_the_data_commands_also_take_the_file_as_data(tmp_path, planted):
    """Every other command reads reviews with --data; `data stats --data F` was 'No such option'."""
    data = tmp_path / "reviews.csv"
    planted.corpus.reviews.to_csv(data, index=False)
    by_argument, by_option = run_cli("data", "stats", str(data)), run_cli("data", "stats", "--data", str(data))
    assert by_option.returncode == 0, by_option.stderr
    assert by_option.stdout == by_argument.stdout and "in the file:" in by_option.stdout
    assert run_cli("data", "split", "--data", str(data), "--count", "1").returncode == 0
    assert (tmp_path / "1" / "train.index").exists()
    assert_one_line_error(run_cli("data", "features", str(data), "--data", str(data)), "not both")
    assert_one_line_error(run_cli("data", "stats"), "give the review file or folder")
    meta = tmp_path / "elsewhere.jsonl"  # item metadata that is not beside the reviews
    meta.write_text("".join(json.dumps({"asin": item, "title": "A title"}) + "\n"
                            for item in planted.corpus.item_ids()[:7]))
    assert "item metadata for 7 of " in run_cli("data", "stats", str(data), "--meta", str(meta)).stdout
    assert_one_line_error(run_cli("data", "stats", str(data), "--meta", str(tmp_path / "none.jsonl")),
                          "no such metadata file")


def test_data_features_shows_a_pickles_own_quadruples_unless_told_to_extract(tmp_path, planted):
    from tests.conftest import write_peter_pickle

    write_peter_pickle(planted.corpus, tmp_path / "reviews.pickle")
    out = tmp_path / "features.jsonl"
    shown = run_cli("data", "features", str(tmp_path / "reviews.pickle"), "--out", str(out))
    assert shown.returncode == 0, shown.stderr
    assert "the file's own quadruples" in shown.stdout and "top features: zqfeature" in shown.stdout
    assert {json.loads(line)["feature"] for line in out.read_text().splitlines()} == {"zqfeature"}
    extracted = run_cli("data", "features", str(tmp_path / "reviews.pickle"), "--extract", "--min-df", "3")
    assert extracted.returncode == 0 and "zqfeature" not in extracted.stdout, extracted.stderr
    assert_one_line_error(run_cli("data", "features", str(tmp_path / "reviews.pickle"), "--min-df", "3"),
                          "--min-df steers extraction, and reviews.pickle carries its own quadruples")



def test_data_split_stopped_partway_keeps_none_of_its_splits(tmp_path, planted):
    """A disk that filled at split 2 left split 1 whole: a second try refused the folder as holding a split."""
    from tests.cli.invoke import run_cli_refusing

    data, out = tmp_path / "reviews.csv", tmp_path / "splits"
    planted.corpus.reviews.to_csv(data, index=False)
    (out / "2").mkdir(parents=True)
    (out / "2" / "notes.txt").write_text("mine")  # a file of the user's in a split folder: kept
    proc = run_cli_refusing(out / "2", "data", "split", str(data), "--count", "3", "--out", str(out))
    assert_one_line_error(proc, f"{out / '2' / 'train.index'}: No space left on device")
    assert f"warning: removed the 1 split this run had written ({out / '1'})" in proc.stderr
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == ["2", "2/notes.txt"]
    (out / "2" / "notes.txt").unlink()
    proc = run_cli_refusing(out / "2", "data", "split", str(data), "--count", "3", "--out", str(out))
    assert proc.returncode == 2 and list(out.iterdir()) == []  # the empty folder made for split 2 too
    again = run_cli("data", "split", str(data), "--count", "3", "--out", str(out))  # room again: it starts clean
    assert again.returncode == 0, again.stderr
    assert all((out / str(k) / "test.index").exists() for k in (1, 2, 3))


def test_data_split_killed_while_recording_leaves_no_split_without_its_record(tmp_path, planted):
    """Each split's run.json was written after its index files, and the record reads the data file
    (its digest) and git: a run killed in between left a split that no record described. Killed
    while making split 2's record, the run now leaves split 1 whole and nothing of split 2."""
    data, out = tmp_path / "reviews.csv", tmp_path / "splits"
    planted.corpus.reviews.to_csv(data, index=False)
    killed_at_the_second_record = """
import os, signal
import whyrec.provenance as provenance
real, made = provenance.run_record, []
def run_record(*args, **kwargs):
    made.append(1)
    if len(made) == 2:
        os.kill(os.getpid(), signal.SIGKILL)
    return real(*args, **kwargs)
provenance.run_record = run_record"""
    proc = run_cli_after(killed_at_the_second_record, "data", "split", str(data), "--count", "3", "--out", str(out))
    assert proc.returncode == -9, proc.stderr
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert files == ["1/run.json", "1/test.index", "1/train.index", "1/validation.index"]
    assert strict_loads((out / "1" / "run.json").read_text(encoding="utf-8"))["command"].startswith("whyrec data split")


def test_stats_say_when_the_data_is_a_k_core(tmp_path):
    """Recommendation data is often filtered to a k-core (Amazon's 5-core); stats read it off the
    fewest reviews of a user and of an item, which they had computed and not shown."""
    path = tmp_path / "core.csv"
    rows = [f"u{u},i{i},{1 + (u + i) % 5},fine" for u in range(4) for i in range(3)]  # 3 items each; 4 users each
    path.write_text("user,item,rating,text\n" + "\n".join(rows + ["u4,i0,5,good", "u4,i1,4,ok"]) + "\n")
    out = run_cli("data", "stats", str(path)).stdout
    assert "reviews per user: fewest 2, median 3, mean 2.8, most 3 (0 users with one); per item: fewest 4, " in out
    assert "\na 2-core: every user rated at least 2 items and every item was rated by at least 2 users (fewest: 2 " \
        "items of a user, 4 users of an item); its 5-core is empty\n" in out
    # a pair reviewed twice counts once, as whyrec.data.k_core counts it: u4's two reviews of i0 are one item
    path.write_text("user,item,rating,text\n" + "\n".join(rows + ["u4,i0,5,good", "u4,i0,3,again"]) + "\n")
    kept = run_cli("data", "stats", str(path), "--duplicates", "keep-all")
    assert kept.returncode == 0, kept.stderr
    assert "reviews per user: fewest 2, " in kept.stdout and "a 2-core" not in kept.stdout


def test_data_split_of_the_k_core_is_read_as_one(tmp_path, planted):
    """--k-core K splits only the K-core's records. Read on the whole file, such a split indexes
    less than the file holds, which the commands take for another file's split unless its run.json
    says it is of the K-core."""
    import pandas as pd

    from whyrec.data import fixed_index_split, k_core, load_corpus

    reviews = planted.corpus.reviews
    lone = pd.DataFrame({"user": [f"lone-{k}" for k in range(300)], "item": reviews["item"].iloc[:300].to_list(),
                         "rating": 3, "text": "it was fine"})  # 300 users with one review each: a fifth of the file
    data = tmp_path / "reviews.csv"
    pd.concat([reviews[["user", "item", "rating", "text"]], lone]).to_csv(data, index=False)
    proc = run_cli("data", "split", str(data), "--count", "1", "--k-core", "3")  # beside the data: its split 1
    assert proc.returncode == 0, proc.stderr
    corpus = load_corpus(data)
    core = k_core(corpus, 3)
    assert not any(u.startswith("lone-") for u in core.users) and len(core) > len(reviews) // 2
    assert f"3-core: {len(core):,} reviews of {len(corpus):,}, " in proc.stdout
    assert json.loads((tmp_path / "1" / "run.json").read_text())["k_core"] == 3
    split = fixed_index_split(corpus, tmp_path / "1")
    listed = {int(p) for part in (split.train, split.valid, split.test) for p in part.positions}
    assert listed == {int(p) for p in core.positions}  # the core's records, each in one part
    assert f"1: {len(split.train):,} / " in (stats := run_cli("data", "stats", str(data)).stdout)
    assert ", of the 3-core; the commands use 1" in stats
    trained = run_cli("train", "bias-baseline", "--data", str(data), "--out", str(tmp_path / "b"))
    assert trained.returncode == 0 and "is it a split of this data?" not in trained.stderr, trained.stderr
    record = json.loads((tmp_path / "1" / "run.json").read_text())
    del record["k_core"]  # a split that does not say it is of the core: the coverage check speaks
    (tmp_path / "1" / "run.json").write_text(json.dumps(record))
    warned = run_cli("train", "bias-baseline", "--data", str(data), "--out", str(tmp_path / "c"))
    assert f"the split indexes {len(core):,} of the {len(corpus):,} valid records" in warned.stderr
    below = run_cli("data", "split", str(data), "--k-core", "1", "--out", str(tmp_path / "x"))  # every pair's core
    assert below.returncode == 2 and "Invalid value for '--k-core'" in below.stderr
    assert_one_line_error(run_cli("data", "split", str(data), "--k-core", "500", "--out", str(tmp_path / "x")),
                          "its 500-core is empty")
    assert not (tmp_path / "x").exists()
