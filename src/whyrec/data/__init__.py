"""Data layer: the review corpus, file readers, splits, text processing and features."""

from whyrec.data.corpus import Corpus, IdMap, RawRecord, ValidationReport, build_corpus
from whyrec.data.readers import DataWarning, corpus_from_frame, detect_format, load_corpus, read_item_metadata
from whyrec.data.split import (Split, fixed_index_split, iter_kfold_splits, kfold_splits, leave_last_out, ratio_split,
                               split_folders, write_index_split)

__all__ = [
    "Corpus", "IdMap", "RawRecord", "ValidationReport", "build_corpus", "DataWarning", "corpus_from_frame",
    "detect_format", "load_corpus", "read_item_metadata", "Split", "fixed_index_split", "iter_kfold_splits",
    "kfold_splits", "leave_last_out", "ratio_split", "split_folders", "write_index_split",
]
