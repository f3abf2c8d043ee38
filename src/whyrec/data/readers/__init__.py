"""Readers: one per file format, each yielding :class:`RawRecord` objects that
:func:`load_corpus` validates into a corpus.

Formats (``FORMATS``): JSON Lines or one JSON array of review objects, or a table pandas
wrote as one JSON object, plain or gzip (Amazon 2014/2018/2023, Yelp's academic dataset;
``json_reviews``); CSV, TSV, Parquet and DataFrames (``tables``); formats with fixed fields,
Yelp ``.ss``, MovieLens ``ratings.dat`` and the PETER benchmark's ``reviews.pickle``
(``fixed_fields``); and item metadata (``item_metadata``). Each table or JSON reader finds its
fields by their usual names or a column mapping (``fields``); all read text files the same way
(``text_files``). :func:`detect_format` chooses a reader by content (``loading``).
"""

from whyrec.data.readers.fields import FIELD_ALIASES, REQUIRED_FIELDS, mapping_hint, resolve_columns
from whyrec.data.readers.item_metadata import metadata_beside, read_item_metadata, read_movielens_movies
from whyrec.data.readers.loading import FORMATS, corpus_from_frame, detect_format, load_corpus, reviews_in
from whyrec.data.readers.text_files import iter_lines
from whyrec.errors import DataWarning

__all__ = [
    "FIELD_ALIASES", "REQUIRED_FIELDS", "mapping_hint", "resolve_columns", "metadata_beside",
    "read_item_metadata", "read_movielens_movies", "FORMATS", "corpus_from_frame", "detect_format", "load_corpus",
    "reviews_in", "iter_lines", "DataWarning",
]
