"""Save and load a trained MT system as a whyrec bundle (JSON + safetensors, no pickle).

Besides the model (generator weights, ALS arrays) a bundle keeps what serving needs: the
training review documents (token ids per review, each user's and item's latest reviews) so
that Ũ and Ṽ can be encoded at request time, each user's rating history, item titles and
the feature vocabulary (to show which item features an explanation mentions). The
discriminators are training-only and are not saved.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from whyrec import __version__
from whyrec.bundle import (FORMAT, VERSION, check_text_system_header, header_field, read_torch_arrays,
                           write_torch_bundle)
from whyrec.data.text import Vocabulary
from whyrec.errors import BundleError
from whyrec.ids import IdMap
from whyrec.rating.als import ContextAwareALS

KIND = "mt"


def _flatten(rows: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    offsets = np.zeros(len(rows) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(r) for r in rows])
    flat = np.array([x for r in rows for x in r], dtype=np.int64)
    return flat, offsets


def _unflatten(flat: np.ndarray, offsets: np.ndarray) -> list[list[int]]:
    return [flat[offsets[k]:offsets[k + 1]].tolist() for k in range(len(offsets) - 1)]


def save_mt(model, folder: str | Path) -> Path:
    """Write a fitted :class:`~whyrec.systems.mt.MultiTask` into ``folder``."""
    from whyrec.checkpoint import module_state

    folder = Path(folder).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    data = model.data
    user_flat, user_off = _flatten(data.user_rows)
    item_flat, item_off = _flatten(data.item_rows)
    tensors = module_state("generator", model.generator)
    tensors.update(module_state("rating_input", model.rating_inputs))
    tensors.update({f"als.{k}": torch.as_tensor(np.ascontiguousarray(v)) for k, v in model.als.state_arrays().items()})
    tensors.update({
        "docs.tokens": data.doc_tokens.cpu().contiguous(), "docs.lengths": data.doc_lengths.contiguous(),
        "docs.user_rows": torch.as_tensor(user_flat), "docs.user_offsets": torch.as_tensor(user_off),
        "docs.item_rows": torch.as_tensor(item_flat), "docs.item_offsets": torch.as_tensor(item_off),
        "records.user": torch.as_tensor(data.rec_user), "records.item": torch.as_tensor(data.rec_item),
        "records.rating": torch.as_tensor(np.array(model.train_ratings, dtype=np.float64)),
        "folds.user": torch.as_tensor(model.folds["user"]), "folds.item": torch.as_tensor(model.folds["item"]),
    })
    header = {
        "format": FORMAT, "version": VERSION, "whyrec_version": __version__, "kind": KIND, "class": "mt",
        "config": model.config.to_dict(), "vocab": model.vocab.words, "user_ids": model.user_map.ids,
        "item_ids": model.item_map.ids, "als_meta": model.als.state_meta(), "word_vectors": model.word_vector_info,
        "history": model.history, "item_titles": model.item_titles, "feature_words": model.feature_words,
        "name": model.name, "rating_inputs": sorted(model.rating_inputs), "own_embeddings": model.own_embeddings,
        "alignments": model.alignments, "unicode_folded": model.unicode_folded,
    }
    return write_torch_bundle(folder, tensors, header)


def load_mt(folder: str | Path, header: dict):
    """Rebuild the MT system saved by :func:`save_mt` (``header`` = its bundle.json)."""
    from whyrec.checkpoint import load_module_state
    from whyrec.explain.interface import RatingInput
    from whyrec.systems.mt import MTConfig, MultiTask, _TextData

    folder = Path(folder)
    check_text_system_header(folder, header)
    header_field(folder, header, "als_meta", {}, required=True)
    tensors = read_torch_arrays(folder)
    try:
        # bundles written before cross-fitted priors had one encoder per side
        config = MTConfig.from_dict({"prior_folds": 1, **header["config"], "device": "cpu"})
        model = MultiTask(config)
        model.vocab = Vocabulary(header["vocab"])
        model.user_map, model.item_map = IdMap(header["user_ids"]), IdMap(header["item_ids"])
        model.data = _TextData(
            tensors["records.user"].numpy(), tensors["records.item"].numpy(), [],
            tensors["docs.tokens"], tensors["docs.lengths"],
            _unflatten(tensors["docs.user_rows"].numpy(), tensors["docs.user_offsets"].numpy()),
            _unflatten(tensors["docs.item_rows"].numpy(), tensors["docs.item_offsets"].numpy()))
        model.train_ratings = tensors["records.rating"].numpy()
        n_users, n_items = len(model.user_map), len(model.item_map)
        _check_fits(folder, header, tensors, n_users, n_items)
        model.folds = {"user": tensors["folds.user"].numpy() if "folds.user" in tensors else np.zeros(n_users, dtype=np.int64),
                       "item": tensors["folds.item"].numpy() if "folds.item" in tensors else np.zeros(n_items, dtype=np.int64)}
        # build the modules without reading pretrained vectors: the saved weights replace them
        model.config.word_vectors = "random"
        model._build_modules()
        model.config.word_vectors = header["config"]["word_vectors"]
        for variant in header_field(folder, header, "own_embeddings", [], str):  # decoders aligned apart
            if variant not in config.variants or not config.decoder:
                raise BundleError(f"{folder}: bundle.json 'own_embeddings' names {variant!r}, which is not one of "
                                  f"its decoders ({', '.join(config.variants) if config.decoder else 'none'})")
            model.own_word_embeddings(variant)
        load_module_state("generator", model.generator, tensors)
        for variant in header_field(folder, header, "rating_inputs", [], str):  # decoders aligned with a rating input
            model.rating_inputs[variant] = RatingInput(model.generator[f"decoder_{variant}"].context_dim)
        load_module_state("rating_input", model.rating_inputs, tensors)
        model.generator.eval()
        model.als = ContextAwareALS(factors=config.factors, lambda_u=config.lambda_u, lambda_v=config.lambda_v,
                                    lambda_bias=config.lambda_bias, iterations=config.als_sweeps, seed=config.seed)
        model.als.load_state({k[4:]: v.numpy() for k, v in tensors.items() if k.startswith("als.")}, header["als_meta"])
        model.word_vector_info = header_field(folder, header, "word_vectors", {})
        model.history = header_field(folder, header, "history", [], dict)
        model.item_titles = header_field(folder, header, "item_titles", {}, str)
        model.feature_words = header_field(folder, header, "feature_words", [], str)
        model.name = header_field(folder, header, "name", "mt")
        model.unicode_folded = header_field(folder, header, "unicode_folded", False)  # absent: not folded
        model.alignments = header_field(folder, header, "alignments", [], dict)  # absent before it was kept
    except KeyError as exc:
        raise BundleError(f"{folder}: bundle lacks {exc}") from None
    return model


def _check_fits(folder: Path, header: dict, tensors: dict, n_users: int, n_items: int) -> None:
    """Refuse a bundle whose id lists do not fit its arrays. The generator's weights are checked
    by ``load_state_dict``; these are the arrays indexed by user and item, where a mismatch
    would not fail but silently give one user's documents and history to another."""
    problems = []
    for side, n in (("user", n_users), ("item", n_items)):
        if header["als_meta"][f"{side}_ids"] != header[f"{side}_ids"]:
            problems.append(f"the rating model's {side} ids differ from the bundle's")
        if len(tensors[f"docs.{side}_offsets"]) != n + 1:
            problems.append(f"{len(tensors[f'docs.{side}_offsets']) - 1} {side} documents for {n} {side}s")
        if f"folds.{side}" in tensors and len(tensors[f"folds.{side}"]) != n:
            problems.append(f"{len(tensors[f'folds.{side}'])} {side} folds for {n} {side}s")
        owners = tensors[f"records.{side}"]
        if len(owners) and not 0 <= int(owners.min()) <= int(owners.max()) < n:
            problems.append(f"training records refer to {side}s outside the id list")
    n_records = {len(tensors[f"records.{k}"]) for k in ("user", "item", "rating")}
    if len(n_records) != 1:
        problems.append("the training records' user, item and rating arrays differ in length")
    n_docs = len(tensors["docs.lengths"])
    for side in ("user", "item"):
        rows = tensors[f"docs.{side}_rows"]
        if len(rows) and not 0 <= int(rows.min()) <= int(rows.max()) < n_docs:
            problems.append(f"{side} documents refer to reviews outside the saved reviews")
    if problems:
        raise BundleError(f"{folder}: arrays do not fit the bundle's id lists: " + "; ".join(problems))
