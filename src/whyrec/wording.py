"""The small pieces of the sentences whyrec prints: a count with its noun, alternatives listed, a
value cut short, a rating on its scale."""

from __future__ import annotations


def counted(n: int, noun: str) -> str:
    """``1 review``, ``2,959 reviews``: ``n`` with thousands separators and ``noun`` in the
    singular for exactly one (every noun whyrec counts takes a plain ``s`` in the plural)."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def listed(names: list[str]) -> str:
    """``a``, ``a or b``, ``a, b or c``: alternatives as a sentence names them."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def unknown_names(what: str, unknown: set[str] | list[str], known: list[str]) -> str:
    """What a mistyped name is told: ``unknown setting(s) ['epoch'] (did you mean 'epochs'?); known:
    a, b, …``, each unknown name followed by the known one closest to it (difflib's ratio ≥ 0.6), when
    there is one. ``what``: the kind of name, as in ``unknown {what}(s)``."""
    import difflib

    names = sorted(unknown)
    close = {name: difflib.get_close_matches(name.lower(), known, n=1, cutoff=0.6) for name in names}
    guesses = [f"'{close[name][0]}'" if len(names) == 1 else f"'{close[name][0]}' for '{name}'"
               for name in names if close[name]]
    hint = f" (did you mean {listed(guesses)}?)" if guesses else ""
    return f"unknown {what}(s) {names}{hint}; known: {', '.join(known)}"


def shortened(text: str, limit: int = 40) -> str:
    """``text`` itself when it has at most ``limit`` characters, else its first ``limit - 1``
    and an ellipsis (so the result never exceeds ``limit``)."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    return text if len(text) <= limit else text[:limit - 1] + "…"


def rating_text(rating: float, top: float | None = None, decimals: int | None = None) -> str:
    """A rating as whyrec prints it: ``4.20★`` on a scale up to 5 (or when the scale is not known),
    ``8.4/10`` on another, so that a 7 of 10 is not read as seven stars (the web page writes
    ratings the same way). ``decimals``: a predicted rating's fixed places; a given rating as it is."""
    value = f"{rating:.{decimals}f}" if decimals is not None else f"{rating:g}"
    return f"{value}★" if top is None or float(top) == 5.0 else f"{value}/{float(top):g}"
