"""The small pieces of the sentences whyrec prints: a count with its noun, alternatives listed, a
value cut short, a rating on its scale."""

from __future__ import annotations


def counted(n: int, noun: str) -> str:
    """``1 review``, ``2,959 reviews``: ``n`` with thousands separators and ``noun`` in the
    singular for exactly one (every noun whyrec counts takes a plain ``s`` in the plural)."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def usr_text(usr: float, records: int) -> str:
    """``USR 0.010 (3 distinct sentences)``: the unique sentence ratio (distinct explanations over
    the ``records`` explained) beside the count it stands for, which says more of a system that
    writes one sentence for all than a ratio near zero."""
    return f"USR {usr:.3f} ({counted(round(usr * records), 'distinct sentence')})"


def listed(names: list[str]) -> str:
    """``a``, ``a or b``, ``a, b or c``: alternatives as a sentence names them."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


# The names a setting goes by elsewhere in the field's code (PETER's command-line flags, PyTorch's
# module arguments, the usual matrix-factorisation libraries'), each listed under whyrec's name for
# it: what a user coming from that code types, told whyrec's name though no spelling is close.
SETTING_SYNONYMS: dict[str, tuple[str, ...]] = {
    "word_dim": ("embedding_dim", "emb_dim", "embed_dim", "embedding_size", "emb_size", "emsize", "word_emb_dim"),
    "emsize": ("embedding_dim", "emb_dim", "embed_dim", "embedding_size", "emb_size", "d_model", "word_dim"),
    "heads": ("nhead", "n_heads", "num_heads", "attention_heads"),
    "ffn": ("nhid", "dim_feedforward", "ffn_dim", "d_ff", "feedforward_dim"),
    "layers": ("nlayers", "num_layers", "n_layers"),
    "encoder_hidden": ("hidden", "hidden_size", "hidden_dim", "rnn_size", "nhid"),
    "decoder_hidden": ("hidden", "hidden_size", "hidden_dim", "rnn_size", "nhid"),
    "factors": ("k", "rank", "latent_dim", "n_factors", "num_factors", "embedding_dim", "dim"),
    "patience": ("endure_times", "early_stopping", "early_stop", "early_stopping_patience"),
    "max_words": ("words", "max_len", "max_length", "seq_len", "seq_max_len"),
    "lr": ("learning_rate",),
    "epochs": ("n_epochs", "num_epochs", "max_epochs", "iterations", "n_iter", "max_iter", "iters"),
    "iterations": ("epochs", "n_epochs", "num_epochs", "n_iter", "max_iter", "iters", "sweeps"),
    "als_sweeps": ("iterations", "n_iter", "sweeps", "als_iterations"),
    "batch_size": ("bs", "batch", "batchsize"),
    "seed": ("random_state", "random_seed"),
    "dropout": ("dropout_rate", "drop_rate", "dropout_prob"),
    "rollouts": ("rollout_num", "n_rollouts", "num_rollouts", "mc_rollouts"),
    "vocab_size": ("vocab", "max_vocab", "vocabulary_size", "ntokens"),
    "clip": ("grad_clip", "clip_norm", "max_grad_norm"),
    "lambda_u": ("reg", "regularization", "regularisation", "reg_user", "user_reg", "reg_u"),
    "lambda_v": ("reg", "regularization", "regularisation", "reg_item", "item_reg", "reg_i"),
    "reg": ("regularization", "regularisation", "weight_decay", "l2", "lambda_u", "lambda_v"),
    "reg_user": ("lambda_u", "user_reg", "reg_u"),
    "reg_item": ("lambda_v", "item_reg", "reg_i"),
    "samples": ("k", "num_samples", "n_samples"),
}
# The names a model goes by in the libraries and papers a user comes from (Surprise's SVD and
# BaselineOnly, implicit's ALS, PETER's code), under whyrec's name for it, as for settings above.
MODEL_SYNONYMS: dict[str, tuple[str, ...]] = {
    "context-als": ("als", "alternating-least-squares"),
    "biased-mf": ("mf", "svd", "funk-svd", "funksvd", "matrix-factorization", "matrix-factorisation"),
    "bias-baseline": ("baseline", "baselineonly", "baseline-only", "biases"),
    "global-average": ("mean", "average", "global-mean"),
    "peter+": ("peter-plus", "peterplus"),
    "mt": ("multitask", "multi-task", "mt-u", "mt-i", "mt-p"),
}
_NAMES_FOR: dict[str, tuple[str, ...]] = {}
for _name, _others in (*SETTING_SYNONYMS.items(), *MODEL_SYNONYMS.items()):
    for _other in _others:
        _NAMES_FOR[_other] = (*_NAMES_FOR.get(_other, ()), _name)


def known_as(name: str, known) -> list[str]:
    """The names of ``known`` that ``name`` goes by elsewhere (:data:`SETTING_SYNONYMS`,
    :data:`MODEL_SYNONYMS`), in their order:
    ``known_as("nhead", PETER's settings)`` is ``["heads"]``; none when it is no such name."""
    return [known_name for known_name in _NAMES_FOR.get(name.lower(), ()) if known_name in known]


def closest_names(name: str, known: list[str]) -> list[str]:
    """The ``known`` names a mistyped ``name`` may have meant: those it goes by elsewhere
    (:func:`known_as`), else the closest by difflib's ratio (at least 0.6, any case; those tied
    for closest, up to three, as none of them is likelier), else none."""
    import difflib

    name = str(name)  # a name given as another type (5) is compared as it is written
    elsewhere = known_as(name, known)
    if elsewhere:
        return elsewhere
    scored = [(difflib.SequenceMatcher(None, name.lower(), k.lower()).ratio(), k) for k in known]  # told as spelled
    best = max((ratio for ratio, _ in scored), default=0.0)
    return [k for ratio, k in scored if ratio == best][:3] if best >= 0.6 else []


def did_you_mean(name: str, known: list[str]) -> str:
    """`` (did you mean 'keep-all'?)`` after a refused ``name`` when one of ``known`` is close to it
    (:func:`closest_names`), else nothing: ``f"… not '{name}'{did_you_mean(name, known)}"``."""
    close = closest_names(name, known)
    return f" (did you mean {listed([repr(c) for c in close])}?)" if close else ""


def unknown_names(what: str, unknown: set[str] | list[str], known: list[str]) -> str:
    """What a mistyped name is told: ``unknown setting(s) ['epoch'] (did you mean 'epochs'?); known:
    a, b, …``, each unknown name followed by the known names it goes by elsewhere
    (:data:`SETTING_SYNONYMS`: ``nhead`` → ``heads``; ``hidden`` → ``encoder_hidden`` or
    ``decoder_hidden``), else by the known one closest to it (difflib's ratio ≥ 0.6), when there is
    one. ``what``: the kind of name, as in ``unknown {what}(s)``."""
    names = sorted(unknown)
    close = {name: closest_names(name, known) for name in names}
    joined = {name: (" or " if len(names) == 1 else "/").join(f"'{c}'" for c in close[name]) for name in names}
    guesses = [joined[name] if len(names) == 1 else f"{joined[name]} for '{name}'" for name in names if close[name]]
    hint = f" (did you mean {listed(guesses)}?)" if guesses else ""
    return f"unknown {what}(s) {names}{hint}; known: {', '.join(known)}"


def shown(value, spec: str, missing: str = "—") -> str:
    """``format(value, spec)`` for a report's cell, or ``missing`` for a number not there: None (how
    strict JSON writes a NaN, :mod:`whyrec.strict_json`, so a report read back shows it alike) or NaN."""
    if value is None or value != value:  # NaN, whatever its float type (numpy's float32 too)
        return missing
    return format(value, spec)


def shortened(text: str, limit: int = 40) -> str:
    """``text`` itself when it has at most ``limit`` characters, else its first ``limit - 1``
    and an ellipsis (so the result never exceeds ``limit``)."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    return text if len(text) <= limit else text[:limit - 1] + "…"


def columns_shown(columns, most: int = 12, width: int = 40) -> str:
    """A file's column names as an error lists them: ``['user', 'item', …]``, each cut to ``width``
    characters (:func:`shortened`) and at most ``most`` of them, with how many there are in all.
    A wide table, or a file that is not a table (its whole first line read as one name), would
    otherwise fill the screen."""
    names = [shortened(str(name), width) for name in columns]
    if len(names) <= most:
        return repr(names)
    return f"{repr(names[:most])[:-1]}, …] ({len(names):,} in all)"


def rating_text(rating: float, top: float | None = None, decimals: int | None = None) -> str:
    """A rating as whyrec prints it: ``4.20★`` on a scale up to 5 (or when the scale is not known),
    ``8.4/10`` on another, so that a 7 of 10 is not read as seven stars (the web page writes
    ratings the same way). ``decimals``: a predicted rating's fixed places; a given rating as it is."""
    value = f"{rating:.{decimals}f}" if decimals is not None else f"{rating:g}"
    return f"{value}★" if top is None or float(top) == 5.0 else f"{value}/{float(top):g}"


def differences(then: dict, now: dict, where: str, most: int = 3) -> str:
    """The names whose values differ between ``then`` (what ``where`` holds: "in the checkpoint")
    and ``now``, sorted, the first ``most`` with both values: "lr: 0.003 in the checkpoint, 0.01
    now; vocabulary: 3 entries in the checkpoint, 2 entries now; and 2 more". "" when none
    differ. A name one side lacks is "unset" there; a list is told by its length."""
    unset = object()
    differing = [name for name in sorted(set(then) | set(now)) if then.get(name, unset) != now.get(name, unset)]

    def described(value) -> str:
        if value is unset:
            return "unset"
        if isinstance(value, (list, tuple)):
            return f"{len(value):,} entries"
        return shortened(repr(value), 40)

    said = [f"{name}: {described(then.get(name, unset))} {where}, {described(now.get(name, unset))} now"
            for name in differing[:most]]
    return "; ".join(said) + (f"; and {len(differing) - most} more" if len(differing) > most else "")
