"""MTConfig: bad settings are refused with a clear error; scale grids accept a number or a list."""

import pytest

from whyrec.errors import ConfigError
from whyrec.systems.mt_config import MTConfig


def test_bad_settings_are_refused():
    with pytest.raises(ConfigError, match="unknown setting"):
        MTConfig.from_dict({"epoch": 3})
    with pytest.raises(ConfigError):
        MTConfig(variants=("users",))
    with pytest.raises(ConfigError, match="learning rates"):
        MTConfig(decoder_lr=0.0)
    with pytest.raises(ConfigError, match="prior_folds"):
        MTConfig(prior_folds=0)
    with pytest.raises(ConfigError, match="patience"):
        MTConfig(patience=-1)


def test_a_scale_grid_is_a_number_or_a_non_empty_list_of_non_negative_numbers():
    config = MTConfig(prior_scales=1, bias_prior_scales=[0, 0.5])
    assert config.prior_scales == (1.0,) and config.bias_prior_scales == (0.0, 0.5)
    for bad in ("high", [], [-1.0], ["x"]):
        with pytest.raises(ConfigError, match="scale"):
            MTConfig(prior_scales=bad)


def test_a_config_round_trips_through_a_dict_with_lists_for_tuples():
    config = MTConfig(variants=("pair",), d_widths=(2, 3))
    data = config.to_dict()
    assert data["variants"] == ["pair"] and data["d_widths"] == [2, 3]
    assert MTConfig.from_dict(data) == config
