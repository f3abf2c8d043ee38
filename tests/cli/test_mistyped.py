"""A setting given as an option (``--epochs 2``) is told the option that takes it."""

from __future__ import annotations

from tests.cli.invoke import run_cli
from whyrec.cli.mistyped import setting_hint


def test_a_setting_is_pointed_to_the_option_that_takes_it_with_its_value():
    train = {"--data", "--out", "--set", "--param"}
    assert setting_hint("--epochs", train, ["train", "mt", "--epochs", "2"]) == \
        "epochs is a setting: give it as --set epochs=2"
    assert setting_hint("--lambda-u", train, ["--lambda-u=3"]) == "lambda_u is a setting: give it as --set lambda_u=3"
    assert setting_hint("--factors", train, ["--factors"]) == "factors is a setting: give it as --set factors=VALUE"
    both = {"--mt", "--peter", "--decode"}
    assert setting_hint("--dropout", both, ["--dropout", "0.1"]) == \
        "dropout is a setting: give it as --mt dropout=0.1 or --peter dropout=0.1"
    assert setting_hint("--top-p", {"--decode"}, ["--top-p", "0.9"]) == \
        "top_p is a setting: give it as --decode top_p=0.9"


def test_a_flag_of_the_fields_other_code_is_told_the_setting_it_is_here():
    """PETER's scripts take --nhead and --endure_times; whyrec's PETER calls them heads and patience."""
    assert setting_hint("--nhead", {"--set"}, ["--nhead", "4"]) == "nhead is the setting heads here: give it as " \
        "--set heads=4"
    assert setting_hint("--endure_times", {"--peter"}, ["--endure_times=3"]) == \
        "endure_times is the setting patience here: give it as --peter patience=3"
    assert setting_hint("--hidden-size", {"--mt"}, ["--hidden-size", "32"]) == \
        "hidden_size is the setting encoder_hidden or decoder_hidden here: give it as --mt encoder_hidden=32 or " \
        "--mt decoder_hidden=32"


def test_train_is_told_the_settings_of_the_model_it_fits():
    """pmf has no reg (biased-mf has): its regularisers are lambda_u and lambda_v."""
    train = {"--data", "--out", "--set", "--param"}
    assert setting_hint("--reg", train, ["train", "pmf", "--data", "r.csv", "--reg", "0.1"]) == \
        "reg is the setting lambda_u or lambda_v here: give it as --set lambda_u=0.1 or --set lambda_v=0.1"
    assert setting_hint("--reg", train, ["train", "biased-mf", "--reg", "0.1"]) == \
        "reg is a setting: give it as --set reg=0.1"
    assert setting_hint("--heads", train, ["train", "mt", "--heads", "2"]) is None  # PETER's, not MT's
    assert setting_hint("--heads", train, ["train", "peter+", "--heads", "2"]) == \
        "heads is a setting: give it as --set heads=2"


def test_each_command_is_told_the_settings_of_what_it_trains():
    """align's --set takes MMI's settings only, experiment mt's MT's; experiment rating gives a
    model's settings with --model, and names the models having the one given."""
    aligning = {"--data", "--set", "--param", "--lr"}
    assert setting_hint("--mine-lr", aligning, ["align", "b", "--mine-lr", "1e-3"]) == \
        "mine_lr is a setting: give it as --set mine_lr=1e-3"
    assert setting_hint("--reg", aligning, ["align", "b", "--reg", "2"]) is None  # a rating model's, not MMI's
    assert setting_hint("--heads", {"--set"}, ["experiment", "mt", "--heads", "2"]) is None  # PETER's, not MT's
    assert setting_hint("--coupling", {"--set"}, ["experiment", "mt", "--coupling", "2"]) == \
        "coupling is a setting: give it as --set coupling=2"
    rating = {"--data", "--model"}
    assert setting_hint("--reg", rating, ["experiment", "rating", "--reg", "0.1"]) == \
        "reg is a setting: give it as --model biased-mf:reg=0.1"  # pmf's lambda_u is no name of it then
    assert setting_hint("--lambda-u", rating, ["experiment", "rating", "--lambda-u=3"]) == \
        "lambda_u is a setting: give it as --model context-als:lambda_u=3 or --model pmf:lambda_u=3"
    assert setting_hint("--n-factors", rating, ["experiment", "rating", "--n-factors", "8"]) == \
        "n_factors is the setting factors here: give it as --model context-als:factors=8 or --model pmf:factors=8 " \
        "or --model biased-mf:factors=8"


def test_what_is_no_setting_of_the_command_gets_no_hint():
    assert setting_hint("--bogus", {"--set"}, ["--bogus", "1"]) is None
    assert setting_hint("--epochs", {"--decode"}, ["--epochs", "2"]) is None  # epochs is no decoding setting
    assert setting_hint("--method", {"--decode"}, []) is None  # an option of its own where it is one
    assert setting_hint("-e", {"--set"}, ["-e", "2"]) is None


def test_the_command_line_says_it_in_the_usage_error(tmp_path):
    proc = run_cli("train", "mt", "--data", str(tmp_path / "r.csv"), "--out", str(tmp_path / "b"), "--epochs", "2")
    assert proc.returncode == 2 and "No such option: --epochs (epochs is a setting: give it as --set epochs=2)" in \
        proc.stderr, proc.stderr
    assert "Possible options" not in proc.stderr
    other = run_cli("train", "mt", "--data", str(tmp_path / "r.csv"), "--out", str(tmp_path / "b"), "--bogus", "2")
    assert other.returncode == 2 and "No such option: --bogus" in other.stderr and "setting" not in other.stderr
    wrong = run_cli("recommend", str(tmp_path / "b"), "--user", "u", "--set", "beam=3")
    assert wrong.returncode == 2 and "No such option: --set (recommend takes no --set; beam is a setting: give it " \
        "as --decode beam=3)" in wrong.stderr, wrong.stderr


def test_a_settings_option_the_command_does_not_take_names_the_one_that_takes_the_setting():
    """recommend's decoding settings go to --decode, train's to --set, experiment explain's to
    --mt or --peter: a setting given to another of those options is told where it goes."""
    decoding = {"--user", "--method", "--decode"}
    assert setting_hint("--set", decoding, ["recommend", "b", "--set", "beam=3"]) == \
        "recommend takes no --set; beam is a setting: give it as --decode beam=3"
    assert setting_hint("--set", decoding, ["explain", "b", "--set=top_p=0.9"]) == \
        "explain takes no --set; top_p is a setting: give it as --decode top_p=0.9"
    assert setting_hint("--mt", {"--data", "--set"}, ["train", "mt", "--mt", "epochs=2"]) == \
        "train takes no --mt; epochs is a setting: give it as --set epochs=2"
    assert setting_hint("--set", {"--mt", "--peter"}, ["experiment", "explain", "--set", "epochs=3"]) == \
        "experiment explain takes no --set; epochs is a setting: give it as --mt epochs=3 or --peter epochs=3"
    assert setting_hint("--param", decoding, ["explain", "b", "--param", "min_words=3"]) == \
        "explain takes no --param; min_words is a setting: give it as --decode min_words=3"
    assert setting_hint("--set", decoding, ["recommend", "b", "--set", "bogus=1"]) is None  # click's guess then
    assert setting_hint("--set", decoding, ["recommend", "b", "--set", "beam"]) is None  # no NAME=VALUE
    assert setting_hint("--set", decoding, ["recommend", "b", "--set"]) is None
    assert setting_hint("--decode", {"--set"}, ["train", "mt", "--decode", "beam=3"]) is None  # no setting of train
