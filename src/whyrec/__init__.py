"""whyrec: explainable recommendation whose explanations agree with its predictions."""

__version__ = "0.1.0"
