"""What the benchmarks share: the shared datasets (``../shared/data``, read in place and never
copied into the project), their fixed index splits, the extracted item features, the machine
line of the reports and the options of the scripts that retrain MT.

The scripts run as ``python benchmarks/<name>.py``, so this file is importable beside them.
"""

from __future__ import annotations

import json
import os
import platform
import warnings
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
DATASETS = ["amazon-digital-music", "amazon-musical-instruments", "amazon-magazine-subscriptions", "amazon-gift-cards"]


def load_split(folder: Path, split: str = "1"):
    """The fixed split ``folder/<split>`` of the dataset in ``folder``.

    Every record is kept, repeated (user, item) pairs included: the index files count them.
    The reader's warnings about skipped records (empty texts) are silenced; the split's sizes
    tell what was read."""
    from whyrec.data import fixed_index_split, load_corpus

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        corpus = load_corpus(folder, duplicates="keep-all")
    return fixed_index_split(corpus, folder / split)


def split_features(split):
    """(feature, opinion, sentence, sentiment) quadruples of every record of ``split``, as
    ``whyrec train`` extracts them (:func:`whyrec.data.features.split_features`)."""
    from whyrec.data.features import split_features as extract

    return extract(split)


def machine() -> str:
    """The machine line of every benchmark report: architecture, the CPU
    (:func:`whyrec.provenance.cpu_name`), cores, Python version."""
    from whyrec.provenance import cpu_name

    return f"{platform.machine()}, {cpu_name()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def provenance(data: Path | None = None, splits: list | None = None) -> dict:
    """What ran a measurement, as ``run.json`` records a command's (:func:`whyrec.provenance.run_record`):
    this script's command line, the UTC date, whyrec's version and git commit (``+changes`` when the
    checkout differs from it), the library versions, the machine, OMP_NUM_THREADS, torch's threads
    and, given them, the data file's and the fixed splits' SHA-256. A summary rebuilt with
    ``--report-only`` carries the rebuild's (its command says so); the run files it reads keep their own."""
    import sys

    from whyrec.provenance import run_record

    return run_record(data, sys.argv[1:], splits, program=f"python benchmarks/{Path(sys.argv[0]).name}")


def keep_measured(summary: dict, previous: Path, report_only: bool) -> dict:
    """``summary`` as a ``--report-only`` rebuild should write it: with the date and machine of the
    measurement that ``previous`` (the summary file before the rebuild) recorded, not the
    rebuild's, which go under ``reported``. Unchanged when measured now, or with no previous file."""
    if report_only and previous.exists():
        before = json.loads(previous.read_text(encoding="utf-8"))
        summary.update(date=before.get("date", summary["date"]), machine=before.get("machine", summary["machine"]),
                       reported=summary["date"])
    return summary


def reported_text(summary: dict) -> str:
    """" (this summary rebuilt DATE)" when :func:`keep_measured` kept an earlier measurement's date."""
    return f" (this summary rebuilt {summary['reported']})" if summary.get("reported") else ""


def threads_text(runs: list[dict]) -> str:
    """How many torch threads per process the runs had (each run records its ``threads``; "?" for
    a run that did not)."""
    counts = sorted({str(run.get("threads", "?")) for run in runs})
    return f"{' or '.join(counts)} torch thread{'' if counts == ['1'] else 's'} per process"


RESULTS = Path(__file__).resolve().parent / "results"
CACHE = Path(__file__).resolve().parent / ".cache"
# serve.py's bundles of magazines beside mt.py's MT: PETER+, and the 10-epoch MT it trains when mt.py left none
SERVE_PETER_BUNDLE = CACHE / "amazon-magazine-subscriptions-peter"
SERVE_SHORT_MT_BUNDLE = CACHE / "amazon-magazine-subscriptions-mt-short"


def recorded_argument(parser) -> None:
    """``--recorded``: the results folder whose MT benchmark runs (``mt/<dataset>/mt.json``, ``mt.json``)
    a script compares with or reuses. Apart from ``--out``, so that a trial run written elsewhere
    still reads the recorded ones."""
    parser.add_argument("--recorded", type=Path, default=RESULTS,
                        help="the results folder holding benchmarks/mt.py's runs (default: benchmarks/results)")


def mt_bundle_dir(name: str) -> Path:
    """Where ``benchmarks/mt.py`` saves the MT it trains on dataset ``name`` (split 1, seed 0), for
    the scripts that reuse it (alignment, mmi_seeds, mt_activity, decoding, serve)."""
    return CACHE / name


def bundle_settings_match(bundle: Path, config: dict) -> bool:
    """Whether the bundle in ``bundle`` was trained with the settings ``config`` (an
    ``MTConfig.to_dict()``, or a recorded run's ``config``), the device it ran on aside."""
    from whyrec.bundle import read_bundle_header

    if not (bundle / "bundle.json").exists():
        return False
    saved = dict(read_bundle_header(bundle).get("config") or {})
    return {k: v for k, v in saved.items() if k != "device"} == {k: v for k, v in config.items() if k != "device"}


def mt_benchmark_result(results: Path, name: str) -> dict | None:
    """The MT benchmark's per-dataset results (``results/mt/<dataset>/mt.json``), when they are there."""
    path = results / "mt" / name / "mt.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def recorded_mt_rmse(result: dict | None) -> float | None:
    """MT's test RMSE in the MT benchmark's results of one dataset (:func:`mt_benchmark_result`)."""
    return next((row["rmse"] for row in result["rating"] if row["system"] == "MT"), None) if result else None


def recorded_date(results: Path, name: str) -> str | None:
    """The date the MT benchmark measured a dataset's row (``results/mt.json``), when it says."""
    path = results / "mt.json"
    row = json.loads(path.read_text(encoding="utf-8")).get("datasets", {}).get(name, {}) if path.exists() else {}
    return row.get("date")


def measured_on(runs: list[dict]) -> str | None:
    """The date of the newest of ``runs`` (benchmark runs of one dataset): each run's provenance
    date, or the ``measured`` date it was given; None when no run says (runs recorded before
    either was written)."""
    dates = [((run.get("provenance") or {}).get("date") or run.get("measured") or "")[:10] for run in runs]
    return max((d for d in dates if d), default=None)


def measured_cell(runs: list[dict], summary: dict) -> str:
    """A report's *measured* cell for ``runs``: :func:`measured_on`, else the summary's date (runs
    recorded before they carried one were measured then)."""
    return measured_on(runs) or summary["date"]


def recorded_threads(results: Path) -> int | None:
    """The torch threads of the MT benchmark's recorded runs (``results/mt.json``), when it says."""
    path = results / "mt.json"
    return json.loads(path.read_text(encoding="utf-8")).get("threads") if path.exists() else None


def mt_rerun_arguments(parser, per_dataset: str) -> None:
    """The options of the scripts that retrain MT with the MT benchmark's settings on split 1
    (``mt_seeds.py``, ``mt_decoder_lr.py``); ``per_dataset`` names the folder of their run files."""
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--datasets", nargs="*", default=DATASETS)
    parser.add_argument("--epochs", type=int, default=30, help="MT's cap on epochs, as in benchmarks/mt.py")
    parser.add_argument("--threads", type=int, default=1, help="torch threads of this process")
    parser.add_argument("--out", type=Path, default=RESULTS)
    recorded_argument(parser)
    parser.add_argument("--report-only", action="store_true",
                        help=f"rebuild the summary from the run files under results/{per_dataset}/")


def mt_rerun_setup(parser, per_dataset: str):
    """Parse the options (those of :func:`mt_rerun_arguments` added here), set torch's threads and
    make the run folder ``results/<per_dataset>``; returns (args, that folder)."""
    import torch

    mt_rerun_arguments(parser, per_dataset)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    runs_dir = args.out / per_dataset
    runs_dir.mkdir(parents=True, exist_ok=True)
    return args, runs_dir
