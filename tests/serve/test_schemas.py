"""The documented answer shapes (``whyrec.serve.schemas``) hold for real answers of every kind:
MT, PETER+ and a rating bundle, known and new users, with and without explanations, errors."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter, ValidationError

from whyrec.bundle import load_bundle
from whyrec.serve import schemas
from whyrec.serve.app import create_app
from whyrec.serve.systems import ServedSystem


@pytest.fixture(scope="module")
def client(served_bundles, peter_bundle):
    mt_folder, bias_folder, split = served_bundles
    with_data = ServedSystem("planted-bias-with-data", load_bundle(bias_folder), history=split.train)
    app = create_app([ServedSystem.from_folder(mt_folder), ServedSystem.from_folder(bias_folder), with_data,
                      ServedSystem.from_folder(peter_bundle)])
    return TestClient(app), split


def _ok(response, shape):
    assert response.status_code == 200, response.text
    return TypeAdapter(shape).validate_python(response.json())


def test_every_answer_has_its_documented_shape(client):
    c, split = client
    user, item = split.train.users[0], split.train.items[0]
    _ok(c.get("/health"), schemas.Health)
    bundles = _ok(c.get("/api/bundles"), list[schemas.BundleInfo])
    assert [b.name for b in bundles] == ["planted", "planted-bias", "planted-bias-with-data", "planted-peter"]
    word = next(b for b in bundles if b.name == "planted-peter").feature_words[0]
    for bundle in [b.name for b in bundles]:
        _ok(c.get(f"/api/bundles/{bundle}/users", params={"query": user[:2]}), list[schemas.UserMatch])
        assert _ok(c.get(f"/api/bundles/{bundle}/users", params={"query": user + "x"}),
                   list[schemas.UserMatch])[0].similar
        assert _ok(c.get(f"/api/bundles/{bundle}/items", params={"query": item}), list[schemas.ItemMatch])
        assert _ok(c.get(f"/api/bundles/{bundle}/items", params={"query": item + "x"}),
                   list[schemas.ItemMatch])[0].similar
        for who in (user, "somebody-new", user.upper()):  # known, new, new but close to a known id
            _ok(c.get(f"/users/{who}/history", params={"bundle": bundle}), schemas.History)
            for explainer in (None, "all"):
                params = {"bundle": bundle, "k": 3, **({"explainer": explainer} if explainer else {})}
                _ok(c.get(f"/users/{who}/recommendations", params=params), schemas.Recommendations)
                body = {"user": who, "item": item, "bundle": bundle, **({"explainer": explainer} if explainer else {})}
                _ok(c.post("/explain", json=body), schemas.ExplainAnswer)
                batch = {"pairs": [{"user": who, "item": item}, {"user": who, "item": "no-such-item"}],
                         "bundle": bundle, **({"explainer": explainer} if explainer else {})}
                answered, refused = _ok(c.post("/explain/batch", json=batch), schemas.ExplainBatchAnswer).answers
                assert isinstance(answered, schemas.ExplainAnswer) and isinstance(refused, schemas.PairError)
    # the optional fields are filled where they apply: rating splits, a fed feature word, a reason
    split_answer = _ok(c.post("/explain", json={"user": user, "item": item}), schemas.ExplainAnswer)
    assert split_answer.rating_split is not None and split_answer.explanations
    about = _ok(c.post("/explain", json={"user": user, "item": item, "bundle": "planted-peter", "feature_word": word}),
                schemas.ExplainAnswer)
    assert about.feature_word == word
    assert _ok(c.get("/users/somebody-new/recommendations", params={"bundle": "planted-bias"}),
               schemas.Recommendations).no_explanation
    assert _ok(c.get(f"/users/{user.upper()}/recommendations"), schemas.Recommendations).did_you_mean == user
    metrics = _ok(c.get("/metrics"), schemas.Metrics)
    assert metrics.routes and metrics.explanation_cache["planted"].misses > 0
    for response in (c.post("/explain", json={"user": user, "item": "no-such-item"}),
                     c.get("/users/u/recommendations", params={"k": 0}), c.get("/no/such/route")):
        assert response.status_code >= 400 and schemas.Error.model_validate(response.json()).error


def test_the_shapes_are_strict_and_in_the_openapi_schema(client):
    c, _ = client
    with pytest.raises(ValidationError, match="extra"):  # a field the documentation does not name is refused
        schemas.Health.model_validate({"status": "ok", "version": "1", "bundles": [], "uptime": 3})
    spec = c.get("/openapi.json").json()
    contents = {path: next(iter(ops.values()))["responses"]["200"]["content"] for path, ops in spec["paths"].items()}
    answers = {path: content["application/json"]["schema"] for path, content in contents.items()
               if path != "/metrics/prometheus"}
    assert contents["/metrics/prometheus"] == {"text/plain": {"schema": {"type": "string"}}}
    assert answers["/users/{user}/recommendations"] == {"$ref": "#/components/schemas/Recommendations"}
    assert answers["/explain"] == {"$ref": "#/components/schemas/ExplainAnswer"}
    assert answers["/explain/batch"] == {"$ref": "#/components/schemas/ExplainBatchAnswer"}
    assert answers["/api/bundles"]["items"] == {"$ref": "#/components/schemas/BundleInfo"}
    error = spec["paths"]["/explain"]["post"]["responses"]["422"]["content"]["application/json"]["schema"]
    assert error == {"$ref": "#/components/schemas/Error"}  # whyrec's {"error": ...}, not FastAPI's default


def test_answers_are_json_as_fastapi_wrote_a_dict_route():
    """Sent as built, without FastAPI's slow jsonable_encoder, and strict: NaN is null."""
    import numpy as np

    from whyrec.serve.app import answer

    sent = answer({"rating": float("nan"), "score": np.float64(4.25), "items": [{"title": None}]})
    assert sent.body == b'{"rating":null,"score":4.25,"items":[{"title":null}]}'
    assert sent.media_type == "application/json"
