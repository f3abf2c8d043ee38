import pytest
import torch

from whyrec.devices import resolve_device
from whyrec.errors import ConfigError


def test_the_cpu_is_the_default_and_canonical():
    assert resolve_device(None) == resolve_device("") == resolve_device("cpu") == resolve_device("cpu:0") == "cpu"


def test_auto_picks_a_gpu_only_when_torch_sees_one():
    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")


@pytest.mark.parametrize("name", ["banana", "cuda:x", "meta"])
def test_unknown_or_unsupported_devices_are_refused(name):
    with pytest.raises(ConfigError, match="device"):
        resolve_device(name)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")
def test_a_missing_gpu_is_a_clear_error():
    with pytest.raises(ConfigError, match="no CUDA GPU.*--device cpu"):
        resolve_device("cuda")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_a_gpu_beyond_the_count_is_refused():
    with pytest.raises(ConfigError, match="CUDA GPU"):
        resolve_device(f"cuda:{torch.cuda.device_count()}")


def test_on_a_machine_torch_says_has_one_gpu_and_no_mps_the_names_are_checked_against_it(monkeypatch):
    """The checks alone, on a CPU machine: torch's answers about its GPUs are faked."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert resolve_device("auto") == resolve_device("cuda") == "cuda" and resolve_device("cuda:0") == "cuda:0"
    with pytest.raises(ConfigError, match=r"device 'cuda:1' asked for, but torch sees 1 CUDA GPU\(s\)"):
        resolve_device("cuda:1")
    with pytest.raises(ConfigError, match="device 'mps' asked for, but MPS is not available on this machine"):
        resolve_device("mps")
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert resolve_device("mps") == "mps"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_mt_and_peter_train_and_sample_on_a_gpu():
    """Adversarial MT training and sampled explanations draw with CPU generators from GPU tensors."""
    from tests.conftest import tiny_planted_split
    from tests.systems.test_mt import TINY
    from tests.systems.test_peter import TINY as PETER_TINY
    from whyrec.systems.mt import MultiTask
    from whyrec.systems.peter import Peter

    split = tiny_planted_split()
    users, items = split.test.users[:4], split.test.items[:4]
    mt = MultiTask(epochs=3, device="cuda", **TINY).fit(split.train, split.valid)
    assert "reward_pair" in mt.history[-1]  # the policy-gradient steps ran
    assert len(mt.explain(users, items, method="sample")) == 4
    peter = Peter(**{**PETER_TINY, "epochs": 2, "device": "cuda"}).fit(split.train, split.valid)
    assert len(peter.explain(users, items, method="sample")) == 4


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_the_mt_experiment_runs_on_a_gpu(tmp_path):
    """The discriminator studies scored CPU tokens with MT's GPU discriminator and trained a fresh
    one on the CPU with MT's GPU batches; the LSTM, GRU and GCN baselines ignored the device.
    Found by reading the code: no GPU has run this test yet."""
    from tests.conftest import tiny_planted_split
    from tests.systems.test_mt import TINY
    from whyrec.systems.mt import MTConfig
    from whyrec.systems.mt_experiment import run_mt_experiment

    results = run_mt_experiment(tiny_planted_split(), tmp_path, MTConfig(epochs=2, device="cuda", **TINY),
                                lm_epochs=1, curve_steps=2, log=lambda m: None)
    for study in results["discriminator"].values():
        assert 0.0 <= study["shuffled_label_accuracy"] <= 1.0 and len(study["learning_curve"]) == 2
    assert {r["system"] for r in results["text"]} >= {"LSTM", "GRU LM", "GCN-P", "MT-P"}


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_a_run_resumed_on_a_gpu_ends_as_the_uninterrupted_one(tmp_path):
    """The checkpoint keeps the CUDA random state too (dropout on the GPU draws from it)."""
    from tests.conftest import tiny_planted_split
    from tests.systems.test_peter import TINY as PETER_TINY
    from whyrec.systems.peter import Peter

    split = tiny_planted_split()

    def weights(epochs, folder=None):
        config = {**PETER_TINY, "epochs": epochs, "patience": 9, "device": "cuda"}
        peter = Peter(**config).fit(split.train, split.valid, checkpoint_dir=folder)
        return [v.cpu() for _, v in sorted(peter.model.state_dict().items())]

    whole = weights(3)
    weights(2, str(tmp_path))
    # close, not equal: some CUDA backward kernels add in a nondeterministic order; other dropout
    # masks would move the weights far more than that
    assert all(torch.allclose(a, b, atol=1e-4) for a, b in zip(weights(3, str(tmp_path)), whole))


def test_an_als_model_asked_for_the_automatic_device_trains_on_the_one_picked():
    """device="auto" reached torch as a device name, a RuntimeError traceback."""
    from tests.conftest import tiny_planted_split
    from whyrec.rating import make_model

    split = tiny_planted_split()
    auto = make_model("pmf", factors=3, iterations=3, device="auto").fit(split.train)
    cpu = make_model("pmf", factors=3, iterations=3, device=resolve_device("auto")).fit(split.train)
    assert auto.device == "auto"  # the setting as asked, kept in its bundle
    assert (auto.predict(split.test.users, split.test.items) == cpu.predict(split.test.users, split.test.items)).all()


def test_train_gives_an_als_model_its_device_and_refuses_one_for_a_cpu_model(tmp_path):
    from tests.cli.invoke import assert_one_line_error, run_cli, unreadable_data

    data, out = unreadable_data(tmp_path), str(tmp_path / "b")
    assert_one_line_error(run_cli("train", "biased-mf", "--data", data, "--out", out, "--device", "auto"),
                          "biased-mf trains on the CPU; --device is for mt, peter, peter+ and context-als, pmf")
    assert_one_line_error(run_cli("train", "pmf", "--data", data, "--out", out, "--device", "auto", "--set",
                                  "device=cpu"), "give the device once: --device auto or --set device=cpu")
    if not torch.cuda.is_available():  # refused before the data is read
        assert_one_line_error(run_cli("train", "pmf", "--data", data, "--out", out, "--device", "cuda"),
                              "no CUDA GPU")
