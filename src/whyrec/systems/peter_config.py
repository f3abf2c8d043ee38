"""PETER's hyper-parameters (:class:`PeterConfig`), each also a keyword argument of
:class:`whyrec.systems.peter.Peter`. Kept apart from the model, without torch, so that the command
line checks a setting (``--param emsize=30 --param heads=4``) before loading the libraries that train."""

from __future__ import annotations

from dataclasses import dataclass

from whyrec.errors import ConfigError
from whyrec.settings import Rule, above, at_least, check_settings, config_from_dict, fraction


@dataclass
class PeterConfig:
    use_feature: bool = False  # PETER+ when True
    emsize: int = 128
    heads: int = 2
    ffn: int = 512
    layers: int = 2
    dropout: float = 0.2
    max_words: int = 15
    vocab_size: int = 20000
    batch_size: int = 128
    epochs: int = 30
    lr: float = 1.0
    clip: float = 1.0
    anneal: float = 0.25
    patience: int = 5
    text_reg: float = 1.0
    context_reg: float = 1.0
    rating_reg: float = 0.1
    seed: int = 1111
    device: str = "cpu"

    def __post_init__(self) -> None:
        check_settings(self, "PETER", _PETER_RULES)
        if self.emsize % self.heads:
            raise ConfigError(f"PETER: emsize ({self.emsize}) must be a multiple of heads ({self.heads})")

    @classmethod
    def from_dict(cls, values: dict) -> "PeterConfig":
        return config_from_dict(cls, "PETER", values)


_PETER_RULES = {
    **{name: at_least(1) for name in ("emsize", "heads", "ffn", "layers", "max_words", "batch_size", "epochs")},
    # patience: validation epochs without improvement before stopping; 0 never stops early, as MT's
    **{name: at_least(0) for name in ("text_reg", "context_reg", "rating_reg", "patience")},
    **{name: above(0) for name in ("lr", "clip")},
    "anneal": Rule(lambda v: 0 < v <= 1, "in (0, 1]"),
    "vocab_size": at_least(5),  # four special tokens and a word
    "dropout": fraction(),
}
