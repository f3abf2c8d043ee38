"""Checking a system's settings (the dataclass configs of MT, PETER and MMI) when they are made.

A setting read from the command line (``--param dropout=1.5``) or a hand-edited bundle reaches
a config unchecked; without these checks a wrong one surfaces as a traceback deep in torch, or
trains silently wrong (a negative coupling weight pushes the text priors *away* from the
factors). :func:`check_settings` gives one :class:`~whyrec.errors.ConfigError` naming the
setting instead:

* types follow each field's default: an int field takes an int (not a bool); a float field
  takes a finite int or float, for a config within float32's range (stored as float; NaN and
  infinity would slip past every range check, since they compare false or beyond everything, and
  torch computes in float32); a str field a str; a tuple field a list or tuple
  (stored as tuple), or as a command line writes it: elements joined by commas, in brackets or not
  (``variants=user,pair``, ``d_widths=[3,4]``, each read as JSON where it parses), or one number
  (``d_widths=3``); a field annotated ``... | None`` also takes None;
* ranges come from the config's table of :class:`Rule` objects.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Callable

from whyrec.errors import ConfigError
from whyrec.wording import did_you_mean, unknown_names


@dataclass(frozen=True)
class Rule:
    """A range a setting must lie in: ``test(value)`` and what it says when it fails, followed by
    ``hint(value)`` when given (a close choice for a mistyped one: `` (did you mean 'pair'?)``)."""

    test: Callable[[Any], bool]
    wanted: str
    hint: Callable[[Any], str] | None = None


def at_least(low: float) -> Rule:
    return Rule(lambda v: v >= low, f"at least {low}")


def at_most(high: float) -> Rule:
    return Rule(lambda v: v <= high, f"at most {high}")


def from_to(low: float, high: float) -> Rule:
    """In [``low``, ``high``]: a count bounded both ways (a beam's width, MT's rollouts)."""
    return Rule(lambda v: low <= v <= high, f"from {low} to {high}")


def above(low: float) -> Rule:
    return Rule(lambda v: v > low, f"greater than {low}")


def fraction(closed_top: bool = False) -> Rule:
    """In [0, 1) (a dropout probability), or [0, 1] with ``closed_top``."""
    if closed_top:
        return Rule(lambda v: 0 <= v <= 1, "in [0, 1]")
    return Rule(lambda v: 0 <= v < 1, "in [0, 1)")


def whole_number(low: int) -> Rule:
    """An int (not a bool) of at least ``low``: for list elements, which the type check does not see."""
    return Rule(lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= low, f"a whole number ≥ {low}")


def one_of(*choices: str) -> Rule:
    return Rule(lambda v: v in choices, "one of " + ", ".join(repr(c) for c in choices),
                lambda v: did_you_mean(v, list(choices)) if isinstance(v, str) else "")


def each(rule: Rule) -> Rule:
    """A non-empty tuple whose every element obeys ``rule`` (and, if a float, is finite)."""
    return Rule(lambda v: len(v) > 0 and all(rule.test(x) and _finite(x) for x in v),
                f"a non-empty list, each {rule.wanted}")


def _finite(value) -> bool:
    return not isinstance(value, float) or math.isfinite(value)


def check_settings(config, system: str, rules: dict[str, Rule]) -> None:
    """Check (and normalise in place: int → float, list → tuple) every field of the dataclass
    ``config``; raise a :class:`ConfigError` naming ``system`` and the first bad setting."""
    for f in dataclasses.fields(config):
        value = _typed(getattr(config, f.name), f, system)
        object.__setattr__(config, f.name, value)
        rule = rules.get(f.name)
        if rule is not None and value is not None and not _obeys(rule, value):
            hint = rule.hint(value) if rule.hint else ""
            raise ConfigError(f"{system}: {f.name} must be {rule.wanted}, got {value!r}{hint}")


def config_from_dict(cls, system: str, values: dict):
    """The dataclass config ``cls(**values)``, or one :class:`ConfigError` naming ``system``, the
    unknown setting(s) and the known ones (where ``cls(**values)`` would raise a bare TypeError)."""
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = set(values) - known
    if unknown:
        raise ConfigError(f"{system}: {unknown_names('setting', unknown, sorted(known))}")
    return cls(**values)


def check_values(values: dict[str, tuple[Any, Rule]]) -> None:
    """Raise a ValueError naming the first of ``values`` (name → (value, rule)) that breaks its
    rule and the value it has: "factors must be at least 1, got 0"; a NaN or infinite float breaks
    every rule, as "must be a finite number", the words of :func:`typed_value`. For the keyword
    arguments of a rating model's constructor, which :meth:`~whyrec.rating.base.RatingModel.from_params`
    reports as a :class:`~whyrec.errors.ConfigError` naming the model."""
    for name, (value, rule) in values.items():
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{name} must be a finite number, got {value!r}")
        if not _obeys(rule, value):
            raise ValueError(f"{name} must be {rule.wanted}, got {value!r}")


def _obeys(rule: Rule, value) -> bool:
    try:
        return bool(rule.test(value))
    except TypeError:  # a list element of the wrong type ("3" among numbers)
        return False


def _typed(value, f: dataclasses.Field, system: str):
    default = f.default if f.default is not dataclasses.MISSING else None
    return typed_value(system, f.name, value, default, str(f.type), largest=FLOAT32_MAX)


def typed_value(system: str, name: str, value, default, annotation: str = "", largest: float = math.inf):
    """``value`` of setting ``name`` checked against the type of its ``default`` (the rules of the
    module docstring; ``annotation`` mentioning None also allows None, and gives the type of a
    setting whose default is None: ``float | None``), normalised; a float at most ``largest`` in
    size (the systems' configs: :data:`FLOAT32_MAX`)."""
    if value is None and "None" in annotation:
        return None
    kind = type(default) if default is not None else _annotated.get(annotation.split("|")[0].strip(), type(None))

    def wrong() -> ConfigError:
        if kind is int and isinstance(value, float) and value.is_integer():  # 8.0 or 1e9: a float, by its spelling
            return ConfigError(f"{system}: {name} must be a whole number written as one, without a point or "
                               f"an exponent (write {int(value)}), got {value!r}")
        return ConfigError(f"{system}: {name} must be {_names.get(kind, kind.__name__)}, got {value!r}")

    if kind is bool:
        if not isinstance(value, bool):
            raise wrong()
    elif kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise wrong()
    elif kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise wrong()
        if abs(value) > largest:  # torch computes in float32: lr=1e300 was an overflow traceback
            raise ConfigError(f"{system}: {name} must be a number within float32's range (±3.4e38), got {value!r}")
        return float(value)
    elif kind is str:
        if not isinstance(value, str):
            raise wrong()
    elif kind is tuple:
        if isinstance(value, str):
            return _listed(value)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return (value,)
        if not isinstance(value, (list, tuple)):
            raise wrong()
        return tuple(value)
    return value


def _listed(text: str) -> tuple:
    """A list as a command line writes it: ``pair`` → ``("pair",)``, ``1,2,3`` and ``[user, pair]``
    → ``(1, 2, 3)`` and ``("user", "pair")``, each element read as JSON where it parses."""
    import json

    def element(part: str):
        try:
            return json.loads(part)
        except json.JSONDecodeError:
            return part

    inner = text.strip()
    if inner.startswith("[") and inner.endswith("]"):
        inner = inner[1:-1]
    return tuple(element(p.strip()) for p in inner.split(",") if p.strip())


FLOAT32_MAX = 3.4028234663852886e38  # the largest float32: the systems' settings are used in torch's float32
_annotated = {"bool": bool, "int": int, "float": float, "str": str, "tuple": tuple}  # a type as annotated

_names = {bool: "true or false", int: "a whole number", float: "a finite number", str: "a string", tuple: "a list"}


GRID_SEPARATOR = "|"  # NAME=A|B: several values of a rating model's setting, picked on validation


def is_grid_value(value) -> bool:
    """Whether a setting given as text (``factors=4|8|16``) names several values."""
    return isinstance(value, str) and GRID_SEPARATOR in value


def parse_assignment(pair: str, what: str) -> tuple[str, object]:
    """``NAME=VALUE`` as given on the command line → (name, value), the value read as JSON where it
    parses (``3``, ``0.5``, ``true``, ``[1, 2]``) and kept as text otherwise; ``what`` names where
    it came from in the :class:`ConfigError` for a malformed pair."""
    import json

    key, sep, value = pair.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"{what} '{pair}' must look like NAME=VALUE")
    try:
        return key.strip(), json.loads(value)
    except json.JSONDecodeError:
        return key.strip(), value.strip()


def parse_assignments(pairs, what: str) -> dict:
    """Several ``NAME=VALUE`` pairs (:func:`parse_assignment`) as a dict; a name given twice is a
    :class:`ConfigError` (the later value would silently win)."""
    out: dict = {}
    for pair in pairs:
        key, value = parse_assignment(pair, what)
        if key in out:
            raise ConfigError(f"{what} '{key}' is given twice ({out[key]!r} and {value!r})")
        out[key] = value
    return out


def settings_of(system) -> dict:
    """A trained system's settings as a plain dict: an MT or PETER system's config, a rating
    model's constructor parameters."""
    config = getattr(system, "config", None)
    if config is None:
        return system.get_params()
    return config.to_dict() if hasattr(config, "to_dict") else dataclasses.asdict(config)


def changed_settings(config) -> dict:
    """The fields of a config dataclass that differ from their defaults, in the class's order: what
    a constructor call that makes ``config`` must say (``MultiTask(epochs=2)``)."""
    changed = {}
    for f in dataclasses.fields(config):
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            default = dataclasses.MISSING
        value = getattr(config, f.name)
        if value != default:
            changed[f.name] = value
    return changed
