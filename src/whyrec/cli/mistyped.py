"""What an option that is a setting is told: ``whyrec train mt --epochs 2`` is read by click as
an unknown option, and its own suggestion ("Possible options: --processes") leads nowhere; the
settings go to ``--set NAME=VALUE`` (``--mt``, ``--peter``, ``--decode`` where a command takes
those), and the message says so with the value given: ``--set epochs=2``."""

from __future__ import annotations

import dataclasses


def _settings_of(option: str, model: str | None = None) -> set[str]:
    """The names an option taking ``NAME=VALUE`` accepts: ``--set`` (``--param``) those of the
    explanation systems, the rating models and MMI, whichever the command trains or aligns; those of
    ``model`` alone when the command line names the one ``train`` fits."""
    from whyrec.explain.decoding import Decoding
    from whyrec.systems.mt_config import MTConfig
    from whyrec.systems.peter_config import PeterConfig

    def fields(config) -> set[str]:
        return {f.name for f in dataclasses.fields(config)}

    if option == "--mt":
        return fields(MTConfig)
    if option == "--peter":
        return fields(PeterConfig)
    if option == "--decode":
        return fields(Decoding) - {"method"}  # --method is an option of its own
    from whyrec.align.mmi import MMIConfig
    from whyrec.rating import RATING_MODELS

    if model in ("mt", "peter", "peter+"):
        return fields(MTConfig if model == "mt" else PeterConfig)
    if model in RATING_MODELS:
        return set(RATING_MODELS[model].param_names())

    models = {name for model in RATING_MODELS.values() for name in model.param_names()}
    return fields(MTConfig) | fields(PeterConfig) | fields(MMIConfig) | models


def setting_hint(option_name: str, options: set[str], argv: list[str]) -> str | None:
    """How to give the setting ``option_name`` (``--epochs``, ``--top-p=0.9``) names, with the value
    ``argv`` gives it, through whichever of the command's ``options`` accepts it
    (``epochs is a setting: give it as --set epochs=2``); None when it is no setting of theirs.
    A flag of the field's other code names the setting it is here (``--nhead 4``: ``nhead is the
    setting heads here: give it as --set heads=4``; :func:`whyrec.wording.known_as`)."""
    from whyrec.wording import known_as, listed

    if not option_name.startswith("--"):
        return None
    given_name = option_name[2:].replace("-", "_")
    takers, names = [], []
    model = _trained_model(argv)
    for option in ("--set", "--mt", "--peter", "--decode"):
        if option in options:
            settings = _settings_of(option, model)
            these = [given_name] if given_name in settings else known_as(given_name, settings)
            takers += [(option, name) for name in these]
            names += [name for name in these if name not in names]
    if not takers:
        return None
    value = "VALUE"
    for k, arg in enumerate(argv):
        if arg.startswith(option_name + "="):
            value = arg.split("=", 1)[1]
        elif arg == option_name and k + 1 < len(argv) and not argv[k + 1].startswith("--"):
            value = argv[k + 1]
    given = " or ".join(f"{taker} {name}={value}" for taker, name in takers)
    what = "a setting" if names == [given_name] else f"the setting {listed(names)} here"
    return f"{given_name} is {what}: give it as {given}"


def _trained_model(argv: list[str]) -> str | None:
    """The model ``whyrec train MODEL …`` fits, as the command line names it; None for other commands."""
    from whyrec.rating import RATING_MODELS

    if not argv or argv[0] != "train":
        return None
    return next((arg for arg in argv[1:] if arg in ("mt", "peter", "peter+", *RATING_MODELS)), None)
