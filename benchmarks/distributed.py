"""Training under torchrun: seconds per epoch of MT and PETER+ with one process and with two, and
what the two-process model scores, on split 1 of shared datasets.

On this project's 2-core machines there are three ways to use both cores, all measured:
one process with one torch thread (the baseline), one process with two threads (torch's
intra-op parallelism), and two processes with one thread each (``torchrun --nproc_per_node 2``:
each takes half of every mini-batch and the gradients are averaged). Every run trains a fixed
number of epochs (no early stopping), so the epochs compared hold the same work; the two-process
run is a different run of the same training (each process samples its own sequences), so its
scores are reported next to the one-process ones rather than expected to equal them.

    python benchmarks/distributed.py [--datasets ...] [--epochs 3] [--systems mt peter+] [--report-only]

Writes ``results/distributed.{json,md}``. Each configuration is a fresh ``torchrun`` launch of
this script with ``--worker``; rank 0 of it writes the run's numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from shared_data import DATA, load_split, machine, provenance, split_features

HERE = Path(__file__).resolve().parent
LAYOUTS = [  # (label, processes, torch threads per process)
    ("1 process × 1 thread", 1, 1),
    ("1 process × 2 threads", 1, 2),
    ("2 processes × 1 thread", 2, 1),
]


def worker(system: str, dataset: str, epochs: int, out: Path) -> None:
    """Train ``system`` for ``epochs`` epochs in this process (one of a torchrun group); rank 0
    writes seconds per epoch and the scores to ``out``."""
    import numpy as np
    import torch

    from whyrec.metrics.rating import rmse
    from whyrec.metrics.text import perplexity

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    split = load_split(DATA / dataset)
    features = split_features(split)
    began = time.perf_counter()
    if system == "mt":
        from whyrec.systems.mt import MTConfig, MultiTask
        from whyrec.systems.mt_experiment import known_texts

        # adversarial steps from epoch 3 (the default before adversarial_from=0), so that a 3-epoch run,
        # as recorded, times every kind of step, policy gradient and discriminator included
        model = MultiTask(MTConfig(epochs=epochs, patience=0, adversarial_from=3)).fit(split.train, split.valid,
                                                                                       features)
        targets, users, items = known_texts(model, split.test, features)
        scores = {"test RMSE": rmse(model.predict_corpus(split.test), split.test.ratings),
                  "MT-P test ppl": perplexity(model.token_log_probs("pair", targets, users, items)),
                  "valid NLL (MT-P)": model.history[-1]["valid_nll_pair"]}
    else:
        from whyrec.systems.peter import Peter

        model = Peter(use_feature=True, epochs=epochs, patience=epochs + 1).fit(split.train, split.valid, features)
        scores = {"test RMSE": rmse(model.predict_corpus(split.test), split.test.ratings),
                  "valid NLL (text)": model.history[-1]["valid_text_nll"]}
    seconds = time.perf_counter() - began
    from whyrec.distributed import join, leave

    cluster = join("cpu")
    if cluster.is_main:
        per_epoch = [r["seconds"] for r in model.history]
        out.write_text(json.dumps({"epoch_seconds": per_epoch, "mean_epoch_seconds": float(np.mean(per_epoch)),
                                   "fit_seconds": seconds, "world": cluster.world, **scores}), encoding="utf-8")
    leave()


def launch(system: str, dataset: str, epochs: int, processes: int, threads: int) -> dict:
    """One torchrun launch of :func:`worker`; its rank 0's numbers."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run.json"
        env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(processes),
               str(Path(__file__).resolve()), "--worker", "--systems", system, "--datasets", dataset,
               "--epochs", str(epochs), "--out", str(out)]
        began = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
        return {**json.loads(out.read_text(encoding="utf-8")), "wall_seconds": time.perf_counter() - began}


def report(saved: dict) -> str:
    """distributed.md from what distributed.json holds (a file written before it recorded the date and
    machine says so)."""
    results, epochs = saved["runs"], saved["epochs"]
    where, when = saved.get("machine", "machine not recorded"), saved.get("date", "on a date not recorded")
    lines = [
        "# Training under torchrun",
        "",
        f"Split 1, {epochs} epochs per run (no early stopping), {where}. Measured {when}. Seconds per epoch are the "
        "mean over the run's epochs as each model records them (MT: ALS update, teacher forcing, policy-gradient "
        "and discriminator steps, not validation; PETER+: the whole epoch); speed-up is against one process with "
        "one thread. The two-process run is another run of the same training (each process samples its own "
        "sequences), and a different thread count changes the order of floating-point sums, so scores differ "
        "between layouts by run-to-run noise; after a few epochs the models are far from converged.",
        "",
        "| dataset | system | layout | s / epoch | speed-up | test RMSE | MT-P test ppl | valid NLL |",
        "|---|---|---|---|---|---|---|---|",
    ]
    base = {(r["dataset"], r["system"]): r["mean_epoch_seconds"] for r in results if r["layout"] == LAYOUTS[0][0]}
    for r in results:
        speedup = base[(r["dataset"], r["system"])] / r["mean_epoch_seconds"]
        nll = r.get("valid NLL (MT-P)", r.get("valid NLL (text)"))
        ppl = f"{r['MT-P test ppl']:.2f}" if "MT-P test ppl" in r else "–"
        lines.append(f"| {r['dataset']} | {r['system']} | {r['layout']} | {r['mean_epoch_seconds']:.1f} | "
                     f"{speedup:.2f}× | {r['test RMSE']:.4f} | {ppl} | {nll:.4f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["amazon-magazine-subscriptions", "amazon-digital-music"])
    parser.add_argument("--systems", nargs="+", default=["mt", "peter+"], choices=["mt", "peter+"])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--report-only", action="store_true", help="Rewrite distributed.md from distributed.json.")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args()
    if args.worker:
        worker(args.systems[0], args.datasets[0], args.epochs, args.out)
        return
    if args.report_only:
        saved = json.loads((args.out / "distributed.json").read_text(encoding="utf-8"))
        (args.out / "distributed.md").write_text(report(saved), encoding="utf-8")
        return
    results = []
    for dataset in args.datasets:
        for system in args.systems:
            for label, processes, threads in LAYOUTS:
                run = launch(system, dataset, args.epochs, processes, threads)
                results.append({"dataset": dataset, "system": system, "layout": label, "processes": processes,
                                "threads": threads, **run})
                print(f"{dataset} {system} {label}: {run['mean_epoch_seconds']:.1f} s/epoch", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    saved = {"epochs": args.epochs, "date": time.strftime("%Y-%m-%d"), "machine": machine(),
             "provenance": provenance(), "runs": results}
    (args.out / "distributed.json").write_text(json.dumps(saved, indent=1), encoding="utf-8")
    (args.out / "distributed.md").write_text(report(saved), encoding="utf-8")
    print(report(saved))


if __name__ == "__main__":
    main()
