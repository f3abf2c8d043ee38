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
