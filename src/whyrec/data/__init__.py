"""Data layer: the review corpus, file readers, splits, text processing and features.

The names below are loaded on first use (PEP 562), not when the package is imported: reading
data needs pandas, which takes about 0.3 s to import, and a command that only loads a saved
model and explains (``whyrec explain``, ``recommend``, ``show``) reaches this package through
small modules such as :mod:`whyrec.ids` and :mod:`whyrec.data.text` without reading data.
Type checkers and editors read the same names from the imports under ``TYPE_CHECKING``, which
``tests/data/test_package_names.py`` keeps equal to :data:`_HOMES`.
"""

from importlib import import_module
from pkgutil import iter_modules
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from whyrec.data.cores import k_core
    from whyrec.data.corpus import Corpus, RawRecord, ValidationReport, build_corpus
    from whyrec.data.readers import DataWarning, corpus_from_frame, detect_format, load_corpus, read_item_metadata
    from whyrec.data.split import (Split, fixed_index_split, iter_kfold_splits, kfold_splits, leave_last_out,
                                   ratio_split, split_folders, write_index_split)
    from whyrec.ids import IdMap

_HOMES = {
    "whyrec.data.corpus": ("Corpus", "RawRecord", "ValidationReport", "build_corpus"),
    "whyrec.data.cores": ("k_core",),
    "whyrec.ids": ("IdMap",),
    "whyrec.data.readers": ("DataWarning", "corpus_from_frame", "detect_format", "load_corpus", "read_item_metadata"),
    "whyrec.data.split": ("Split", "fixed_index_split", "iter_kfold_splits", "kfold_splits", "leave_last_out",
                          "ratio_split", "split_folders", "write_index_split"),
}
_MODULE_OF = {name: module for module, names in _HOMES.items() for name in names}
_SUBMODULES = frozenset(module.name for module in iter_modules(__path__))

__all__ = [
    "Corpus", "RawRecord", "ValidationReport", "build_corpus", "IdMap", "DataWarning", "corpus_from_frame",
    "detect_format", "load_corpus", "read_item_metadata", "Split", "fixed_index_split", "iter_kfold_splits",
    "kfold_splits", "leave_last_out", "ratio_split", "split_folders", "write_index_split", "k_core",
]


def __getattr__(name: str):
    """Import the submodule that defines ``name`` and return the name from it; a submodule's own
    name (``whyrec.data.split``) gives the submodule, as when this package imported them all."""
    if name in _MODULE_OF:
        value = getattr(import_module(_MODULE_OF[name]), name)
    elif name in _SUBMODULES:
        value = import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module 'whyrec.data' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
