"""Whatever a client sends, the service answers with JSON: 200, or a 4xx whose body names the
problem in ``error``; never a 500 or a traceback. Hypothesis draws the requests: known and
unknown ids of any characters, explainers, and decoding settings of every JSON type (numbers out
of range, NaN, strings, lists), on every route that reads them."""

import json
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from tests.properties import fuzz
from whyrec.serve.app import create_app
from whyrec.serve.systems import ServedSystem

FUZZ = fuzz(60, fixtures=True)
ANSWERED = {200, 404, 413, 422}

anything = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20), st.floats(), st.text(max_size=8),
                     st.lists(st.integers(), max_size=2))
settings_values = st.dictionaries(st.sampled_from(["method", "temperature", "top_k", "top_p", "beam", "length_penalty",
                                                   "min_words", "seed", "other"]),
                                  st.one_of(anything, st.sampled_from(["greedy", "sample", "beam"])), max_size=4)
explainers = st.one_of(st.none(), st.sampled_from(["user", "item", "pair", "all", "peter+", ""]), st.text(max_size=12))


@pytest.fixture(scope="module")
def fuzzed(served_bundles):
    mt_folder, bias_folder, split = served_bundles
    client = TestClient(create_app([ServedSystem.from_folder(mt_folder), ServedSystem.from_folder(bias_folder)]),
                        raise_server_exceptions=False)
    users, items = sorted(set(split.train.users)), sorted(set(split.train.items))
    return client, st.one_of(st.sampled_from(users), st.text(max_size=250)), st.one_of(st.sampled_from(items),
                                                                                        st.text(max_size=250))


def posted(client, route: str, body: dict):
    """``body`` POSTed as Python writes JSON: NaN and Infinity as the bare words a JavaScript
    client's bug could send, which strict JSON has no place for."""
    return client.post(route, content=json.dumps(body), headers={"content-type": "application/json"})


def answered(response) -> dict | list:
    """The JSON of an answer the service gave on purpose: 200, or a 4xx with a sentence in ``error``."""
    assert response.status_code in ANSWERED, (response.status_code, response.text[:300])
    body = response.json()
    if response.status_code != 200:
        assert isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"], body
    return body


def test_explain_answers_any_body(fuzzed):
    client, users, items = fuzzed

    @FUZZ
    @given(user=users, item=items, explainer=explainers, decoding=st.one_of(st.none(), settings_values),
           bundle=st.one_of(st.none(), st.sampled_from(["planted", "planted-bias"]), st.text(max_size=8)))
    def check(user, item, explainer, decoding, bundle):
        body = {"user": user, "item": item, "explainer": explainer, "decoding": decoding, "bundle": bundle}
        answered(posted(client, "/explain", {k: v for k, v in body.items() if v is not None}))

    check()


def test_explain_batch_answers_any_pairs(fuzzed):
    client, users, items = fuzzed

    @FUZZ
    @given(pairs=st.lists(st.fixed_dictionaries({"user": users, "item": items}), max_size=4),
           decoding=st.one_of(st.none(), settings_values), explainer=explainers)
    def check(pairs, decoding, explainer):
        body = {"pairs": pairs, **({"decoding": decoding} if decoding is not None else {}),
                **({"explainer": explainer} if explainer is not None else {})}
        answer = answered(posted(client, "/explain/batch", body))
        if isinstance(answer, dict) and "answers" in answer:
            assert len(answer["answers"]) == len(pairs)

    check()


def test_the_routes_of_a_user_answer_any_query(fuzzed):
    client, users, _ = fuzzed

    @FUZZ
    @given(user=users.filter(lambda u: u.strip() not in ("", ".", "..")), k=st.one_of(st.none(), anything),
           explainer=explainers, query=settings_values)
    def check(user, k, explainer, query):
        params = {name: str(value) for name, value in
                  {**query, "k": k, "explainer": explainer}.items() if value is not None}
        answered(client.get(f"/users/{quote(user, safe='')}/recommendations", params=params))
        answered(client.get(f"/users/{quote(user, safe='')}/history"))

    check()


def test_the_searches_answer_any_query(fuzzed):
    client, _, _ = fuzzed

    @FUZZ
    @given(query=st.text(max_size=250), limit=anything, bundle=st.sampled_from(["planted", "planted-bias", "none"]))
    def check(query, limit, bundle):
        params = {"query": query, **({"limit": str(limit)} if limit is not None else {})}
        for kind in ("users", "items"):
            answered(client.get(f"/api/bundles/{bundle}/{kind}", params=params))

    check()
