"""How an explainer decodes when it is asked for explanations: the method and its settings
(:class:`Decoding`), and the truncation of the next-word distribution that sampling draws from
(:func:`truncated_logits`).

Greedy decoding takes the likeliest word at every step; sampling draws it from the decoder's
distribution, sharpened by a temperature and cut to the ``top_k`` likeliest words and/or to the
nucleus of ``top_p`` of the probability mass; beam search keeps the ``beam`` best partial
explanations by their summed log-probability. Training (teacher forcing, REINFORCE, rollouts)
samples from the whole distribution at temperature 1, which these defaults are.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

from whyrec.errors import ConfigError
from whyrec.settings import Rule, at_least, check_settings, config_from_dict, from_to, one_of

if TYPE_CHECKING:  # torch is imported where it is used, so that the command line starts without it
    import torch

METHODS = ("greedy", "sample", "beam")
# the settings each method reads; the others must keep their defaults
_SETTINGS_OF = {"greedy": (), "sample": ("temperature", "top_k", "top_p", "seed"),
                "beam": ("beam", "length_penalty")}
_EVERY_METHOD = ("min_words",)  # settings every method reads
# the widest beam: a pair's beam holds that many decoder rows, each with a vocabulary-wide score row
# at every step, so a width of 10⁵ took 12 GB and minutes for one pair; wider beams than a few dozen
# also write worse text (they favour short, generic sentences: Koehn & Knowles, "Six Challenges for
# Neural Machine Translation", 2017)
WIDEST_BEAM = 64


@dataclass(frozen=True)
class Decoding:
    """A decoding method and its settings, checked when made.

    ``temperature`` (0.01 to 100), ``top_k`` (0: every word) and ``top_p`` (in (0, 1]) shape the
    distribution ``sample`` draws from (:func:`truncated_logits`); ``seed`` gives each (user,
    item) pair a stream of draws of its own (:mod:`whyrec.explain.pair_draws`), so that a pair
    gets the same explanation again, whatever else is asked with it (None: the model's own
    stream). ``beam`` hypotheses (1 to :data:`WIDEST_BEAM`) are kept by beam search, whose final
    choice divides each hypothesis's summed log-probability by ``length ** length_penalty``.
    ``min_words``, of every method, holds ``<eos>`` back until an explanation has that many words
    (0: none; a small decoder's beam search otherwise often prefers the empty explanation). A
    setting of another method than the one chosen is refused rather than silently ignored."""

    method: str = "greedy"
    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 1.0
    seed: int | None = None
    beam: int = 4
    length_penalty: float = 0.0
    min_words: int = 0

    def __post_init__(self) -> None:
        check_settings(self, "decoding", _RULES)
        defaults = Decoding.__dataclass_fields__
        foreign = [f.name for f in dataclasses.fields(self)
                   if f.name not in ("method", *_EVERY_METHOD) and f.name not in _SETTINGS_OF[self.method]
                   and getattr(self, f.name) != defaults[f.name].default]
        if foreign:
            readers = [m for m in METHODS if foreign[0] in _SETTINGS_OF[m]]
            raise ConfigError(f"decoding: {foreign[0]} is a setting of {readers[0]} decoding, not of "
                              f"{self.method}; choose method {readers[0]} to set it")

    @classmethod
    def of(cls, method: str = "greedy", settings: dict | None = None) -> "Decoding":
        """``method`` with ``settings`` (NAME → value, as ``--decode NAME=VALUE`` gives them); an
        unknown name is refused with the known ones."""
        settings = dict(settings or {})
        if "method" in settings:
            raise ConfigError("decoding: give the method with --method, not as a setting")
        return config_from_dict(cls, "decoding", {"method": method, **settings})

    def draws(self, users: Sequence[str], items: Sequence[str]):
        """With a ``seed``, the pairs' own streams of draws
        (:class:`whyrec.explain.pair_draws.PairDraws`), else None (the model's own stream)."""
        from whyrec.explain.pair_draws import PairDraws

        return None if self.seed is None else PairDraws.of(self.seed, users, items)

    def arguments(self, users: Sequence[str], items: Sequence[str], **given) -> dict:
        """The keyword arguments of an explainer's ``explain`` (MT's, PETER's) that decode the
        (user, item) pairs as this says: the method, its settings, and with a ``seed`` the pairs'
        streams of draws. ``given``: the same arguments as the caller also passed them, refused
        unless left at their defaults (they would be ignored)."""
        changed = [name for name, value in given.items()
                   if ((value is not None) if name == "generator" else value != _ARGUMENT_DEFAULTS[name])]
        if changed:
            raise ConfigError(f"decoding: {changed[0]} is given beside a Decoding, which says how to decode; "
                              "set it in the Decoding (a generator: as its seed)")
        return {"method": self.method, "temperature": self.temperature, "top_k": self.top_k, "top_p": self.top_p,
                "generator": self.draws(users, items), "beam": self.beam, "length_penalty": self.length_penalty,
                "min_words": self.min_words}

    def describe(self) -> str:
        """The method with the settings that differ from their defaults (and the beam's width):
        "beam search (beam 4, length_penalty 1)", "sampling (temperature 0.7, top_p 0.9, seed 3)",
        "greedy search"."""
        defaults = Decoding.__dataclass_fields__
        changed = [f"{name} {getattr(self, name):g}" for name in (*_SETTINGS_OF[self.method], *_EVERY_METHOD)
                   if getattr(self, name) != defaults[name].default or name == "beam"]  # the width always
        kind = {"greedy": "greedy search", "sample": "sampling", "beam": "beam search"}[self.method]
        return kind + (f" ({', '.join(changed)})" if changed else "")


_RULES = {
    "method": one_of(*METHODS),
    # below 0.01 the logits divided by it can overflow to inf, and sampling is greedy in all but name; above
    # 100 it is uniform in all but name, and past float32's range (3.4e38) it made NaN probabilities
    "temperature": Rule(lambda v: 0.01 <= v <= 100, "from 0.01 to 100"),
    "top_k": at_least(0),
    "top_p": Rule(lambda v: 0 < v <= 1, "in (0, 1]"),
    "seed": Rule(lambda v: 0 <= v < 2**63, "in 0 .. 2^63 − 1"),  # a non-negative 64-bit integer
    "beam": from_to(1, WIDEST_BEAM),
    "length_penalty": at_least(0),
    "min_words": at_least(0),
}


# the decoding arguments of the explainers' explain, at their defaults (generator: None)
_ARGUMENT_DEFAULTS = {name: Decoding.__dataclass_fields__[name].default
                      for name in ("temperature", "top_k", "top_p", "beam", "length_penalty", "min_words")}


def pairs_per_batch(method: str, beam: int, batch_size: int) -> int:
    """How many pairs an explainer decodes at once: ``batch_size``, or for beam search wider than
    the default 4 hypotheses fewer, so that a batch holds no more decoder rows (pairs × beam)
    than ``batch_size`` pairs do at the default width."""
    default = _ARGUMENT_DEFAULTS["beam"]
    if method != "beam" or beam <= default:
        return batch_size
    return max(1, batch_size * default // beam)


def check_min_words(min_words: int, max_words: int, system: str) -> None:
    """Refuse ``min_words`` above the ``max_words`` an explainer writes at most."""
    if min_words > max_words:
        raise ConfigError(f"decoding: min_words ({min_words}) is more than the {max_words} words {system} writes at "
                          f"most (its max_words)")


def truncated_logits(logits: torch.Tensor, temperature: float = 1.0, top_k: int = 0,
                     top_p: float = 1.0) -> torch.Tensor:
    """(B, V) next-word logits as sampling draws from them: divided by ``temperature``, then
    every word outside the ``top_k`` likeliest (0: no cut) and outside the nucleus set to −inf.

    Temperature: ``p(w) ∝ exp(z_w / T)`` (Ackley, Hinton & Sejnowski 1985). Top-k: only the k
    words of highest probability (ties with the k-th kept) may be drawn (Fan, Lewis & Dauphin,
    "Hierarchical Neural Story Generation", ACL 2018). Nucleus: the smallest set V⁽ᵖ⁾ of the
    likeliest words with ``Σ_{w ∈ V⁽ᵖ⁾} p(w) ≥ p`` (Holtzman et al., "The Curious Case of Neural
    Text Degeneration", ICLR 2020, Eq. 2), p computed after the temperature and the top-k cut;
    the likeliest word is always kept. Words already at −inf (banned, blocked repeats) stay so.
    Sampling then draws from ``softmax`` of the result, the kept words' probabilities
    renormalised."""
    logits = logits / temperature if temperature != 1.0 else logits
    if top_k > 0 and top_k < logits.shape[-1]:
        kth = logits.topk(top_k, dim=-1).values[..., -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p < 1.0:
        logits = logits.masked_fill(~nucleus(logits, top_p), float("-inf"))
    return logits


NUCLEUS_CANDIDATES = 256  # words ranked first; a row whose nucleus is larger is sorted whole


def nucleus(logits: torch.Tensor, top_p: float) -> torch.Tensor:
    """(B, V) bool: the words of each row's nucleus (:func:`truncated_logits`). A word is outside it
    when the words likelier than it already hold ``top_p``. Only the ``NUCLEUS_CANDIDATES``
    likeliest words are ranked (``topk``, far cheaper than sorting a vocabulary at every step);
    the rows whose nucleus does not fit in them are ranked whole, so the result is exact."""
    import torch

    probs = logits.softmax(dim=-1)
    keep = torch.zeros_like(logits, dtype=torch.bool)
    candidates = min(NUCLEUS_CANDIDATES, logits.shape[-1])
    top, order = probs.topk(candidates, dim=-1)
    keep.scatter_(-1, order, _inside(top, top_p))
    wider = top.sum(dim=-1) < top_p  # the candidates hold less than p: the nucleus reaches beyond them
    if candidates < logits.shape[-1] and wider.any():
        ordered, whole = probs[wider].sort(dim=-1, descending=True)
        keep[wider] = torch.zeros_like(ordered, dtype=torch.bool).scatter_(-1, whole, _inside(ordered, top_p))
    return keep


def _inside(ordered: torch.Tensor, top_p: float) -> torch.Tensor:
    """For probabilities in descending order: which lie in the nucleus (the likeliest always does)."""
    inside = ordered.cumsum(dim=-1) - ordered < top_p
    inside[..., 0] = True
    return inside
