"""The shapes of the service's answers, for its OpenAPI schema (``/openapi.json``, ``/docs``).

The routes build plain dicts, and these models are attached as documentation only
(``responses=``), so answering costs no validation; the tests validate real answers against
them (unknown fields refused), so the documented contract cannot drift from what is served.
A field marked optional is left out of an answer that has nothing for it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Error(_Answer):
    error: str = Field(description="What was wrong, in a sentence.")


class Explanation(_Answer):
    explainer: str = Field(description="user, item or pair (MT-U/I/P), peter or peter+.")
    label: str = Field(description="The explainer as shown: MT-U, MT-I, MT-P, PETER, PETER+.")
    text: str = Field(description="The explanation as the metrics read it: space-separated tokens of the "
                      "PETER benchmark's tokenizer (empty when the decoder ended it at once).")
    readable: str = Field(description="The same tokens joined back for reading, as the web page and the command "
                          "line show them: \"i do n't like it ,\" → \"I don't like it,\".")
    features: list[str] = Field(description="The item features the explanation mentions.")
    at_word_limit: bool = Field(description="Whether it has as many words as the system writes at most (its "
                                "max_words): decoding stops there, so it may have been cut mid-sentence. The web "
                                "page and the command line show \" …\" after it.")


class PastRating(_Answer):
    item: str
    title: str | None
    rating: float
    contribution: float = Field(description="Its residual times the two items' similarity under the user's metric.")


class RatingSplit(_Answer):
    """The predicted rating before clipping (``score``) = ``baseline`` + the ``because`` contributions
    + ``other_ratings`` + ``rest`` (whyrec.rating.attribution)."""

    baseline: float = Field(description="The item's baseline μ + b_i (see baseline_of).")
    baseline_of: Literal["item", "mean", "none"] = Field(
        "item", description="item: μ + b_i; mean: the mean rating μ (a model without biases, PMF); none: 0.")
    baseline_label: str = Field("item baseline", description="How baseline_of is shown: item baseline, mean rating "
                                                               "or baseline.")
    because: list[PastRating] = Field(description="The user's past ratings that move the prediction most.")
    other_ratings: float = Field(description="The sum of the other past ratings' contributions.")
    n_other: int
    rest: float = Field(description="The text prior's pull and the solver's last-sweep lag.")
    score: float


class RecommendedItem(_Answer):
    item: str
    title: str | None
    predicted_rating: float
    explanations: list[Explanation] | None = Field(None, description="Each chosen explainer's (explainer=all: every one).")
    explanation: str | None = Field(None, description="The first explanation's text.")
    features: list[str] | None = Field(None, description="The features the first explanation mentions.")
    feature_word: str | None = Field(None, description="PETER+: the feature word it was fed.")
    rating_split: RatingSplit | None = None


class Recommendations(_Answer):
    user: str
    bundle: str
    cold_start: bool = Field(description="The bundle has never seen the user.")
    k: int
    items: list[RecommendedItem]
    no_explanation: str | None = Field(None, description="Why an explainer asked for wrote nothing.")
    cold_start_items: str | None = Field(None, description="For a new user: which items these are.")
    did_you_mean: str | None = Field(None, description="For a new user: the known user id most like the one "
                                     "asked for, when one is close (a likely typo); else null.")


class ExplainAnswer(_Answer):
    user: str
    item: str
    bundle: str
    cold_start: bool
    predicted_rating: float
    title: str | None
    explainer: str | None = Field(None, description="The first chosen explainer.")
    explanations: list[Explanation] | None = None
    explanation: str | None = None
    features: list[str] | None = None
    feature_word: str | None = Field(None, description="PETER+: the feature word it was fed.")
    no_explanation: str | None = Field(None, description="Why an explainer asked for wrote nothing.")
    did_you_mean: str | None = Field(None, description="For a new user: the known user id most like the one "
                                     "asked for, when one is close (a likely typo); else null.")
    rating_split: RatingSplit | None = None


class PairError(_Answer):
    user: str
    item: str
    error: str = Field(description="Why the pair has no answer (an item the bundle does not know), as /explain's 404 says it.")


class ExplainBatchAnswer(_Answer):
    bundle: str
    answers: list[ExplainAnswer | PairError] = Field(description="One per pair asked for, in order.")


class HistoryEntry(_Answer):
    item: str
    title: str | None
    rating: float


class History(_Answer):
    user: str
    known: bool
    history: list[HistoryEntry] | None = Field(description="null: a rating bundle served without its data.")
    did_you_mean: str | None = Field(None, description="For a user the bundle does not know: the known user id "
                                     "most like it, when one is close; else null.")


class ExplainerInfo(_Answer):
    id: str
    label: str


class MadeBy(_Answer):
    command: str | None = Field(description="The command that saved the bundle: `whyrec train ...` or "
                                "`whyrec align ...`.")
    date: str | None = Field(description="When, in UTC (ISO 8601).")
    whyrec_commit: str | None = Field(description="The git commit whyrec ran from, +changes if its checkout differed.")
    data_sha256: str | None = Field(description="The SHA-256 of the review file it was trained (aligned) on.")


class BundleInfo(_Answer):
    name: str
    users: int
    items: int
    explainers: list[ExplainerInfo]
    kind: str = Field(description="mt, peter, or a rating model's class name.")
    history: bool = Field(description="Whether the bundle knows its users' past ratings.")
    rating_scale: list[float]
    feature_words: list[str] = Field(description="The words PETER+ can be asked to write about (feature_word).")
    max_words: int | None = Field(description="The most words its explanations have, so the most min_words "
                                  "can ask for (its setting max_words); null: a rating bundle.")
    trained_on: str | None = Field(description="MT, PETER: the name of the data it was trained on.")
    aligned: list[str] = Field(description="The alignments run on it since training, oldest first: \"MMI(rating)\".")
    made_by: MadeBy | None = Field(description="How the bundle was made (its run.json); null when it has none.")


class UserMatch(_Answer):
    user: str
    reviews: int | None = Field(description="null: a rating bundle served without its data.")
    similar: bool | None = Field(None, description="true: no user id holds the query, and this one is close "
                                 "to it (the answer lists only such ids).")


class ItemMatch(_Answer):
    item: str
    title: str | None = Field(description="null: the bundle knows no title for it.")
    ratings: int | None = Field(description="Its ratings in the train part; null: a rating bundle served without "
                                "its data.")
    similar: bool | None = Field(None, description="true: no item id or title holds the query, and this id is "
                                 "close to it (the answer lists only such ids).")


class Health(_Answer):
    status: str
    version: str
    bundles: list[str]


class RouteLatency(_Answer):
    requests: int
    errors: int
    seconds: float = Field(description="Time spent answering them, in all.")
    histogram: dict[str, int] = Field(description="Requests answered within each bound (seconds, and \"+Inf\"), "
                                      "cumulative as Prometheus' `le` buckets, since the start.")
    latency_ms: dict[str, float] = Field(description="p50, p95 and p99 over the last 10,000 requests of each worker.")


class CacheCount(_Answer):
    hits: int
    misses: int
    entries: int = Field(description="What the cache holds now, every worker's together (each worker has its own; "
                         "another worker's as it last took a request).")


class BatchCount(_Answer):
    batches: int
    requests: int


class GarbageCollector(_Answer):
    frozen_objects: int = Field(description="Objects moved out of the collector's reach at startup.")
    collections: list[int] = Field(description="Collections run so far, per generation (0, 1, 2), by the process "
                                   "that answered.")


class WorkerCount(_Answer):
    number: int
    pid: int = Field(description="The worker's process (the latest, if one was replaced); 0 before it started.")
    requests: int = Field(description="Requests it answered, every route together.")
    in_flight: int = Field(description="Requests for recommendations or explanations it is answering now.")
    connections: int = Field(description="Connections it held when it last took a request (the answering "
                             "worker: those it holds now).")
    balanced: int = Field(description="Connections it closed after an answer (`Connection: close`) while it held "
                          "two or more connections more than another worker, so that the client's next one may "
                          "go to another (`whyrec serve --workers N`; not with --no-balance).")


class Worker(_Answer):
    pid: int = Field(description="The process that answered.")
    number: int = Field(description="Its worker number, from 0.")
    workers: int = Field(description="Server processes sharing the port (`whyrec serve --workers`). Every count "
                         "of this answer but `garbage_collector` is theirs together.")
    max_in_flight: int = Field(description="The most requests for answers each worker takes at once (`whyrec serve "
                               "--max-in-flight`; 0: no limit); past it, a 503, counted under the route `busy`.")
    per_worker: list[WorkerCount]


class Metrics(_Answer):
    worker: Worker
    routes: dict[str, RouteLatency]
    explanation_cache: dict[str, CacheCount]
    score_cache: dict[str, CacheCount]
    explanation_batches: dict[str, BatchCount]
    score_batches: dict[str, BatchCount] = Field(description="Passes scoring every item for the users of queued "
                                                 "requests (`batches`), and the requests they answered.")
    garbage_collector: GarbageCollector
