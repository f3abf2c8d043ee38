"""Whatever settings a command line gives (``--decode NAME=VALUE``, ``--param NAME=VALUE``, a rating
model's spec ``pmf:factors=8``), they become a checked decoding, configuration or model, or one
clear error (:class:`whyrec.errors.WhyrecError`), never another exception: Hypothesis draws the
names (known and not) and the values (numbers out of range, NaN, inf, lists, text)."""

from hypothesis import given
from hypothesis import strategies as st

from tests.properties import fuzz, made_or_refused
from whyrec.cli.option_checks import decoding_of, parse_pairs
from whyrec.experiment import models_from_specs
from whyrec.systems.mt_config import MTConfig
from whyrec.systems.peter_config import PeterConfig

FUZZ = fuzz(300)
values = st.one_of(st.sampled_from(["0", "-1", "1", "0.5", "1e999", "-1e999", "nan", "inf", "[1,2]", "[]", "true",
                                    "null", "", "x", "3|4", "1|nan", '"a"', "{}", "99999999999999999999"]),
                   st.integers(-10**6, 10**6).map(str), st.floats().map(repr), st.text(max_size=6))


def assignments(names: list[str]):
    """``NAME=VALUE`` strings of the known ``names`` and others, now and then without the ``=``."""
    name = st.one_of(st.sampled_from(names), st.text(max_size=6))
    return st.lists(st.one_of(st.builds(lambda n, v: f"{n}={v}", name, values), st.text(max_size=8)), max_size=3)


@FUZZ
@given(method=st.one_of(st.sampled_from(["greedy", "sample", "beam"]), st.text(max_size=6)),
       decode=assignments(["temperature", "top_k", "top_p", "beam", "length_penalty", "min_words", "seed"]))
def test_decode_settings_give_a_decoding_or_one_clear_error(method, decode):
    made_or_refused(lambda: decoding_of(method, decode))


@FUZZ
@given(given_=assignments(["factors", "epochs", "lr", "max_words", "rollouts", "dropout", "variants", "prior_scales",
                           "batch_size", "patience", "word_vectors", "encoder", "seed", "lambda_u"]))
def test_mt_settings_give_a_configuration_or_one_clear_error(given_):
    made_or_refused(lambda: MTConfig.from_dict(parse_pairs(given_, "--param")))


@FUZZ
@given(given_=assignments(["emsize", "heads", "layers", "dropout", "epochs", "lr", "max_words", "batch_size", "seed"]))
def test_peter_settings_give_a_configuration_or_one_clear_error(given_):
    made_or_refused(lambda: PeterConfig.from_dict(parse_pairs(given_, "--param")))


@FUZZ
@given(name=st.one_of(st.sampled_from(["pmf", "context-als", "biased-mf", "bias-baseline", "global-average"]),
                      st.text(max_size=6)),
       given_=assignments(["factors", "lambda_u", "lambda_v", "lambda_bias", "iterations", "epochs", "lr", "seed"]),
       joiner=st.sampled_from([",", ";", " "]))
def test_a_rating_models_spec_gives_a_model_or_one_clear_error(name, given_, joiner):
    spec = name + (":" + joiner.join(given_) if given_ else "")
    made_or_refused(lambda: models_from_specs([spec]))
