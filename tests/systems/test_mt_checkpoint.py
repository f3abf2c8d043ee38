"""Resumable MT training: a run killed by SIGKILL resumes after its last epoch; a checkpoint of
other settings (named) or of another system is refused; a resumed run may be given more epochs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from tests.systems.test_mt import TINY
from whyrec.checkpoint import save_checkpoint
from whyrec.errors import WhyrecError
from whyrec.systems.mt import MultiTask

RESUME_SCRIPT = """
import sys, json
sys.path.insert(0, {src!r})
from whyrec.data import ratio_split
from whyrec.data.synthetic import make_planted_corpus
from whyrec.systems.mt import MultiTask
split = ratio_split(make_planted_corpus(n_users=40, n_items=20, reviews_per_user=8, seed=2).corpus, seed=0)
mt = MultiTask(epochs=6, **{tiny!r})
mt.fit(split.train, split.valid, checkpoint_dir={ckpt!r},
       on_epoch=lambda r: print("epoch", r["epoch"], flush=True))
print("resumed_from", mt.resumed_from)
print("history", json.dumps([r["epoch"] for r in mt.history]))
print("rmse", float(((mt.predict_corpus(split.test) - split.test.ratings) ** 2).mean() ** 0.5))
"""


def test_resume_after_sigkill(tmp_path):
    src = str(Path(__file__).resolve().parents[2] / "src")
    script = tmp_path / "train.py"
    script.write_text(RESUME_SCRIPT.format(src=src, tiny=TINY, ckpt=str(tmp_path / "ckpt")))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True, env=env)
    seen = []
    deadline = time.time() + 240
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            break
        if line.startswith("epoch"):
            seen.append(int(line.split()[1]))
            if seen[-1] == 2:
                break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert seen and seen[-1] == 2, "the first run never reached epoch 2"
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    out = dict(line.split(" ", 1) for line in done.stdout.splitlines() if " " in line and not line.startswith("epoch"))
    assert int(out["resumed_from"]) >= 2
    assert out["history"].strip() == "[1, 2, 3, 4, 5, 6]"
    resumed_epochs = [int(l.split()[1]) for l in done.stdout.splitlines() if l.startswith("epoch")]
    assert resumed_epochs[0] == int(out["resumed_from"]) + 1
    assert float(out["rmse"]) < 2.0


def test_a_checkpoint_of_other_settings_is_refused_and_more_epochs_continue_it(tiny_split, tmp_path):
    ckpt = str(tmp_path / "ckpt")
    first = MultiTask(epochs=1, patience=0, **TINY).fit(tiny_split.train, tiny_split.valid, checkpoint_dir=ckpt)
    # the epoch's tensors and state, and the lock fit held the folder with (no pickle anywhere)
    assert {p.suffix or p.name for p in (tmp_path / "ckpt").rglob("*") if p.is_file()} == {".safetensors", ".json",
                                                                                        ".lock"}
    with pytest.raises(WhyrecError, match=r"other settings or data \(factors: \d+ in the checkpoint, 4 now\)"):
        MultiTask(epochs=2, patience=0, **{**TINY, "factors": 4}).fit(tiny_split.train, tiny_split.valid,
                                                                       checkpoint_dir=ckpt)
    peter_like = tmp_path / "peter"  # what PETER's training writes: its config, vocabulary and data's sizes
    save_checkpoint(peter_like, 1, {"x": torch.zeros(1)}, {"config": {}, "vocab": [], "n_users": 3, "n_items": 2})
    with pytest.raises(WhyrecError, match="written by another system's training, not MT's"):
        MultiTask(epochs=1, patience=0, **TINY).fit(tiny_split.train, tiny_split.valid, checkpoint_dir=str(peter_like))
    more = MultiTask(epochs=3, patience=0, **TINY).fit(tiny_split.train, tiny_split.valid, checkpoint_dir=ckpt)
    assert more.resumed_from == 1 and [h["epoch"] for h in more.history] == [1, 2, 3]
    assert more.history[0] == first.history[0]  # the first epoch is the checkpoint's, not re-run
    # and the resumed run ends where a run never interrupted ends, bit for bit
    whole = MultiTask(epochs=3, patience=0, **TINY).fit(tiny_split.train, tiny_split.valid)
    for key, value in whole.generator.state_dict().items():
        assert torch.equal(more.generator.state_dict()[key], value), key
    assert (more.als.user_factors == whole.als.user_factors).all()


def test_a_damaged_checkpoint_is_refused(tiny_split, tmp_path):
    import json

    from safetensors.torch import load_file, save_file

    from whyrec.checkpoint import TENSORS_DIGEST

    MultiTask(epochs=1, **TINY).fit(tiny_split.train, tiny_split.valid, checkpoint_dir=str(tmp_path))
    tensors_file = tmp_path / "epoch-0001" / "tensors.safetensors"
    tensors = load_file(str(tensors_file))
    del tensors["rng.gen"]
    save_file(tensors, str(tensors_file))
    with pytest.raises(WhyrecError, match="damaged checkpoint .*their SHA-256 differ"):
        MultiTask(epochs=2, **TINY).fit(tiny_split.train, tiny_split.valid, checkpoint_dir=str(tmp_path))
    state_file = tmp_path / "epoch-0001" / "state.json"  # as written before the digest was recorded:
    state = json.loads(state_file.read_text())  # the missing array is then found by name
    del state[TENSORS_DIGEST]
    state_file.write_text(json.dumps(state))
    with pytest.raises(WhyrecError, match="checkpoint is damaged"):
        MultiTask(epochs=2, **TINY).fit(tiny_split.train, tiny_split.valid, checkpoint_dir=str(tmp_path))


@pytest.mark.parametrize("edit, without_digest", [
    (lambda state: state["g_opt"]["param_groups"][0].__setitem__("lr", "0.01"), None),  # a TypeError an epoch on
    (lambda state: state.__setitem__("best_als_rmse", None), None),  # a TypeError at the first comparison
    (lambda state: state.__setitem__("config", []), r"damaged or from another version of whyrec \(AttributeError"),
])
def test_a_checkpoint_whose_state_was_changed_since_it_was_written_is_refused(tiny_split, tmp_path, edit,
                                                                                without_digest):
    """Those edits had stopped the resumed run with a traceback; the state's own SHA-256 refuses them all.
    A checkpoint written before it was recorded is restored as before: an AttributeError there is now
    one line too (the other two are met only in training, which is what the digest is for)."""
    import json

    from whyrec.checkpoint import STATE_DIGEST

    MultiTask(epochs=1, patience=0, **TINY).fit(tiny_split.train, tiny_split.valid, checkpoint_dir=str(tmp_path))
    state_file = tmp_path / "epoch-0001" / "state.json"
    state = json.loads(state_file.read_text())
    edit(state)
    state_file.write_text(json.dumps(state))
    with pytest.raises(WhyrecError, match=r"epoch-0001: damaged checkpoint \(state.json changed since it was "
                                          r"written: its SHA-256 is not the one it records\); delete it"):
        MultiTask(epochs=2, **TINY).fit(tiny_split.train, tiny_split.valid, checkpoint_dir=str(tmp_path))
    if without_digest:
        del state[STATE_DIGEST]
        state_file.write_text(json.dumps(state))
        with pytest.raises(WhyrecError, match=without_digest):
            MultiTask(epochs=2, **TINY).fit(tiny_split.train, tiny_split.valid, checkpoint_dir=str(tmp_path))


def test_a_checkpoint_written_on_another_device_resumes_here(tiny_split, tmp_path):
    import json

    from whyrec.checkpoint import STATE_DIGEST, state_digest

    MultiTask(epochs=1, patience=0, **TINY).fit(tiny_split.train, tiny_split.valid, checkpoint_dir=str(tmp_path))
    state_file = tmp_path / "epoch-0001" / "state.json"
    state = json.loads(state_file.read_text())
    state["config"]["device"] = "cuda:0"  # as a run on a GPU writes it (tensors are always saved on the CPU)
    state[STATE_DIGEST] = state_digest(state)  # and records it
    state_file.write_text(json.dumps(state))
    more = MultiTask(epochs=2, patience=0, **TINY).fit(tiny_split.train, tiny_split.valid, checkpoint_dir=str(tmp_path))
    assert more.resumed_from == 1 and [h["epoch"] for h in more.history] == [1, 2]


def test_a_resumed_run_starts_its_adversarial_phase_where_an_uninterrupted_one_does(tiny_split, tmp_path):
    # adversarial_from=0 decides from the validation history, which the checkpoint holds; with these
    # settings pre-training converges at epoch 8, so the resumed run takes the decision itself
    settings = dict(patience=0, **{**TINY, "adversarial_from": 0, "lr": 3e-2, "decoder_lr": 3e-2})
    ckpt = str(tmp_path / "ckpt")
    MultiTask(epochs=8, **settings).fit(tiny_split.train, tiny_split.valid, checkpoint_dir=ckpt)
    resumed = MultiTask(epochs=10, **settings).fit(tiny_split.train, tiny_split.valid, checkpoint_dir=ckpt)
    whole = MultiTask(epochs=10, **settings).fit(tiny_split.train, tiny_split.valid)
    assert resumed.resumed_from == 8
    assert [h["adversarial"] for h in resumed.history] == [h["adversarial"] for h in whole.history] == [0] * 8 + [1] * 2
    for key, value in whole.generator.state_dict().items():
        assert torch.equal(resumed.generator.state_dict()[key], value), key
    for key, value in whole.discriminators.state_dict().items():
        assert torch.equal(resumed.discriminators.state_dict()[key], value), key
