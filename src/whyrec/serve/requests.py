"""The JSON bodies the service reads (``POST /explain``, ``POST /explain/batch``) and the decoding
settings of a request, validated by pydantic: unknown keys refused, ids stripped as the data
readers strip them (and a whole number read as the text they keep), and the limits (``MAX_ID``,
``MAX_PAIRS``, ``MAX_BEAM``) that bound what one request may cost."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import HTTPException
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema, field_validator

from whyrec.errors import ConfigError
from whyrec.explain.decoding import Decoding
from whyrec.explanations import check_decoding, explainer_asked, refuse_rating_model
from whyrec.ids import as_id, is_whole_number, stripped_id
from whyrec.serve.systems import ServedSystem

MAX_ID = 200  # characters of a user or item id
MAX_PAIRS = 100  # (user, item) pairs of one /explain/batch request
MAX_BEAM = 16  # beam search hypotheses per pair: 100 pairs hold 1,600 decoder rows

# what the OpenAPI schema says an id may be: the text, or the whole number a client's data holds
# (the validator below reads 7 and 7.0 as "7"), so a client generated from /openapi.json may send either
_ID_SCHEMA = {"anyOf": [{"type": "string", "minLength": 1, "maxLength": MAX_ID}, {"type": "integer"}],
              "description": "the id as the data names it; a whole number is read as its digits (7 is \"7\")"}
Id = Annotated[str, Field(min_length=1, max_length=MAX_ID), WithJsonSchema(_ID_SCHEMA)]
# an explainer by its name or by its label in the answers, in any case ("MT-P" is "pair": explainer_asked)
Explainer = Annotated[str | None, Field(max_length=16), AfterValidator(explainer_asked)]


class PairRequest(BaseModel):
    # ids are stripped, as the data readers strip them (whyrec.ids.stripped_id), so " u1" and
    # "u1\u200b" are the user "u1", and " " is empty; a whole number is the id the readers make of it
    # (whyrec.ids.as_id), so {"user": 7} and {"user": 7.0} are the user "7", as the Python API reads them
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    user: Id
    item: Id

    @field_validator("user", "item", mode="before")
    @classmethod
    def _stripped(cls, value: object) -> object:
        if isinstance(value, str):
            return stripped_id(value)
        if is_whole_number(value):
            return as_id(value)
        return value  # anything else (true, 7.5, a list): refused as not text


class DecodingRequest(BaseModel):
    """How the explanations are decoded (whyrec.explain.decoding.Decoding): greedy unless asked;
    sample with temperature, top_k, top_p and seed; beam with beam and length_penalty; any of
    them with min_words, the fewest words an explanation may have. A setting of another method
    than the one asked for is refused (422), as is min_words above the system's max_words."""

    model_config = ConfigDict(extra="forbid")
    # the ranges are Decoding's, checked there with its messages; the service bounds the beam's cost
    method: Literal["greedy", "sample", "beam"] = "greedy"
    temperature: float | None = None
    top_k: int | None = None
    top_p: float | None = None
    seed: int | None = None
    beam: int | None = Field(default=None, le=MAX_BEAM)
    length_penalty: float | None = None
    min_words: int | None = None

    def checked(self, served: ServedSystem, given: bool = True) -> Decoding:
        """The :class:`Decoding` asked for, checked on ``served``; ``given``: asked for in the request
        (not the default), then refused for a rating bundle, which writes nothing to decode."""
        settings = {k: v for k, v in self.model_dump(exclude={"method"}).items() if v is not None}
        try:
            if given:  # refused for a rating bundle before its settings are read, as the CLI refuses --method
                refuse_rating_model(served.model, "a decoding chooses", f"bundle '{served.name}'")
            decoding = Decoding.of(self.method, settings)
            if served.explainers:  # its min_words within the system's max_words
                check_decoding(served.model, decoding)
            return decoding
        except ConfigError as exc:
            raise HTTPException(422, str(exc)) from None


class ExplainRequest(PairRequest):
    explainer: Explainer = None
    bundle: str | None = Field(default=None, max_length=MAX_ID)
    # PETER+ only: the feature word its explanation is to be about (default: the item's own)
    feature_word: str | None = Field(default=None, min_length=1, max_length=MAX_ID)
    decoding: DecodingRequest | None = None


class ExplainBatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    pairs: list[PairRequest] = Field(min_length=1, max_length=MAX_PAIRS)
    explainer: Explainer = None
    bundle: str | None = Field(default=None, max_length=MAX_ID)
    feature_word: str | None = Field(default=None, min_length=1, max_length=MAX_ID)  # PETER+: for every pair
    decoding: DecodingRequest | None = None  # for every pair
