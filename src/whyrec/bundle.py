"""Save and load trained models as a folder: JSON config + safetensors (+ vocabulary).

Rating models are written by :func:`save_bundle`; the MT system by ``MultiTask.save``
(``whyrec.systems.mt_bundle``) and PETER by ``Peter.save`` (``whyrec.systems.peter_bundle``);
:func:`load_bundle` reads all three, by the ``kind`` in bundle.json.

Layout of a bundle folder::

    bundle.json        {"format": "whyrec-bundle", "version": 1, "kind": "rating-model",
                        "class": "<registered name>", "params": {...}, "meta": {...},
                        "arrays_sha256": "<hex digest of arrays.safetensors>"}
    arrays.safetensors the model's arrays
    vocab.json         (models with text only)

Loading reads JSON and safetensors only and builds the class from a registry of known
names: nothing in a bundle can run code, and nothing is ever unpickled. Safetensors keeps no
checksum, so a file damaged inside its arrays (a bad copy, a failing disk) loads and answers
with wrong numbers; the SHA-256 of ``arrays.safetensors`` recorded at saving is checked at
loading (:func:`check_arrays_digest`). Bundles saved before it was recorded load unchecked.
"""

from __future__ import annotations

import json
import re
from contextlib import nullcontext
from pathlib import Path

from whyrec import __version__
from whyrec.errors import BundleError, WhyrecError, one_line
from whyrec.folder_kinds import misplaced
from whyrec.folder_lock import saving_into
from whyrec.provenance import file_digest
from whyrec.strict_json import json_kind
from whyrec.temporary_names import staged_file
from whyrec.tensor_files import write_tensors_with_record

FORMAT, VERSION = "whyrec-bundle", 1
FILES = ("bundle.json", "arrays.safetensors", "vocab.json")  # a bundle folder's files (the layout above)
DIGEST = "arrays_sha256"  # bundle.json's record of arrays.safetensors' SHA-256


def check_arrays_digest(folder: Path, header: dict) -> None:
    """Refuse a bundle whose ``arrays.safetensors`` is not the file it was saved with: its SHA-256
    differs from the one ``bundle.json`` recorded (``arrays_sha256``). A bundle without the record
    (saved before whyrec kept one) passes unchecked; a record that is not a SHA-256 is refused."""
    recorded = header.get(DIGEST)
    if recorded is None:
        return
    if not (isinstance(recorded, str) and re.fullmatch(r"[0-9a-f]{64}", recorded)):
        raise BundleError(f"{folder}: bundle.json '{DIGEST}' must be a SHA-256 in hex, not {str(recorded)[:80]!r}")
    try:
        actual = file_digest(folder / "arrays.safetensors")
    except OSError as exc:
        raise BundleError(f"{folder}: cannot read arrays.safetensors ({exc})") from None
    if actual != recorded:
        raise BundleError(f"{folder}: arrays.safetensors is damaged or was replaced: its SHA-256 is not the one "
                          "recorded when the bundle was saved; copy the bundle again, or train it again")


def save_bundle(model, folder: str | Path) -> Path:
    """Write ``model`` (a fitted rating model) into ``folder`` (created if needed). A
    :class:`~whyrec.rating.tuning.TunedModel` is saved as the model it picked, with the record of
    its tuning (``tuning`` in ``bundle.json``; ``whyrec show`` prints it)."""
    from whyrec.rating.base import RATING_MODELS
    from whyrec.rating.tuning import TunedModel

    folder = Path(folder).expanduser()
    tuning = None
    if isinstance(model, TunedModel):
        model.require_fitted("saving")
        tuning, model = model.record(), model.best
    # a subclass of a registered model is refused too: it would load as its parent, without its changes
    if RATING_MODELS.get(getattr(type(model), "name", None)) is not type(model):
        raise BundleError(f"{type(model).__name__} is not a registered model (whyrec.rating.RATING_MODELS) "
                          "and cannot be saved")
    model.require_fitted("saving")  # before the folder exists: a refused save leaves nothing behind
    with saving_into(folder):  # one save into the folder at a time (folder_lock)
        header = {
            "format": FORMAT, "version": VERSION, "whyrec_version": __version__, "kind": "rating-model",
            "class": type(model).name, "params": model.get_params(), "meta": model.state_meta(),
        }
        if tuning is not None:
            header["tuning"] = tuning
        vocab = getattr(model, "vocab", None)
        # the vocabulary renamed into place once the arrays and header are: a refused save leaves the old bundle's
        with staged_file(folder / "vocab.json", vocab.save) if vocab is not None else nullcontext():
            write_tensors_with_record(model.state_arrays(), folder / "arrays.safetensors", header,
                                      folder / "bundle.json", DIGEST, indent=1)
        if vocab is None:  # a bundle saved over one with text (--overwrite) keeps no stale vocabulary
            (folder / "vocab.json").unlink(missing_ok=True)
        _forget_how_it_was_made(folder)
    return folder


def _forget_how_it_was_made(folder: Path) -> None:
    """Remove a ``run.json`` left by the bundle saved there before: it would describe another
    model. The command that saves a bundle writes the new one (``whyrec train``, ``align``)."""
    from whyrec.provenance import RUN_FILE

    (folder / RUN_FILE).unlink(missing_ok=True)


def write_torch_bundle(folder: Path, tensors: dict, header: dict) -> Path:
    """Write torch ``tensors`` and the JSON ``header`` into ``folder`` atomically
    (:func:`whyrec.tensor_files.write_tensors_with_record`): an interrupted save leaves the previous bundle (or none)
    rather than half of a new one. Used by the systems whose bundles hold torch modules (MT, PETER).
    """
    with saving_into(folder):  # one save into the folder at a time (folder_lock)
        write_tensors_with_record(tensors, folder / "arrays.safetensors", header, folder / "bundle.json", DIGEST)
        (folder / "vocab.json").unlink(missing_ok=True)  # the vocabulary is in the header: none stale beside it
        _forget_how_it_was_made(folder)
    return folder


def read_torch_arrays(folder: Path) -> dict:
    """The torch tensors of ``folder/arrays.safetensors``; a clear :class:`BundleError` if unreadable."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return load_file(str(folder / "arrays.safetensors"))
    except (FileNotFoundError, SafetensorError, OSError) as exc:
        raise BundleError(f"{folder}: cannot read arrays.safetensors ({exc})") from None


def read_bundle_header(folder: str | Path) -> dict:
    folder = Path(folder).expanduser()
    path = folder / "bundle.json"
    if not folder.exists():
        raise BundleError(f"{folder}: no such bundle folder")
    if folder.is_file():
        inside = (folder.parent / "bundle.json").is_file()
        raise BundleError(f"{folder}: a file, and a bundle is a folder" + (
            f": give the bundle this file is in, {folder.parent}" if inside else
            " (the one `whyrec train --out` writes)"))
    if not path.exists():
        raise BundleError(f"{folder}: not a whyrec bundle (no bundle.json){misplaced(folder, 'bundle')}")
    try:
        header = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:  # damaged, or not the file whyrec wrote
        raise BundleError(f"{path}: bundle.json is not valid JSON ({exc})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise BundleError(f"{path}: not a whyrec bundle")
    if header.get("version") != VERSION:
        raise BundleError(f"{path}: bundle version {header.get('version')} is not supported (expected {VERSION})")
    return header


# what a damaged or hand-edited bundle makes the rebuilding code raise (a missing array, a
# tensor of the wrong shape, a setting of the wrong type): reported as one BundleError
_BROKEN = (KeyError, TypeError, ValueError, IndexError, RuntimeError, AttributeError)


_JSON_KINDS = {dict: "an object", list: "an array", str: "a string", bool: "true or false"}
_JSON_PLURALS = {dict: "objects", str: "strings"}


def header_field(folder: Path, header: dict, key: str, default, of: type | None = None, required: bool = False):
    """``header[key]`` (``default`` when absent, unless ``required``) checked to be of ``default``'s
    JSON kind, and with every element (of an array) or value (of an object) of type ``of``: a
    bundle.json edited by hand is refused here, naming the field, instead of failing in a later
    request."""
    if required and key not in header:
        raise BundleError(f"{folder}: bundle lacks '{key}'")
    value = header.get(key, default)
    kind = type(default)
    what = _JSON_KINDS[kind] + (f" of {_JSON_PLURALS[of]}" if of is not None else "")
    if not isinstance(value, kind):
        raise BundleError(f"{folder}: bundle.json '{key}' must be {what}, not {_shown_json(value)}")
    if of is not None:
        elements = value.items() if isinstance(value, dict) else enumerate(value, start=1)
        for name, element in elements:
            if not isinstance(element, of):
                where = f"'{name}'" if isinstance(value, dict) else f"element {name}"
                raise BundleError(f"{folder}: bundle.json '{key}' must be {what}; its {where} is "
                                  f"{_shown_json(element)}")
    return value


def _shown_json(value) -> str:
    """``value``'s JSON type and, cut short, the value as bundle.json has it: 'a JSON number: 5'."""
    return f"{json_kind(value)}: {one_line(json.dumps(value, ensure_ascii=False))[:60]}"


def check_text_system_header(folder: Path, header: dict) -> None:
    """The fields every text system's bundle.json (MT's, PETER's) holds, each of its JSON kind:
    ``config`` an object, ``vocab``, ``user_ids`` and ``item_ids`` arrays of strings. A hand-edited
    one is refused naming the field, instead of as the ``TypeError`` rebuilding would meet."""
    header_field(folder, header, "config", {}, required=True)
    header_field(folder, header, "vocab", [], str, required=True)
    _check_id_lists(folder, header)


def _check_id_lists(folder: Path, fields: dict) -> None:
    """``user_ids`` and ``item_ids`` in ``fields`` (bundle.json, or a rating model's ``meta``), each a
    list of strings."""
    for key in ("user_ids", "item_ids"):
        header_field(folder, fields, key, [], str, required=True)


def load_bundle(folder: str | Path, device: str = "cpu"):
    """Rebuild the model saved in ``folder`` by :func:`save_bundle`; a neural system (MT, PETER)
    is rebuilt on the CPU and moved to ``device`` (see :mod:`whyrec.devices`), so a bundle trained
    on a GPU loads on a machine without one. Rating models run on numpy and ignore ``device``.

    Whatever is wrong with the folder (a missing file or array, arrays that do not fit the id
    lists or the settings, a setting of the wrong type) is a :class:`BundleError` naming it."""
    folder = Path(folder).expanduser()
    return _loaded(folder, read_bundle_header(folder), device)


def _loaded(folder: Path, header: dict, device: str = "cpu"):
    """:func:`load_bundle` of a folder whose ``header`` (bundle.json) has been read and checked."""
    check_arrays_digest(folder, header)
    try:
        model = _rebuild(folder, header)
    except BundleError:
        raise
    except WhyrecError as exc:
        raise BundleError(f"{folder}: {exc}") from None
    except _BROKEN as exc:
        raise BundleError(f"{folder}: broken bundle ({type(exc).__name__}: {one_line(exc)})") from None
    return model if header["kind"] == "rating-model" else model.to(device)


def _rebuild(folder: Path, header: dict):
    """The model of ``folder``, built on the CPU from its ``header`` (bundle.json) and arrays."""
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    from whyrec.rating.base import RATING_MODELS

    if header.get("kind") == "mt":
        from whyrec.systems.mt_bundle import load_mt

        return load_mt(folder, header)
    if header.get("kind") == "peter":
        from whyrec.systems.peter_bundle import load_peter

        return load_peter(folder, header)
    if "kind" not in header:
        raise BundleError(f"{folder}: bundle lacks 'kind' (mt, peter or rating-model)")
    if header["kind"] != "rating-model":
        raise BundleError(f"{folder}: unknown bundle kind {header['kind']!r}")
    cls = RATING_MODELS.get(header.get("class"))
    if cls is None:
        raise BundleError(f"{folder}: unknown model class {header.get('class')!r}")
    params = header.get("params", {})
    if not isinstance(params, dict):
        raise BundleError(f"{folder}: bundle.json 'params' must be an object, not {_shown_json(params)}")
    model = cls.from_params(params)
    try:
        arrays = load_file(str(folder / "arrays.safetensors"))
    except (FileNotFoundError, SafetensorError, OSError) as exc:
        raise BundleError(f"{folder}: cannot read arrays.safetensors ({exc})") from None
    meta = header_field(folder, header, "meta", {}, required=True)
    header_field(folder, meta, "history", [], dict)  # `show` summarises it: a list of records
    _check_id_lists(folder, meta)
    try:
        model.load_state(arrays, meta)
    except KeyError as exc:
        raise BundleError(f"{folder}: bundle lacks {exc}") from None
    if (folder / "vocab.json").exists():
        from whyrec.data.text import Vocabulary

        model.vocab = Vocabulary.load(folder / "vocab.json")
    return model


def describe_bundle(folder: str | Path) -> dict:
    """What a saved bundle holds, for people deciding what to serve or compare (``whyrec show``):
    the system and the data it was trained on, its users, items and rating scale, its explainers
    and vocabulary, every setting, how training went (epochs run, each validation score at its
    lowest with its epoch, and the epoch whose state is kept), what MMI alignment did to it since
    (``alignments``), the command that made it (``made_by``: its ``run.json``, with the data file's
    and split's SHA-256), and its files with the arrays' SHA-256 (checked). The bundle is loaded
    whole, so a broken one is refused here as everywhere."""
    from whyrec.explanations import EXPLAINER_LABELS, explainers_of, is_mt, system_label
    from whyrec.provenance import read_run_record
    from whyrec.settings import settings_of

    folder = Path(folder).expanduser()
    header = read_bundle_header(folder)
    model = _loaded(folder, header)  # bundle.json read once
    history = list(getattr(model, "history", None) or [])
    neural = header.get("kind") != "rating-model"
    rating = model.als if is_mt(model) else model
    return {
        "folder": str(folder), "system": system_label(model), "class": header.get("class"),
        "whyrec_version": header.get("whyrec_version"), "trained_on": model.name if neural else None,
        "users": len(rating.user_map), "items": len(rating.item_map),
        "rating_scale": list(getattr(rating, "rating_scale", None) or ()) or None,
        "explainers": [EXPLAINER_LABELS[e] for e in explainers_of(model)],
        "vocabulary": len(model.vocab) if neural else None,
        "word_vectors": getattr(model, "word_vector_info", None) or None,
        "unicode_folded": bool(getattr(model, "unicode_folded", False)),
        "feature_words": len(getattr(model, "feature_words", None) or []),
        "settings": settings_of(model),
        "training": {**training_summary(history), "kept": kept_epochs(model)},
        "alignments": list(getattr(model, "alignments", None) or []),
        # an MT aligned before the aligned decoder got word embeddings of its own: the alignment tuned the table
        # every decoder and encoder reads (MultiTask.own_word_embeddings)
        "aligned_shared_embeddings": bool(is_mt(model) and getattr(model, "alignments", None)
                                          and "own_embeddings" not in header),
        "tuning": header.get("tuning"),  # a rating model's settings picked on validation (TunedModel)
        "made_by": read_run_record(folder),  # the command that saved it (run.json), when there is one
        "files": {p.name: p.stat().st_size for p in sorted(folder.iterdir()) if p.is_file()},
        "arrays_sha256": header.get(DIGEST),  # checked on loading above; None: saved before it was recorded
    }


def kept_epochs(model) -> list[dict]:
    """Which epoch's state each part of a trained PETER, MT or biased MF holds (their
    ``kept_epochs()``), read from the history it saved; [] for a model without epochs to choose
    from, and for a hand-edited history whose scores are not numbers."""
    try:
        return list(model.kept_epochs()) if hasattr(model, "kept_epochs") else []
    except (TypeError, KeyError):
        return []


def training_summary(history: list[dict]) -> dict:
    """``{"epochs": n, "unit": "epoch" or "iteration", "lowest": {name: {"value", "epoch"}}}``
    over a training history's records: each ``valid_*`` score at its lowest (all of them are
    errors or losses) and the epoch (a rating model's: ALS iteration) it was reached in."""
    lowest: dict[str, dict] = {}
    unit = "iteration" if history and "iteration" in history[0] else "epoch"  # a rating model's ALS sweeps
    for number, record in enumerate(history, 1):
        epoch = record.get(unit, number)
        for key, value in record.items():
            if key.startswith("valid_") and isinstance(value, (int, float)) and value == value:
                if key not in lowest or value < lowest[key]["value"]:
                    lowest[key] = {"value": float(value), "epoch": epoch}
    return {"epochs": len(history), "unit": unit, "lowest": lowest}
