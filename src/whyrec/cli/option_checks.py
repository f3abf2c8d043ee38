"""Options read and checked before any work: ``NAME=VALUE`` settings, options that only steer
another, decoding settings, MT and PETER settings, and outputs that would overwrite the input
data or a bundle, or could not be written; the path a proxy serves the service under."""

from __future__ import annotations

import math
import os
from pathlib import Path


def parse_pairs(pairs: list[str] | None, what: str) -> dict:
    """Repeated ``--param NAME=VALUE`` options as a dict (:func:`whyrec.settings.parse_assignments`).

    The commands that take settings (train, experiment mt, align) accept them as ``--param`` or
    ``--set``, either spelling on each, so that one learnt on one command works on the others."""
    from whyrec.settings import parse_assignments

    return parse_assignments(pairs or [], what)


def given_on_command_line(context, *parameters: str) -> list[str]:
    """Which of the command's ``parameters`` (by parameter name, ``min_rating``) were given on the
    command line, as options (``--min-rating``): an option given its default value cannot be told
    from one left out by the value alone. ``context``: the command's ``typer.Context``."""
    return [f"--{name.replace('_', '-')}" for name in parameters
            if getattr(context.get_parameter_source(name), "name", None) == "COMMANDLINE"]


def refuse_unread_data_options(context, *parameters: str, data_is: str = "") -> None:
    """Without ``--data``, refuse those of ``parameters`` (names, ``min_rating``) given on the command
    line: they say how to read it, and would be left unread. ``data_is``: what --data is, in the message."""
    from whyrec.errors import ConfigError

    given = given_on_command_line(context, *parameters)
    if context.params.get("data") is None and given:
        one = len(given) == 1
        raise ConfigError(f"{' and '.join(given)} say{'s' if one else ''} how to read --data{data_is}, which is not "
                          f"given: give --data, or leave {'it' if one else 'them'} out")


def check_given_once(context, settings: dict, options: dict[str, str]) -> None:
    """Refuse a setting given both by ``--set NAME=VALUE`` (``settings``) and, with another value, by
    the command's own option for it (``options``: setting name → the command's parameter name, as
    ``{"max_batches_per_epoch": "batches"}``); without this, ``--set`` silently won. ``context``:
    the command's ``typer.Context``, which knows the options given on the command line."""
    from whyrec.errors import ConfigError

    for name, parameter in options.items():
        if name in settings and given_on_command_line(context, parameter):
            value = context.params[parameter]
            if settings[name] != value:
                raise ConfigError(f"{name} is given twice, as --{parameter.replace('_', '-')} {value} and as "
                                  f"--set {name}={settings[name]}; give it once")


# The most splits one command makes (`data split --count/--kfold`, `experiment rating --kfold`).
# Every split is a folder of index files the size of the data, or a model trained per split; a
# mistyped --count 1000000 had run for minutes, holding every split in memory, before writing one.
MOST_SPLITS = 1000


def check_split_count(option: str, count: int) -> None:
    """Refuse asking ``option`` (``--count``, ``--kfold``) for more than :data:`MOST_SPLITS` splits."""
    from whyrec.errors import ConfigError

    if count > MOST_SPLITS:
        raise ConfigError(f"{option} {count:,} asks for more splits than the {MOST_SPLITS:,} one command makes")


def check_tune_on(tune_on: str | None, models) -> None:
    """Refuse ``--tune-on`` where no model has a grid: it would pick nothing."""
    from whyrec.errors import ConfigError
    from whyrec.rating.tuning import TunedModel

    if tune_on is not None and not any(isinstance(m, TunedModel) for m in models):
        raise ConfigError("--tune-on picks among a setting's several values (NAME=A|B), and no setting has several")


def check_relevant_at(relevant_at: float | None, top_k: int | None, tune_on: str | None = None) -> None:
    """Refuse ``--relevant-at`` where nothing ranks: without ``--top-k`` and without a ranking
    ``--tune-on`` (ndcg@10) it would be left unread."""
    from whyrec.errors import ConfigError

    if relevant_at is not None and not math.isfinite(relevant_at):
        raise ConfigError(f"--relevant-at is a rating on the data's scale, not {relevant_at}")
    if relevant_at is not None and top_k is None and (tune_on or "rmse") in ("rmse", "mae"):
        raise ConfigError("--relevant-at says which test items count as relevant when ranking; give --top-k"
                          + (" or a ranking --tune-on such as ndcg@10" if tune_on is not None else ""))


def mi_encoder(mi: bool, encoder: str | None) -> str | None:
    """The sentence encoder ``--mi`` reads (default minilm), checked; None without ``--mi``, where
    ``--encoder`` is refused rather than left unread."""
    from whyrec.errors import ConfigError

    if not mi:
        if encoder is not None:
            raise ConfigError("--encoder chooses what --mi's estimators read; give --mi too")
        return None
    from whyrec.align.pipeline import check_sentence_encoder

    encoder = encoder or "minilm"
    check_sentence_encoder(encoder)
    return encoder


def check_mi_read(mi: bool, systems: dict) -> None:
    """Refuse ``--mi`` (``evaluate``, ``compare``) where none of ``systems`` (name → loaded system)
    writes explanations: it would estimate nothing and be left unread."""
    from whyrec.errors import ConfigError
    from whyrec.explanations import explainers_of

    if mi and not any(explainers_of(system) for system in systems.values()):
        raise ConfigError(f"--mi estimates what the explanations say of the rating and the feature; "
                          f"{', '.join(systems)} write{'s' if len(systems) == 1 else ''} none (rating models)")


def decoding_of(method: str, settings: list[str] | None):
    """``--method`` and its ``--decode NAME=VALUE`` settings as one checked
    :class:`~whyrec.explain.decoding.Decoding`."""
    from whyrec.explain.decoding import Decoding

    return Decoding.of(method, parse_pairs(settings, "--decode"))


def scored_decoding(method: str | None, settings: list[str] | None):
    """``--method`` and ``--decode`` of a command that scores explanations: None (the plain greedy
    decoding the metrics are defined on) when neither is given; ``--decode`` alone refines greedy
    search, which has no settings, so it is refused naming the method it belongs to."""
    if method is None and not settings:
        return None
    return decoding_of(method or "greedy", settings)


def check_decoding_given(context, model, decoding) -> None:
    """``explain`` and ``recommend``: ``--method``/``--decode``, when given, checked on the loaded
    ``model`` (:func:`whyrec.explanations.check_decoding`): refused for a rating model, which writes
    nothing to decode, and a ``min_words`` above its ``max_words`` refused before any data is read."""
    if given_on_command_line(context, "method", "decode"):
        from whyrec.explanations import check_decoding

        check_decoding(model, decoding)


def checked_mt_config(params: dict):
    """The :class:`~whyrec.systems.mt_config.MTConfig` of ``params``, checked (the config imports
    no torch) and with word vectors this machine can make (GloVe asked for and not installed)."""
    from whyrec.explain.embeddings import check_word_vectors
    from whyrec.systems.mt_config import MTConfig

    config = MTConfig.from_dict(params)
    check_word_vectors(config.word_vectors, config.word_dim)
    return config


def check_text_settings(model: str, params: dict, tuned: bool) -> None:
    """MT's or PETER's settings (``model``: mt, peter or peter+) checked by their configs, which
    import no torch, so that a mistyped one is refused before the libraries that train load; and
    several values of one (``a|b``, ``--tuned``), which only rating models pick among, refused."""
    from whyrec.errors import ConfigError
    from whyrec.settings import is_grid_value

    if tuned or any(is_grid_value(v) for v in params.values()):
        raise ConfigError(f"several values of a setting (a|b, --tuned) are picked on validation for rating models; "
                          f"{model} takes one value each")
    if model == "mt":
        checked_mt_config(params)
    else:
        from whyrec.systems.peter_config import PeterConfig

        PeterConfig.from_dict({**params, "use_feature": model == "peter+"})


def check_out(out: Path, data: Path | None, folder: bool = True, option: str = "--out") -> None:
    """Refuse, before any work, an output that would overwrite or fill the input data: the data
    file itself, or, for a data folder, the folder or anything inside it (its reviews, metadata,
    split folders, and new files among them: a dataset folder stays as it was shipped, and a
    second review-like file would make a folder of one ambiguous). When the data folder holds
    the working folder (``--data .``), only its existing entries are protected: outputs may go
    beside the data there. A folder output (a bundle, results) also refuses a path that is a file,
    and any output one that could not be written (:func:`check_writable`). Missing data is
    refused first, as reading it would: a mistyped path is told in a moment, not after the models
    load."""
    from whyrec.errors import ConfigError, DataError

    if data is not None and not data.exists():
        raise DataError("no such file", path=data)
    target = out.resolve()
    if data is not None:
        source = data.resolve()
        if source.is_dir():
            working = Path.cwd().resolve()
            if source == working or source in working.parents:
                inside = target in {p.resolve() for p in source.iterdir()}
            else:
                inside = source in target.parents
        else:
            inside = False
        if target == source or inside:
            raise ConfigError(f"{option} {out} is {'part of ' if inside else ''}the input data {data}; "
                              "choose another path")
    if folder and target.is_file():
        raise ConfigError(f"{option} {out} is a file; the output is a folder")
    check_writable(out, option)


# the outputs the running command checked before its work, option → path (its default too, which
# the command line does not show): a write error that names no file is told as theirs
CHECKED_OUTPUTS: dict[str, Path] = {}


def check_writable(out: Path, option: str) -> None:
    """Refuse, before any work, an output that could not be written once the work is done: one
    under a path that is a file (``--out notes.txt/run``), or in a folder without write permission.
    What is checked is the folder it is written in (a folder output that exists: itself), or the
    nearest existing folder it would be made in: its permissions, then a file made there and
    removed at once, which finds what permissions do not say (to root they say yes in the folders
    of /proc and /sys, which take no new file)."""
    import tempfile

    from whyrec.errors import ConfigError

    CHECKED_OUTPUTS[option] = out
    target = out.resolve()
    holder = next(p for p in (target, *target.parents) if p.exists())
    if holder == target and not target.is_dir():  # a file output that is there already: overwritten
        holder = target.parent
    if not holder.is_dir():
        raise ConfigError(f"{option} {out}: {holder} is a file, so no folder can be made in it")
    if not os.access(holder, os.W_OK | os.X_OK):
        raise ConfigError(f"{option} {out}: no permission to write in {holder}")
    try:
        with tempfile.TemporaryFile(dir=holder, prefix=".whyrec-write-check-"):
            pass
    except OSError as exc:
        raise ConfigError(f"{option} {out}: cannot write in {holder} ({exc.strerror or exc})") from None


def check_new_bundle(out: Path, overwrite: bool) -> None:
    """Refuse, before any work, a bundle ``out`` folder that already holds a bundle, unless
    ``overwrite``: a mistyped --out would otherwise replace a model that took an hour to train."""
    from whyrec.bundle import FILES, read_bundle_header
    from whyrec.errors import BundleError, ConfigError

    held = [name for name in FILES if (out / name).is_file()]
    if not held or overwrite:
        return
    try:
        kind = read_bundle_header(out).get("class")
        what = f"a {kind} bundle" if isinstance(kind, str) else "a bundle"
    except (BundleError, OSError):  # unreadable, or not whyrec's: its files are named
        what = f"bundle files ({', '.join(held)})"
    raise ConfigError(f"--out {out} already holds {what}; pass --overwrite to replace it, or choose another folder")


def check_checkpoint(checkpoint: Path | None, out: Path, data: Path | None) -> None:
    """Refuse a ``--checkpoint`` folder that is also the ``--out`` folder (the bundle or results
    would be written among the epochs), one in the input ``data`` (its folder, a split folder: the
    epochs would be written among the reviews), or one that could not be written
    (:func:`check_out`); what else it may hold is checked when training starts."""
    from whyrec.errors import ConfigError

    if checkpoint is not None and checkpoint.resolve() == out.resolve():
        raise ConfigError(f"--checkpoint {checkpoint} is the --out folder; give the checkpoints a folder of their own")
    if checkpoint is not None:  # the first epoch's checkpoint is written once that epoch is trained
        check_out(checkpoint, data, option="--checkpoint")


def check_data_read(data: Path | None, bundles: dict) -> None:
    """Refuse ``--data`` (a rating bundle's training data, for ``serve``, ``explain`` and ``recommend``)
    when every one of ``bundles`` (name → loaded system) is an MT or PETER bundle, which keeps its
    own: it would be read and left unused."""
    from whyrec.errors import ConfigError
    from whyrec.explanations import explainers_of

    if data is not None and bundles and all(explainers_of(system) for system in bundles.values()):
        names = ", ".join(bundles)
        raise ConfigError(f"--data gives a rating-model bundle the data it was trained on; {names} "
                          f"{'keeps its' if len(bundles) == 1 else 'keep their'} own (as MT and PETER bundles do): "
                          "leave --data out")


def checked_root_path(path: str) -> str:
    """``whyrec serve --root-path`` as uvicorn takes it: "/whyrec" for "/whyrec/" too, "" for none
    or "/"; refused unless it is a path from the root."""
    from whyrec.errors import ConfigError

    path = path.strip()
    if path and not path.startswith("/"):
        raise ConfigError(f"--root-path is a path that starts with /, as /whyrec; not {path!r}")
    if "?" in path or "#" in path or "//" in path:
        raise ConfigError(f"--root-path is a path such as /whyrec, without '?', '#' or '//'; not {path!r}")
    return path.rstrip("/")
