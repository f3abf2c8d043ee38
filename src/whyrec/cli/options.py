"""The options several ``whyrec`` commands share, declared once (``Annotated`` Typer types),
and the names of the explanation systems the commands train."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

# every command that reads reviews takes the data's rating scale (records outside it are skipped)
MinRating = Annotated[float, typer.Option("--min-rating", help="Lowest valid rating of the data's scale.")]
MaxRating = Annotated[float, typer.Option("--max-rating", help="Highest valid rating of the data's scale.")]
# ... and the reader, when the file's name and first bytes do not tell it
ReaderFormat = Annotated[Optional[str], typer.Option(
    "--format", help="Reader to use instead of detecting it: amazon-json, yelp-json, yelp-ss, csv, tsv (quoted "
    "as RFC 4180 says), tsv-unquoted (quotes are text, as in the Amazon Customer Reviews files), parquet, "
    "peter-pickle or movielens-dat.")]
# ... and which table columns (JSON keys) hold a file's fields, when their names are not the usual ones
ColumnMap = Annotated[Optional[list[str]], typer.Option(
    "--column", help="Column (JSON: key) of a field, FIELD=NAME (user, item, rating, text, time, summary, item_title; "
    "repeatable), when the header does not use a usual name. Data with no text column (JSON: no text key in its "
    "first 1,000 records) is read as ratings only, for the rating models.")]
# texts with typographic quotes and accents folded to ASCII first (whyrec.data.text.fold_to_ascii)
FoldUnicode = Annotated[bool, typer.Option(
    "--fold-unicode", help="Write typographic quotes, dashes and accented letters in ASCII before tokenizing "
    "(isn’t → isn't, café → cafe), and other scripts transliterated (звук → zvuk), instead of as spaces as the "
    "benchmarks do; the bundle records it.")]
# what picks a rating model's settings given several values (whyrec.rating.tuning)
TuneOn = Annotated[Optional[str], typer.Option(
    "--tune-on", help="What picks among a setting's several values (NAME=A|B) on validation: rmse (default), "
    "mae, or a ranking metric at k such as ndcg@10 or recall@20.")]
Tuned = Annotated[bool, typer.Option(
    "--tuned", help="Rating models: pick every setting on validation over the model's default grid (the rating "
    "benchmark's; a setting given keeps its value or values).")]
# the rating error by how much the test records' users rated in train (whyrec.experiment.rmse_by_activity)
ByActivity = Annotated[bool, typer.Option(
    "--by-activity", help="Also the RMSE over the test records grouped by their user's number of training "
    "ratings (new users, 1–2, 3–5, 6–10, 11–20, 21+).")]
# compare's, experiment explain's and score's test of each explainer against the first; align's of after against before
SignificanceTrials = Annotated[int, typer.Option(
    "--trials", min=0, help="Each explainer compared is tested against the first (score: each output; align: "
    "the aligned explainer against the one it was) on the records both explain, by approximate randomization "
    "with this many random swaps of their explanations of a record (0: no test).")]
# the ranking metrics of experiment rating and evaluate (whyrec.metrics.ranking)
TopK = Annotated[Optional[int], typer.Option(
    "--top-k", min=1, help="Also rank the items each test user did not rate and report precision, recall, HR, "
    "MRR and nDCG at k.")]
RelevantAt = Annotated[Optional[float], typer.Option(
    "--relevant-at", help="With --top-k: the rating from which a test item counts as relevant (default: 4 on 1–5, "
    "7.5 on 0–10).")]
# MMI's mutual-information scores of the explanations (whyrec.metrics.alignment) and the encoder they read
MiScores = Annotated[bool, typer.Option(
    "--mi", help="MT / PETER: also MMI's I(R;E)/H(R) and I(F;E), by fresh MINE estimators over sentence "
    "embeddings (--encoder).")]
SentenceEncoderName = Annotated[Optional[str], typer.Option(
    "--encoder", help="With --mi: minilm (needs the mmi extra; the default) or words (mean word vectors).")]
Overwrite = Annotated[bool, typer.Option(
    "--overwrite", help="Replace the bundle already in --out (without it, such an --out is refused before any work).")]
# item metadata (titles, brand, category) kept elsewhere than beside the reviews
MetaFile = Annotated[Optional[Path], typer.Option(
    "--meta", help="Item metadata file (Amazon meta JSON lines: titles, brand, category; or Yelp's business.json), "
    "when it is not beside the reviews as meta.json.gz or, for the Amazon dumps, meta_X.json.gz beside X_5.json.gz "
    "(Yelp's: yelp_academic_dataset_business.json beside its reviews).")]
# a rating bundle's history (--data) is read on a split: the split folder and the random split's seed
HistorySplit = Annotated[Optional[Path], typer.Option(
    "--split", help="With --data: split folder (default: <data>/1 when present).")]
# --seed: a random split drawn with it; without one, the data folder's fixed split 1 (else seed 0's)
SplitSeed = Annotated[Optional[int], typer.Option(
    "--seed", min=0, help="Draw a random 80/10/10 split with this seed, even where the data folder has fixed "
    "splits (default: its split 1, else seed 0); not with --split.")]
HistorySeed = Annotated[Optional[int], typer.Option(
    "--seed", min=0, help="With --data: draw a random 80/10/10 split with this seed, even where the data folder "
    "has fixed splits (default: its split 1, else seed 0); not with --split.")]


def asked_explainer(value: str | None) -> str | None:
    """``--explainer`` as whyrec names it (:func:`whyrec.explanations.explainer_asked`: MT-P is pair)."""
    from whyrec.explanations import explainer_asked

    return explainer_asked(value)


# which of a system's explainers speaks, and how it decodes
ExplainerChoice = Annotated[Optional[str], typer.Option(
    "--explainer", callback=asked_explainer,
    help="MT: user, item, pair or all, or as the output labels them: MT-U, MT-I, MT-P (default: pair; item for a "
    "user the model has never seen).")]
DecodingMethod = Annotated[str, typer.Option("--method", help="Decoding: greedy, sample, or beam (settings with "
                                             "--decode).")]
DecodingSettings = Annotated[Optional[list[str]], typer.Option(
    "--decode", help="A decoding setting NAME=VALUE (repeatable): with --method sample, temperature (default 1), "
    "top_k (0: every word), top_p (nucleus, default 1) and seed (the same seed, the same explanations); with "
    "--method beam, beam (hypotheses, 1 to 64, default 4) and length_penalty (default 0); with any method, min_words "
    "(the fewest words an explanation may have, default 0).")]
# how the explanations that evaluate, compare and experiment explain score are written
ScoredMethod = Annotated[Optional[str], typer.Option(
    "--method", help="Score explanations decoded this way (greedy, sample or beam; settings with --decode), as "
    "`whyrec explain` shows them (repeated words and bigrams and the unknown-word token blocked), instead of the "
    "PETER benchmark's plain greedy decoding.")]
# the `data` commands take the review file as an argument or, like every other command, as --data
DataPath = Annotated[Optional[Path], typer.Argument(
    help="Review file (json[.gz], csv, tsv, parquet, .ss, reviews.pickle) or its folder; or give --data.",
    show_default=False)]
DataOption = Annotated[Optional[Path], typer.Option("--data", help="The review file or folder, as the other "
                                                    "commands take it (instead of the argument).")]
# the explanation systems train and experiment explain take by name (the rating models are in whyrec.rating)
TEXT_SYSTEMS = ("mt", "peter", "peter+")
