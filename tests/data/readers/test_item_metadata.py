"""Item metadata: Amazon's and MovieLens', read and found beside the reviews."""

from __future__ import annotations

import gzip
import json

import pytest

from tests.data.readers import quiet_load
from whyrec.data import load_corpus, read_item_metadata
from whyrec.errors import DataError, DataWarning


def test_item_metadata_strips_html(tmp_path):
    path = tmp_path / "meta.json"
    path.write_text(json.dumps({"asin": "guitar", "title": "Big &amp; <b>Loud</b> Guitar", "brand": "X",
                                "category": ["Music", "Guitars"], "description": ["<p>Six strings</p>"]}) + "\n"
                    + str({"asin": "cable", "title": "Cable", "categories": [["Music", "Cables"]]}) + "\n")
    meta = read_item_metadata(path)
    assert meta["guitar"]["title"] == "Big & Loud Guitar"
    assert meta["guitar"]["description"] == "Six strings"
    assert meta["cable"]["category"] == ["Music", "Cables"]  # 2014 style Python literal


def test_item_metadata_for_some_items_reads_the_same_entries_as_reading_all(tmp_path):
    entries = [
        json.dumps({"asin": "guitar", "title": "Guitar", "also_buy": ["cable", "strap"]}),
        repr({"asin": "cable", "title": "Cable", "categories": [["Music", "Cables"]]}),  # 2014 literal
        json.dumps({"parent_asin": "strap", "title": "Strap", "main_category": "Music"}),  # 2023
        json.dumps({"asin": "drum", "title": "A drum", "description": 'Fits "asin": "guitar" stands'}),
        "{'asin': u'piano', 'title': u'Piano'}",  # the pattern does not see a u'' value: parsed
        json.dumps({"title": "no item key"}),
        "not a record at all",
        # an id with a zero-width space pasted after it, stripped as the reviews' ids are
        json.dumps({"asin": " flute\u200b", "title": "Flute"}, ensure_ascii=False),
        json.dumps({"business_id": "cafe", "name": "A cafe", "categories": "Coffee"}),  # Yelp's
    ]
    path = tmp_path / "meta.json"
    path.write_text("\n".join(entries) + "\n")
    everything = read_item_metadata(path)
    assert set(everything) == {"guitar", "cable", "strap", "drum", "piano", "cafe", "flute"}
    for wanted in [{"guitar"}, {"cable", "strap"}, {"drum", "piano"}, {"cafe"}, {"flute"}, set()]:
        assert read_item_metadata(path, wanted) == {k: v for k, v in everything.items() if k in wanted}
    from whyrec.data.readers.item_metadata import _may_name

    assert not _may_name(entries[-1], {"guitar"}) and _may_name(entries[-1], {"cafe"})  # not parsed for nothing


def test_metadata_beside_reviews_is_attached(tmp_path, amazon_file):
    (tmp_path / "meta.json").write_text(json.dumps({"asin": "guitar", "title": "A guitar"}) + "\n")
    corpus = load_corpus(amazon_file)
    assert corpus.item_title("guitar") == "A guitar" and corpus.item_title("strap") is None


@pytest.mark.parametrize("reviews, meta", [
    ("Musical_Instruments_5.json.gz", "meta_Musical_Instruments.json.gz"),  # 2018, the 5-core
    ("Musical_Instruments.json.gz", "meta_Musical_Instruments.json.gz"),  # 2018, every review
    ("reviews_Musical_Instruments_5.json.gz", "meta_Musical_Instruments.json.gz"),  # 2014
    ("Musical_Instruments.jsonl", "meta_Musical_Instruments.jsonl.gz"),  # 2023
])
def test_the_amazon_dumps_metadata_is_found_by_its_name(tmp_path, amazon_file, reviews, meta):
    amazon_file.rename(tmp_path / reviews)
    with gzip.open(tmp_path / meta, "wt") as handle:  # 2014's are Python literals
        handle.write(repr({"asin": "guitar", "title": "A guitar"}) + "\n")
        handle.write(json.dumps({"asin": "never-reviewed", "title": "Not in the reviews"}) + "\n")
    corpus = load_corpus(tmp_path / reviews)
    assert corpus.item_title("guitar") == "A guitar"
    assert set(corpus.item_meta) == {"guitar"}  # entries of items nobody reviewed are not kept
    (tmp_path / meta).rename(tmp_path / "meta_Other.json.gz")  # another category's: not this one's
    assert load_corpus(tmp_path / reviews).item_meta == {}


def test_metadata_given_by_path(tmp_path, amazon_file):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "items.jsonl").write_text(json.dumps({"asin": "strap", "title": "A strap"}) + "\n")
    assert load_corpus(amazon_file, meta_path=elsewhere / "items.jsonl").item_title("strap") == "A strap"
    with pytest.raises(DataError, match="no such metadata file"):
        load_corpus(amazon_file, meta_path=elsewhere / "missing.jsonl")



def test_a_file_that_holds_no_item_metadata_is_refused_and_one_of_other_items_is_said(tmp_path, amazon_file):
    """Such a file gave every item no title without a word: a file of anything else, objects without
    an item key, or the metadata of another category."""
    for name, text, says in (("notes.txt", "garbage\nmore\n", "no line read is a JSON object"),
                             ("ids.jsonl", '{"id": "strap", "title": "A strap"}\n',
                              "1 JSON object read, none with an asin, parent_asin or business_id key")):
        (tmp_path / name).write_text(text)
        with pytest.raises(DataError, match=f"{name}: holds no item metadata: {says}"):
            load_corpus(amazon_file, meta_path=tmp_path / name)
    (tmp_path / "other.jsonl").write_text(json.dumps({"asin": "B0OTHER", "title": "Another"}) + "\n")
    with pytest.warns(DataWarning, match=r"other\.jsonl: the item metadata names none of the \d+ reviewed items"):
        corpus = load_corpus(amazon_file, meta_path=tmp_path / "other.jsonl")
    assert corpus.item_title("strap") != "Another"
    assert read_item_metadata(tmp_path / "other.jsonl", {"strap"}) == {}  # read alone: nothing to say


def test_an_item_without_a_readable_title_is_named_by_brand_and_category(tmp_path, amazon_file):
    from whyrec.data.corpus import display_title

    assert display_title({"title": "Wired", "brand": "Conde Nast", "category": ["Magazines", "Tech"]}) == "Wired"
    assert display_title({"title": "", "brand": "Conde Nast", "category": ["Magazines", "Tech"]}) == \
        "Conde Nast (Tech)"
    assert display_title({"title": "", "brand": "Conde Nast", "category": []}) == "Conde Nast"
    assert display_title({"title": "", "brand": "", "category": ["Magazines"]}) == "Magazines"
    assert display_title({"title": "", "brand": "", "category": []}) == ""
    (tmp_path / "meta.json").write_text(json.dumps({"asin": "guitar", "title": '<span class="a-size-medium"',
                                                    "brand": "Acme", "category": ["Music", "Guitars"]}) + "\n")
    assert load_corpus(amazon_file).item_title("guitar") == "Acme (Guitars)"


def test_shared_magazines_items_are_named(shared_data):
    """148 of the 151 reviewed magazines' meta titles are a cut-off tag; brand and category name those items."""
    corpus = quiet_load(shared_data / "amazon-magazine-subscriptions")
    items = set(corpus.items)
    raw = [item for item in items if corpus.item_meta.get(item, {}).get("title")]
    named = [item for item in items if corpus.item_title(item)]
    assert len(raw) < 0.1 * len(items) and len(named) > 0.9 * len(items)


def test_item_metadata_that_is_not_there_is_named(tmp_path):
    with pytest.raises(DataError, match=r"meta\.json\.gz: no such metadata file"):
        read_item_metadata(tmp_path / "meta.json.gz")


def test_titles_the_review_file_gives_name_the_items_a_metadata_file_does_not(tmp_path):
    """A review file whose rows repeat their item's name (the Amazon Customer Reviews files'
    product_title, a JSON file's item_name) gives the items titles; a metadata file's title wins
    where it has one, and the review file's fills those it lacks."""
    rows = [("a", "guitar", 5, "loud", "Big Guitar"), ("b", "guitar", 4, "nice", "Big Guitar (used)"),
            ("a", "cable", 3, "fine", ""), ("b", "cable", 2, "thin", "Cable"), ("c", "strap", 4, "ok", None),
            ("c", "drum", 5, "great", 1917)]
    path = tmp_path / "reviews.jsonl"
    path.write_text("\n".join(json.dumps({"user_id": u, "item_id": i, "rating": r, "text": t, "item_name": n})
                              for u, i, r, t, n in rows) + "\n")
    corpus = load_corpus(path)
    assert corpus.report.columns["item_title"] == "item_name"
    assert {i: corpus.item_title(i) for i in ("guitar", "cable", "strap", "drum")} == \
        {"guitar": "Big Guitar", "cable": "Cable", "strap": None, "drum": "1917"}  # each item's first title
    (tmp_path / "meta.json").write_text(json.dumps({"asin": "guitar", "title": "Guitar, from the metadata"}) + "\n"
                                        + json.dumps({"asin": "cable", "title": "", "brand": "Wires"}) + "\n")
    with_meta = load_corpus(path)
    assert with_meta.item_title("guitar") == "Guitar, from the metadata"
    assert with_meta.item_title("cable") == "Cable" and with_meta.item_meta["cable"]["brand"] == "Wires"
    assert with_meta.item_title("drum") == "1917"


def test_yelp_businesses_beside_its_reviews_name_the_items(tmp_path):
    """Yelp's business.json: the name is the title, the categories one comma-separated string, and
    the city stands in as the brand (what names a business whose name is empty)."""
    reviews = tmp_path / "yelp_academic_dataset_review.json"
    reviews.write_text("\n".join(json.dumps({"review_id": str(n), "user_id": u, "business_id": b, "stars": r,
                                             "text": t, "date": "2019-05-01 12:00:00"})
                                 for n, (u, b, r, t) in enumerate([("u1", "b1", 5, "great pizza"),
                                                                    ("u2", "b2", 2, "slow service")])) + "\n")
    assert load_corpus(reviews).item_meta == {}
    businesses = [{"business_id": "b1", "name": "Luigi's", "city": "Tucson", "categories": "Pizza, Italian"},
                  {"business_id": "b2", "name": "", "city": "Reno", "categories": None},
                  {"business_id": "b9", "name": "Never reviewed", "categories": "Bars"}]
    (tmp_path / "yelp_academic_dataset_business.json").write_text("\n".join(json.dumps(b) for b in businesses) + "\n")
    corpus = load_corpus(reviews)
    assert set(corpus.item_meta) == {"b1", "b2"}
    assert corpus.item_meta["b1"] == {"title": "Luigi's", "category": ["Pizza", "Italian"], "description": "",
                                      "brand": "Tucson"}
    assert corpus.item_title("b1") == "Luigi's" and corpus.item_title("b2") == "Reno"
