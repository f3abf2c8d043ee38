"""A trained part saved outside a bundle, as two files in a folder:

    NAME.json          its settings, and ``tensors_sha256``: the SHA-256 of the tensors file
    NAME.safetensors   its tensors

The sentiment judge (``whyrec.metrics.alignment.SentimentJudge``) and the rating-tuned encoder of
MMI's reward (``whyrec.explain.sentence.RatingTunedEncoder``) are saved so. As with bundles
(:mod:`whyrec.bundle`), safetensors keeps no checksum, so the digest recorded at saving is checked
at loading: a damaged tensors file is refused instead of scoring with wrong weights. Files saved
before the digest was recorded load unchecked. Nothing is pickled.
"""

from __future__ import annotations

from pathlib import Path

from whyrec.errors import BundleError, one_line
from whyrec.provenance import file_digest
from whyrec.strict_json import read_json_file
from whyrec.tensor_files import write_tensors_with_record

DIGEST = "tensors_sha256"  # NAME.json's record of NAME.safetensors' SHA-256


def save_part(folder: str | Path, name: str, settings: dict, tensors: dict) -> Path:
    """Write ``settings`` (JSON) and torch ``tensors`` (safetensors) as ``folder/NAME.*``, the
    tensors' SHA-256 recorded in the JSON, as a bundle's are written
    (:func:`whyrec.tensor_files.write_tensors_with_record`: an interrupted save never pairs new settings
    with old tensors)."""
    folder = Path(folder).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    write_tensors_with_record(tensors, folder / f"{name}.safetensors", settings, folder / f"{name}.json", DIGEST,
                              indent=1)
    return folder


def load_part(folder: str | Path, name: str) -> tuple[dict, dict]:
    """The settings (without the digest) and torch tensors :func:`save_part` wrote. A missing or
    malformed file, or a tensors file whose SHA-256 is not the one recorded, is a
    :class:`~whyrec.errors.BundleError` naming it."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    folder = Path(folder).expanduser()
    settings_path, tensors_path = folder / f"{name}.json", folder / f"{name}.safetensors"
    settings = read_json_file(settings_path, BundleError,
                              f"{folder}: no {settings_path.name} (not a folder that {name} was saved to)")
    if not isinstance(settings, dict):
        raise BundleError(f"{settings_path}: not a JSON object")
    recorded = settings.pop(DIGEST, None)
    try:
        if recorded is not None and recorded != file_digest(tensors_path):
            raise BundleError(f"{tensors_path}: damaged or replaced: its SHA-256 is not the one recorded in "
                              f"{settings_path.name} when it was saved")
        tensors = load_file(str(tensors_path))
    except (OSError, SafetensorError) as exc:
        raise BundleError(f"{folder}: cannot read {tensors_path.name} ({one_line(exc)})") from None
    return settings, tensors
