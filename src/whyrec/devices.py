"""The torch device a neural system runs on, checked once with an error that says what to do.

Every neural system (MT, PETER) and the MMI fine-tuning take a device name: ``cpu``, ``cuda``,
``cuda:N``, ``mps``, or ``auto`` (the first CUDA GPU when torch sees one, else the CPU). Bundles
are always rebuilt on the CPU and then moved, so a model trained on a GPU loads on a machine
without one.
"""

from __future__ import annotations

from whyrec.errors import ConfigError


def resolve_device(name: str | None) -> str:
    """The canonical name of the device ``name`` asks for ("cpu" when none), after checking that
    this machine's torch can use it."""
    if name is None or name in ("", "cpu"):
        return "cpu"
    import torch  # only past the CPU: `whyrec models` and settings checks start without it

    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError):
        raise ConfigError(f"unknown device {name!r}: use cpu, cuda, cuda:N, mps or auto") from None
    if device.type == "cpu":
        return "cpu"
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(f"device {name!r} asked for, but this torch build sees no CUDA GPU "
                              "(torch.cuda.is_available() is False); use --device cpu")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ConfigError(f"device {name!r} asked for, but torch sees {torch.cuda.device_count()} CUDA GPU(s)")
        return str(device)
    if device.type == "mps":
        if not torch.backends.mps.is_available():
            raise ConfigError(f"device {name!r} asked for, but MPS is not available on this machine")
        return "mps"
    raise ConfigError(f"device type {device.type!r} is not supported: use cpu, cuda, cuda:N, mps or auto")
