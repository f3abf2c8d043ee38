"""Save and load a trained PETER / PETER+ as a whyrec bundle (JSON + safetensors, no pickle).

Besides the transformer's weights the bundle keeps what serving needs: the training records
(user, item, rating: histories and popularity), item titles, the feature vocabulary and,
for PETER+, each item's most frequent training feature — the feature word fed when a pair has
no ground-truth feature (any recommendation of an unseen item).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from whyrec import __version__
from whyrec.bundle import (FORMAT, VERSION, check_text_system_header, header_field, read_torch_arrays,
                           write_torch_bundle)
from whyrec.data.scale import rating_bounds
from whyrec.data.text import Vocabulary
from whyrec.errors import BundleError, one_line
from whyrec.ids import IdMap

KIND = "peter"


def save_peter(model, folder: str | Path) -> Path:
    """Write a fitted :class:`~whyrec.systems.peter.Peter` into ``folder``."""
    from whyrec.checkpoint import module_state

    folder = Path(folder).expanduser()
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in model.model.state_dict().items()}
    if model.rating_input is not None:  # aligned with a rating input (PeterExplainer)
        tensors.update(module_state("rating_input", model.rating_input))
    users, items, ratings = zip(*[(u, i, r) for (u, i), r in model.train_ratings.items()]) if model.train_ratings \
        else ((), (), ())
    tensors.update({"records.user": torch.as_tensor(model.user_map.lookup(list(users)), dtype=torch.long),
                    "records.item": torch.as_tensor(model.item_map.lookup(list(items)), dtype=torch.long),
                    "records.rating": torch.as_tensor(np.array(ratings, dtype=np.float64))})
    header = {"format": FORMAT, "version": VERSION, "whyrec_version": __version__, "kind": KIND, "class": "peter",
              "config": model.config.__dict__, "vocab": model.vocab.words, "user_ids": model.user_map.ids,
              "item_ids": model.item_map.ids, "rating_range": list(model.rating_range),
              "rating_scale": list(model.rating_scale) if model.rating_scale else None,
              "global_mean": model.global_mean, "feature_words": model.feature_words,
              "item_feature": model.item_feature, "item_titles": model.item_titles, "history": model.history,
              "name": model.name, "rating_input": model.rating_input is not None, "alignments": model.alignments,
              "unicode_folded": model.unicode_folded}
    return write_torch_bundle(folder, tensors, header)


def load_peter(folder: str | Path, header: dict):
    """Rebuild the PETER saved by :func:`save_peter` (``header`` = its bundle.json)."""
    from safetensors import SafetensorError

    from whyrec.checkpoint import load_module_state
    from whyrec.explain.interface import RatingInput
    from whyrec.explain.peter_model import PeterModel, PeterShape
    from whyrec.systems.peter import Peter, PeterConfig

    folder = Path(folder)
    check_text_system_header(folder, header)
    tensors = read_torch_arrays(folder)
    try:
        # rebuilt on the CPU whatever device it was trained on; load_bundle moves it where asked
        model = Peter(PeterConfig.from_dict({**header["config"], "device": "cpu"}))
        model.vocab = Vocabulary(header["vocab"])
        model.user_map, model.item_map = IdMap(header["user_ids"]), IdMap(header["item_ids"])
        cfg = model.config
        shape = PeterShape(len(model.user_map), len(model.item_map), len(model.vocab), cfg.emsize, cfg.heads, cfg.ffn,
                           cfg.layers, cfg.dropout, cfg.use_feature, max_positions=cfg.max_words + 8)
        model.model = PeterModel(shape, model.vocab.pad, never_emit=(model.vocab.bos, model.vocab.pad)).to(cfg.device)
        model.model.load_state_dict({k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")})
        model.model.eval()
        if header.get("rating_input"):
            model.rating_input = RatingInput(cfg.emsize).to(cfg.device)
            load_module_state("rating_input", model.rating_input, tensors)
        model.rating_range = rating_bounds(header["rating_range"], "PETER: saved rating_range", allow_equal=True)
        scale = header.get("rating_scale")
        model.rating_scale = rating_bounds(scale, "PETER: saved rating_scale") if scale is not None else None
        model.global_mean = header["global_mean"]
        if isinstance(model.global_mean, bool) or not isinstance(model.global_mean, (int, float)) \
                or not math.isfinite(model.global_mean):
            raise BundleError(f"{folder}: bundle.json 'global_mean' must be a finite number")
        model.feature_words = header_field(folder, header, "feature_words", [], str, required=True)
        model.item_feature = header_field(folder, header, "item_feature", {}, str, required=True)
        model.item_titles = header_field(folder, header, "item_titles", {}, str, required=True)
        model.history = header_field(folder, header, "history", [], dict, required=True)
        model.name = header_field(folder, header, "name", "", required=True)
        model.unicode_folded = header_field(folder, header, "unicode_folded", False)  # absent: not folded
        model.alignments = header_field(folder, header, "alignments", [], dict)  # absent before it was kept
        users, items = tensors["records.user"].tolist(), tensors["records.item"].tolist()
        model.train_ratings = {(model.user_map.ids[u], model.item_map.ids[i]): float(r)
                               for u, i, r in zip(users, items, tensors["records.rating"].tolist())}
    except KeyError as exc:
        raise BundleError(f"{folder}: bundle lacks {exc}") from None  # as MT's and a rating model's say it
    except (FileNotFoundError, SafetensorError, OSError, RuntimeError) as exc:
        raise BundleError(f"{folder}: broken PETER bundle ({one_line(exc)})") from None
    return model
