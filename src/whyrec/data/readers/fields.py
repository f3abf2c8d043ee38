"""Which column (or JSON key) holds each whyrec field: the usual names of each, tried in order,
or the mapping a user gives (``--column FIELD=NAME``)."""

from __future__ import annotations

from pathlib import Path

from whyrec.errors import DataError
from whyrec.wording import columns_shown, listed

# Known names of each field across the formats whyrec reads, tried in order.
# customer_id, star_rating, review_body, review_date, review_headline: the Amazon Customer Reviews
# dataset's tab-separated files.
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "user": ("user", "user_id", "userId", "reviewerID", "reviewer_id", "customer_id"),
    # Amazon Reviews 2023 gives both: parent_asin groups a product's variants (sizes, colours), and
    # its metadata and published benchmarks are keyed by it
    "item": ("item", "item_id", "itemId", "parent_asin", "asin", "business_id", "product", "product_id", "movieId",
             "book_id"),
    "rating": ("rating", "overall", "stars", "score", "star_rating"),
    "text": ("text", "reviewText", "review", "review_text", "review_body", "body", "comment", "content"),
    "time": ("time", "unixReviewTime", "timestamp", "date", "date_added", "reviewTime", "review_date"),
    "summary": ("summary", "title", "review_headline", "headline"),
    # the item's own name, where each review row repeats it (the Amazon Customer Reviews files'
    # product_title): the item's title when no metadata file gives one
    "item_title": ("item_title", "product_title", "item_name", "product_name", "movie_title", "book_title"),
}
REQUIRED_FIELDS = ("user", "item", "rating", "text")


def mapping_hint(fields: list[str], command_line: bool = True) -> str:
    """How to name the columns of ``fields``: ``--column user=NAME --column item=NAME (load_corpus:
    columns={'user': NAME, 'item': NAME})``, or for a table given in memory only the ``columns=`` part."""
    library = "columns={" + ", ".join(f"'{f}': NAME" for f in fields) + "}"
    if not command_line:
        return library
    return f"{' '.join(f'--column {f}=NAME' for f in fields)} (load_corpus: {library})"


# what a table without a text column and a JSON file without text keys are told, after why
RATINGS_ONLY_NOTE = ("read as ratings only, which the rating models fit; MT, PETER, MMI and the explanation metrics "
                     "need review text: map its {0} with {1}")


def check_mapping(columns: dict[str, str] | None, path: Path) -> None:
    unknown = set(columns or {}) - set(FIELD_ALIASES)
    if unknown:
        raise DataError(f"unknown field(s) in column mapping: {sorted(unknown)}; "
                        f"fields are {list(FIELD_ALIASES)}", path=path)


def check_distinct_columns(columns: dict[str, str], path: str | Path, word: str = "column",
                           command_line: bool = True) -> None:
    """Refuse two of the user, item and rating fields read from one ``word`` (column or JSON key) of
    ``columns`` (field → name): ``--column user=item`` beside the item found under its usual
    name read every review as by its item, and kept one review per item."""
    read_by: dict[str, str] = {}
    for field_name in ("user", "item", "rating"):
        name = columns.get(field_name)
        if name is None:
            continue
        if name in read_by:
            both = [read_by[name], field_name]
            raise DataError(f"fields '{both[0]}' and '{both[1]}' would both be read from the {word} '{name}'; "
                            f"map one of them to its own {word} with {mapping_hint(both, command_line)}", path=path)
        read_by[name] = field_name


def _loose(name: object) -> str:
    """A column name without case, spaces, underscores and hyphens: "User ID" and "user_id" alike."""
    return "".join(ch for ch in str(name).lower() if ch not in " _-")


def loosely_named(aliases: tuple[str, ...], available: list[str]) -> str | None:
    """The first column whose name is one of ``aliases`` but for case, spaces, underscores and
    hyphens (a spreadsheet's "User ID", "Review Text", "Rating"), when no column has the exact name."""
    loose = {_loose(a) for a in aliases}
    return next((column for column in available if _loose(column) in loose), None)


def column_for(field: str, available: list[str]) -> str | None:
    """The column of ``available`` holding ``field``: its first known name present (``FIELD_ALIASES``),
    else one named so but for case, spaces, underscores and hyphens (:func:`loosely_named`)."""
    aliases = FIELD_ALIASES[field]
    return next((a for a in aliases if a in available), None) or loosely_named(aliases, available)


def resolve_columns(available: list[str], mapping: dict[str, str] | None, path: str | Path,
                    command_line: bool = True) -> dict[str, str]:
    """Map whyrec fields to table columns: explicit ``mapping`` first, then known aliases (exact, else
    :func:`loosely_named`). The required fields no column was found for are named in one error,
    with how to map them (:func:`mapping_hint`). A missing text column is no error: the result then
    has no ``text`` (the table holds ratings only)."""
    mapping = dict(mapping or {})
    check_mapping(mapping, path)
    resolved: dict[str, str] = {}
    missing = []
    for field_name, aliases in FIELD_ALIASES.items():
        if field_name in mapping:
            if mapping[field_name] not in available:
                raise DataError(f"column '{mapping[field_name]}' for field '{field_name}' not found; "
                                f"columns are {columns_shown(available)}", path=path)
            resolved[field_name] = mapping[field_name]
            continue
        found = column_for(field_name, available)
        if found is not None:
            resolved[field_name] = found
        elif field_name in REQUIRED_FIELDS and field_name != "text":
            missing.append(field_name)
    if missing:
        raise DataError(_no_columns_for(missing, available, command_line), path=path)
    check_distinct_columns(resolved, path, "column", command_line)
    return resolved


def looked_for(missing: list[str]) -> str:
    """The names tried for the fields ``missing``, as the errors naming them say it, a table's and a
    JSON file's alike: ``'item' or 'rating' (looked for item: item, item_id, …; rating: rating, …; in
    any case, with or without spaces and underscores)``."""
    anyhow = "in any case, with or without spaces and underscores"
    if len(missing) == 1:
        looked = f"{', '.join(FIELD_ALIASES[missing[0]])}, {anyhow}"
    else:
        looked = "; ".join(f"{f}: {', '.join(FIELD_ALIASES[f])}" for f in missing) + f"; {anyhow}"
    return f"{listed([repr(f) for f in missing])} (looked for {looked})"


def _no_columns_for(missing: list[str], available: list[str], command_line: bool) -> str:
    """The one error naming every required field no column was found for, so that they are mapped
    together rather than one run at a time."""
    return (f"no column for {looked_for(missing)}; columns are {columns_shown(available)}; "
            f"map {'one' if len(missing) == 1 else 'them'} with {mapping_hint(missing, command_line)}")
