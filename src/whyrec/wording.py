"""The small pieces of the sentences whyrec prints: a count with its noun, a value cut short."""

from __future__ import annotations


def counted(n: int, noun: str) -> str:
    """``1 review``, ``2,959 reviews``: ``n`` with thousands separators and ``noun`` in the
    singular for exactly one (every noun whyrec counts takes a plain ``s`` in the plural)."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def shortened(text: str, limit: int = 40) -> str:
    """``text`` itself when it has at most ``limit`` characters, else its first ``limit - 1``
    and an ellipsis (so the result never exceeds ``limit``)."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    return text if len(text) <= limit else text[:limit - 1] + "…"
