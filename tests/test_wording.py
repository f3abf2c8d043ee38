import numpy as np
import pytest

from whyrec.wording import columns_shown, counted, rating_text, shortened


def test_counted_is_singular_for_exactly_one_and_groups_thousands():
    assert counted(1, "review") == "1 review"
    assert counted(0, "review") == "0 reviews"
    assert counted(2959, "other rating") == "2,959 other ratings"


def test_shortened_never_exceeds_the_limit():
    assert shortened("abc", 3) == "abc"
    assert shortened("abcd", 3) == "ab…"
    assert len(shortened("x" * 100)) == 40
    assert shortened("abc", 1) == "…" and shortened("a", 1) == "a"  # the smallest limit
    with pytest.raises(ValueError):
        shortened("abc", 0)


def test_a_rating_is_written_in_stars_only_on_a_scale_up_to_five():
    assert rating_text(4.2, 5.0, 2) == "4.20★" and rating_text(4.0) == "4★"  # scale not known: stars
    assert rating_text(7.0, 10) == "7/10" and rating_text(6.929, 10.0, 2) == "6.93/10"
    assert rating_text(3.5, 4.5) == "3.5/4.5"


def test_alternatives_are_listed_as_a_sentence_names_them():
    from whyrec.wording import listed

    assert listed(["a"]) == "a" and listed(["a", "b"]) == "a or b" and listed(["a", "b", "c"]) == "a, b or c"


def test_a_mistyped_name_is_told_the_known_name_closest_to_it():
    from whyrec.wording import unknown_names

    known = ["epochs", "factors", "lambda_u", "lambda_v"]
    assert unknown_names("setting", {"epoch"}, known) == \
        "unknown setting(s) ['epoch'] (did you mean 'epochs'?); known: epochs, factors, lambda_u, lambda_v"
    assert unknown_names("parameter", ["lamda_u", "Factor", "zzz"], known).startswith(
        "unknown parameter(s) ['Factor', 'lamda_u', 'zzz'] (did you mean 'factors' for 'Factor' or 'lambda_u' for "
        "'lamda_u'?); known: ")
    assert unknown_names("setting", {"zzz"}, known) == "unknown setting(s) ['zzz']; known: " + ", ".join(known)
    from whyrec.wording import did_you_mean  # in any case, told as the known name is spelled

    assert did_you_mean("EPOCH", known) == " (did you mean 'epochs'?)"
    assert did_you_mean("mtp", ["pair", "MT-P"]) == " (did you mean 'MT-P'?)"
    assert did_you_mean("MT-X", ["MT-U", "MT-I", "MT-P", "pair"]) == " (did you mean 'MT-U', 'MT-I' or 'MT-P'?)"  # tied


def test_a_name_from_the_fields_other_code_is_told_whyrecs_name_for_it():
    """PETER's --nhead and --endure_times, an MF library's n_factors: no spelling is close to ours."""
    from whyrec.wording import unknown_names

    peter = ["emsize", "epochs", "ffn", "heads", "layers", "patience"]
    assert unknown_names("setting", {"endure_times"}, peter).startswith(
        "unknown setting(s) ['endure_times'] (did you mean 'patience'?)")
    assert unknown_names("setting", {"nhid", "nhead"}, peter).startswith(
        "unknown setting(s) ['nhead', 'nhid'] (did you mean 'heads' for 'nhead' or 'ffn' for 'nhid'?)")
    mt = ["decoder_hidden", "encoder_hidden", "factors", "word_dim"]
    assert unknown_names("setting", {"hidden"}, mt).startswith(
        "unknown setting(s) ['hidden'] (did you mean 'encoder_hidden' or 'decoder_hidden'?)")
    assert unknown_names("setting", ["Embedding_Dim", "hidden_size"], mt).startswith(
        "unknown setting(s) ['Embedding_Dim', 'hidden_size'] (did you mean 'word_dim'/'factors' for 'Embedding_Dim' "
        "or 'encoder_hidden'/'decoder_hidden' for 'hidden_size'?)")
    # only known names are offered: a rating model without epochs is told its iterations
    assert "(did you mean 'iterations'?)" in unknown_names("parameter", {"n_epochs"}, ["factors", "iterations"])
    assert "did you mean" not in unknown_names("parameter", {"n_epochs"}, ["factors"])


def test_a_refused_choice_is_told_the_close_one_only_when_there_is_one():
    from whyrec.wording import did_you_mean

    policies = ["keep-last", "keep-first", "keep-all", "error"]
    assert did_you_mean("keep-al", policies) == " (did you mean 'keep-all'?)"
    assert did_you_mean("KEEP-FIRST", policies) == " (did you mean 'keep-first'?)"
    assert did_you_mean("xyz", policies) == ""


def test_a_report_cell_shows_a_dash_for_a_number_not_there():
    from whyrec.wording import shown

    assert shown(0.12345, ".3f") == "0.123" and shown(float("inf"), ".2f") == "inf" and shown(3, ",d") == "3"
    assert shown(None, ".3f") == "—" and shown(float("nan"), ".3f") == "—"
    assert shown(np.float32("nan"), ".3f", "n/a") == "n/a" and shown(np.float32(0.5), ".2f") == "0.50"


def test_an_errors_column_list_is_cut_to_a_line():
    assert columns_shown(["user", "item"]) == "['user', 'item']"
    assert columns_shown(["x" * 100]) == f"['{'x' * 39}…']"  # a file that is not a table: its line as one name
    assert columns_shown([f"c{n}" for n in range(300)], most=3) == "['c0', 'c1', 'c2', …] (300 in all)"
    assert columns_shown([f"c{n}" for n in range(3)], most=3) == "['c0', 'c1', 'c2']"


def test_the_unique_sentence_ratio_is_shown_with_the_count_it_stands_for():
    from whyrec.wording import usr_text

    assert usr_text(3 / 297, 297) == "USR 0.010 (3 distinct sentences)"
    assert usr_text(1 / 237, 237) == "USR 0.004 (1 distinct sentence)"
    assert usr_text(1.0, 2) == "USR 1.000 (2 distinct sentences)"


def test_a_model_named_as_another_library_names_it_is_told_whyrecs_name():
    """`whyrec train als` had been told no likely model: no spelling of 'als' is close to 'context-als'."""
    from whyrec.cli.options import TEXT_SYSTEMS
    from whyrec.cli.training import check_model_name
    from whyrec.errors import ConfigError
    from whyrec.rating import RATING_MODELS, make_model
    from whyrec.wording import MODEL_SYNONYMS, closest_names

    models = sorted(RATING_MODELS) + list(TEXT_SYSTEMS)
    assert set(MODEL_SYNONYMS) <= set(models)  # each is listed under a name whyrec has
    assert closest_names("als", models) == ["context-als"] and closest_names("SVD", models) == ["biased-mf"]
    assert closest_names("pfm", models) == ["pmf"]  # a close spelling still counts
    assert closest_names("word2vec", models) == []
    # both say it as every other refused name does, right after the name
    with pytest.raises(ConfigError, match=r"^unknown model 'peterplus' \(did you mean 'peter\+'\?\); train takes"):
        check_model_name("peterplus")
    with pytest.raises(ConfigError, match=r"^unknown rating model 'baseline' \(did you mean 'bias-baseline'\?\)"):
        make_model("baseline")


def test_a_model_or_system_is_taken_in_the_case_the_tables_spell_it():
    from whyrec.cli.experiments import chosen_text_systems
    from whyrec.cli.training import check_model_name
    from whyrec.errors import ConfigError
    from whyrec.rating import make_model
    from whyrec.rating.tuning import TunedModel, model_or_tuned

    assert [check_model_name(name) for name in ("MT", "PETER+", "PMF", " Context-ALS ", "pmf")] == \
        ["mt", "peter+", "pmf", "context-als", "pmf"]
    assert make_model("PMF", factors=3).factors == 3
    with pytest.raises(ConfigError, match="unknown rating model '5'"):  # not a name at all: refused as before
        make_model(5)
    tuned = model_or_tuned("Context-ALS", {"factors": "2|4"}, tuned=True)  # its default grid found by its name
    assert isinstance(tuned, TunedModel) and tuned.model == "context-als"
    assert chosen_text_systems(["PETER+", "MT", "mt"], {}, {}) == ["peter+", "mt"]


def test_differences_name_what_changed_where_it_was_kept_and_nothing_when_all_is_the_same():
    from whyrec.wording import differences

    then = {"epochs": 30, "lr": 0.003, "variants": ["user", "pair"]}
    assert differences(then, dict(then), "in mt.json") == ""
    assert differences(then, {**then, "epochs": 20}, "in mt.json") == "epochs: 30 in mt.json, 20 now"
    assert differences(then, {"lr": 0.003, "variants": ["pair"], "seed": 1}, "in mt.json", most=2) == \
        "epochs: 30 in mt.json, unset now; seed: unset in mt.json, 1 now; and 1 more"
