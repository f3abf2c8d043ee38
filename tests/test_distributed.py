"""Data-parallel training: the cluster's collective steps in two real gloo processes, and MT and
PETER trained by two processes under torchrun ending with the same weights in both."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.multiprocessing as mp

from tests.cli.invoke import unreadable_data
from tests.conftest import free_port
from whyrec.distributed import Cluster, launched_world, process_device

ROOT = Path(__file__).resolve().parents[1]


def test_one_process_is_left_alone():
    one = Cluster()
    rows = np.arange(5)
    assert one.shard(rows) is rows and one.is_main and not one.distributed
    assert one.mean_of({"a": 1.5}) == {"a": 1.5}
    layer = torch.nn.Linear(2, 1)
    layer(torch.ones(1, 2)).sum().backward()
    before = layer.weight.grad.clone()
    one.average_gradients(layer.parameters())
    assert torch.equal(layer.weight.grad, before)


def test_shards_split_a_batch_and_never_leave_a_process_empty():
    first, second = Cluster(rank=0, world=2), Cluster(rank=1, world=2)
    rows = np.arange(5)
    assert first.shard(rows).tolist() == [0, 2, 4] and second.shard(rows).tolist() == [1, 3]
    assert first.shard(np.array([7])).tolist() == [7] and second.shard(np.array([7])).tolist() == [7]
    assert second.shard(torch.tensor([3])).tolist() == [3]
    assert not second.is_main


def test_the_launchers_environment_is_read(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert launched_world() == 1 and process_device("cuda") == "cuda"
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("LOCAL_RANK", "1")
    assert launched_world() == 2 and process_device("cuda") == "cuda:1" and process_device("cpu") == "cpu"
    from whyrec.distributed import join
    from whyrec.errors import ConfigError

    for name in ("RANK", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigError, match="MASTER_ADDR, MASTER_PORT not set: start the command with torchrun"):
        join("cpu")  # WORLD_SIZE alone, without the launcher's rendezvous
    monkeypatch.setenv("WORLD_SIZE", "two")
    with pytest.raises(ConfigError, match="WORLD_SIZE"):
        launched_world()


def _collectives(rank: int, port: int, results) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), WORLD_SIZE="2", RANK=str(rank))
    from whyrec.distributed import _IN_FLIGHT, join, leave, release_collective_tensors

    cluster = join("cpu")
    torch.manual_seed(rank)  # different initial weights in each process
    net = torch.nn.ModuleDict({name: torch.nn.Linear(2, 1, bias=False) for name in ("used", "sometimes", "never")})
    cluster.broadcast_module(net)
    weights = net["used"].weight.detach().clone()
    loss = net["used"](torch.full((1, 2), float(rank + 1))).sum()  # gradient (r+1, r+1)
    if rank == 0:
        loss = loss + net["sometimes"](torch.ones(1, 2)).sum()  # only process 0 uses it
    loss.backward()
    cluster.average_gradients(net.parameters())
    means = cluster.mean_of({"x": float(rank), "y": 10.0})
    gathered = [t.tolist() for t in cluster.gather(torch.tensor([rank, 7], dtype=torch.uint8))]
    kept = len(_IN_FLIGHT)
    released = release_collective_tensors(timeout=10.0)  # what leave() does before leaving
    results[rank] = (weights.tolist(), net["used"].weight.grad.tolist(), net["sometimes"].weight.grad.tolist(),
                     net["never"].weight.grad is None, means, gathered, (kept, released, len(_IN_FLIGHT)))
    leave()


def test_collectives_in_two_gloo_processes():
    results = mp.Manager().dict()
    mp.spawn(_collectives, args=(free_port(), results), nprocs=2, join=True)
    (w0, used0, some0, never0, means0, gathered0, kept0), (w1, used1, some1, never1, means1, gathered1, kept1) = \
        results[0], results[1]
    assert w0 == w1  # the main process's weights everywhere
    assert used0 == used1 == [[1.5, 1.5]]  # mean of (1, 1) and (2, 2)
    assert some0 == some1 == [[0.5, 0.5]]  # (1, 1) from process 0, zero from process 1
    assert never0 and never1  # no process gave it a gradient: the optimiser skips it everywhere
    assert means0 == means1 == {"x": 0.5, "y": 10.0}
    assert gathered0 == gathered1 == [[0, 7], [1, 7]]  # every process's tensor, in rank order
    # the latest collectives' own tensors were kept until gloo's threads let go of them, then dropped
    assert kept0 == kept1 == (4, True, 0)


# what both scripts below start with: the tiny settings, a weight digest and a planted split
SCRIPT_HEAD = """
import hashlib, os, sys
sys.path.insert(0, {root!r})
from tests.systems.test_mt import TINY
from tests.systems.test_peter import TINY as PETER_TINY
from whyrec.data import ratio_split
from whyrec.data.synthetic import make_planted_corpus
from whyrec.systems.mt import MultiTask
from whyrec.systems.peter import Peter

def digest(*modules):
    h = hashlib.sha256()
    for module in modules:
        for _, v in sorted(module.state_dict().items()):
            h.update(v.detach().numpy().tobytes())
    return h.hexdigest()

split = ratio_split(make_planted_corpus(n_users=40, n_items=20, reviews_per_user=8, seed=2).corpus, seed=0)
"""

TRAIN_BOTH = SCRIPT_HEAD + """
mt = MultiTask(epochs=3, **TINY).fit(split.train, split.valid)
peter = Peter(**{{**PETER_TINY, "epochs": 3}}).fit(split.train, split.valid)
fields = ["mt", digest(mt.generator, mt.discriminators), hashlib.sha256(mt.als.user_factors.tobytes()).hexdigest(),
          "peter", digest(peter.model), "nll", mt.history[0]["valid_nll_pair"], mt.history[-1]["valid_nll_pair"],
          "peter_nll", peter.history[0]["text_nll"], peter.history[-1]["text_nll"]]
with open(f"rank-{{os.environ['RANK']}}.txt", "w") as out:  # one file each: printed lines would interleave
    out.write(" ".join(map(str, fields)))
"""


RESUME_BOTH = SCRIPT_HEAD + """
epochs, tag = int(sys.argv[1]), sys.argv[2]
folder = None if tag == "whole" else "ckpt"
mt = MultiTask(epochs=epochs, patience=0, **TINY).fit(split.train, split.valid,
                                                      checkpoint_dir=folder and folder + "/mt")
peter = Peter(**{{**PETER_TINY, "epochs": epochs, "patience": 9}}).fit(split.train, split.valid,
                                                                      checkpoint_dir=folder and folder + "/peter")
fields = [digest(mt.generator, mt.discriminators), hashlib.sha256(mt.als.user_factors.tobytes()).hexdigest(),
          digest(peter.model), len(mt.history), len(peter.history)]
with open(f"{{tag}}-rank-{{os.environ['RANK']}}.txt", "w") as out:
    out.write(" ".join(map(str, fields)))
"""


def test_a_run_of_two_processes_resumed_from_its_checkpoint_ends_as_the_uninterrupted_one(tmp_path):
    # each process samples (MT's policy-gradient sequences, rollouts, fake reviews) and draws dropout
    # masks with generators of its own: the checkpoint keeps every process's random states
    script = tmp_path / "resume_both.py"
    script.write_text(RESUME_BOTH.format(root=str(ROOT)))
    for epochs, tag in ((3, "whole"), (2, "stopped"), (3, "resumed")):
        proc = _torchrun(str(script), str(epochs), tag, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr[-3000:]
    for rank in (0, 1):
        whole, resumed = ((tmp_path / f"{tag}-rank-{rank}.txt").read_text().split() for tag in ("whole", "resumed"))
        assert resumed == whole and whole[3:] == ["3", "3"]


# what a process prints when gloo aborts it at exit, after its work is done. whyrec.distributed keeps
# the latest collectives' tensors until gloo's threads let go of them, which removed it (it hit 2 of
# ~240 launches before); a launch that still ends so is launched again, with a warning that says so
GLOO_EXIT_ABORT = "terminate called without an active exception"


def _torchrun(*args: str, cwd: Path, attempts: int = 3) -> subprocess.CompletedProcess:
    """Launch two processes; a launch that only failed by gloo's exit abort is launched again (the
    tests are about what training computes), and the abort is reported as a warning."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "COLUMNS": "200"}
    for _ in range(attempts):
        proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                               "--log-dir", str(cwd / "torchrun-logs"),  # not a /tmp/torchelastic_* per launch
                               *args], capture_output=True, text=True, cwd=cwd, timeout=600, env=env)
        if proc.returncode == 0 or GLOO_EXIT_ABORT not in proc.stderr:
            return proc
        warnings.warn(f"a torchrun launch ended by gloo's exit abort ({GLOO_EXIT_ABORT!r}); launching it again")
    return proc


def test_mt_and_peter_trained_by_two_processes_agree_and_learn(tmp_path):
    script = tmp_path / "train_both.py"
    script.write_text(TRAIN_BOTH.format(root=str(ROOT)))
    proc = _torchrun(str(script), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [(tmp_path / f"rank-{rank}.txt").read_text().split() for rank in (0, 1)]
    assert lines[0][:5] == lines[1][:5]  # the same MT weights, ALS factors and PETER weights in both
    for line in lines:
        nll_first, nll_last, peter_first, peter_last = map(float, (line[6], line[7], line[9], line[10]))
        assert nll_last < nll_first and peter_last < peter_first


def test_whyrec_train_under_torchrun_saves_one_bundle(tmp_path, planted):
    from whyrec.bundle import load_bundle

    data = tmp_path / "planted.csv"
    planted.corpus.reviews.to_csv(data, index=False)
    out = tmp_path / "bundle"
    proc = _torchrun("-m", "whyrec.cli", "train", "mt", "--data", str(data), "--out", str(out),
                     "--param", "epochs=2", "--param", "decoder_hidden=32", "--param", "vocab_size=500", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.count("saved mt to") == 1 and proc.stdout.count("test: RMSE") == 1
    mt = load_bundle(out)
    assert [r["epoch"] for r in mt.history] == [1, 2]
    assert all(isinstance(t, str) for t in mt.explain(planted.corpus.users[:2], planted.corpus.items[:2]))


@pytest.mark.parametrize("args, message", [
    (["evaluate", "bundle", "--data", "unreadable.csv"], "`whyrec evaluate` runs in one process"),
    (["train", "bias-baseline", "--data", "unreadable.csv", "--out", "b"], "bias-baseline trains in one process"),
])
def test_commands_that_cannot_share_work_are_refused_under_torchrun(tmp_path, args, message):
    env = {**os.environ, "WORLD_SIZE": "2", "RANK": "0", "COLUMNS": "200"}
    unreadable_data(tmp_path)  # the unreadable.csv named above: refused if it were read
    proc = subprocess.run([sys.executable, "-m", "whyrec.cli", *args], capture_output=True, text=True, cwd=tmp_path,
                          timeout=120, env=env)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error: process 0: ") and message in proc.stderr  # each process says which it is


def test_an_error_under_plain_torchrun_names_its_process(monkeypatch):
    from whyrec.distributed import process_prefix

    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert process_prefix() == ""
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    assert process_prefix() == "process 1: "


def test_collective_tensors_still_held_elsewhere_are_waited_for_then_dropped():
    from whyrec.distributed import _IN_FLIGHT, release_collective_tensors

    free, held = torch.zeros(3), torch.zeros(2)
    keeper = held.view(2)  # a view holds its base, as a communication thread would
    _IN_FLIGHT.append((free,))
    assert release_collective_tensors(timeout=0.5)  # nothing else holds it
    _IN_FLIGHT.append((free, held))
    assert not release_collective_tensors(timeout=0.05)  # waited, gave up, dropped all the same
    assert len(_IN_FLIGHT) == 0 and keeper.shape == (2,)

    class WithoutUseCount:  # a torch without the private Tensor._use_count: the whole timeout is waited
        pass

    _IN_FLIGHT.append((WithoutUseCount(),))
    began = time.monotonic()
    assert not release_collective_tensors(timeout=0.2) and time.monotonic() - began >= 0.2 and not _IN_FLIGHT


def test_processes_option_trains_stops_on_ctrl_c_and_resumes(tmp_path, planted):
    """`whyrec train mt --processes 2`: torch's launcher in the command itself. Ctrl-C (sent to the
    whole process group, as a terminal does) ends with one "interrupted", status 130 and no
    launcher traceback; the same command again resumes from the checkpoint and saves one bundle."""
    import signal

    from whyrec.bundle import load_bundle

    data = tmp_path / "planted.csv"
    planted.corpus.reviews.to_csv(data, index=False)
    command = [sys.executable, "-m", "whyrec.cli", "train", "mt", "--data", str(data), "--out", str(tmp_path / "b"),
               "--checkpoint", str(tmp_path / "ck"), "--processes", "2", "--param", "epochs=3",
               "--param", "patience=0", "--param", "decoder_hidden=32", "--param", "vocab_size=500"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "COLUMNS": "200"}
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env,
                            start_new_session=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 240
    while not (tmp_path / "ck" / "epoch-0001").exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        raise AssertionError("Ctrl-C did not stop the processes within 120 s") from None
    assert proc.returncode == 130, err
    assert err.count("interrupted") == 1 and err.strip().splitlines()[-1] == "interrupted", err
    assert "Traceback" not in err and "SignalException" not in err and "closing signal" not in err, err
    assert not (tmp_path / "b").exists()
    again = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    assert again.stdout.count("saved mt to") == 1
    assert [r["epoch"] for r in load_bundle(tmp_path / "b").history] == [1, 2, 3]


def test_processes_option_is_refused_where_it_cannot_apply(tmp_path, planted, monkeypatch):
    from tests.cli.invoke import assert_one_line_error, run_cli
    from whyrec.distributed import launch
    from whyrec.errors import ConfigError

    data = tmp_path / "planted.csv"
    planted.corpus.reviews.to_csv(data, index=False)
    assert_one_line_error(run_cli("train", "pmf", "--data", str(data), "--out", str(tmp_path / "p"),
                                  "--processes", "2"), "--processes is for mt, peter and peter+")
    # a setting is checked once, before any process starts: one error line, not one per process
    assert_one_line_error(run_cli("train", "mt", "--data", str(data), "--out", str(tmp_path / "m"),
                                  "--processes", "2", "--param", "dropout=4"), "MT: dropout must be in [0, 1)")
    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(ConfigError, match="under torchrun leave it out"):
        launch(2, ["train", "mt"])


@pytest.mark.parametrize("code, status, reported", [
    ("pass", 0, None),
    ("import sys; sys.exit(2)", 2, None),  # whyrec's own error: the process printed it
    ("import os, signal; os.kill(os.getpid(), signal.SIGKILL)", 1, "ended by signal 9 without an error message"),
    ("import sys; sys.exit(5)", 1, "ended with status 5"),
])
def test_the_launcher_gives_the_processes_status(code, status, reported, system_temporary):
    from whyrec.distributed import launch

    said = []
    assert launch(2, [], report=said.append, program=(sys.executable, "-c", code)) == status
    # nothing left in the system's temporary folder: each launch had left a torchelastic_* log folder
    assert list(system_temporary.iterdir()) == []
    if reported is None:
        assert said == []
    else:
        assert len(said) == 1 and reported in said[0]


@pytest.mark.parametrize("message, reported", [
    ("'bad data'", ["bad data"]),  # every process says the same: said once
    ("'no device ' + os.environ['RANK']", ["process 0: no device 0", "process 1: no device 1"]),
])
def test_the_launcher_says_each_distinct_error_of_its_processes_once(message, reported):
    from whyrec.distributed import ERRORS_FOLDER, launch

    # each process waits (up to 60 s) until both have left their error: a process that ended first
    # would get the other stopped, perhaps before it spoke (a slow start, under coverage, say)
    code = (f"import os, sys, time, pathlib; from whyrec.distributed import leave_error; leave_error({message}); "
            f"folder = pathlib.Path(os.environ['{ERRORS_FOLDER}']); deadline = time.time() + 60\n"
            "while len(list(folder.glob('*.txt'))) < 2 and time.time() < deadline: time.sleep(0.05)\n"
            "sys.exit(2)")
    said = []
    assert launch(2, [], report=said.append, program=(sys.executable, "-c", code)) == 2
    assert said == reported
    assert ERRORS_FOLDER not in os.environ  # the folder was the launch's own


def test_a_data_error_under_processes_is_one_line(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("user,item,rating\nu,i,4\n")
    done = subprocess.run([sys.executable, "-m", "whyrec.cli", "train", "mt", "--data", str(bad), "--out",
                           str(tmp_path / "b"), "--processes", "2"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr[-3000:]
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "holds ratings only (no text column), and MT needs review text" in errors[0], \
        done.stderr[-3000:]
