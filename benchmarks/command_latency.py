"""How long one command takes from start to end: what a user waits for at the prompt.

Times ``whyrec show``, ``whyrec explain`` (one pair) and ``whyrec recommend`` (one user, 5
items) on each bundle, ``--repeats`` times (median), beside ``python -c "import torch"``: the
floor of any command that loads a model. With ``--before REV`` the same commands also run from
the code of git revision REV (``git archive`` into a temporary folder, put first on
PYTHONPATH), on the same machine and bundles, taking turns with the runs of the current code,
so that a change is measured against what it changed; each command's output is compared
between the two. Writes benchmarks/results/command_latency.{json,md}.

    python benchmarks/command_latency.py [--bundle FOLDER ...] [--repeats 6] [--before REV]

Without ``--bundle`` it times the two bundles of serve.py (MT and PETER+ on
amazon-magazine-subscriptions, trained into benchmarks/.cache/ when missing).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from whyrec.bundle import read_bundle_header

from serve import default_bundles
from shared_data import RESULTS, machine, provenance

ROOT = Path(__file__).resolve().parents[1]


def commands(bundle: Path) -> dict[str, list[str]]:
    """The whyrec commands timed on ``bundle`` (arguments after ``whyrec``): its first user and item."""
    header = read_bundle_header(bundle)
    user, item = header["user_ids"][0], header["item_ids"][0]
    return {"show": ["show", str(bundle)],
            "explain one pair": ["explain", str(bundle), "--user", user, "--item", item],
            "recommend 5 items": ["recommend", str(bundle), "--user", user, "-k", "5"]}


def timed(argv: list[str], sources: dict[str, Path], repeats: int) -> dict[str, tuple[float, str]]:
    """For each named source: the median wall time (s) of ``repeats`` runs of ``argv`` with whyrec
    read from it, and the output of its last run. The sources take turns, in one order and then
    the other (now, before, before, now, ...), so that whatever favours the first or the second
    run of a pair (the disk cache, a neighbour's load) favours neither. A run that fails stops the
    script."""
    times: dict[str, list[float]] = {name: [] for name in sources}
    outputs: dict[str, str] = {}
    for turn in range(repeats):
        for name in (list(sources) if turn % 2 == 0 else list(sources)[::-1]):
            env = {**os.environ, "PYTHONPATH": str(sources[name])}
            start = time.perf_counter()
            done = subprocess.run(argv, capture_output=True, text=True, env=env)
            times[name].append(time.perf_counter() - start)
            if done.returncode != 0:
                raise SystemExit(f"{' '.join(argv)} failed:\n{done.stderr[-2000:]}")
            outputs[name] = done.stdout
    return {name: (statistics.median(times[name]), outputs[name]) for name in sources}


def code_of(revision: str, into: Path) -> Path:
    """The ``src`` folder of git ``revision``, written into ``into``."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision, "src"], capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into / "src"


def whyrec_read_from(source: Path) -> str:
    """Where ``import whyrec`` finds the package with ``source`` first on PYTHONPATH (checked, so
    that an installed whyrec never stands in for the code asked for)."""
    done = subprocess.run([sys.executable, "-c", "import whyrec; print(whyrec.__file__)"], capture_output=True,
                          text=True, check=True, env={**os.environ, "PYTHONPATH": str(source)})
    found = done.stdout.strip()
    if not Path(found).resolve().is_relative_to(source.resolve()):
        raise SystemExit(f"whyrec was read from {found}, not from {source}")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", type=Path, nargs="*", default=None)
    parser.add_argument("--repeats", type=int, default=6,
                        help="runs of each command (even: each code goes first equally often)")
    parser.add_argument("--before", default=None, help="git revision whose code is timed too")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    bundles = args.bundle or default_bundles(train_missing=True)
    with tempfile.TemporaryDirectory(prefix="whyrec-before-") as scratch:
        sources = {"now": ROOT / "src"}
        if args.before:
            sources[args.before] = code_of(args.before, Path(scratch))
        for source in sources.values():
            whyrec_read_from(source)
        floor, _ = timed([sys.executable, "-c", "import torch"], {"now": ROOT / "src"}, args.repeats)["now"]
        rows = []
        for bundle in bundles:
            for what, words in commands(bundle).items():
                row = {"bundle": bundle.name, "command": what, "argv": ["whyrec", *words]}
                measured = timed([sys.executable, "-m", "whyrec.cli", *words], sources, args.repeats)
                row.update({f"{name}_s": seconds for name, (seconds, _) in measured.items()})
                if args.before:
                    row["same_output"] = measured["now"][1] == measured[args.before][1]
                rows.append(row)
                print(json.dumps(row), flush=True)
    summary = {"date": time.strftime("%Y-%m-%d", time.gmtime()), "machine": machine(), "repeats": args.repeats,
               "before": args.before, "import_torch_s": floor, "rows": rows, "provenance": provenance()}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "command_latency.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    (args.out / "command_latency.md").write_text(markdown(summary), encoding="utf-8")
    print(markdown(summary))


def markdown(summary: dict) -> str:
    before = summary["before"]
    lines = ["# How long one command takes", "",
             f"Measured {summary['date']} on {summary['machine']}; median of {summary['repeats']} runs of each "
             f"command, start to end{', the two codes taking turns' if before else ''}. "
             f"`python -c \"import torch\"` alone took {summary['import_torch_s']:.2f} s.", ""]
    if before:
        lines += [f"*{before}*: the same commands run from the code of {before}; *same output*: whether "
                  "both printed the same.", "",
                  f"| bundle | command | {before} (s) | now (s) | same output |", "|---|---|---|---|---|"]
        lines += [f"| {r['bundle']} | {r['command']} | {r[before + '_s']:.2f} | {r['now_s']:.2f} | "
                  f"{'yes' if r['same_output'] else 'no'} |" for r in summary["rows"]]
    else:
        lines += ["| bundle | command | seconds |", "|---|---|---|"]
        lines += [f"| {r['bundle']} | {r['command']} | {r['now_s']:.2f} |" for r in summary["rows"]]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
