"""What a command made, kept elsewhere when the disk refuses it at the end, not lost
(:mod:`whyrec.kept_elsewhere`): train's and align's bundles, evaluate's records, a comparison's
tables; and a folder's bundle keeps its own run record."""

from __future__ import annotations

import json
import os
import subprocess

import numpy as np
import pytest

from tests.cli.invoke import assert_one_line_error, run_cli_refusing
from whyrec.kept_elsewhere import UNSAVED_PREFIX


def _refused_under(out, temporary, *args: str, name: str = "arrays.safetensors") -> subprocess.CompletedProcess:
    """``whyrec ARGS`` where every file under ``out`` whose name begins with ``name`` (the
    bundle's tensors by default) is refused as a full disk refuses it, and ``temporary`` is the
    system's temporary folder."""
    return run_cli_refusing(out, *args, name=name, env={"TMPDIR": str(temporary)})


def test_train_whose_bundle_cannot_be_written_keeps_it_in_the_temporary_folder(planted, tmp_path):
    """The model trained is not lost with the save: it had been (a one-line error, and nothing kept)."""
    from whyrec.bundle import load_bundle
    from whyrec.data import load_corpus

    data, out, temporary = tmp_path / "planted.csv", tmp_path / "out", tmp_path / "system-tmp"
    planted.corpus.reviews.to_csv(data, index=False)
    temporary.mkdir()
    proc = _refused_under(out, temporary, "train", "pmf", "--data", str(data), "--out", str(out))
    [elsewhere] = list(temporary.iterdir())
    assert_one_line_error(proc, f"{out / 'arrays.safetensors'}: No space left on device; the trained pmf was saved "
                                f"in {elsewhere} instead")
    assert sorted(p.name for p in elsewhere.iterdir()) == ["arrays.safetensors", "bundle.json", "run.json"]
    assert not out.exists() or not any(out.iterdir())  # nothing half-written where it was refused
    corpus = load_corpus(data)
    kept = load_bundle(elsewhere).predict(corpus.users[:5], corpus.items[:5])
    assert np.isfinite(kept).all() and len(set(np.round(kept, 6))) > 1  # a trained model, not a blank


def test_a_refused_run_record_leaves_the_previous_bundle_with_its_own_record(planted, tmp_path):
    """The record was written after the bundle: refused, it left the new bundle under --out with
    half a record, which reads as none (how it was trained, on what data, lost)."""
    from tests.cli.invoke import run_cli

    data, out, temporary = tmp_path / "planted.csv", tmp_path / "out", tmp_path / "system-tmp"
    planted.corpus.reviews.to_csv(data, index=False)
    temporary.mkdir()
    first = run_cli("train", "pmf", "--data", str(data), "--out", str(out), "--param", "factors=4")
    assert first.returncode == 0, first.stderr
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    proc = _refused_under(out, temporary, "train", "pmf", "--data", str(data), "--out", str(out), "--overwrite",
                          "--param", "factors=8", name="run.json")
    [elsewhere] = list(temporary.iterdir())
    assert_one_line_error(proc, f"{out / 'run.json'}: No space left on device; the trained pmf was saved in "
                                f"{elsewhere} instead")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # the first run's pair, untouched
    assert json.loads((elsewhere / "run.json").read_text())["command"].endswith("--param factors=8")
    assert json.loads((elsewhere / "bundle.json").read_text()) != json.loads(before["bundle.json"])


def test_align_whose_bundle_cannot_be_written_keeps_it_in_the_temporary_folder(planted, tmp_path):
    from tests.cli.invoke import run_cli

    data, out, temporary = tmp_path / "planted.csv", tmp_path / "aligned", tmp_path / "system-tmp"
    planted.corpus.reviews.to_csv(data, index=False)
    temporary.mkdir()
    trained = run_cli("train", "peter", "--data", str(data), "--out", str(tmp_path / "peter"), "--param", "emsize=16",
                      "--param", "ffn=32", "--param", "epochs=1")
    assert trained.returncode == 0, trained.stderr
    proc = _refused_under(out, temporary, "align", str(tmp_path / "peter"), "--data", str(data), "--out", str(out),
                          "--encoder", "words", "--epochs", "2", "--samples", "2", "--batches", "1", "--set",
                          "mine_pretrain_epochs=1", "--set", "mine_hidden=8")
    [elsewhere] = [p for p in temporary.iterdir() if p.name.startswith(UNSAVED_PREFIX)]  # beside others' files
    assert_one_line_error(proc, f"{out / 'arrays.safetensors'}: No space left on device; the aligned PETER "
                                f"(planted) was saved in {elsewhere} instead")
    shown = json.loads(run_cli("show", str(elsewhere), "--json").stdout)
    assert len(shown["alignments"]) == 1 and shown["alignments"][0]["target"] == "rating"


def test_evaluate_whose_records_cannot_be_written_prints_its_scores_and_keeps_the_records(planted, tmp_path):
    """The records were written before the scores were printed: a full disk lost both."""
    from tests.cli.invoke import run_cli

    data, out, temporary = tmp_path / "planted.csv", tmp_path / "out", tmp_path / "system-tmp"
    planted.corpus.reviews.to_csv(data, index=False)
    temporary.mkdir()
    trained = run_cli("train", "bias-baseline", "--data", str(data), "--out", str(tmp_path / "bias"))
    assert trained.returncode == 0, trained.stderr
    proc = _refused_under(out, temporary, "evaluate", str(tmp_path / "bias"), "--data", str(data), "--records",
                          str(out / "records.jsonl"), name="records.jsonl")
    [elsewhere] = list(temporary.iterdir())
    assert_one_line_error(proc, f"{out / 'records.jsonl'}: No space left on device; the records file records.jsonl "
                                f"was saved in {elsewhere} instead")
    assert "RMSE" in proc.stdout and "written to" not in proc.stdout  # the scores, printed all the same
    rows = [json.loads(line) for line in (elsewhere / "records.jsonl").read_text().splitlines()]
    assert rows and {"user", "item", "rating", "predicted"} <= set(rows[0])
    assert not (out / "records.jsonl").exists()


def test_a_comparison_whose_tables_cannot_be_written_keeps_them_elsewhere(planted, tmp_path):
    """And leaves the last comparison in ``--out`` whole: a refusal of its config (written after
    the tables) left this run's tables beside the last run's config, chart and record."""
    from tests.cli.invoke import run_cli

    data, out, temporary = tmp_path / "planted.csv", tmp_path / "out", tmp_path / "system-tmp"
    planted.corpus.reviews.to_csv(data, index=False)
    temporary.mkdir()
    last = run_cli("experiment", "rating", "--data", str(data), "--model", "bias-baseline", "--out", str(out))
    assert last.returncode == 0, last.stderr
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    proc = _refused_under(out, temporary, "experiment", "rating", "--data", str(data), "--model", "bias-baseline",
                          "--model", "pmf", "--out", str(out), name="config.json")
    [elsewhere] = list(temporary.iterdir())
    assert_one_line_error(proc, f"{out / 'config.json'}: No space left on device; the comparison was saved in "
                                f"{elsewhere} instead")
    assert "pmf" in proc.stdout.lower()  # the table, printed before
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    names = {p.name for p in elsewhere.iterdir()}
    assert {"results.md", "results.csv", "results.json", "config.json", "run.json", "rmse.png"} == names
    assert "pmf" in (elsewhere / "results.md").read_text()


def test_evaluate_whose_records_no_folder_takes_still_prints_its_scores(planted, tmp_path):
    """A real refusal everywhere (the file-size limit: EFBIG, as a full disk gives ENOSPC): the
    records are lost, the scores computed before them are not."""
    from tests.cli.invoke import run_cli

    data = tmp_path / "planted.csv"
    planted.corpus.reviews.to_csv(data, index=False)
    trained = run_cli("train", "bias-baseline", "--data", str(data), "--out", str(tmp_path / "bias"))
    assert trained.returncode == 0, trained.stderr
    proc = run_cli("evaluate", str(tmp_path / "bias"), "--data", str(data), "--records", str(tmp_path / "r.jsonl"),
                   env={"TMPDIR": str(tmp_path)}, file_size_limit=4096)
    assert_one_line_error(proc, f"{tmp_path / 'r.jsonl'}: File too large")
    assert "RMSE" in proc.stdout and not (tmp_path / "r.jsonl").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(UNSAVED_PREFIX)]  # nothing half-kept


def test_a_comparison_saved_over_another_kind_says_which_of_its_files_describe_the_other(planted, tmp_path):
    """A rating comparison saved into an explainer comparison's --out left its explanations and
    metrics chart beside the new tables, read as this run's; they are kept (they may be the
    user's), and said."""
    from tests.cli.invoke import run_cli

    data, out = tmp_path / "planted.csv", tmp_path / "out"
    planted.corpus.reviews.to_csv(data, index=False)
    out.mkdir()
    (out / "explanations.jsonl").write_text('{"user": "u1", "item": "i1"}\n')
    (out / "metrics.png").write_bytes(b"an earlier chart")
    proc = run_cli("experiment", "rating", "--data", str(data), "--model", "bias-baseline", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert (f"warning: {out} also holds metrics.png, explanations.jsonl, which this comparison does not write: they "
            "describe an earlier run saved there, not this one") in " ".join(proc.stderr.split())
    assert (out / "metrics.png").read_bytes() == b"an earlier chart" and (out / "explanations.jsonl").exists()
    again = run_cli("experiment", "rating", "--data", str(data), "--model", "bias-baseline",
                    "--out", str(tmp_path / "new"))
    assert again.returncode == 0 and "warning" not in again.stderr, again.stderr


@pytest.mark.skipif(os.name != "posix", reason="the folder is held with flock")
def test_a_run_whose_save_waits_for_another_says_so(planted, tmp_path):
    """Two runs trained into one --out: the second waited for the first's save without a word."""
    import fcntl
    import queue
    import sys
    import threading

    data, out = tmp_path / "planted.csv", tmp_path / "out"
    planted.corpus.reviews.to_csv(data, index=False)
    out.mkdir()
    held = os.open(out, os.O_RDONLY)
    fcntl.flock(held, fcntl.LOCK_EX)  # another run's save, in progress
    try:
        run = subprocess.Popen([sys.executable, "-m", "whyrec.cli", "train", "bias-baseline", "--data", str(data),
                                "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "COLUMNS": "200"})
        lines: queue.Queue = queue.Queue()
        threading.Thread(target=lambda: [lines.put(line) for line in run.stderr], daemon=True).start()
        told = f"warning: another run is saving into {out}; this one saves there once that save ends"
        said = []
        while not any(told in line for line in said):  # its progress, then: it waits, and says so
            said.append(lines.get(timeout=120))
        assert run.poll() is None and not (out / "bundle.json").exists()
    finally:
        os.close(held)  # the other save ends
    stdout = run.stdout.read()
    assert run.wait(timeout=120) == 0, said
    assert "saved bias-baseline" in stdout and (out / "bundle.json").exists()
