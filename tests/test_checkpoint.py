import os
import subprocess
import sys

import pytest
import torch

from tests.cli.invoke import assert_one_line_error, run_cli
from whyrec.checkpoint import (check_same_run, checkpoint_folder_held, claim_checkpoint_folder, complete_checkpoints,
                               latest_checkpoint, load_module_state, load_optimizer_state, module_state,
                               optimizer_state, save_checkpoint)
from whyrec.errors import WhyrecError


def test_module_and_optimizer_round_trip_without_pickle(tmp_path):
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(3):
        loss = model(torch.randn(4, 3)).pow(2).sum()
        opt.zero_grad(); loss.backward(); opt.step()
    tensors = module_state("m", model)
    opt_tensors, opt_meta = optimizer_state("opt", opt)
    save_checkpoint(tmp_path, 1, {**tensors, **opt_tensors}, {"opt": opt_meta, "note": "x"})
    save_checkpoint(tmp_path, 2, {**tensors, **opt_tensors}, {"opt": opt_meta, "note": "y"})
    assert complete_checkpoints(tmp_path) == [2]  # older ones are pruned
    assert not list(tmp_path.glob("*.tmp"))
    loaded, state = latest_checkpoint(tmp_path)
    assert state["note"] == "y" and state["epoch"] == 2
    other = torch.nn.Linear(3, 2)
    other_opt = torch.optim.Adam(other.parameters(), lr=0.5)
    load_module_state("m", other, loaded)
    load_optimizer_state("opt", other_opt, loaded, state["opt"])
    torch.testing.assert_close(other.weight, model.weight)
    # the optimizers continue identically
    x = torch.randn(4, 3)
    for m, o in ((model, opt), (other, other_opt)):
        o.zero_grad(); m(x).pow(2).sum().backward(); o.step()
    torch.testing.assert_close(other.weight, model.weight)


def test_incomplete_checkpoint_is_ignored(tmp_path):
    (tmp_path / "epoch-0003.tmp").mkdir()
    (tmp_path / "epoch-0004").mkdir()  # no files: an interrupted copy
    assert latest_checkpoint(tmp_path) is None


def test_saving_again_replaces_what_a_crash_left_of_that_epoch(tmp_path):
    """A run killed while writing epoch 3 leaves epoch-0003.tmp; one killed after the rename, a complete
    epoch-0003 that the resumed run (restarted from epoch 2) writes again: each is replaced whole."""
    save_checkpoint(tmp_path, 2, {"w": torch.zeros(2)}, {"note": "two"})
    (tmp_path / "epoch-0003.tmp").mkdir()
    (tmp_path / "epoch-0003.tmp" / "tensors.safetensors").write_bytes(b"half written")
    save_checkpoint(tmp_path, 3, {"w": torch.ones(2)}, {"note": "three"}, keep=2)
    assert complete_checkpoints(tmp_path) == [2, 3] and not list(tmp_path.glob("*.tmp"))
    save_checkpoint(tmp_path, 3, {"w": torch.full((2,), 3.0)}, {"note": "three again"}, keep=2)
    tensors, state = latest_checkpoint(tmp_path)
    assert state == {"note": "three again", "epoch": 3} and tensors["w"].tolist() == [3.0, 3.0]


def test_an_unreadable_checkpoint_is_reported_not_raised_raw(tmp_path):
    import pytest

    from whyrec.errors import WhyrecError

    save_checkpoint(tmp_path / "run", 1, {"w": torch.zeros(2)}, {"note": "x"})
    (tmp_path / "run" / "epoch-0001" / "tensors.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(WhyrecError, match="unreadable checkpoint"):
        latest_checkpoint(tmp_path / "run")
    (tmp_path / "file").write_text("x")
    with pytest.raises(WhyrecError, match="this is a file"):
        latest_checkpoint(tmp_path / "file")


def test_a_folder_holding_other_files_is_not_taken_for_a_checkpoint_folder(tmp_path):
    """--checkpoint pointed at the data folder (or a bundle) wrote epoch-0001 among its files."""
    import pytest

    from whyrec.errors import WhyrecError

    data = tmp_path / "data"
    (data / "1").mkdir(parents=True)
    (data / "reviews.json.gz").write_bytes(b"")
    with pytest.raises(WhyrecError, match=r"not a checkpoint folder \(it holds 1, reviews.json.gz\)"):
        latest_checkpoint(data)
    (data / "2").mkdir()  # three: each named
    with pytest.raises(WhyrecError, match=r"\(it holds 1, 2, reviews.json.gz\); a checkpoint folder"):
        latest_checkpoint(data)
    (data / "3").mkdir()  # four: the first three, then "…"
    with pytest.raises(WhyrecError, match=r"\(it holds 1, 2, 3, …\); a checkpoint folder"):
        latest_checkpoint(data)
    run = tmp_path / "run"
    save_checkpoint(run, 1, {"w": torch.zeros(2)}, {"note": "x"})
    (run / "epoch-0002.tmp").mkdir()
    (run / ".DS_Store").write_bytes(b"")  # hidden files a file browser leaves are fine
    assert complete_checkpoints(run) == [1]


def test_a_run_of_other_settings_or_data_is_refused_naming_what_differs():
    saved = {"lr": 0.003, "factors": 8, "vocabulary": ["a", "b", "c"]}
    check_same_run("ck", saved, dict(saved), "MT", written_by_system=True)  # the same run: no error
    with pytest.raises(WhyrecError, match=r"^ck: the checkpoint was written with other settings or data \(lr: 0\.003 "
                                          r"in the checkpoint, 0\.01 now\); use a new checkpoint folder$"):
        check_same_run("ck", saved, {**saved, "lr": 0.01}, "MT", written_by_system=True)
    with pytest.raises(WhyrecError, match=r"\(vocabulary: 3 entries in the checkpoint, 2 entries now; "
                                          r"weight: unset in the checkpoint, 1 now\)"):
        check_same_run("ck", saved, {**saved, "vocabulary": ["a", "b"], "weight": 1}, "MT", written_by_system=True)
    many = {f"s{k}": k + 1 for k in range(5)}
    with pytest.raises(WhyrecError, match=r"s2: unset in the checkpoint, 3 now; and 2 more\)"):
        check_same_run("ck", {}, many, "MT", written_by_system=True)
    with pytest.raises(WhyrecError, match="written by another system's training, not PETER's"):
        check_same_run("ck", saved, saved, "PETER", written_by_system=False)
    three = {f"s{k}": k + 1 for k in range(3)}  # three are all named: no "more"
    with pytest.raises(WhyrecError, match=r"s2: unset in the checkpoint, 3 now\); use a new"):
        check_same_run("ck", {}, three, "MT", written_by_system=True)
    with pytest.raises(WhyrecError, match=r"s2: unset in the checkpoint, 3 now; and 1 more\)"):
        check_same_run("ck", {}, {**three, "s3": 4}, "MT", written_by_system=True)
    # a value is shown by its repr up to 40 characters, cut to 39 and "…" past them
    for text, shown in (("x" * 38, "'" + "x" * 38 + "'"), ("x" * 39, "'" + "x" * 38 + "…")):
        with pytest.raises(WhyrecError, match=rf"\(path: {shown} in the checkpoint, unset now\)"):
            check_same_run("ck", {"path": text}, {}, "MT", written_by_system=True)


def test_tensors_damaged_inside_a_checkpoint_are_refused_on_resuming(tmp_path):
    """A resumed run read damaged weights without a word (safetensors keeps no checksum)."""
    save_checkpoint(tmp_path, 1, {"w": torch.arange(64, dtype=torch.float32)}, {"note": "x"})
    tensors, state = latest_checkpoint(tmp_path)
    assert state == {"note": "x", "epoch": 1}  # the digest is checked, not handed on
    file = tmp_path / "epoch-0001" / "tensors.safetensors"
    damaged = bytearray(file.read_bytes())
    damaged[-5] ^= 0x01  # in the data: the file still parses
    file.write_bytes(bytes(damaged))
    with pytest.raises(WhyrecError, match="damaged checkpoint .*delete it to start over"):
        latest_checkpoint(tmp_path)


def _holding(root) -> subprocess.Popen:
    """Another process that claims ``root`` and keeps it until killed."""
    code = (f"from whyrec.checkpoint import claim_checkpoint_folder; claim_checkpoint_folder({str(root)!r}); "
            "print('held', flush=True); import time; time.sleep(300)")
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    return holder


@pytest.mark.skipif(os.name != "posix", reason="flock")
def test_a_checkpoint_folder_is_held_by_one_run_until_its_process_ends(tmp_path):
    root = tmp_path / "ck"
    holder = _holding(root)
    try:
        with pytest.raises(WhyrecError, match=rf"ck: another run is training with this checkpoint folder "
                                              rf"\(process {holder.pid}\); let it end"):
            claim_checkpoint_folder(root)
    finally:
        holder.kill()  # SIGKILL: the system lets the lock go with the process
        holder.wait()
    claim_checkpoint_folder(root)
    claim_checkpoint_folder(root)  # held by this process already: nothing to do
    save_checkpoint(root, 1, {"w": torch.ones(1)}, {})
    assert complete_checkpoints(root) == [1]  # the lock file is not an epoch, nor a stranger in the folder
    (tmp_path / "file").write_text("x")
    for holds_epochs in (True, False):
        with pytest.raises(WhyrecError, match="a checkpoint folder was asked for, but this is a file"):
            claim_checkpoint_folder(tmp_path / "file", holds_epochs=holds_epochs)
    # a folder of other things is refused before the lock is written in it, unless its epochs are in folders under it
    other = tmp_path / "bundle"
    (other / "split-1").mkdir(parents=True)
    with pytest.raises(WhyrecError, match="not a checkpoint folder"):
        claim_checkpoint_folder(other)
    assert not (other / ".lock").exists()
    claim_checkpoint_folder(other, holds_epochs=False)
    assert (other / ".lock").read_text() == str(os.getpid())


@pytest.mark.skipif(os.name != "posix", reason="flock")
def test_train_given_a_checkpoint_folder_another_run_holds_is_refused_before_reading(planted, tmp_path):
    data = tmp_path / "planted.csv"
    planted.corpus.reviews.to_csv(data, index=False)
    holder = _holding(tmp_path / "ck")
    try:
        proc = run_cli("train", "mt", "--data", str(data), "--out", str(tmp_path / "b"), "--checkpoint",
                       str(tmp_path / "ck"))
    finally:
        holder.kill()
        holder.wait()
    assert_one_line_error(proc, f"another run is training with this checkpoint folder (process {holder.pid})")
    assert "split" not in proc.stderr and not (tmp_path / "b").exists()  # refused before the data was read


def _claimable(root) -> bool:
    """Whether another process could claim ``root`` now (it lets go at once)."""
    code = f"from whyrec.checkpoint import claim_checkpoint_folder; claim_checkpoint_folder({str(root)!r})"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120).returncode == 0


@pytest.mark.skipif(os.name != "posix", reason="flock")
def test_a_checkpoint_folder_held_for_a_block_is_let_go_when_it_ends_however_it_ends(tmp_path):
    root = tmp_path / "ck"
    with checkpoint_folder_held(root):
        assert not _claimable(root)
    assert _claimable(root)
    with pytest.raises(KeyboardInterrupt):  # Ctrl-C in a notebook: the folder is not left held
        with checkpoint_folder_held(root):
            raise KeyboardInterrupt
    assert _claimable(root)
    with checkpoint_folder_held(None), checkpoint_folder_held(""):  # no folder: nothing held
        pass
    claim_checkpoint_folder(root)  # held for the process (the command line's claim): a block keeps it held
    with checkpoint_folder_held(root):
        pass
    assert not _claimable(root)


@pytest.mark.skipif(os.name != "posix", reason="flock")
@pytest.mark.parametrize("system", ["mt", "peter"])
def test_fit_holds_its_checkpoint_folder_while_it_trains_and_lets_it_go_after(system, tiny_split, tmp_path):
    """A library caller's ``fit(checkpoint_dir=…)`` is kept from sharing its folder with another
    run, as the command line's runs are; once ``fit`` returns, the folder is free."""
    from tests.systems.test_mt import TINY as MT_TINY
    from tests.systems.test_peter import TINY as PETER_TINY
    from whyrec.systems.mt import MultiTask
    from whyrec.systems.peter import Peter

    root = tmp_path / "ck"
    seen = []
    model = MultiTask(**{**MT_TINY, "epochs": 1}) if system == "mt" else Peter(**{**PETER_TINY, "epochs": 1})
    look = lambda record: seen.append(_claimable(root))  # noqa: E731 - after each epoch
    if system == "mt":
        model.fit(tiny_split.train, tiny_split.valid, None, str(root), on_epoch=look)  # by position too
    else:
        model.fit(tiny_split.train, tiny_split.valid, None, look, checkpoint_dir=str(root))
    assert seen and not any(seen)  # held while it trained
    assert complete_checkpoints(root) == [1] and _claimable(root)


def test_random_states_come_back_as_saved_each_process_its_own(monkeypatch):
    """The draws after a restore are those after the save; a GPU run's CUDA state is passed over
    when resuming on the CPU; a process of a resumed cluster takes its own states when the
    checkpoint holds one per process, the main process's when it was written by one alone."""
    from whyrec.checkpoint import random_states, restore_random_states
    from whyrec.distributed import Cluster

    def seeded_state(seed):
        return torch.Generator().manual_seed(seed).get_state()

    sampler = torch.Generator().manual_seed(5)
    cuda_set = []  # torch sets a CUDA state lazily, so a CPU machine would not fail on one: count the calls
    monkeypatch.setattr(torch.cuda, "set_rng_state", lambda *args: cuda_set.append(args))
    with torch.random.fork_rng(devices=[]):  # the global generator is as it was for the other tests after
        torch.manual_seed(3)
        saved = random_states(Cluster(), "cpu", sampler=sampler)
        assert set(saved) == {"rng.torch", "rng.sampler"}
        after = (torch.rand(3), torch.rand(3, generator=sampler))
        torch.rand(10), torch.rand(10, generator=sampler)  # drawn on past the save
        restore_random_states({**saved, "rng.cuda": torch.zeros(16, dtype=torch.uint8)}, Cluster(), "cpu",
                              sampler=sampler)
        assert torch.equal(torch.rand(3), after[0]) and torch.equal(torch.rand(3, generator=sampler), after[1])
    assert cuda_set == []
    per_process = {"rng.torch": saved["rng.torch"], "rng.sampler": seeded_state(1),
                   "rng.sampler.rank0": seeded_state(1), "rng.sampler.rank1": seeded_state(2)}
    with torch.random.fork_rng(devices=[]):
        with pytest.raises(KeyError):  # a damaged checkpoint that lost a state
            restore_random_states({"rng.torch": saved["rng.torch"]}, Cluster(), "cpu", sampler=sampler)
        restore_random_states(per_process, Cluster(rank=1, world=2), "cpu", sampler=sampler)
        assert torch.equal(sampler.get_state(), seeded_state(2))
        restore_random_states({"rng.torch": saved["rng.torch"], "rng.sampler": seeded_state(1)},
                              Cluster(rank=1, world=2), "cpu", sampler=sampler)
        assert torch.equal(sampler.get_state(), seeded_state(1))
