"""Explanations written by any system, read from a file and scored with whyrec's metrics
(``whyrec score``): the PETER benchmark's definitions (:mod:`whyrec.metrics.text`), so that a
number from PETER's or PEPLER's own code, from another paper's, or from whyrec means the same.

Two kinds of file are read:

* **the ``generated.txt`` of the PETER or PEPLER code**: a group of lines per test record, its
  reference, (PETER only) the context words, its generated explanation, then an empty line; the
  texts are tokens already, joined by spaces. PETER's groups have 4 lines, PEPLER's 3; which one a
  file holds is told by where its empty lines fall (:func:`read_generated_txt`).
* **a table** (CSV, TSV, JSON lines, a JSON array): a ``reference`` column and one or more columns
  of generated explanations, such as the records ``whyrec evaluate --records`` writes (its
  ``explanation_*`` columns, with ``feature``, ``rating`` and ``predicted``)
  (:func:`read_table_file`). A row without a reference (a record the system did not know: null, or
  an empty cell) is left out, as is a generated value that is null.

Texts are split on spaces, as PETER's metrics split them; ``tokenize=True`` runs whyrec's
tokenizer first (:func:`whyrec.data.text.tokenize`), for raw text.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from whyrec.data.text import tokenize as whyrec_tokenize
from whyrec.errors import DataError
from whyrec.metrics.rating import mae, rmse
from whyrec.metrics.text import explanation_quality
from whyrec.strict_json import json_kind
from whyrec.wording import columns_shown, counted

PETER_LINES, PEPLER_LINES = 4, 3  # lines per record of each code's generated.txt
TABLE_SUFFIXES = (".csv", ".tsv", ".jsonl", ".json")


@dataclass
class GeneratedTexts:
    """What a file gives to score: each record's ``references`` and, per system or explainer
    (``generated``: name → one text per record, None where it wrote none), the true ``features``
    ("" for none) and the ``ratings`` and ``predicted`` ratings when the file holds them."""

    source: str
    references: list[str]
    generated: dict[str, list[str | None]]
    features: list[str] | None = None
    ratings: list[float] | None = None
    predicted: list[float] | None = None
    layout: str = "table"
    left_out: int = 0  # records without a reference: a table's rows dropped, a generated.txt's kept, unscored
    keys: list[tuple[str, str]] | None = None  # each record's (user, item), when the table names them

    @property
    def with_reference(self) -> int:
        """How many records have a reference to be scored against (those ``left_out`` have none)."""
        return sum(bool(reference.strip()) for reference in self.references)


def read_generated_txt(path: Path, layout: str | None = None) -> GeneratedTexts:
    """PETER's (``layout="peter"``: reference, context, generated, empty) or PEPLER's
    (``"pepler"``: reference, generated, empty) ``generated.txt``; None: told by the empty lines,
    every 4th line in PETER's, every 3rd in PEPLER's. A file that fits neither, or both (a file
    whose texts are all empty fits both), is refused, naming what to give. A record whose reference
    line is empty is kept in its place (the records follow ``test.index``) but not scored: its
    explanation is None and ``left_out`` counts it, as a table's row without a reference is."""
    lines = _file_text(path).split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the newline that ends the file
    if not lines:
        raise DataError("file is empty", path=path)
    fits = {name: _fits(lines, size) for name, size in (("peter", PETER_LINES), ("pepler", PEPLER_LINES))}
    if layout is None:
        matching = [name for name, problem in fits.items() if problem is None]
        if len(matching) != 1:
            why = ("it fits both" if matching else f"as PETER's: {fits['peter']}; as PEPLER's: {fits['pepler']}")
            raise DataError(f"not told whether this is PETER's generated.txt (4 lines a record) or PEPLER's (3): "
                            f"{why}; give --layout peter or --layout pepler", path=path)
        layout = matching[0]
    elif layout not in fits:
        raise DataError(f"unknown layout {layout!r}: peter or pepler", path=path)
    elif fits[layout] is not None:
        raise DataError(f"not {layout.upper()}'s generated.txt: {fits[layout]}", path=path)
    size = PETER_LINES if layout == "peter" else PEPLER_LINES
    groups = [lines[start:start + size] for start in range(0, len(lines), size)]
    written = [g[size - 2] if g[0].strip() else None for g in groups]
    return GeneratedTexts(str(path), [g[0] for g in groups], {layout: written}, layout=layout,
                          left_out=written.count(None))


def _fits(lines: list[str], size: int) -> str | None:
    """Why ``lines`` are not groups of ``size`` lines each ending with an empty one (None: they are)."""
    if len(lines) % size:
        return f"{counted(len(lines), 'line')} {'is not a group' if len(lines) == 1 else 'are not groups'} of {size}"
    for number in range(size - 1, len(lines), size):
        if lines[number].strip():
            return f"line {number + 1} should be the empty line that ends a record"
    return None


def read_table_file(path: Path, generated: list[str] | None = None, reference: str = "reference",
                    feature: str | None = "feature") -> GeneratedTexts:
    """A table of references and generated explanations (:data:`TABLE_SUFFIXES`). ``generated``:
    the columns to score; None: ``generated`` if the table has it, else every ``explanation_*``
    column (``whyrec evaluate --records``). ``feature``: the true feature words' column, read
    when present; ``rating`` and ``predicted`` likewise, and ``user`` and ``item`` (the records'
    keys, by which :func:`compare_with_first` pairs two files' records)."""
    rows = _table_rows(path)
    if not rows:
        raise DataError("the table has no rows", path=path)
    columns = list(dict.fromkeys(key for row in rows for key in row))
    if reference not in columns:
        raise DataError(f"no column {reference!r} of reference texts; columns are {columns_shown(columns)} "
                        "(--reference NAME names it)", path=path)
    if generated is None:
        generated = ["generated"] if "generated" in columns else [c for c in columns if c.startswith("explanation_")]
        if not generated:
            raise DataError(f"no column of generated explanations ('generated' or 'explanation_…'); columns are "
                            f"{columns_shown(columns)} (--generated NAME names one)", path=path)
    missing = [name for name in generated if name not in columns]
    if missing:
        raise DataError(f"no column {missing[0]!r}; columns are {columns_shown(columns)}", path=path)
    kept = [row for row in rows if _present(row.get(reference))]
    texts = GeneratedTexts(str(path), [str(row[reference]) for row in kept],
                           {name.removeprefix("explanation_"): [_text_or_none(row.get(name)) for row in kept]
                            for name in generated}, left_out=len(rows) - len(kept))
    if feature and feature in columns:
        texts.features = [str(row.get(feature) or "") for row in kept]
    if "rating" in columns and "predicted" in columns:
        texts.ratings = [_number(row.get("rating"), "rating", path, n) for n, row in enumerate(kept, start=1)]
        texts.predicted = [_number(row.get("predicted"), "predicted", path, n) for n, row in enumerate(kept, start=1)]
    if "user" in columns and "item" in columns:
        texts.keys = [(str(row.get("user")), str(row.get("item"))) for row in kept]
    return texts


def _table_rows(path: Path) -> list[dict]:
    """The table's rows as dicts of cells; JSON nulls stay None, CSV cells are strings. A JSON file
    (``.json`` or ``.jsonl``) is one array of objects when it opens with ``[``, else JSON lines."""
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise DataError(f"a table is {', '.join(TABLE_SUFFIXES)} (or give PETER's or PEPLER's generated.txt)",
                        path=path)
    text = _file_text(path)
    if suffix in (".csv", ".tsv"):
        return _csv_rows(text, "\t" if suffix == ".tsv" else ",", path)
    if text.lstrip().startswith("["):  # one JSON array of objects, read as review files' arrays are
        from whyrec.data.readers.json_reviews import json_array_objects

        return [row for _, row in json_array_objects(path)]
    rows = []  # JSON lines: an object per line
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"not JSON: {exc.msg}", path=path, line=number) from None
        if not isinstance(row, dict):
            raise DataError(f"each line of a JSON lines table must be an object; this one is {json_kind(row)}",
                            path=path, line=number)
        rows.append(row)
    return rows


def _csv_rows(text: str, delimiter: str, path: Path) -> list[dict]:
    """CSV (or TSV) rows under the header, each with as many cells as it has names: a row with fewer
    or more (an unclosed quote runs to the end of the file) is refused at its line."""
    import csv
    import io

    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = next(reader, None)
    if header is None:
        raise DataError("file is empty", path=path)
    rows = []
    for cells in reader:
        if not cells:
            continue
        if len(cells) != len(header):
            why = "an unclosed quote, or a short row" if len(cells) < len(header) else \
                f"a {'tab' if delimiter == chr(9) else 'comma'} in a cell not quoted?"
            raise DataError(f"{counted(len(cells), 'cell')} under a header of {len(header)}: {why}", path=path,
                            line=reader.line_num)
        rows.append(dict(zip(header, cells)))
    return rows


def _file_text(path: Path) -> str:
    """The file's text as the review readers read theirs (:func:`~whyrec.data.readers.text_files.
    open_text`): UTF-8 without a byte-order mark (no part of the first name), UTF-16 by its mark (a
    spreadsheet's "Unicode text"), bytes that are not UTF-8 as Windows-1252, with a warning; a
    gzip's too. Line ends are read as line feeds, whatever the system that wrote them."""
    from whyrec.data.readers.text_files import reading_text

    with reading_text(path) as handle:
        return handle.read()


def _present(value) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value)) and str(value).strip() != ""


def _text_or_none(value) -> str | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def _number(value, column: str, path: Path, row: int) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise DataError(f"row {row:,}: {value!r} is not a number", path=path, field=column) from None
    if not math.isfinite(number):
        raise DataError(f"row {row:,}: {value!r} is not a finite number", path=path, field=column)
    return number


def score_texts(texts: GeneratedTexts, feature_set: set[str] | None = None, tokenize: bool = False,
                scale: tuple[float, float] | None = None, judge=None) -> dict[str, dict[str, float]]:
    """Each generated column's scores against the references, over the records it wrote for:
    ``count``, BLEU-1/4, ROUGE-1/2/L F, USR (:func:`whyrec.metrics.text.explanation_quality`),
    with a ``feature_set`` FCR and DIV, and FMR too when the true ``features`` are known (else
    NaN), and ``empty`` (the percentage with no words). When the file holds ratings: ``rmse`` and
    ``mae`` of ``predicted``, clamped to ``scale`` (the data's, as PETER clamps) when given; and
    with a ``judge`` (:func:`whyrec.explanation_scores.sentiment_judge`, which needs the ``scale``)
    the alignment ``acc5``/``acc3`` of each explanation with its predicted rating and their base
    rates ``base5``/``base3`` (:func:`whyrec.metrics.alignment.sentiment_accuracy`), as
    ``whyrec evaluate`` reports them. ``tokenize``: run whyrec's tokenizer on both texts first, for
    raw text; else split on spaces."""
    split = whyrec_tokenize if tokenize else str.split
    if judge is not None and scale is None:
        raise ValueError("the sentiment judge reads predicted ratings on a scale: give scale")
    out = {}
    for name, written in texts.generated.items():
        rows = [n for n, text in enumerate(written) if text is not None]
        if not rows:
            raise DataError(f"{name!r} holds no explanation to score", path=texts.source)
        references = [split(texts.references[n]) for n in rows]
        hypotheses = [split(written[n]) for n in rows]
        true = [texts.features[n] for n in rows] if texts.features is not None else [""] * len(rows)
        scores = explanation_quality(references, hypotheses, true, feature_set or set())
        if texts.features is None:
            scores["fmr"] = math.nan  # no true feature words: nothing to match
        scores["count"] = len(rows)
        scores["empty"] = 100.0 * sum(not h for h in hypotheses) / len(hypotheses)
        if texts.ratings is not None and texts.predicted is not None:
            predicted = np.array([texts.predicted[n] for n in rows])
            ratings = np.array([texts.ratings[n] for n in rows])
            scores.update(rmse=rmse(predicted, ratings, scale), mae=mae(predicted, ratings, scale))
            if judge is not None:
                scores.update(_alignment(judge, [written[n] for n in rows], np.clip(predicted, *scale), scale))
        out[name] = scores
    return out


def _alignment(judge, written: list[str], predicted: np.ndarray, scale: tuple[float, float]) -> dict[str, float]:
    """``acc5``/``acc3``: how often the judge reads an explanation as its predicted rating's class;
    ``base5``/``base3``: what one sentence for every record would score."""
    from whyrec.data.scale import five_point
    from whyrec.metrics.alignment import sentiment_accuracy, sentiment_base_rate

    classes = five_point(predicted, scale)
    accuracy, base = sentiment_accuracy(judge.predict(written), classes), sentiment_base_rate(classes)
    return {"acc5": accuracy["acc5"], "acc3": accuracy["acc3"], "base5": base["acc5"], "base3": base["acc3"]}


@dataclass
class PairedComparison:
    """One output tested against the first (:func:`compare_with_first`): ``output`` and
    ``against`` name them (``file · column``); ``records``: how many records both wrote for;
    ``tests``: metric → :class:`whyrec.metrics.significance.PairedDifference` (this output minus
    the first); ``references_differ``: of those records, how many have another reference text in
    this output's file than in the first's (each explanation is scored against its own file's);
    ``unpaired``: why no record is paired; ``paired_by``: ``"user and item"`` or ``"position"``
    (:func:`paired_records`); ``unmatched``: this output's records with no record of the first
    file's (user, item), when paired by them; ``as_first``: it wrote the first's explanation of
    every paired record, scored alike (its tests test nothing:
    :attr:`whyrec.metrics.significance.PairedExplanations.identical`); ``repeats``: the earlier
    output (its label) whose explanations of the same records, scored alike, it wrote, not the
    first's (its tests are that output's, counted once)."""

    output: str
    against: str
    records: int = 0
    tests: dict = field(default_factory=dict)
    references_differ: int = 0
    unpaired: str = ""
    paired_by: str = ""
    unmatched: int = 0
    as_first: bool = False
    repeats: str | None = None

    @property
    def family_tests(self) -> dict:
        """Its tests as Holm's family over every output holds them: none when it wrote as the first
        did (``as_first``), whose tests test nothing, nor when it repeats an earlier output's
        (``repeats``), counted there. ``score``'s line and its JSON both read it."""
        return {} if self.as_first or self.repeats else self.tests


def paired_records(first: GeneratedTexts, other: GeneratedTexts) -> tuple[list[tuple[int, int]], str, str]:
    """Which record of ``other`` goes with which of ``first``: ``(pairs, by, why_none)``, ``pairs``
    as (index in ``first``, index in ``other``).

    * When both files give each record's user and item (``evaluate --records`` writes them), by
      those: the k-th record of a (user, item) in ``other`` with the k-th of it in ``first``. Files
      of other test sets, or one holding part of the other's, are then paired on what they share.
    * Otherwise by position, when they hold as many records (those of one split's test part, in
      its order, as PETER's and PEPLER's code write them); else none, and ``why_none`` says why."""
    if first.keys is not None and other.keys is not None:
        where: dict[tuple[str, str], list[int]] = {}
        for n, key in enumerate(first.keys):
            where.setdefault(key, []).append(n)
        taken: dict[tuple[str, str], int] = {}
        pairs = []
        for n, key in enumerate(other.keys):
            k = taken.get(key, 0)
            if k < len(where.get(key, ())):
                pairs.append((where[key][k], n))
                taken[key] = k + 1
        return pairs, "user and item", "" if pairs else "no (user, item) of the first file's records"
    if len(other.references) != len(first.references):
        return [], "position", (f"{len(other.references):,} records, the first file {len(first.references):,} "
                                "(files with user and item columns are paired by them)")
    return [(n, n) for n in range(len(first.references))], "position", ""


def output_label(texts: GeneratedTexts, name: str) -> str:
    """How the comparison tables name a generated column: ``file · column``."""
    return f"{Path(texts.source).name} · {name}"


def compare_with_first(read: list[GeneratedTexts], feature_set: set[str] | None = None, tokenize: bool = False,
                       trials: int = 1000, seed: int = 0, judge=None,
                       scale: tuple[float, float] | None = None) -> list[PairedComparison]:
    """Every generated column after the first file's first, tested against it, record by record,
    by approximate randomization (:func:`whyrec.metrics.significance.randomization_test`, on the
    metrics :func:`score_texts` gives) over the records both wrote for. Files are paired record by
    record by :func:`paired_records`: by user and item when both name them, else in their order
    when they hold as many records. Their reference texts may differ (PETER maps words outside
    its vocabulary to ``<unk>``; PEPLER writes its own tokens): each output is scored against its
    own, and ``references_differ`` counts where they do. FMR is tested when the first file knows
    the records' true features; with a ``judge`` (and the data's rating ``scale``), the sentiment
    alignment ``acc5``/``acc3`` of :func:`score_texts` when both files hold predicted ratings."""
    from whyrec.metrics.significance import PairedExplanations, stratified_randomization_test

    split = whyrec_tokenize if tokenize else str.split
    outputs = [(texts, name) for texts in read for name in texts.generated]
    first_texts, first_name = outputs[0]
    first = first_texts.generated[first_name]
    out = []
    compared: list[tuple[PairedComparison, PairedExplanations]] = []  # tested in their own right
    for texts, name in outputs[1:]:
        entry = PairedComparison(output_label(texts, name), output_label(first_texts, first_name))
        pairs, entry.paired_by, entry.unpaired = paired_records(first_texts, texts)
        if entry.paired_by == "user and item":
            entry.unmatched = len(texts.references) - len(pairs)
        if entry.unpaired:
            out.append(entry)
            continue
        written = texts.generated[name]
        pairs = [(a, b) for a, b in pairs if first[a] is not None and written[b] is not None]
        theirs, mine = [a for a, _ in pairs], [b for _, b in pairs]
        entry.records = len(pairs)
        if not pairs:
            entry.unpaired = "no record both wrote for"
        else:
            true = [first_texts.features[a] for a in theirs] if first_texts.features is not None else None
            entry.references_differ = sum(texts.references[b] != first_texts.references[a] for a, b in pairs)
            means = {}
            if judge is not None and texts.predicted is not None and first_texts.predicted is not None:
                this, that = (_judged(judge, source, explanations, rows, scale)
                              for source, explanations, rows in ((texts, written, mine), (first_texts, first, theirs)))
                means = {metric: (this[metric], that[metric]) for metric in this}
            part = PairedExplanations(  # this output's scores minus the first's
                [split(texts.references[b]) for b in mine], [split(written[b]) for b in mine],
                [split(first[a]) for a in theirs], true if feature_set else None,
                second_references=[split(first_texts.references[a]) for a in theirs], record_means=means)
            entry.tests = stratified_randomization_test([part], feature_set, trials, seed)
            entry.as_first = part.identical
            earlier = next((e for e, other in compared if part.same_tests_as(other)), None)
            entry.repeats = earlier.output if earlier is not None and not entry.as_first else None
            if not entry.as_first and earlier is None:
                compared.append((entry, part))
        out.append(entry)
    return out


def _judged(judge, texts: GeneratedTexts, written: list[str], rows: list[int], scale) -> dict[str, np.ndarray]:
    """The sentiment agreement of ``written``'s explanations at ``rows`` with ``texts``' predicted
    ratings there, clamped to ``scale`` (:func:`whyrec.explanation_scores.judged_agreement`)."""
    from whyrec.data.scale import five_point
    from whyrec.explanation_scores import judged_agreement

    classes = five_point(np.clip([texts.predicted[n] for n in rows], *scale), scale)
    return judged_agreement(judge, [written[n] for n in rows], classes)
