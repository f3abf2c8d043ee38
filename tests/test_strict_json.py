"""Strict JSON: non-finite numbers as null."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import strict_loads
from whyrec.strict_json import SEAL, content_digest, json_kind, sealed, strict_dumps, unsealed


def test_non_finite_numbers_become_null_at_any_depth():
    text = strict_dumps({"rmse": 0.5, "fmr": math.nan, "scores": [1.0, math.inf, {"div": -math.inf}],
                         "pair": (np.float64("nan"), 2), "file": Path("a/b")})
    assert strict_loads(text) == {"rmse": 0.5, "fmr": None, "scores": [1.0, None, {"div": None}],
                                   "pair": [None, 2], "file": "a/b"}
    assert strict_loads(strict_dumps([0.25], indent=1)) == [0.25]


def test_a_json_file_read_back_is_parsed_or_named_in_one_error(tmp_path):
    from whyrec.errors import DataError
    from whyrec.strict_json import read_json_file

    (tmp_path / "ok.json").write_text('{"a": null}', encoding="utf-8")
    assert read_json_file(tmp_path / "ok.json", DataError, "unused") == {"a": None}
    with pytest.raises(DataError, match="^nothing here$"):
        read_json_file(tmp_path / "none.json", DataError, "nothing here")
    (tmp_path / "bad.json").write_text('{"a":\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"bad.json: not readable JSON \(Expecting value: line 2 column 1"):
        read_json_file(tmp_path / "bad.json", DataError, "unused")


@pytest.mark.parametrize("text, named", [('{"a": 1}', "a JSON object"), ("[1]", "a JSON array"),
                                         ('"x"', "a JSON string"), ("7", "a JSON number"), ("7.5", "a JSON number"),
                                         ("NaN", "a JSON number"), ("true", "JSON true"), ("false", "JSON false"),
                                         ("null", "JSON null")])
def test_json_kind_names_a_decoded_value_as_json_does(text, named):
    import json

    assert json_kind(json.loads(text)) == named


def test_json_kind_names_what_json_cannot_hold_by_its_python_type():
    assert json_kind((1, 2)) == "a Python tuple" and json_kind({1}) == "a Python set"


def test_a_content_digest_is_of_the_values_not_of_their_spacing_or_key_order():
    import json

    value = {"b": [1, 2.5, None], "a": {"lr": 0.01, "best": math.inf}, "c": "x"}
    digest = content_digest(value)
    assert len(digest) == 64 and int(digest, 16) >= 0
    reread = json.loads(json.dumps(value, indent=3))  # as written (inf as Infinity) and read back
    reordered = {"c": "x", "a": {"best": math.inf, "lr": 0.01}, "b": [1, 2.5, None]}
    assert content_digest(reread) == content_digest(reordered)
    assert content_digest(reread) == digest
    for changed in ({**value, "c": "y"}, {**value, "a": {"lr": "0.01", "best": math.inf}}, {**value, "b": [2, 1, None]},
                    {**value, "d": None}):
        assert content_digest(changed) != digest, changed


def test_a_sealed_file_reads_back_whole_and_is_refused_once_a_value_changed():
    import json

    data = {"rating": [{"system": "MT", "mse": np.float64(0.5), "p": math.nan}], "split": Path("toys/1")}
    text = strict_dumps(sealed(data), indent=1)  # NaN as null, a path as its text
    read = json.loads(text)
    assert set(read) == {"rating", "split", SEAL}
    assert unsealed(read) == {"rating": [{"system": "MT", "mse": 0.5, "p": None}], "split": "toys/1"}
    for path, value in ((("split",), "toys/2"), (("rating", 0, "mse"), "0.5"), (("rating", 0, "p"), 0.0)):
        changed = json.loads(text)
        node = changed
        for step in path[:-1]:
            node = node[step]
        node[path[-1]] = value
        assert unsealed(changed) is None, path
    assert unsealed({**data, SEAL: "0" * 64}) is None
    assert unsealed(data) == data  # written before its digest was recorded: read as it is
    own = json.loads(strict_dumps(sealed(data, "own")))  # another key: the default one is none of its business
    assert unsealed(own, "own") == unsealed(read) and unsealed(own) == own
