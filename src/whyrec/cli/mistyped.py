"""What an option that is a setting is told: ``whyrec train mt --epochs 2`` is read by click as
an unknown option, and its own suggestion ("Possible options: --processes") leads nowhere; the
settings go to ``--set NAME=VALUE`` (``--mt``, ``--peter``, ``--decode`` where a command takes
those; ``experiment rating``: ``--model MODEL:NAME=VALUE``), and the message says so with the value
given: ``--set epochs=2``."""

from __future__ import annotations

import dataclasses

_SETTINGS_OPTIONS = ("--set", "--mt", "--peter", "--decode", "--model")  # the options taking NAME=VALUE


def _settings_of(option: str, argv: list[str]) -> dict[str, set[str]]:
    """The names an option taking ``NAME=VALUE`` accepts, by what takes them (``""``: the option
    itself; for ``--model``, each rating model): ``--set`` (``--param``) those of what the command
    in ``argv`` trains or aligns (``train MODEL``: that model's; ``align``: MMI's; ``experiment
    mt``: MT's; else every system's, rating model's and MMI's)."""
    from whyrec.align.mmi import MMIConfig
    from whyrec.explain.decoding import Decoding
    from whyrec.rating import RATING_MODELS
    from whyrec.systems.mt_config import MTConfig
    from whyrec.systems.peter_config import PeterConfig

    def fields(config) -> set[str]:
        return {f.name for f in dataclasses.fields(config)}

    if option == "--model":  # experiment rating: --model pmf:factors=8
        return {name: set(model.param_names()) for name, model in RATING_MODELS.items()}
    if option in ("--mt", "--peter", "--decode"):
        return {"": {"--mt": fields(MTConfig), "--peter": fields(PeterConfig),
                     "--decode": fields(Decoding) - {"method"}}[option]}  # --method is an option of its own
    command = argv[:2] if argv[:1] == ["experiment"] else argv[:1]
    model = _trained_model(argv)
    if model in ("mt", "peter", "peter+"):
        return {"": fields(MTConfig if model == "mt" else PeterConfig)}
    if model in RATING_MODELS:
        return {"": set(RATING_MODELS[model].param_names())}
    if command == ["align"]:
        return {"": fields(MMIConfig)}
    if command == ["experiment", "mt"]:
        return {"": fields(MTConfig)}
    models = {name for model in RATING_MODELS.values() for name in model.param_names()}
    return {"": fields(MTConfig) | fields(PeterConfig) | fields(MMIConfig) | models}


def setting_hint(option_name: str, options: set[str], argv: list[str]) -> str | None:
    """How to give the setting ``option_name`` (``--epochs``, ``--top-p=0.9``) names, with the value
    ``argv`` gives it, through whichever of the command's ``options`` accepts it
    (``epochs is a setting: give it as --set epochs=2``; ``experiment rating``'s ``--model`` names
    the models having it: ``--model pmf:factors=4``); None when it is no setting of theirs.
    A flag of the field's other code names the setting it is here (``--nhead 4``: ``nhead is the
    setting heads here: give it as --set heads=4``; :func:`whyrec.wording.known_as`)."""
    from whyrec.wording import known_as, listed

    if option_name in (*_SETTINGS_OPTIONS, "--param"):  # --param: --set's other name, where --set is taken
        return _other_settings_option_hint(option_name, options, argv)
    if not option_name.startswith("--"):
        return None
    given_name = option_name[2:].replace("-", "_")
    value = "VALUE"
    for k, arg in enumerate(argv):
        if arg.startswith(option_name + "="):
            value = arg.split("=", 1)[1]
        elif arg == option_name and k + 1 < len(argv) and not argv[k + 1].startswith("--"):
            value = argv[k + 1]
    exact, other = [], []  # (way, name): where the name is a setting, else where it is known as another
    for option in _SETTINGS_OPTIONS:
        if option not in options:
            continue
        for owner, settings in _settings_of(option, argv).items():
            found = exact if given_name in settings else other
            these = [given_name] if given_name in settings else known_as(given_name, settings)
            found += [(f"{option} {owner + ':' if owner else ''}{name}={value}", name) for name in these]
    if not exact + other:
        return None
    ways = [way for way, _ in exact or other]  # where some model has the name, only those are offered
    names = list(dict.fromkeys(name for _, name in exact or other))
    what = "a setting" if names == [given_name] else f"the setting {listed(names)} here"
    return f"{given_name} is {what}: give it as {' or '.join(ways)}"


def _other_settings_option_hint(option_name: str, options: set[str], argv: list[str]) -> str | None:
    """What a settings option the command does not take is told (``recommend --set beam=3``: the
    decoding's beam is given with ``--decode``): :func:`setting_hint` of the setting it was given
    (``--beam 3``), after "the command takes no --set"; None when that is no setting of the command."""
    given = [argv[k + 1] for k, arg in enumerate(argv[:-1]) if arg == option_name]
    given += [arg.split("=", 1)[1] for arg in argv if arg.startswith(option_name + "=")]
    for value in given:
        name, equals, setting = value.partition("=")
        if not equals or not name or name.startswith("-"):
            continue
        as_own_option = [arg for arg in argv if arg != option_name and not arg.startswith(option_name + "=")
                         and arg != value] + [f"--{name}", setting]
        hint = setting_hint(f"--{name}", options, as_own_option)
        if hint:
            command = " ".join(argv[:2] if argv[:1] == ["experiment"] else argv[:1]) or "this command"
            return f"{command} takes no {option_name}; {hint}"
    return None


def _trained_model(argv: list[str]) -> str | None:
    """The model ``whyrec train MODEL …`` fits, as the command line names it; None for other commands."""
    from whyrec.rating import RATING_MODELS

    if not argv or argv[0] != "train":
        return None
    return next((arg for arg in argv[1:] if arg in ("mt", "peter", "peter+", *RATING_MODELS)), None)
