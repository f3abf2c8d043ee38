"""``whyrec score``: explanations any system wrote, read from a file and scored with whyrec's
metrics (:mod:`whyrec.written_elsewhere`)."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Optional

import typer

from whyrec.cli.common import app
from whyrec.cli.inputs import chosen_split_dir, split_of, warnings_as_lines
from whyrec.cli.option_checks import refuse_unread_data_options
from whyrec.cli.options import (ColumnMap, HistorySeed, HistorySplit, MaxRating, MinRating, ReaderFormat,
                                SignificanceTrials)
from whyrec.cli.output import console, status
from whyrec.strict_json import strict_dumps
from whyrec.wording import counted, shown, usr_text


@app.command("score")
def score(
    context: typer.Context,
    files: list[Path] = typer.Argument(..., help="PETER's or PEPLER's generated.txt, or a table (.csv, .tsv, "
                                       ".jsonl, .json) of references and generated explanations, such as "
                                       "`whyrec evaluate --records` writes; several are scored one after another, "
                                       "against the same --data."),
    generated: Optional[list[str]] = typer.Option(None, "--generated", help="A table's column of generated "
                                                  "explanations (repeatable; default: 'generated', else every "
                                                  "'explanation_…' column)."),
    reference: str = typer.Option("reference", "--reference", help="A table's column of reference texts."),
    layout: Optional[str] = typer.Option(None, "--layout", help="A generated.txt's layout, peter (4 lines a "
                                         "record) or pepler (3), when its empty lines do not tell."),
    tokenize: bool = typer.Option(False, "--tokenize", help="Run whyrec's tokenizer on both texts first (raw "
                                  "text); by default they are split on spaces, as PETER's metrics split them."),
    data: Optional[Path] = typer.Option(None, "--data", help="The reviews the explanations are of: its features "
                                        "(a PETER pickle's own, else extracted from every record of the split) are "
                                        "the set FMR, FCR and DIV look for; for a generated.txt, its split's "
                                        "test.index gives each record's feature word."),
    split: HistorySplit = None,
    seed: HistorySeed = None,
    format: ReaderFormat = None,
    column: ColumnMap = None,
    trials: SignificanceTrials = 1000,
    as_json: bool = typer.Option(False, "--json", help="Print the scores as JSON."),
    min_rating: MinRating = 1.0,
    max_rating: MaxRating = 5.0,
) -> None:
    """Score explanations written by any system (PETER's or PEPLER's code, another paper's, whyrec's
    records) with whyrec's metrics: BLEU-1/4, ROUGE-1/2/L, USR, and with --data FMR, FCR and DIV,
    as the PETER benchmark defines them. When a table holds rating and predicted: RMSE and MAE, and
    with --data the explanations' sentiment alignment with the predicted rating, as evaluate gives it.
    With several outputs (files, or a table's columns), each is tested against the first, record
    by record: the difference of each text metric and its p-value."""
    from whyrec.errors import ConfigError, DataError
    from whyrec.metrics.significance import holm_by_test
    from whyrec.written_elsewhere import compare_with_first, read_generated_txt, read_table_file, score_texts

    for file in files:
        if not file.is_file():
            raise DataError("no such file" if not file.exists() else "a folder, not a file", path=file)
    txt = [file.suffix.lower() == ".txt" for file in files]
    if layout is not None and not all(txt):
        raise ConfigError("--layout tells a generated.txt's layout; a table's columns have names")
    if any(txt) and (generated or reference != "reference"):
        raise ConfigError("--generated and --reference name a table's columns; a generated.txt has none")
    refuse_unread_data_options(context, "split", "seed", "format", "column", "min_rating", "max_rating")
    with warnings_as_lines():  # a file not in UTF-8, read as Windows-1252
        read = [read_generated_txt(file, layout) if is_txt else read_table_file(file, generated, reference)
                for file, is_txt in zip(files, txt)]  # every file read before the data is
    feature_set = scale = judge = None
    if data is not None:
        from whyrec.data.features import split_features

        parts = split_of(data, split, seed, format, (min_rating, max_rating), column)
        table = split_features(parts)
        feature_set, scale = set(table["feature"]), parts.train.rating_scale
        for texts, is_txt in zip(read, txt):
            if is_txt:
                texts.features = _test_index_features(data, split, seed, table, len(texts.references))
        if any(texts.predicted is not None for texts in read) and len(parts.train):
            from whyrec.explanation_scores import sentiment_judge

            with status(console(), "training the sentiment judge on the train reviews"):
                judge = sentiment_judge(parts.train)
    report = {"feature_set": len(feature_set) if feature_set is not None else None,
              "files": [{"file": texts.source, "layout": texts.layout, "records": texts.with_reference,
                         "left_out": texts.left_out, "scores": score_texts(texts, feature_set, tokenize, scale, judge)}
                        for texts in read]}
    tested = []
    if trials and sum(len(texts.generated) for texts in read) > 1:
        with status(console(), "testing each output against the first"):
            tested = compare_with_first(read, feature_set, tokenize, trials, judge=judge, scale=scale)
        adjusted = holm_by_test([{m: test.p for m, test in t.family_tests.items()} for t in tested])
        by_output = {t.output: holm for t, holm in zip(tested, adjusted)}  # a repeat takes its first's
        report["against_first"] = {"output": tested[0].against, "method": "approximate randomization",
                                   "trials": trials, "seed": 0,
                                   "outputs": [_tested_json(t, by_output[t.repeats] if t.repeats else holm)
                                               for t, holm in zip(tested, adjusted)]}
    if as_json:
        typer.echo(strict_dumps(report))
        return
    for texts, scored in zip(read, report["files"]):
        _print_scores(scored, report["feature_set"], texts.features is not None)
    if len(report["files"]) > 1 or tested:
        console().print("\n" + comparison_table(report["files"]), highlight=False)
    if tested:
        console().print(f"\nAgainst {tested[0].against}: each metric's difference and its p-value (approximate "
                        f"randomization: {trials:,} random swaps of the two outputs' explanations of a record)\n"
                        + tested_table(tested), highlight=False)


def _test_index_features(data: Path, split: Optional[Path], seed: Optional[int], table, records: int) -> list[str]:
    """Each record's feature word, for a generated.txt: PETER and PEPLER write the test records in
    the order of ``test.index``, so the index file, not a sorted part, gives the order."""
    from whyrec.data.split import read_index_file
    from whyrec.errors import ConfigError, DataError

    folder = chosen_split_dir(data, split, seed)
    if folder is None:
        raise ConfigError("a generated.txt holds the records of a fixed split's test.index, in its order: give "
                          "--split (the folder of the split it was generated on)")
    positions = read_index_file(folder / "test.index").tolist()
    if len(positions) != records:
        raise DataError(f"{folder / 'test.index'} lists {len(positions):,} test records, and the file "
                        f"{records:,}: is it the split the explanations were generated on?")
    word_at = dict(zip(table["position"].tolist(), table["feature"].tolist()))
    return [word_at.get(position, "") for position in positions]


def _print_scores(report: dict, feature_set: int | None, with_features: bool) -> None:
    """One file's scores: a line per generated column."""
    con = console()
    where = f"{report['file']} ({report['layout']})" if report["layout"] != "table" else report["file"]
    con.print(f"{where}: {counted(report['records'], 'record')} with a reference"
              + (f" ({counted(report['left_out'], 'row' if report['layout'] == 'table' else 'record')} without one "
                 "left out)" if report["left_out"] else ""),
              highlight=False)
    for name, sc in report["scores"].items():
        parts = [f"BLEU-1 {sc['bleu1']:.2f}", f"BLEU-4 {sc['bleu4']:.2f}",
                 f"ROUGE-1/2/L {sc['rouge1']:.2f}/{sc['rouge2']:.2f}/{sc['rougeL']:.2f}",
                 usr_text(sc["usr"], sc["count"])]
        if feature_set is None:
            parts.append("FMR, FCR, DIV n/a (give --data: the features they look for)")
        else:
            parts += [f"FMR {shown(sc['fmr'], '.3f', 'n/a')}", f"FCR {shown(sc['fcr'], '.3f', 'n/a')}",
                      f"DIV {shown(sc['div'], '.3f', 'n/a')}"]
        if "rmse" in sc:
            parts.append(f"RMSE {sc['rmse']:.4f}  MAE {sc['mae']:.4f}")
        if "acc5" in sc:
            parts.append(f"sentiment accuracy {sc['acc5']:.1f}% / {sc['acc3']:.1f}% (5 / 3 classes; one sentence "
                         f"for all would score {sc['base5']:.1f}% / {sc['base3']:.1f}%)")
        con.print(f"  {name} on {counted(sc['count'], 'record')}: " + "  ".join(parts), highlight=False)
        if sc["empty"]:
            con.print(f"    {sc['empty']:.1f}% of these explanations have no words", highlight=False)
    if feature_set is not None and not with_features:
        con.print("  FMR n/a: no true feature word per record (a table's 'feature' column)", highlight=False)


TABLE_COLUMNS = (("records", "count", ",d"), ("BLEU-1", "bleu1", ".2f"), ("BLEU-4", "bleu4", ".2f"),
                 ("ROUGE-1", "rouge1", ".2f"), ("ROUGE-2", "rouge2", ".2f"), ("ROUGE-L", "rougeL", ".2f"),
                 ("USR", "usr", ".3f"), ("FMR", "fmr", ".3f"), ("FCR", "fcr", ".3f"), ("DIV", "div", ".3f"),
                 ("RMSE", "rmse", ".4f"), ("sentiment = rating (5 classes, %)", "acc5", ".1f"),
                 ("sentiment = rating (3 classes, %)", "acc3", ".1f"),
                 ("one sentence for all (5 classes, %)", "base5", ".1f"))


def comparison_table(files: list[dict]) -> str:
    """The scores of several files as one markdown table, a row per file and generated column
    (``file · column``); a column only when some row has it, n/a where a row has not."""
    from whyrec.results_table import markdown_table

    rows = [(f"{Path(entry['file']).name} · {name}", scores)
            for entry in files for name, scores in entry["scores"].items()]
    columns = [(title, key, spec) for title, key, spec in TABLE_COLUMNS if any(key in sc for _, sc in rows)]
    return markdown_table(["output", *(title for title, _, _ in columns)],
                          [[label, *(shown(sc.get(key, math.nan), spec, "n/a") for _, key, spec in columns)]
                           for label, sc in rows])


def _tested_json(tested, holm: dict[str, float]) -> dict:
    """One output's tests against the first, each with its p adjusted by Holm's method over every
    test of every output (``holm``: this output's, by metric; None for an output that wrote as the
    first did, whose tests are no tests; for a repeat, the output's it repeats)."""
    return {"output": tested.output, "records": tested.records, "references_differ": tested.references_differ,
            "unpaired": tested.unpaired or None, "paired_by": tested.paired_by, "unmatched": tested.unmatched,
            **({"as_first": True} if tested.as_first else {}),
            **({"repeats": tested.repeats} if tested.repeats else {}),
            "tests": {metric: {**dataclasses.asdict(t), "p_holm": holm.get(metric)}
                      for metric, t in tested.tests.items()}}


def tested_table(tested: list) -> str:
    """The outputs tested against the first (:func:`whyrec.written_elsewhere.compare_with_first`)
    as a markdown table: per metric, this output's score minus the first's, and its p."""
    from whyrec.metrics.significance import smallest_p
    from whyrec.results_table import markdown_table, randomization_holm_note, repeated_clause, untested_clause

    columns = [(title, key, spec) for title, key, spec in TABLE_COLUMNS[1:] if any(key in t.tests for t in tested)]
    rows = []
    for entry in tested:
        if entry.unpaired:
            rows.append([entry.output, "0", *(["n/a"] * len(columns))])
            continue
        cells = [f"{entry.tests[key].difference:+z{spec}} (p {entry.tests[key].p:.3f})" if key in entry.tests
                 else "n/a" for _, key, spec in columns]
        rows.append([entry.output, f"{entry.records:,}", *cells])
    table = markdown_table(["output", "records", *(title for title, _, _ in columns)], rows)
    notes = [f"{entry.output}: not tested, {entry.unpaired}" for entry in tested if entry.unpaired]
    notes += [f"{entry.output}: paired with the first by user and item; {entry.unmatched:,} of its records "
              f"{'has' if entry.unmatched == 1 else 'have'} no match there (left out)"
              for entry in tested if entry.unmatched and not entry.unpaired]
    notes += [f"{entry.output}: {counted(entry.references_differ, 'reference')} of {entry.records:,} differ from "
              "the first's; each output is scored against its own" for entry in tested if entry.references_differ]
    notes += [f"{entry.output}: every one of the {2 ** entry.records:,} ways to swap its {entry.records:,} records "
              "counted (an exact test; the smallest p it can give is " + f"{smallest_p(entry.tests.values())[0]:.3g})"
              for entry in tested if any(t.exact for t in entry.tests.values())]
    titles = {key: title for title, key, _ in TABLE_COLUMNS}
    untested = untested_clause([entry.output for entry in tested if entry.as_first], "write", "the first")
    untested += repeated_clause([(entry.output, entry.repeats) for entry in tested if entry.repeats], "write", "tests")
    together = randomization_holm_note([(entry.output, entry.family_tests) for entry in tested if entry.tests],
                                       titles.__getitem__,
                                       "the table's {count} p-values" + untested)
    return "\n".join([table, *notes, *([together] if together else [])])
