"""The HTTP API with FastAPI's test client: answers, cold start, and JSON errors for bad input."""

import re

import pytest
from fastapi.testclient import TestClient

from tests.conftest import with_numbered_ids
from tests.systems.test_mt import TINY
from whyrec.data.text import readable
from whyrec.errors import ConfigError
from whyrec.explanations import PETER_NEW_USER
from whyrec.serve.app import create_app, listening_socket
from whyrec.serve.systems import ServedSystem


IN_DEFAULT = "(asked of bundle 'planted', the default; loaded: planted, planted-bias)"  # the client's refusals end so


@pytest.fixture(scope="module")
def client(served_bundles):
    mt_folder, bias_folder, split = served_bundles
    app = create_app([ServedSystem.from_folder(mt_folder), ServedSystem.from_folder(bias_folder)])
    return TestClient(app), split


def test_health_bundles_and_page(client):
    c, _ = client
    assert c.get("/health").json()["bundles"] == ["planted", "planted-bias"]
    bundles = c.get("/api/bundles").json()
    assert [e["id"] for e in bundles[0]["explainers"]] == ["user", "item", "pair"]
    assert bundles[1]["explainers"] == []
    assert bundles[0]["rating_scale"] == bundles[1]["rating_scale"] == [1.0, 5.0]  # the page's stars are out of 5
    assert (bundles[0]["trained_on"], bundles[1]["trained_on"]) == ("planted", None)
    assert bundles[0]["aligned"] == bundles[1]["aligned"] == []
    # the most words min_words may ask for: the explainer's max_words; a rating bundle has none
    assert (bundles[0]["max_words"], bundles[1]["max_words"]) == (TINY["max_words"], None)
    page = c.get("/")
    assert page.status_code == 200 and "whyrec" in page.text and 'src="static/app.js"' in page.text
    assert c.get("/static/app.js").status_code == 200
    assert c.get("/docs").status_code == 200


def test_the_page_asks_for_every_url_relative_to_itself():
    """A reverse proxy may serve whyrec under a path of its own (/whyrec/, JupyterHub's
    /user/NAME/proxy/8000/): "/api/bundles" would then leave it, "api/bundles" stays under it.
    (The browser test loads the page through such a proxy.)"""
    from whyrec.serve.app import STATIC

    page = (STATIC / "index.html").read_text(encoding="utf-8")
    script = (STATIC / "app.js").read_text(encoding="utf-8")
    linked = re.findall(r'(?:href|src)="([^"]*)"', page)
    asked = re.findall(r"(?:getJSON|politeFetch|fetch)\(\s*[`\"']([^`\"']*)", script)
    assert {"static/style.css", "static/app.js"} <= set(linked)
    assert {"api/bundles", "explain"} <= set(asked) and len(asked) >= 5
    assert not [url for url in linked + asked if url.startswith("/")]


def test_recommendations_exclude_history_and_carry_explanations(client):
    c, split = client
    user = split.train.users[0]
    body = c.get(f"/users/{user}/recommendations", params={"k": 5}).json()
    assert body["cold_start"] is False and len(body["items"]) == 5
    seen = {h["item"] for h in c.get(f"/users/{user}/history").json()["history"]}
    assert seen and not seen & {i["item"] for i in body["items"]}
    ratings = [i["predicted_rating"] for i in body["items"]]
    assert ratings == sorted(ratings, reverse=True) and all(1 <= r <= 5 for r in ratings)
    for item in body["items"]:
        assert item["explanation"] and item["title"].startswith("Planted item")
        assert set(item["features"]) <= set(item["explanation"].split())
    both = c.get(f"/users/{user}/recommendations", params={"k": 3, "explainer": "all"}).json()
    assert [e["label"] for e in both["items"][0]["explanations"]] == ["MT-U", "MT-I", "MT-P"]
    for e in both["items"][0]["explanations"]:  # the tokens the metrics read, and the same joined for reading
        assert e["readable"] == readable(e["text"]) and e["readable"][:1].isupper()


def test_cold_start_and_rating_only_bundle(client):
    c, _ = client
    body = c.get("/users/somebody-new/recommendations", params={"k": 4}).json()
    assert body["cold_start"] is True and len(body["items"]) == 4
    assert body["items"][0]["explanations"][0]["explainer"] == "item"
    plain = c.get("/users/somebody-new/recommendations", params={"bundle": "planted-bias"}).json()
    assert "explanation" not in plain["items"][0]
    assert "rating model only" in plain["no_explanation"]
    assert "no_explanation" not in body
    # a decoding asked of a rating bundle is refused, as the CLI refuses --method for one: it writes nothing to decode
    for asked in ({"method": "beam"}, {"min_words": "2"}):
        refused = c.get("/users/somebody-new/recommendations", params={"bundle": "planted-bias", **asked})
        assert refused.status_code == 422 and "planted-bias' is a rating model" in refused.json()["error"]
    refused = c.post("/explain", json={"user": "u1", "item": body["items"][0]["item"], "bundle": "planted-bias",
                                       "decoding": {"method": "greedy"}})
    assert refused.status_code == 422 and "writes none" in refused.json()["error"]
    # every explainer side by side: MT-U writes from the user's reviews, so none for a new user, and says so
    every = c.get("/users/somebody-new/recommendations", params={"k": 2, "explainer": "all"}).json()
    assert [e["label"] for e in every["items"][0]["explanations"]] == ["MT-I", "MT-P"]
    assert "MT-U explains nothing for a new user" in every["no_explanation"]
    only_user = c.post("/explain", json={"user": "somebody-new", "item": every["items"][0]["item"],
                                         "explainer": "user"}).json()
    assert "explanation" not in only_user and only_user["no_explanation"] == every["no_explanation"]
    assert 1 <= only_user["predicted_rating"] <= 5


def test_a_new_user_close_to_a_known_one_is_answered_with_did_you_mean(client):
    c, _ = client
    typo = c.get("/users/U12/recommendations", params={"k": 2}).json()  # the ids are u0..u39
    assert typo["cold_start"] and typo["did_you_mean"] == "u12"
    assert c.get("/users/u12x/recommendations", params={"k": 2}).json()["did_you_mean"] == "u12"
    far = c.get("/users/somebody-new/recommendations", params={"k": 2}).json()
    assert far["cold_start"] and far["did_you_mean"] is None
    assert "did_you_mean" not in c.get("/users/u12/recommendations", params={"k": 2}).json()  # known: no hint
    item = typo["items"][0]["item"]
    assert c.post("/explain", json={"user": "U12", "item": item}).json()["did_you_mean"] == "u12"
    assert c.get("/users/U12/history").json() == {"user": "U12", "known": False, "history": [], "did_you_mean": "u12"}
    assert "did_you_mean" not in c.get("/users/u12/history").json()
    # an unknown item is refused, naming the known one it is most like
    # (two bundles are served, so a refusal to a request that names none says the default one refused)
    wrong = c.post("/explain", json={"user": "u12", "item": item.upper()})
    assert wrong.status_code == 404 and wrong.json() == {"error": f"unknown item '{item.upper()}'; did you mean "
                                                         f"'{item}'? {IN_DEFAULT}"}
    for unnamed in ({}, {"bundle": ""}):  # an empty name asks the default too
        unknown = c.post("/explain", json={"user": "u12", "item": "zzzz", **unnamed})
        assert unknown.json() == {"error": f"unknown item 'zzzz' {IN_DEFAULT}"}
    for bundle in ("planted", "planted-bias"):  # named: the request knows which refused
        named = c.post("/explain", json={"user": "u12", "item": "zzzz", "bundle": bundle})
        assert named.status_code == 404 and named.json() == {"error": "unknown item 'zzzz'"}
    no_explainer = c.post("/explain", json={"user": "u12", "item": item, "explainer": "nope"})
    assert no_explainer.status_code == 404 and no_explainer.json()["error"].startswith("unknown explainer 'nope'")
    assert no_explainer.json()["error"].endswith(IN_DEFAULT)
    listed = c.get("/users/u12/recommendations", params={"explainer": "nope"}).json()["error"]
    assert listed == no_explainer.json()["error"]
    named = c.get("/users/u12/recommendations", params={"explainer": "nope", "bundle": "planted"}).json()["error"]
    assert named == listed.removesuffix(f" {IN_DEFAULT}") and named.startswith("unknown explainer 'nope'")
    # an item named by the title the page shows for it: told its id, in /explain and in a batch
    titled = c.post("/explain", json={"user": "u12", "item": "planted ITEM 3"})
    assert titled.status_code == 404
    assert titled.json() == {"error": "unknown item 'planted ITEM 3'; that is the title of 'i3': give its id "
                                      f"{IN_DEFAULT}"}
    batch = c.post("/explain/batch", json={"pairs": [{"user": "u12", "item": "Planted item 3"}]}).json()
    assert batch["answers"][0]["error"] == f"unknown item 'Planted item 3'; that is the title of 'i3': give its id " \
        f"{IN_DEFAULT}"
    assert "did_you_mean" not in c.post("/explain", json={"user": "u12", "item": item}).json()
    part = c.post("/explain", json={"user": "u12", "item": "lanted item 1"})  # part of items 1's and 10-19's titles
    told = part.json()["error"]
    assert part.status_code == 404 and told.startswith("unknown item 'lanted item 1'; the titles of 'i1")
    assert told.endswith(f" and more hold it: give one of their ids {IN_DEFAULT}") and "(“Planted item 1" in told
    # the most rated first, as the item box lists them
    box = [i["item"] for i in c.get("/api/bundles/planted/items", params={"query": "lanted item 1"}).json()][:3]
    assert re.findall(r"'(i\d+)' \(", told) == box


def test_the_user_search_falls_back_to_close_ids(client):
    c, _ = client
    holding = c.get("/api/bundles/planted/users", params={"query": "u3"}).json()
    assert holding and all("u3" in u["user"] and "similar" not in u for u in holding)
    close = c.get("/api/bundles/planted/users", params={"query": "u99"}).json()  # no id holds "u99"
    assert [u["user"] for u in close] == ["u9"] and close[0]["similar"] is True and close[0]["reviews"] > 0
    assert c.get("/api/bundles/planted/users", params={"query": "zzzz"}).json() == []
    # a query pasted with a space or a zero-width space is stripped as ids are: the same users
    assert c.get("/api/bundles/planted/users", params={"query": " u3\u200b"}).json() == holding


def test_the_item_search_finds_ids_and_titles_most_rated_first(client):
    """``/api/bundles/{name}/items``: what the page's item box lists, to explain the chosen user with
    any item. Ids or titles holding the query (any case), the most rated first; close ids when
    none does; the number of train ratings, null for a rating bundle served without its data."""
    c, split = client
    counts = split.train.reviews["item"].value_counts()
    every = c.get("/api/bundles/planted/items", params={"limit": 200}).json()
    assert sorted(i["item"] for i in every) == sorted(counts.index)
    assert [i["ratings"] for i in every] == sorted(counts, reverse=True)  # the most rated first
    assert all(i["ratings"] == counts[i["item"]] and "similar" not in i for i in every)
    assert every[0]["title"].startswith("Planted item ")
    by_title = c.get("/api/bundles/planted/items", params={"query": "ITEM 1"}).json()  # held by "Planted item 1…"
    assert by_title and all(i["title"].startswith("Planted item 1") for i in by_title)
    assert {i["item"] for i in by_title} == {i for i in counts.index if i.startswith("i1")}
    assert [i["item"] for i in c.get("/api/bundles/planted/items", params={"query": " i12\u200b"}).json()] == ["i12"]
    close = c.get("/api/bundles/planted/items", params={"query": "i9x"}).json()  # no id or title holds it
    assert close and close[0]["item"] == "i9" and all(i["similar"] is True for i in close)
    assert c.get("/api/bundles/planted/items", params={"query": "zzzz"}).json() == []
    assert len(c.get("/api/bundles/planted/items", params={"limit": 2}).json()) == 2
    assert c.get("/api/bundles/planted/items", params={"limit": 0}).status_code == 422
    missing = c.get("/api/bundles/nothing/items")
    assert missing.status_code == 404 and "nothing" in missing.json()["error"]
    rating_only = c.get("/api/bundles/planted-bias/items").json()  # a rating model saved without its data
    assert rating_only and {i["ratings"] for i in rating_only} == {None} and {i["title"] for i in rating_only} == {None}


def test_explain_endpoint(client):
    c, split = client
    user, item = split.test.users[0], split.test.items[0]
    body = c.post("/explain", json={"user": user, "item": item, "explainer": "pair"}).json()
    assert body["explainer"] == "pair" and 1 <= body["predicted_rating"] <= 5 and body["explanation"]
    again = c.post("/explain", json={"user": user, "item": item, "explainer": "pair"}).json()
    assert again["explanation"] == body["explanation"]  # served from the cache the second time
    # an explainer asked for by the label the answers give it, in any case: MT-P is pair
    for label, name in (("MT-P", "pair"), ("mt-i", "item"), (" Mt-U ", "user"), ("ALL", "user")):  # all: the first
        labelled = c.post("/explain", json={"user": user, "item": item, "explainer": label}).json()
        assert labelled["explainer"] == name, label
    batch = c.post("/explain/batch", json={"pairs": [{"user": user, "item": item}], "explainer": "MT-I"}).json()
    assert batch["answers"][0]["explainer"] == "item"
    listed = c.get(f"/users/{user}/recommendations", params={"k": 1, "explainer": "mt-u"}).json()
    assert [e["explainer"] for e in listed["items"][0]["explanations"]] == ["user"]
    refused = c.post("/explain", json={"user": user, "item": item, "explainer": "MT-X"})
    assert refused.status_code == 404 and refused.json()["error"].startswith(  # no one label closer than the others
        "unknown explainer 'MT-X' (did you mean 'MT-U', 'MT-I' or 'MT-P'?); this system has user (MT-U), item "
        "(MT-I), pair (MT-P) (or all)")
    assert c.get("/metrics").json()["explanation_cache"]["planted"]["hits"] >= 1
    parts = body["rating_split"]  # the predicted rating over the user's past ratings
    assert parts["baseline"] + sum(b["contribution"] for b in parts["because"]) + parts["other_ratings"] + \
        parts["rest"] == pytest.approx(parts["score"])
    assert min(max(parts["score"], 1.0), 5.0) == pytest.approx(body["predicted_rating"], abs=1e-4)
    cold = c.post("/explain", json={"user": "somebody-new", "item": item}).json()
    assert cold["cold_start"] and "rating_split" not in cold
    assert c.post("/explain", json={"user": "7", "item": item}).json()["cold_start"]  # one character is an id
    every = c.post("/explain", json={"user": user, "item": item, "explainer": "all"}).json()  # was: the first only
    assert [e["label"] for e in every["explanations"]] == ["MT-U", "MT-I", "MT-P"]
    assert every["explanations"][2]["text"] == body["explanation"] and every["explainer"] == "user"
    listed = c.get(f"/users/{user}/recommendations", params={"k": 2}).json()["items"]
    assert all(len(entry["rating_split"]["because"]) <= 2 for entry in listed)


def test_explain_batch_answers_each_pair_as_explain_does(client):
    """POST /explain/batch: one answer per pair, in order, each what /explain answers for it; an
    unknown item's pair gets an error in its place and the others are answered; each explainer
    writes its pairs' explanations in one batch."""
    c, split = client
    known = [(split.test.users[-1], split.test.items[-2]), (split.test.users[-2], split.test.items[-1])]
    pairs = [*known, ("somebody-new", split.test.items[-1]), (known[0][0], "no-such-item")]
    before = c.get("/metrics").json()["explanation_batches"]["planted"]
    body = c.post("/explain/batch", json={"pairs": [{"user": u, "item": i} for u, i in pairs],
                                          "explainer": "all"})
    assert body.status_code == 200, body.text
    answers = body.json()["answers"]
    assert body.json()["bundle"] == "planted" and [(a["user"], a["item"]) for a in answers] == pairs
    after = c.get("/metrics").json()["explanation_batches"]["planted"]
    # MT-U for the two known users; MT-I and MT-P for them and the new user: three batches, not eight
    assert after["batches"] - before["batches"] == 3 and after["requests"] - before["requests"] == 3
    for (user, item), got in zip(pairs[:3], answers):
        assert got == c.post("/explain", json={"user": user, "item": item, "explainer": "all"}).json()
    assert answers[2]["cold_start"] and [e["label"] for e in answers[2]["explanations"]] == ["MT-I", "MT-P"]
    assert answers[3] == {"user": known[0][0], "item": "no-such-item",
                          "error": c.post("/explain", json={"user": known[0][0], "item": "no-such-item"}).json()["error"]}
    one = c.post("/explain/batch", json={"pairs": [{"user": f" {known[0][0]} ", "item": known[0][1]}]}).json()
    assert one["answers"][0] == c.post("/explain", json={"user": known[0][0], "item": known[0][1]}).json()


def test_explanations_are_decoded_as_the_request_asks(client):
    """``decoding``: greedy by default; beam (cached apart from greedy) and sampling, whose seed
    gives the same answer to the same request however requests are batched."""
    c, split = client
    pairs = [{"user": u, "item": i} for u, i in zip(split.test.users[:6], split.test.items[:6])]
    greedy = c.post("/explain/batch", json={"pairs": pairs}).json()["answers"]
    assert c.post("/explain/batch", json={"pairs": pairs, "decoding": {"method": "greedy"}}).json()["answers"] == greedy
    one_beam = c.post("/explain/batch", json={"pairs": pairs, "decoding": {"method": "beam", "beam": 1}}).json()
    assert one_beam["answers"] == greedy  # a beam of one is greedy search
    wide = {"method": "beam", "beam": 6, "length_penalty": 1.0}
    beam = c.post("/explain", json={**pairs[0], "decoding": wide}).json()
    hits = c.get("/metrics").json()["explanation_cache"]["planted"]["hits"]
    assert beam["explanation"] == c.post("/explain", json={**pairs[0], "decoding": wide}).json()["explanation"]
    # the beam explanation is served from the cache (with the rating split, cached beside it)
    assert c.get("/metrics").json()["explanation_cache"]["planted"]["hits"] == hits + 2
    assert c.post("/explain/batch", json={"pairs": pairs}).json()["answers"] == greedy  # apart from greedy ones
    hot = {"method": "sample", "temperature": 2.0, "seed": 11}
    first = c.post("/explain/batch", json={"pairs": pairs, "decoding": hot}).json()["answers"]
    again = c.post("/explain/batch", json={"pairs": pairs, "decoding": hot}).json()["answers"]
    other = c.post("/explain/batch", json={"pairs": pairs, "decoding": {**hot, "seed": 12}}).json()["answers"]
    assert first == again and first != other
    alone = c.post("/explain", json={**pairs[1], "decoding": hot}).json()
    assert alone["explanation"] == first[1]["explanation"]  # each pair's draws are its own, in any batch
    assert [a["predicted_rating"] for a in first] == [a["predicted_rating"] for a in greedy]
    top_one = c.post("/explain/batch", json={"pairs": pairs, "decoding": {"method": "sample", "top_k": 1}}).json()
    assert top_one["answers"] == greedy
    # the recommendations route takes the same settings as query parameters
    route = f"/users/{pairs[0]['user']}/recommendations"
    listed = c.get(route, params={"k": 3}).json()
    assert c.get(route, params={"k": 3, "method": "beam", "beam": 1}).json() == listed
    sampled = c.get(route, params={"k": 3, "method": "sample", "temperature": 2.0, "seed": 5}).json()
    assert sampled == c.get(route, params={"k": 3, "method": "sample", "temperature": 2.0, "seed": 5}).json()
    assert [i["item"] for i in sampled["items"]] == [i["item"] for i in listed["items"]]
    assert sampled != c.get(route, params={"k": 3, "method": "sample", "temperature": 2.0, "seed": 6}).json()
    # at least min_words words, by any method; not more than the system writes
    held = c.post("/explain/batch", json={"pairs": pairs, "decoding": {"method": "beam", "min_words": 5}}).json()
    assert all(len(a["explanation"].split()) >= 5 for a in held["answers"])
    long = c.get(route, params={"k": 3, "min_words": 6}).json()
    assert all(len(i["explanation"].split()) >= 6 for i in long["items"])
    # an explanation with as many words as the system writes is said to be at that limit (cut there, perhaps)
    most = {b["name"]: b for b in c.get("/api/bundles").json()}["planted"]["max_words"]
    full = c.post("/explain/batch", json={"pairs": pairs, "decoding": {"min_words": most}}).json()["answers"]
    assert all(e["at_word_limit"] and len(e["text"].split()) == most for a in full for e in a["explanations"])
    shorter = c.post("/explain/batch", json={"pairs": pairs, "decoding": {"min_words": 1}}).json()["answers"]
    said = [(e["at_word_limit"], len(e["text"].split()) == most) for a in shorter for e in a["explanations"]]
    assert all(limit == at_most for limit, at_most in said) and not all(limit for limit, _ in said)
    for params, fragment in (({"temperature": 0.5}, "temperature is a setting of sample decoding"),
                             ({"method": "beam", "beam": 99}, "beam"), ({"method": "sample", "top_p": 3}, "top_p"),
                             ({"min_words": 99}, "min_words (99) is more than the"), ({"min_words": -1}, "min_words")):
        refused = c.get(route, params=params)
        assert refused.status_code == 422 and fragment in refused.json()["error"], refused.text


@pytest.mark.parametrize("decoding,fragment", [
    ({"method": "greedy", "temperature": 0.5}, "temperature is a setting of sample decoding, not of greedy"),
    ({"method": "sample", "top_p": 0}, "top_p must be in (0, 1]"),
    ({"method": "sample", "seed": -3}, "seed must be in 0 .. 2^63"),
    ({"method": "beam", "beam": 17}, "beam"),
    ({"method": "nucleus"}, "method"),
    ({"method": "sample", "nucleus": 0.9}, "body.decoding.nucleus: Extra inputs are not permitted"),
    ({"method": "greedy", "min_words": 99}, "min_words (99) is more than the"),
])
def test_a_bad_decoding_is_refused(client, decoding, fragment):
    c, split = client
    pair = {"user": split.test.users[0], "item": split.test.items[0]}
    for url, body in (("/explain", {**pair, "decoding": decoding}), ("/explain/batch", {"pairs": [pair],
                                                                                       "decoding": decoding})):
        response = c.post(url, json=body)
        assert response.status_code == 422, response.text
        assert fragment in response.json()["error"]


@pytest.mark.parametrize("body,status,fragment", [
    ({"pairs": []}, 422, "pairs"),
    ({"pairs": [{"user": "u1", "item": "i1"}] * 101}, 422, "pairs"),
    ({"pairs": [{"user": "u1"}]}, 422, "item"),
    ({"pairs": [{"user": "u1", "item": "i1", "explainer": "pair"}]}, 422,
     'pairs.0.explainer: Extra inputs are not permitted (one setting for the whole batch: send "explainer" beside '
     '"pairs")'),
    ({"pairs": [{"user": "u1", "item": "i1"}], "beam": 4}, 422,
     'body.beam: Extra inputs are not permitted (a decoding setting: send it inside "decoding", as '
     '{"decoding": {"beam": …}})'),
    ({"pairs": [{"user": "u1", "item": "i1", "nucleus": 0.9}]}, 422, "pairs.0.nucleus: Extra inputs are not permitted"),
    ({"pairs": [{"user": "u1", "item": "i1"}], "explainer": "poetry"}, 404, "unknown explainer"),
    ({"pairs": [{"user": "u1", "item": "i1"}], "bundle": "nope"}, 404, "unknown bundle"),
    ({"pairs": [{"user": "u1", "item": "i1"}], "feature_word": "sound"}, 422, "feature"),
    ({"pairs": [{"user": "u1", "item": "i1"}], "explainer": "x" * 16}, 404, "unknown explainer"),
    ({"pairs": [{"user": "u1", "item": "i1"}], "explainer": "x" * 17}, 422, "body.explainer: String should have at "
     "most 16 characters"),
    ({"pairs": [{"user": "u1", "item": "i1"}], "feature_word": ""}, 422, "body.feature_word: String should have at "
     "least 1 character"),
    ({"pairs": [{"user": "u1", "item": "i1"}], "feature_word": "s"}, 422, "PETER+"),
])
def test_a_bad_batch_is_refused_whole(client, body, status, fragment):
    c, _ = client
    response = c.post("/explain/batch", json=body)
    assert response.status_code == status, response.text
    assert fragment in response.json()["error"]


@pytest.mark.parametrize("method,url,kwargs,status,fragment", [
    ("post", "/explain", {"json": {"user": "u1", "item": "no-such-item"}}, 404, "unknown item"),
    ("get", "/users/u1/recommendations", {"params": {"k": 10 ** 6}}, 422, "k"),
    ("get", "/users/u1/recommendations", {"params": {"k": 0}}, 422, "k"),
    ("post", "/explain", {"content": b"not json", "headers": {"content-type": "application/json"}}, 422, "invalid"),
    # a form, or JSON sent as text, was told only that the body is no object
    ("post", "/explain", {"data": {"user": "u1", "item": "i1"}}, 422,
     "the body must be a JSON object sent with content-type: application/json (the request said "
     "application/x-www-form-urlencoded)"),
    ("post", "/explain/batch", {"content": b'{"pairs": []}', "headers": {"content-type": "text/plain"}}, 422,
     "sent with content-type: application/json (the request said text/plain)"),
    ("get", "/explain", {}, 405, "GET is not allowed on /explain; it takes POST"),
    ("post", "/explain", {"json": {"user": "u1"}}, 422, "item"),
    ("post", "/explain", {"json": {"user": "u1", "item": "i1", "min_words": 3}}, 422,
     'body.min_words: Extra inputs are not permitted (a decoding setting: send it inside "decoding"'),
    ("post", "/explain", {"json": {"user": "u" * 300, "item": "i1"}}, 422, "user"),
    ("post", "/explain", {"json": {"user": "u1", "item": "i1", "explainer": "x" * 16}}, 404, "unknown explainer"),
    ("post", "/explain", {"json": {"user": "u1", "item": "i1", "explainer": "x" * 17}}, 422,
     "body.explainer: String should have at most 16 characters"),
    ("post", "/explain", {"json": {"user": "u1", "item": "i1", "feature_word": ""}}, 422,
     "body.feature_word: String should have at least 1 character"),
    ("post", "/explain", {"json": {"user": "u1", "item": "i1", "feature_word": "s"}}, 422, "PETER+"),
    ("post", "/explain", {"content": b"x" * (1 << 20), "headers": {"content-type": "application/json"}}, 413, "bytes"),
    ("get", "/users/" + "u" * 300 + "/recommendations", {}, 422, "longer"),
    ("get", "/users//recommendations", {}, 422, "user id is empty"),  # was a cold start for the user ""
    ("get", "/users/%20/history", {}, 422, "user id is empty"),
    ("post", "/explain", {"json": {"user": "  ", "item": "i1"}}, 422, "user"),
    ("get", "/users/u1/recommendations", {"params": {"explainer": "poetry"}}, 404, "unknown explainer"),
    ("get", "/users/u1/recommendations", {"params": {"explainer": "pair", "bundle": "planted-bias"}}, 404,
     "this system is a rating model: it writes no explanations"),  # was a 200 with no explanation
    ("post", "/explain", {"json": {"user": "u1", "item": "i1", "explainer": "user", "bundle": "planted-bias"}}, 404,
     "unknown explainer 'user'"),
    ("get", "/users/u1/recommendations", {"params": {"bundle": "nope"}}, 404, "unknown bundle"),
    ("get", "/no/such/route", {}, 404, "no route GET /no/such/route; the API's routes: GET /health, GET /metrics, "),
    # a path like a route's is told that route; every route is listed, as /docs documents them
    ("get", "/bundles", {}, 404, "no route GET /bundles (did you mean '/api/bundles'?); the API's routes: GET /health"),
    ("get", "/user/u1/history", {}, 404, "(did you mean '/users/{user}/history'?); the API's routes: "),
    ("delete", "/nothing", {}, 404, ", POST /explain, POST /explain/batch (documented at /docs; the web page is at /)"),
    # a misspelt query parameter is refused, not ignored with an answer that looks as asked
    ("get", "/users/u1/recommendations", {"params": {"method": "sample", "top-p": 0.9}}, 422,
     "unknown query parameter 'top-p' for GET /users/{user}/recommendations; it takes beam, bundle,"),
    ("get", "/api/bundles/planted-bias/users", {"params": {"q": "u1"}}, 422,
     "unknown query parameter 'q' for GET /api/bundles/{name}/users; it takes limit, query"),
    # a POST reads its JSON body: ?bundle= was ignored, and another bundle answered
    ("post", "/explain", {"params": {"bundle": "planted-bias"}, "json": {"user": "u1", "item": "i1"}}, 422,
     "POST /explain takes no query parameters: give 'bundle' in the JSON body"),
    ("post", "/explain/batch", {"params": {"explainer": "user"}, "json": {"pairs": [{"user": "u1", "item": "i1"}]}},
     422, "POST /explain/batch takes no query parameters: give 'explainer' in the JSON body"),
])
def test_bad_requests_get_json_errors_and_server_keeps_serving(client, method, url, kwargs, status, fragment):
    c, _ = client
    response = getattr(c, method)(url, **kwargs)
    assert response.status_code == status
    assert fragment in response.json()["error"]
    assert c.get("/health").status_code == 200


def test_a_route_without_query_parameters_ignores_any(client):
    """A health probe's cache-buster is no error; only routes that take parameters check their names."""
    c, _ = client
    assert c.get("/health", params={"_": "1700000000"}).status_code == 200
    assert c.get("/metrics", params={"_": "1"}).status_code == 200


def test_ids_are_stripped_as_the_readers_strip_them(client):
    """The readers strip ids, so " u1 " in a request is the known user u1, not a new one."""
    c, split = client
    user, item = split.test.users[0], split.test.items[0]
    padded = c.post("/explain", json={"user": f" {user} ", "item": f"{item} "}).json()
    assert padded["user"] == user and padded["cold_start"] is False
    assert c.get(f"/users/%20{user}/recommendations", params={"k": 2}).json()["cold_start"] is False
    assert c.get(f"/users/{user}%20/history").json()["known"] is True


def test_invisible_characters_around_an_id_are_stripped_too(client):
    """A zero-width space or byte-order mark pasted with an id is stripped as the readers strip it;
    an id of nothing else is empty (422), not a new user."""
    c, split = client
    user, item = split.test.users[0], split.test.items[0]
    pasted = c.post("/explain", json={"user": f"\ufeff{user}\u200b", "item": f"{item}\u200e"})
    assert pasted.status_code == 200 and pasted.json()["user"] == user and pasted.json()["cold_start"] is False
    assert c.get(f"/users/{user}%E2%80%8B/recommendations", params={"k": 2}).json()["cold_start"] is False
    empty = c.post("/explain", json={"user": "\u200b", "item": item})
    assert empty.status_code == 422
    assert c.get("/users/%E2%80%8B/recommendations").status_code == 422
    batch = c.post("/explain/batch", json={"pairs": [{"user": f"{user}\u2060", "item": item}]})
    assert batch.status_code == 200 and batch.json()["answers"][0]["cold_start"] is False


def test_a_chunked_body_without_a_length_is_capped_too(client):
    c, split = client

    def chunks():  # a streamed body: no content-length header, transfer-encoding chunked
        yield b'{"user": "' + split.test.users[0].encode() + b'", "item": "'
        for _ in range(64):
            yield b"x" * 1024
        yield b'"}'

    response = c.post("/explain", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413 and "bytes" in response.json()["error"]
    small = c.post("/explain", content=iter([b'{"user": "', split.test.users[0].encode(), b'", "item": "',
                                             split.test.items[0].encode(), b'"}']),
                   headers={"content-type": "application/json"})
    assert small.status_code == 200 and small.json()["explanation"]


def test_metrics_report_counts_and_percentiles(client):
    c, _ = client
    for _ in range(3):
        c.get("/health")
    routes = c.get("/metrics").json()["routes"]
    health = routes["GET /health"]
    assert health["requests"] >= 3 and set(health["latency_ms"]) == {"p50", "p95", "p99"}


def test_a_peter_bundle_is_served_beside_mt(served_bundles, peter_bundle):
    mt_folder, _, split = served_bundles
    peter = ServedSystem.from_folder(peter_bundle)
    c = TestClient(create_app([ServedSystem.from_folder(mt_folder), peter]))
    described = {b["name"]: b for b in c.get("/api/bundles").json()}
    assert described["planted-peter"]["kind"] == "peter"
    assert described["planted-peter"]["max_words"] == peter.model.config.max_words
    assert [e["label"] for e in described["planted-peter"]["explainers"]] == ["PETER+"]
    user = split.train.users[0]
    body = c.get(f"/users/{user}/recommendations", params={"k": 4, "bundle": "planted-peter"}).json()
    assert len(body["items"]) == 4 and all(item["explanation"] for item in body["items"])
    assert body["items"][0]["explanations"][0]["label"] == "PETER+"
    seen = {h["item"] for h in c.get(f"/users/{user}/history", params={"bundle": "planted-peter"}).json()["history"]}
    assert seen and not seen & {i["item"] for i in body["items"]}
    # PETER cannot explain a user it has never seen: popular items, ratings, no explanation
    cold = c.get("/users/someone-new/recommendations", params={"k": 3, "bundle": "planted-peter"}).json()
    assert cold["cold_start"] and len(cold["items"]) == 3 and "explanation" not in cold["items"][0]
    assert cold["no_explanation"] == PETER_NEW_USER  # the same words as `whyrec explain`
    one_cold = c.post("/explain", json={"user": "someone-new", "item": split.train.items[1],
                                        "bundle": "planted-peter"}).json()
    assert "explanation" not in one_cold and one_cold["no_explanation"] == PETER_NEW_USER
    assert "no_explanation" not in body  # a known user is explained
    one = c.post("/explain", json={"user": user, "item": split.train.items[1], "bundle": "planted-peter"}).json()
    assert one["explainer"] == "peter+" and one["explanation"]
    pair = {"user": user, "item": split.train.items[1], "bundle": "planted-peter"}
    one_beam = c.post("/explain", json={**pair, "decoding": {"method": "beam", "beam": 1}}).json()
    assert one_beam == one  # a beam of one is greedy search
    listed = c.get(f"/users/{user}/recommendations", params={"bundle": "planted-peter", "method": "beam"})
    assert listed.status_code == 200 and all(item["explanation"] for item in listed.json()["items"])
    seeded = {"method": "sample", "seed": 3, "top_p": 0.9}
    drawn = c.post("/explain", json={**pair, "decoding": seeded}).json()
    assert drawn["explanation"] == c.post("/explain", json={**pair, "decoding": seeded}).json()["explanation"]


def test_peter_plus_is_asked_for_an_explanation_about_a_feature_word(served_bundles, peter_bundle):
    mt_folder, _, split = served_bundles
    peter = ServedSystem.from_folder(peter_bundle)
    c = TestClient(create_app([peter, ServedSystem.from_folder(mt_folder)]))
    user, item = split.train.users[0], split.train.items[0]
    model = peter.model
    own = model.item_feature[item]
    other = next(w for w in model.feature_words if w != own and w in model.vocab)
    default = c.post("/explain", json={"user": user, "item": item}).json()
    about = c.post("/explain", json={"user": user, "item": item, "feature_word": other}).json()
    assert default["feature_word"] == own and about["feature_word"] == other
    for body, word in ((default, own), (about, other)):  # each word's own text, not the other's from the cache
        assert body["explanation"] == model.explain([user], [item], [word], no_unk=True, no_repeat=True)[0]
    listed = c.get(f"/users/{user}/recommendations", params={"k": 3, "feature_word": other}).json()["items"]
    assert [entry["feature_word"] for entry in listed] == [other] * 3
    padded = c.get(f"/users/{user}/recommendations", params={"k": 3, "feature_word": f" {other.upper()} "}).json()
    assert padded["items"] == listed  # stripped, as the body of /explain is, and read as the features are written
    capital = c.post("/explain", json={"user": user, "item": item, "feature_word": other.capitalize()}).json()
    assert capital["feature_word"] == other and capital["explanation"] == about["explanation"]
    blank = c.get(f"/users/{user}/recommendations", params={"feature_word": " "})
    assert blank.status_code == 422 and "feature_word is empty" in blank.json()["error"]
    assert listed[0]["explanation"] == model.explain([user], [listed[0]["item"]], [other], no_unk=True,
                                                      no_repeat=True)[0]
    unknown = c.post("/explain", json={"user": user, "item": item, "feature_word": "zzz"})
    assert unknown.status_code == 422 and "'zzz' is not one of the" in unknown.json()["error"]
    not_plus = c.post("/explain", json={"user": user, "item": item, "feature_word": other, "bundle": "planted"})
    assert not_plus.status_code == 422 and "steers PETER+ only" in not_plus.json()["error"]
    assert "feature_word" not in c.post("/explain", json={"user": user, "item": item, "bundle": "planted"}).json()


def test_a_rating_bundle_served_with_and_without_its_training_data(served_bundles, tmp_path):
    import numpy as np

    from whyrec.bundle import save_bundle
    from whyrec.data import Corpus
    from whyrec.errors import ConfigError
    from whyrec.rating import ContextAwareALS

    _, bias_folder, split = served_bundles
    save_bundle(ContextAwareALS(factors=4).fit(split.train), tmp_path / "planted-als")
    bare = TestClient(create_app([ServedSystem.from_folder(tmp_path / "planted-als")]))
    told = TestClient(create_app([ServedSystem.from_folder(tmp_path / "planted-als", history=split.train)]))
    assert bare.get("/api/bundles").json()[0]["history"] is False
    assert bare.get("/api/bundles").json()[0]["made_by"] is None  # saved by code: no run.json says how
    # with the run.json `whyrec train` writes beside it, the service tells how the bundle was made
    from whyrec.provenance import file_digest, write_run_record
    from whyrec.serve import schemas

    data = tmp_path / "reviews.csv"
    split.train.reviews.to_csv(data, index=False)
    write_run_record(tmp_path / "planted-als", data, ["train", "context-als", "--data", str(data)])
    info = TestClient(create_app([ServedSystem.from_folder(tmp_path / "planted-als")])).get("/api/bundles").json()[0]
    made = schemas.BundleInfo.model_validate(info).made_by
    assert made.command == f"whyrec train context-als --data {data}" and made.data_sha256 == file_digest(data)
    assert made.date.startswith("20") and (tmp_path / "planted-als" / "run.json").exists()
    # not known is null, not an empty history or a count of 0
    assert bare.get(f"/users/{split.train.users[0]}/history").json() == {"user": split.train.users[0], "known": True,
                                                                          "history": None}
    assert {u["reviews"] for u in bare.get("/api/bundles/planted-als/users").json()} == {None}
    assert min(u["reviews"] for u in told.get("/api/bundles/planted-als/users").json()) >= 1
    user = split.train.users[0]
    seen = {i for u, i in zip(split.train.users, split.train.items) if u == user}
    everything = bare.get(f"/users/{user}/recommendations", params={"k": 20}).json()["items"]
    assert seen & {i["item"] for i in everything}  # without the data its past items come back
    assert "rating_split" not in everything[0]
    body = told.get(f"/users/{user}/recommendations", params={"k": 5}).json()
    assert not seen & {i["item"] for i in body["items"]}
    for entry in body["items"]:
        split_ = entry["rating_split"]
        assert {b["item"] for b in split_["because"]} <= seen
        assert split_["baseline"] + sum(b["contribution"] for b in split_["because"]) + split_["other_ratings"] + \
            split_["rest"] == pytest.approx(split_["score"])
    assert {h["item"] for h in told.get(f"/users/{user}/history").json()["history"]} == seen
    one = told.post("/explain", json={"user": user, "item": body["items"][0]["item"]}).json()
    assert one["rating_split"]["score"] == pytest.approx(body["items"][0]["rating_split"]["score"])
    assert one["rating_split"]["baseline_of"] == "item"  # μ + b_i; PMF's, without biases, is the mean rating
    from whyrec.rating import PMF

    save_bundle(PMF(factors=4).fit(split.train), tmp_path / "planted-pmf")
    pmf = TestClient(create_app([ServedSystem.from_folder(tmp_path / "planted-pmf", history=split.train)]))
    pmf_split = pmf.post("/explain", json={"user": user, "item": body["items"][0]["item"]}).json()["rating_split"]
    assert pmf_split["baseline_of"] == "mean" and pmf_split["baseline_label"] == "mean rating"
    assert pmf_split["baseline"] == pytest.approx(float(split.train.ratings.mean()))
    # cold start: the best items on average without the data, the most rated ones with it
    cold_body = bare.get("/users/someone-new/recommendations", params={"k": 5}).json()
    assert cold_body["cold_start_items"] == "highest predicted rating"
    cold = cold_body["items"]
    ratings = [i["predicted_rating"] for i in cold]
    assert ratings == sorted(ratings, reverse=True)
    counts = {i: n for i, n in zip(*np.unique(split.train.items, return_counts=True))}
    popular = [i["item"] for i in told.get("/users/someone-new/recommendations", params={"k": 5}).json()["items"]]
    assert [counts[i] for i in popular] == sorted(counts.values(), reverse=True)[:5]
    # data of another dataset would have made arbitrary items the "most rated" ones
    other = split.train.reviews.assign(user="x" + split.train.reviews["user"], item="y" + split.train.reviews["item"])
    with pytest.raises(ConfigError, match="planted-als: the data given shares no user and item with the bundle"):
        ServedSystem.from_folder(tmp_path / "planted-als", history=Corpus(other))


def test_an_address_the_server_cannot_listen_on_is_refused_before_loading():
    import socket

    with listening_socket("127.0.0.1", 0) as free:  # any free port, which the socket tells
        assert free.getsockname()[1] > 0
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError, match=f"cannot listen on 127.0.0.1:{port}: .*in use"):
            listening_socket("127.0.0.1", port)
    with pytest.raises(ConfigError, match="--port must be in 0..65535, not 70000"):
        listening_socket("127.0.0.1", 70000)


def test_an_unexpected_error_is_a_json_500_and_its_traceback_is_logged(served_bundles, monkeypatch, caplog):
    mt_folder, _, split = served_bundles
    served = ServedSystem.from_folder(mt_folder)

    def broken(user, k):
        raise RuntimeError("a bug in recommend")

    monkeypatch.setattr(served, "recommend", broken)
    c = TestClient(create_app([served]))
    with caplog.at_level("ERROR", logger="whyrec.serve"):
        answer = c.get(f"/users/{split.train.users[0]}/recommendations")
    assert answer.status_code == 500 and answer.json() == {"error": "internal error"}  # the page can read it
    assert "a bug in recommend" in caplog.text and "/recommendations" in caplog.text  # the operator can fix it
    assert c.get("/metrics").json()["routes"]["GET /users/{user}/recommendations"]["errors"] == 1


@pytest.mark.parametrize("root", ["", "/lab/whyrec"])
def test_past_max_in_flight_a_request_is_refused_at_once_and_probes_still_answer(served_bundles, monkeypatch,
                                                                                  caplog, root):
    """Also behind a proxy's prefix (``whyrec serve --root-path``: uvicorn puts it in front of every
    path), the routes that compute are told from the path within the app."""
    from concurrent.futures import ThreadPoolExecutor

    from tests.serve.conftest import hold_recommendations

    mt_folder, _, split = served_bundles
    served = ServedSystem.from_folder(mt_folder)
    entered, release = hold_recommendations(served, monkeypatch)  # holds the one place until the test lets it go
    user, item = split.train.users[0], split.train.items[0]
    app = create_app([served], max_in_flight=1, access_log=True)
    with TestClient(app, root_path=root) as c, ThreadPoolExecutor(1) as pool:
        first = pool.submit(c.get, f"{root}/users/{user}/recommendations", params={"k": 2})
        assert entered.wait(30)
        with caplog.at_level("INFO", logger="whyrec.serve.access"):
            refused = c.get(f"{root}/users/{user}/recommendations", params={"k": 2})
        logged = caplog.records[-1].getMessage()
        assert re.fullmatch(rf"GET {root}/users/{user}/recommendations\?k=2 503 \d+\.\d ms", logged)
        explain = c.post(f"{root}/explain", json={"user": user, "item": item})
        busy = c.get(f"{root}/metrics")
        probes = [c.get(f"{root}/health").status_code, busy.status_code, c.get(f"{root}/").status_code]
        release.set()
        assert first.result(30).status_code == 200
        again = c.post(f"{root}/explain", json={"user": user, "item": item})  # the place is free again
        routes = c.get(f"{root}/metrics").json()["routes"]
    assert refused.status_code == explain.status_code == 503 and refused.headers["retry-after"] == "1"
    assert refused.json()["error"] == ("the server is busy: it answers at most 1 requests for recommendations or "
                                       "explanations at once per process (whyrec serve --max-in-flight); retry in a "
                                       "moment")
    assert probes == [200, 200, 200] and again.status_code == 200
    assert busy.json()["worker"]["per_worker"][0]["in_flight"] == 1  # the held request; /metrics is not counted
    assert routes["busy"]["requests"] == routes["busy"]["errors"] == 2
    assert routes["GET /users/{user}/recommendations"]["requests"] == 1  # the refused ones are counted apart
    with pytest.raises(ConfigError, match="max_in_flight must be 0"):
        create_app([served], max_in_flight=-1)
    from whyrec.errors import WhyrecError

    with pytest.raises(WhyrecError, match="serve needs at least one bundle"):
        create_app([])


def test_the_access_log_has_a_line_per_request_that_an_id_cannot_break(client, served_bundles, caplog):
    mt_folder, _, split = served_bundles
    c = TestClient(create_app([ServedSystem.from_folder(mt_folder)], access_log=True))
    with caplog.at_level("INFO", logger="whyrec.serve.access"):
        c.get("/users/team%2Fa%0Aforged%20line/history", params={"bundle": "planted"})
        c.get("/no/such/route")
    lines = [r.getMessage() for r in caplog.records if r.name == "whyrec.serve.access"]
    assert len(lines) == 2 and all("\n" not in line for line in lines)
    assert re.fullmatch(r"GET /users/team%2Fa%0Aforged%20line/history\?bundle=planted \d{3} \d+\.\d ms", lines[0])
    assert re.fullmatch(r"GET /no/such/route 404 \d+\.\d ms", lines[1])
    with caplog.at_level("INFO", logger="whyrec.serve.access"):
        client[0].get("/health")  # an app built without it logs nothing
    assert len([r for r in caplog.records if r.name == "whyrec.serve.access"]) == 2


@pytest.mark.parametrize("prefix", ["team/", "team\nline two ", "tab\there\r\n"])
def test_an_id_with_a_slash_or_a_line_break_is_served(served_bundles, tmp_path, prefix):
    """Ids are free text ("team/u1" in a CSV, a line break inside a JSON string); sent URL-encoded,
    they reach the user routes (starlette's ``:path`` did not match a line break: a 404)."""
    from urllib.parse import quote

    from whyrec.bundle import save_bundle
    from whyrec.data import Corpus
    from whyrec.rating import BiasBaseline

    _, _, split = served_bundles
    train = Corpus(split.train.reviews.assign(user=prefix + split.train.reviews["user"]), name="odd-ids")
    save_bundle(BiasBaseline().fit(train), tmp_path / "odd-ids")
    c = TestClient(create_app([ServedSystem.from_folder(tmp_path / "odd-ids", history=train)]))
    user = train.users[0]
    assert user.startswith(prefix)
    history = c.get(f"/users/{quote(user, safe='')}/history")
    assert history.status_code == 200 and history.json()["user"] == user and history.json()["known"] is True
    recs = c.get(f"/users/{quote(user, safe='')}/recommendations", params={"k": 2}).json()
    assert recs["user"] == user and recs["cold_start"] is False and len(recs["items"]) == 2
    routes = c.get("/metrics").json()["routes"]
    assert routes["GET /users/{user}/history"]["requests"] == 1  # the route's name, as before
    assert routes["GET /users/{user}/recommendations"]["requests"] == 1 and "other" not in routes
    assert c.get(f"/users/{quote(prefix, safe='')}%0A/history").json()["known"] is False  # unknown, not "no route"


def test_an_aligned_bundle_says_so(served_bundles):
    from whyrec.bundle import load_bundle

    mt = load_bundle(served_bundles[0])
    mt.alignments = [{"method": "MMI", "target": "rating"}, {"method": "MMI", "target": "feature"}]
    assert ServedSystem("aligned", mt).describe()["aligned"] == ["MMI(rating)", "MMI(feature)"]


def test_startup_objects_are_frozen_out_of_the_collectors_passes(client):
    """The collector's full passes over the ~230,000 objects of torch, FastAPI and the bundles made
    the service's p99 (121 ms against 30 ms, PETER+ on magazines): `whyrec serve` freezes them once
    built. In a fresh process, as the command does; /metrics shows the collector's counts."""
    import subprocess
    import sys

    code = ("import gc\nfrom whyrec.serve.app import freeze_startup_objects\nimport torch, fastapi\n"
            "before = len(gc.get_objects())\nfrozen = freeze_startup_objects()\n"
            "print(before, frozen, len(gc.get_objects()), gc.get_freeze_count())")
    before, frozen, tracked, count = map(int, subprocess.run([sys.executable, "-c", code], capture_output=True,
                                                             text=True, timeout=120, check=True).stdout.split())
    assert frozen == count > 50_000 and frozen >= before - 1000 and tracked < 1000
    c, _ = client
    collector = c.get("/metrics").json()["garbage_collector"]
    assert collector["frozen_objects"] >= 0 and len(collector["collections"]) == 3


def test_a_method_a_route_does_not_take_keeps_the_allow_header(client):
    c, _ = client
    refused = c.put("/users/u1/recommendations")
    assert refused.status_code == 405 and refused.headers["allow"] == "GET"
    assert refused.json()["error"] == "PUT is not allowed on /users/u1/recommendations; it takes GET"


def test_ids_sent_as_json_numbers_are_the_ids_the_readers_make_of_them():
    """Readers keep ids as text, so a data file's user 7 is "7"; a client that sends it as the
    JSON number 7 (or 7.0) asks for that user, as the Python API's lookup does, not for a 422.
    A number that is no whole number, and true, stay refused as not text."""
    from whyrec.data import corpus_from_frame
    from whyrec.data.synthetic import make_planted_corpus
    from whyrec.rating import BiasBaseline

    frame = with_numbered_ids(make_planted_corpus(n_users=30, n_items=15, reviews_per_user=6, seed=4).corpus.reviews)
    corpus = corpus_from_frame(frame)
    c = TestClient(create_app([ServedSystem("numbers", BiasBaseline().fit(corpus), history=corpus)]))
    user, item = int(frame.user[0]), int(frame.item[0])
    as_text = c.post("/explain", json={"user": str(user), "item": str(item)}).json()
    assert as_text["cold_start"] is False
    for sent_user, sent_item in ((user, item), (float(user), float(item)), (str(user), item)):
        answer = c.post("/explain", json={"user": sent_user, "item": sent_item})
        assert answer.status_code == 200, answer.text
        assert answer.json() == as_text
    batch = c.post("/explain/batch", json={"pairs": [{"user": user, "item": item}]})
    assert batch.status_code == 200 and batch.json()["answers"][0] == as_text
    # one bundle served: a refusal needs no bundle named
    assert c.post("/explain", json={"user": user, "item": "zzzz"}).json() == {"error": "unknown item 'zzzz'"}
    for bad in (user + 0.5, True, [user]):
        refused = c.post("/explain", json={"user": bad, "item": item})
        assert refused.status_code == 422 and "user" in refused.json()["error"], refused.text
    # and the OpenAPI schema says so, for a client generated from it
    schemas = c.get("/openapi.json").json()["components"]["schemas"]
    for request in ("ExplainRequest", "PairRequest"):
        for field in ("user", "item"):
            allowed = schemas[request]["properties"][field]["anyOf"]
            assert {"type": "integer"} in allowed and {"type": "string", "minLength": 1, "maxLength": 200} in allowed
