"""MTConfig: bad settings are refused with a clear error; scale grids accept a number or a list."""

import pytest

from whyrec.errors import ConfigError
from whyrec.systems.mt_config import MTConfig


def test_bad_settings_are_refused():
    with pytest.raises(ConfigError, match="unknown setting"):
        MTConfig.from_dict({"epoch": 3})
    with pytest.raises(ConfigError):
        MTConfig(variants=("users",))
    with pytest.raises(ConfigError, match="decoder_lr must be greater than 0"):
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


@pytest.mark.parametrize("setting, value, message", [
    ("dropout", 1.5, "dropout must be in"),
    ("coupling", -1.0, "coupling must be at least 0"),  # would push the priors away from the factors
    ("lambda_u", 0.0, "lambda_u must be greater than 0"),
    ("d_widths", [], "d_widths must be a non-empty list"),
    ("d_widths", [2, "3"], "d_widths must be a non-empty list"),
    ("word_vectors", "fasttext", "one of 'auto', 'glove', 'random'"),
    ("variants", ["pair", "pair"], r"distinct names among \('user', 'item', 'pair'\), got \['pair', 'pair'\]$"),
    ("variants", ["user", "pear"], r"got \['user', 'pear'\] \(did you mean 'pair'\?\)$"),  # a typo, as elsewhere
    ("factors", "many", "factors must be a whole number"),  # as `--param factors=many` arrives
    ("epochs", 2.5, "epochs must be a whole number"),
    ("decoder", 1, "decoder must be true or false"),
    ("vocab_size", 4, "vocab_size must be at least 5"),
    ("rollouts", -1, "rollouts must be from 0 to 64"),
    ("rollouts", 65, "rollouts must be from 0 to 64, got 65"),  # pg_batch × rollouts decoded at once
])
def test_each_setting_is_checked_by_type_and_range(setting, value, message):
    with pytest.raises(ConfigError, match=message):
        MTConfig.from_dict({setting: value})


def test_glove_vectors_need_their_size():
    """GloVe 6B ships at 50 dimensions: asking for it at 16 failed only after the data was read,
    with a traceback."""
    with pytest.raises(ConfigError, match="MT: word_vectors=glove needs word_dim=50"):
        MTConfig.from_dict({"word_vectors": "glove", "word_dim": 16})
    assert MTConfig(word_vectors="glove", word_dim=50).word_dim == 50
    assert MTConfig(word_vectors="auto", word_dim=16).word_dim == 16  # auto falls back to random vectors


def test_numbers_are_normalised_and_none_is_kept_where_allowed():
    config = MTConfig(coupling=1, teacher_passes=3, decoder_lr=None, d_widths=[2, 3])
    assert config.coupling == 1.0 and isinstance(config.coupling, float) and config.decoder_lr is None
    assert config.d_widths == (2, 3)
