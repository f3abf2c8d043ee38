import random

import pytest

from whyrec.id_search import IdSearch
from whyrec.ids import stripped_id


def holding_one_by_one(ids, order, names, query, limit):
    """The search as the service first made it: each id and name lower-cased and tested in turn."""
    q = stripped_id(query).lower()
    return [n for n in order if q in ids[n].lower() or q in names.get(ids[n], "").lower()][:limit]


def test_the_joined_search_answers_as_testing_each_id_in_turn():
    rng = random.Random(3)
    letters = "abAB12İıßẞé \u200b"  # İ lower-cases to two characters: the parts' starts must follow it
    ids = list(dict.fromkeys("".join(rng.choices(letters, k=rng.randint(1, 6))) for _ in range(400)))
    names = {key: "".join(rng.choices(letters, k=rng.randint(0, 8))) for key in ids if rng.random() < 0.7}
    order = list(range(len(ids)))
    rng.shuffle(order)
    search = IdSearch(ids, order, names)
    queries = ["a", "b1", "İ", "i̇", "ss", "ß", "é ", "zz", "aB", "12", "ab\u200b", "1ß"]
    queries += [key[1:4] for key in rng.sample(ids, 40)] + [name[2:5] for name in rng.sample(list(names.values()), 40)]
    asked = 0
    for query in queries:
        for limit in (1, 3, 1000):
            assert search.holding(query, limit) == holding_one_by_one(ids, order, names, query, limit), (query, limit)
            asked += bool(holding_one_by_one(ids, order, names, query, limit))
    assert asked > 100  # most queries find something: the comparison is not of empty lists


def test_a_hit_never_spans_an_id_and_its_name_or_two_items():
    search = IdSearch(["ab", "cd"], [0, 1], {"ab": "xy"})
    assert search.holding("abx", 5) == [] and search.holding("yc", 5) == [] and search.holding("bc", 5) == []
    assert search.holding("Y", 5) == [0] and search.holding("d", 5) == [1]


def test_one_answer_per_item_however_often_it_holds_the_query():
    search = IdSearch(["aaa", "ba", "c"], [2, 0, 1], {"aaa": "a a a", "c": "x"})
    assert search.holding("a", 10) == [0, 1]  # in the search's order, each once
    assert search.holding("a", 1) == [0]


def test_a_blank_query_gives_the_first_in_the_search_order_and_a_nul_is_searched_too():
    search = IdSearch(["u1", "u2", "u\x003"], [1, 2, 0])
    assert search.holding(" \u200b", 2) == [1, 2]
    assert search.holding("u\x00", 5) == [2]  # the joined text's separator, looked for id by id
    assert search.holding("\x00", 5) == [2]


@pytest.mark.parametrize("limit", [0, 1])
def test_the_limit_holds(limit):
    assert len(IdSearch(["a1", "a2"], [0, 1]).holding("a", limit)) == limit


def test_a_prepared_search_has_its_text_and_answers_as_one_made_at_its_first_search():
    ids, names = ["b7", "a7", "c1"], {"a7": "Seven Seas"}
    search = IdSearch(ids, [2, 0, 1], names)
    assert not search.prepared
    assert search.prepare() is search and search.prepared
    for query in ("7", "SEAS", "c", "", "zz"):
        assert search.holding(query, 5) == IdSearch(ids, [2, 0, 1], names).holding(query, 5)
