"""``whyrec models``: every name ``train`` takes, with settings ``--set`` reads back."""

from __future__ import annotations

from tests.cli.invoke import run_cli


def test_models_lists_every_trainable_name_with_settings_that_set_takes_back():
    from dataclasses import asdict

    from whyrec.settings import parse_assignment
    from whyrec.systems.mt import MTConfig

    out = run_cli("models")
    assert out.returncode == 0, out.stderr
    lines = {line.split()[0].rstrip(","): line for line in out.stdout.splitlines() if line.startswith("  ")}
    assert {"context-als", "pmf", "global-average", "mt", "peter"} <= set(lines)
    assert "(no parameters)" in lines["global-average"]
    mt = lines["mt"].split(None, 1)[1]
    shown = dict(parse_assignment(pair, "--set") for pair in _top_level_pairs(mt))
    expected = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(MTConfig()).items()}
    assert shown == expected  # each value read back as --set reads it is the default
    # the grid --tuned tries, in the form --param takes a grid
    from whyrec.rating.tuning import DEFAULT_GRIDS, grid_values

    listed = out.stdout.splitlines()
    grid_line = listed[next(n for n, line in enumerate(listed) if line.startswith("  pmf ")) + 1]
    pairs = dict(parse_assignment(pair, "--param") for pair in grid_line.split("grid: ")[1].split(", "))
    assert {k: grid_values(v) for k, v in pairs.items()} == DEFAULT_GRIDS["pmf"]


def _top_level_pairs(text: str) -> list[str]:
    """``a=1, b=[1, 2]`` → ``["a=1", "b=[1, 2]"]``: split at commas outside brackets."""
    pairs, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += ch == "["
        depth -= ch == "]"
        if ch == "," and depth == 0:
            pairs.append(text[start:i].strip())
            start = i + 1
    return pairs + [text[start:].strip()]


def test_show_gives_an_alignments_accuracy_p_and_its_holm_adjustment_when_recorded():
    from whyrec.cli.inspecting import _tested_text

    recorded = {"acc5": {"p": 0.000999, "p_holm": 0.010989}, "usr": {"p": 0.2, "p_holm": 0.4},
                "fmr": {"p": float("nan"), "p_holm": None}}  # an untested metric is no test of the family
    assert _tested_text(recorded) == "; p 0.001, 0.011 adjusted over the 2 metrics tested"
    assert _tested_text({"acc5": {"p": 0.02}}) == "; p 0.020"  # aligned before align recorded p_holm
    assert _tested_text({}) == ""  # align --trials 0
