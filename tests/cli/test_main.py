"""The command line as a whole: the main job, --help without torch, and bad input as one line."""

from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd

from tests.cli.invoke import assert_one_line_error, run_cli
from tests.conftest import disk_full, REVIEWS, amazon_lines, hostile_pickle


def test_a_path_from_the_home_folder_is_written_out(tmp_path):
    """In quotes or after "=", a shell leaves "~" as typed: a folder named "~" was made where the
    command ran."""
    from whyrec.cli import home_expanded

    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    pd.DataFrame(REVIEWS, columns=["user", "item", "rating", "text"]).to_csv(home / "reviews.csv", index=False)
    proc = run_cli("train", "bias-baseline", "--data", "~/reviews.csv", "--out=~/bundles/b", cwd=work,
                   env={"HOME": str(home)})
    assert proc.returncode == 0, proc.stderr
    assert (home / "bundles" / "b" / "bundle.json").exists() and not any(work.iterdir())
    untouched = ["--user", "~x", "a~/b", "--set", "p=~/x", "--user=~x"]  # no path from the home folder
    assert home_expanded(untouched) == untouched
    assert home_expanded(["~", "--out=~/b"]) == [os.path.expanduser("~"), "--out=" + os.path.expanduser("~/b")]
    ids = ["explain", "b", "--user", "~/x", "--item=~/y", "--feature-word", "~", "--item", "i"]  # ids, not paths
    assert home_expanded(ids) == ids
    assert home_expanded(["--user", "u", "~/b"]) == ["--user", "u", os.path.expanduser("~/b")]


def test_demo_runs_on_planted_data(tmp_path):
    proc = run_cli("demo", "--out", str(tmp_path / "demo"), "--planted")
    assert proc.returncode == 0, proc.stderr
    assert "--planted: using a planted corpus of " in proc.stdout
    assert "context-aware ALS" in proc.stdout and "rmse" in proc.stdout and "MT test RMSE" in proc.stdout
    assert re.search(r"MT-P's greedy explanations of the [\d,]+ test records: \d+ distinct sentences?", proc.stdout)
    shown = [float(m) for m in re.findall(r"  MT-P \S+ → \S+: predicted ([\d.]+)", proc.stdout)]
    assert len(shown) == 6 and shown[:3] == sorted(shown[:3], reverse=True) and max(shown[3:]) <= min(shown[:3])
    assert (tmp_path / "demo" / "results.md").exists()
    from whyrec.explain.embeddings import glove_folder

    if glove_folder() is None:  # the README's install: the demo says why its word vectors are random
        assert "note: MT's word vectors will start random: GloVe 6B 50-d" in proc.stderr
        assert "word_vectors=random" not in proc.stderr  # the demo takes no MT settings
        assert "(word vectors: random, as GloVe 6B was not installed)" in proc.stdout
    else:
        assert "note:" not in proc.stderr and re.search(r"\(word vectors: glove-6b-50d for [\d.]+% of", proc.stdout)
    assert_one_line_error(run_cli("demo", "--planted", "--data", str(tmp_path)), "give either --data or --planted")
    assert_one_line_error(run_cli("demo", "--data", str(tmp_path), "--seed", "3", "--split", str(tmp_path)),
                          "--split names a fixed split and --seed draws a random one")
    # how to read data, given where a corpus is planted, was left unread
    assert_one_line_error(run_cli("demo", "--planted", "--split", str(tmp_path), "--min-rating", "1"),
                          "--split and --min-rating say how to read review data, and the demo makes a planted corpus "
                          "(--planted): give --data")


def test_the_demo_shows_the_highest_and_the_lowest_predictions():
    from whyrec.cli.serving import demo_examples

    assert demo_examples([3.0, 4.5, 1.2, 4.9, 2.0, 3.3, 1.0]) == [3, 1, 5, 6, 2, 4]
    assert demo_examples([2.0, 4.0], each=3) == [1, 0]  # fewer records than examples: each once


def test_demo_without_data_runs_on_the_shared_magazines_when_they_are_there(tmp_path, monkeypatch):
    """The README's main job: `whyrec demo` reads amazon-magazine-subscriptions from the shared data
    folder ($WHYREC_SHARED_DATA, else ../shared/data) and plants a corpus only where it is absent."""
    from whyrec.cli.serving import DEMO_DATASET, shared_demo_data

    shared = tmp_path / "shared"
    monkeypatch.setenv("WHYREC_SHARED_DATA", str(shared))
    assert shared_demo_data() is None
    planted = run_cli("demo", "--out", str(tmp_path / "planted"), "--skip-mt")  # says where it looked
    assert f"no --data given, and no shared data at {shared / DEMO_DATASET}: using a planted corpus" in planted.stdout
    folder = shared / DEMO_DATASET
    folder.mkdir(parents=True)
    rows = [(f"u{n % 12}", f"i{n % 7}", float(1 + n % 5), f"the print is {'good' if n % 2 else 'bad'} here")
            for n in range(84)]
    (folder / "reviews.json").write_text("\n".join(amazon_lines(rows)) + "\n")
    assert shared_demo_data() == folder
    proc = run_cli("demo", "--out", str(tmp_path / "demo"), "--skip-mt")
    assert proc.returncode == 0, proc.stderr
    assert f"no --data given: using the shared data's {folder}" in proc.stdout
    assert "using a planted corpus" not in proc.stdout
    assert f"split {DEMO_DATASET}/ratio-0: train 67, valid 8, test 9" in proc.stdout  # its 84 reviews
    monkeypatch.delenv("WHYREC_SHARED_DATA")
    elsewhere = tmp_path / "elsewhere" / "checkout"  # without the variable: ../shared/data from where it runs
    elsewhere.mkdir(parents=True)
    monkeypatch.chdir(elsewhere)
    assert shared_demo_data() is None
    (tmp_path / "elsewhere" / "shared" / "data" / DEMO_DATASET).mkdir(parents=True)
    assert shared_demo_data() == Path("..") / "shared" / "data" / DEMO_DATASET


def test_help_answers_without_importing_torch():
    """Heavy imports happen inside the commands that need them (torch alone takes about a second)."""
    code = ("import sys\nsys.argv = ['whyrec', '--help']\nfrom whyrec.cli import main\ntry:\n    main()\n"
            "except SystemExit:\n    pass\nprint('torch imported:', 'torch' in sys.modules, file=sys.stderr)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "WORLD_SIZE": "1"})
    assert "train" in proc.stdout and "torch imported: False" in proc.stderr


def test_a_typer_without_the_internals_the_help_patch_reads_still_runs_commands():
    """Naming option values in --help reads typer internals; where they changed (here: the patch
    fails as it would on them), --help is typer's own and every command still runs."""
    code = ("import sys\nimport whyrec.cli as cli\n"
            "def changed(command):\n    raise AttributeError(\"'TyperOption' object has no attribute 'x'\")\n"
            "cli._name_option_values = changed\n"
            "sys.argv = ['whyrec', 'data', 'stats', '--help']\ntry:\n    cli.main()\n"
            "except SystemExit as exc:\n    print('exit', exc.code, file=sys.stderr)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "WORLD_SIZE": "1", "COLUMNS": "200"})
    assert "--min-rating" in proc.stdout and "Traceback" not in proc.stderr, proc.stderr


def test_version_names_whyrec_and_its_libraries_and_python_m_whyrec_runs_the_cli():
    from whyrec import __version__

    proc = subprocess.run([sys.executable, "-m", "whyrec", "--version"], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"whyrec {__version__} (Python 3.") and "torch 2." in proc.stdout
    assert run_cli("--version").stdout == proc.stdout


def _commands(app, prefix=()):
    """(command words, callback) of every command of a typer app, its sub-apps' too."""
    for command in app.registered_commands:
        yield (*prefix, command.name or command.callback.__name__.replace("_", "-")), command.callback
    for group in app.registered_groups:
        yield from _commands(group.typer_instance, (*prefix, group.name))


def test_help_texts_carry_no_sphinx_markup():
    """A command's docstring and option help are what ``--help`` prints: no ``literal`` or :role:."""
    import inspect

    from whyrec.cli import app

    shown = []
    for words, callback in _commands(app):
        texts = [inspect.getdoc(callback) or ""]
        texts += [getattr(p.default, "help", None) or "" for p in inspect.signature(callback).parameters.values()]
        shown += [(words, t) for t in texts if "``" in t or ":class:" in t or ":func:" in t]
    assert len(list(_commands(app))) >= 12  # the listing reaches the data and experiment groups
    assert not shown, shown


def test_usage_errors_show_usage_not_a_traceback():
    """A missing argument, a bad option value, an out-of-range option and an unknown command: typer's
    usage message and status 2 (typer 0.29 raises exceptions of its own click, not the click package's)."""
    for args, says in ((["evaluate"], "Missing argument"), (["evaluate", "b", "--seed", "abc"], "'--seed'"),
                       (["evaluate", "b", "--data", "d", "--top-k", "0"], "'--top-k'"),
                       (["serve", "b", "--threads", "0"], "'--threads'"), (["no-such-command"], "No such command")):
        proc = run_cli(*args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert says in proc.stderr and "Usage:" in proc.stderr and "Traceback" not in proc.stderr, proc.stderr


def test_counts_and_seeds_are_bounded_on_every_command():
    """--threads 0 reached torch.set_num_threads (a RuntimeError traceback), --seed -1 numpy (a
    ValueError traceback) and --cache -1 started a server: each is bounded where it is declared."""
    import typer.main

    from whyrec.cli import app

    lowest = {"threads": 1, "seed": 0, "cache": 0, "top_k": 1, "lm_seeds": 1, "max_features": 1, "min_df": 1,
              "examples": 0}
    checked = 0
    stack = [typer.main.get_command(app)]
    while stack:
        command = stack.pop()
        stack.extend(getattr(command, "commands", {}).values())
        for param in getattr(command, "params", []):
            if param.name in lowest:
                bound = getattr(param, "min", None)  # typer 0.29's own option class
                bound = getattr(getattr(param, "type", None), "min", None) if bound is None else bound  # click's
                assert bound == lowest[param.name], (command.name, param.name)
                checked += 1
    assert checked >= 19


def test_every_option_says_what_it_does():
    """--format was listed bare on six commands (and missing on five); its help names every reader
    the data layer has, and every command that reads reviews takes it and the rating scale."""
    import typer.main

    from whyrec.cli import app
    from whyrec.data.readers import FORMATS

    bare, formats = [], 0
    stack = [typer.main.get_command(app)]
    while stack:
        command = stack.pop()
        stack.extend(getattr(command, "commands", {}).values())
        names = {param.name for param in getattr(command, "params", [])}
        if names & {"data", "path"}:  # reads reviews
            assert {"format", "column", "min_rating", "max_rating"} <= names, command.name
        for param in getattr(command, "params", []):
            if not (getattr(param, "help", None) or "").strip():
                bare.append((command.name, param.name))
            if param.name == "format":
                assert all(f in param.help for f in FORMATS), (command.name, param.help)
                formats += 1
    assert not bare and formats >= 12, bare


def test_columns_with_other_names_are_mapped_on_the_commands_that_train(tmp_path, planted):
    """The reader's error said "map one with --column user=NAME", an option only `data stats` had."""
    path = tmp_path / "odd.csv"
    planted.corpus.reviews.rename(columns={"user": "who", "item": "what"}).to_csv(path, index=False)
    assert_one_line_error(run_cli("train", "pmf", "--data", str(path), "--out", str(tmp_path / "b")),
                          "map them with --column user=NAME --column item=NAME")
    proc = run_cli("train", "pmf", "--data", str(path), "--out", str(tmp_path / "b"), "--column", "user=who",
                   "--column", "item=what")
    assert proc.returncode == 0 and "test: RMSE" in proc.stdout, proc.stderr


def test_ids_and_values_in_square_brackets_are_printed_as_they_are(tmp_path, planted):
    """rich read printed text as markup: a user id ``[/x]`` was a MarkupError traceback, and
    ``--set variants=[user]`` was told it had given ''. A list is now also read as a command line
    writes it."""
    reviews = planted.corpus.reviews.copy()
    reviews.loc[reviews["user"] == reviews["user"].iloc[0], "user"] = "[/x]"
    path = tmp_path / "brackets.csv"
    reviews.to_csv(path, index=False)
    assert run_cli("train", "pmf", "--data", str(path), "--out", str(tmp_path / "b")).returncode == 0
    answer = run_cli("explain", str(tmp_path / "b"), "--user", "[/x]", "--item", str(reviews["item"].iloc[0]))
    assert answer.returncode == 0 and answer.stdout.splitlines()[-1].startswith("[/x] → "), answer.stderr
    assert_one_line_error(run_cli("train", "mt", "--data", str(path), "--out", str(tmp_path / "m"),
                                  "--set", "variants=[user,[mess]]"), "got ['user', '[mess]']")


def test_an_output_path_that_cannot_be_written_is_one_line(tmp_path, planted):
    """An --out below a file (or without permission) was an OSError traceback, then a one-line
    OSError once the work was done; it is now refused before the work."""
    path = tmp_path / "planted.csv"
    planted.corpus.reviews.to_csv(path, index=False)
    (tmp_path / "a-file").write_text("x")
    for args in (("train", "pmf", "--data", str(path)), ("data", "features", str(path), "--examples", "0")):
        out = tmp_path / "a-file" / ("bundle" if args[0] == "train" else "features.json")
        proc = run_cli(*args, "--out", str(out))
        assert_one_line_error(proc, f"error: --out {out}: {tmp_path / 'a-file'} is a file, so no folder can be "
                                    "made in it")
        assert "training" not in proc.stderr + proc.stdout and "extracting" not in proc.stderr + proc.stdout


def test_truncated_gzip_warns_with_count(tmp_path):
    full = tmp_path / "full.json.gz"
    with gzip.open(full, "wt") as h:
        h.write("\n".join(amazon_lines(REVIEWS * 300)) + "\n")
    cut = tmp_path / "cut.json.gz"
    cut.write_bytes(full.read_bytes()[:3000])
    proc = run_cli("data", "stats", str(cut), "--duplicates", "keep-all")
    assert proc.returncode == 0
    warning = [l for l in proc.stderr.splitlines() if "truncated" in l]
    assert len(warning) == 1 and "complete lines read" in warning[0]


def test_csv_missing_column_error(tmp_path):
    path = tmp_path / "r.csv"
    pd.DataFrame(REVIEWS, columns=["reviewerID", "asin", "score_x", "reviewText"]).to_csv(path, index=False)
    assert_one_line_error(run_cli("data", "stats", str(path)), "no column for 'rating'")


def test_rating_of_seven(tmp_path):
    path = tmp_path / "r.json"
    path.write_text("\n".join(amazon_lines(list(REVIEWS) + [("zed", "guitar", 7.0, "Seven stars!")])))
    lenient = run_cli("data", "stats", str(path))
    assert lenient.returncode == 0, lenient.stderr  # the rating skipped is named, and how to widen the scale
    skipped = "1 skipped (rating out of scale: 7, outside 1 to 5; --min-rating and --max-rating set the scale)"
    assert skipped in lenient.stdout and skipped not in lenient.stderr  # stats print it: said once, not twice
    trained = run_cli("train", "global-average", "--data", str(path), "--out", str(tmp_path / "b"))
    assert trained.returncode == 0 and f"warning: {path}: " in trained.stderr and skipped in trained.stderr
    assert_one_line_error(run_cli("data", "stats", str(path), "--strict"),
                          "r.json:7: field 'rating': rating 7 is outside the scale 1..5")


def test_hostile_pickle(tmp_path):
    path = hostile_pickle(tmp_path / "reviews.pickle")
    proc = run_cli("data", "stats", str(path), cwd=tmp_path)
    assert_one_line_error(proc, "system; only plain containers and scalars are allowed")
    assert not (tmp_path / "pwned.txt").exists()


def test_missing_file_and_bad_bundle(tmp_path):
    assert_one_line_error(run_cli("data", "stats", str(tmp_path / "nope.json")), "no such file")
    assert_one_line_error(run_cli("evaluate", str(tmp_path), "--data", str(tmp_path / "x.csv")), "not a whyrec bundle")
    (tmp_path / "x.csv").write_text("user,item,rating\nu,i,5\n", encoding="utf-8")
    assert_one_line_error(run_cli("train", "nope", "--data", str(tmp_path / "x.csv"), "--out", str(tmp_path / "b")),
                          "unknown model 'nope'")
    # the listening address is checked before any bundle is read
    assert_one_line_error(run_cli("serve", str(tmp_path), "--port", "70000"), "--port must be in 0..65535")


def test_ctrl_c_stops_a_command_with_status_130_and_the_checkpoint_kept(tmp_path, planted):
    """Ctrl-C (SIGINT) mid-training: "interrupted" and the shell's 130, never a success status that
    would let `whyrec train ... && whyrec serve ...` go on (typer 0.29 returns Ctrl-C as a code)."""
    import signal

    path = tmp_path / "planted.csv"
    planted.corpus.reviews.to_csv(path, index=False)
    # a shell starts background jobs with Ctrl-C ignored, and Python keeps a signal ignored at start;
    # the command is then, rightly, deaf to it: give the child Ctrl-C's usual meaning, as a terminal would
    proc = subprocess.Popen([sys.executable, "-m", "whyrec.cli", "train", "mt", "--data", str(path), "--out",
                             str(tmp_path / "b"), "--checkpoint", str(tmp_path / "ck"), "--param", "epochs=200",
                             "--param", "patience=0"], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    seen = []
    for line in proc.stderr:  # progress lines: one per epoch away from a terminal
        seen.append(line)
        if "epoch 1/200" in line:
            proc.send_signal(signal.SIGINT)
            break
    try:  # bounded: a child that ignored the signal would otherwise keep this test waiting for ever
        _, rest = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError("Ctrl-C did not stop the command within 120 s:\n" + "".join(seen)) from None
    assert proc.returncode == 130, "".join(seen) + rest
    assert rest.strip().splitlines()[-1] == "interrupted" and "Traceback" not in rest
    assert not (tmp_path / "b").exists() and any((tmp_path / "ck").iterdir())  # no bundle; the epochs done are kept


def test_an_out_that_would_overwrite_the_input_data_is_refused_before_any_work(tmp_path):
    data = tmp_path / "reviews.csv"
    data.write_text("user,item,rating,text\nu1,i1,4,good\n")
    before = data.read_bytes()
    assert_one_line_error(run_cli("data", "features", str(data), "--out", str(data)), "is the input data")
    assert_one_line_error(run_cli("train", "pmf", "--data", str(data), "--out", str(data)), "is the input data")
    (tmp_path / "1").mkdir()
    assert_one_line_error(run_cli("experiment", "rating", "--data", str(tmp_path), "--out", str(tmp_path / "1")),
                          "is part of the input data")  # a split folder of the data folder
    assert data.read_bytes() == before  # was: `data features X --out X` replaced the reviews by the quadruples
    other = tmp_path / "notes.txt"
    other.write_text("keep me")
    assert_one_line_error(run_cli("train", "pmf", "--data", str(data), "--out", str(other)),
                          "is a file; the output is a folder")
    assert_one_line_error(run_cli("train", "pmf", "--data", str(data), "--out", str(other / "run")),
                          "notes.txt is a file, so no folder can be made in it")  # was found out after training
    project = tmp_path / "project"  # `--data .`: the data folder is the working folder, so outputs may go
    project.mkdir()                 # beside the data there; its existing entries stay protected
    (project / "reviews.csv").write_bytes(before)
    assert_one_line_error(run_cli("train", "pmf", "--data", ".", "--out", "reviews.csv", cwd=project),
                          "is part of the input data")
    assert run_cli("train", "pmf", "--data", ".", "--out", "bundle", cwd=project).returncode == 0
    assert_one_line_error(run_cli("train", "pmf", "--data", str(project), "--out", str(project / "b2")),
                          "is part of the input data")  # from elsewhere, the folder is a dataset's


def test_command_help_keeps_paragraphs_but_not_the_sources_line_breaks():
    """typer kept a docstring's line breaks inside later paragraphs: --help broke lines mid-sentence."""
    from whyrec.cli import app, data_app, experiment_app

    infos = [info for a in (app, data_app, experiment_app) for info in a.registered_commands]
    assert len(infos) >= 14
    for info in infos:
        for paragraph in info.help.split("\n\n"):
            assert paragraph.strip() and "\n" not in paragraph, (info.callback.__name__, paragraph)
    train = next(info for info in infos if info.callback.__name__ == "train")
    assert len(train.help.split("\n\n")) == 2  # the summary line and one paragraph, as written
    out = run_cli("train", "--help")  # 200 columns: the paragraph fits on one line
    assert "--param sets any MTConfig field), or" in out.stdout


def test_help_names_option_values_and_shows_no_value_for_a_flag():
    """typer 0.29 shows an option's Python type (``--why <bool>``, ``--user <list[str]>``); a flag
    then reads as taking a value, and ``--why true`` is a usage error. Values are named as click
    names them, and flags show none; so is an argument's value (``path  PATH``)."""
    import re

    for command in (["explain"], ["train"], ["experiment", "mt"], ["data", "stats"], ["compare"], []):
        out = run_cli(*command, "--help").stdout
        assert "<" not in re.sub(r"<data>|<path>/", "", out.split("Options")[1]), (command, out)
        arguments = out.split("Arguments")[1].split("Options")[0] if "Arguments" in out else ""
        assert "<" not in arguments, (command, arguments)  # an argument's value is named too: `path  PATH`
        if command == ["compare"]:
            assert re.search(r"bundles\.\.\.\s+PATH\.\.\.\s", arguments), arguments  # several paths
        rows = {m[1]: m[2].split() for m in re.finditer(r"^│[ *]+(--\S+)(.*)$", out, re.M)}
        assert rows["--help"][0] == "Show", (command, rows["--help"])
        if command == ["explain"]:
            assert rows["--user"][0] == "TEXT" and rows["--pairs"][0] == "PATH"
            assert rows["--seed"][:2] == ["INTEGER", "[x>=0]"] and rows["--why"][0] == "MT"
            assert rows["--min-rating"][0] == "FLOAT"


def test_a_setting_beyond_the_machines_memory_is_one_line(tmp_path, planted):
    from whyrec.cli import out_of_memory

    path = tmp_path / "planted.csv"
    planted.corpus.reviews.to_csv(path, index=False)
    proc = run_cli("train", "pmf", "--data", str(path), "--out", str(tmp_path / "b"), "--param",
                   "factors=1000000000000")  # a typo's worth of zeros: terabytes per user
    assert_one_line_error(proc, "out of memory (an array of")
    assert "lower it (factors" in proc.stderr and not (tmp_path / "b").exists()
    assert out_of_memory(MemoryError("Unable to allocate 728. TiB for an array")).startswith(
        "out of memory (an array of 728. TiB)")
    cuda = RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 15.90 GiB total capacity)")
    assert out_of_memory(cuda).startswith("out of memory (an array of 2.00 GiB)")
    assert out_of_memory(RuntimeError("mat1 and mat2 shapes cannot be multiplied")) is None  # keeps its traceback


def test_missing_data_is_refused_before_the_models_load(tmp_path):
    """A mistyped --data is told at once: before torch (seconds to import) is loaded."""
    import subprocess
    import sys

    probe = ("import atexit, runpy, sys\n"
             "atexit.register(lambda: print('torch loaded' if 'torch' in sys.modules else 'torch not loaded', "
             "file=sys.stderr))\n"
             "runpy.run_module('whyrec.cli', run_name='__main__')\n")
    for args in (["train", "nope", "--data", "missing.csv", "--out", "b"],
                 ["experiment", "rating", "--data", "missing", "--out", "r"],
                 ["compare", "b", "--data", "missing.csv"]):
        proc = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, cwd=tmp_path,
                              timeout=120)
        assert proc.returncode == 2 and "error: missing" in proc.stderr and "no such file" in proc.stderr, proc.stderr
        assert proc.stderr.rstrip().endswith("torch not loaded"), (args, proc.stderr)
    assert not (tmp_path / "b").exists() and not (tmp_path / "r").exists()
    # nor does listing the models, or refusing a rating model's mistyped parameter
    (tmp_path / "r.csv").write_text("user,item,rating,text\nu1,i1,5,good\nu2,i1,3,fine\n")
    for args, said in ((["models"], "context-als"),
                       (["train", "context-als", "--data", "r.csv", "--out", "b", "--param", "bogus=1"],
                        "unknown parameter(s) ['bogus']")):
        proc = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, cwd=tmp_path,
                              timeout=120)
        assert said in proc.stdout + proc.stderr and proc.stderr.rstrip().endswith("torch not loaded"), proc.stderr


def test_ratings_only_data_serves_the_rating_models_and_is_refused_by_the_text_systems(tmp_path):
    """A table without a text column (MovieLens' ratings.csv) is read as ratings only: stats, the
    rating models, `compare` of rating bundles and the demo's comparison run on it; MT and PETER
    are refused in one line that says how to name a text column."""
    import random

    draw = random.Random(3)
    path = tmp_path / "ratings.csv"
    rows = [f"{draw.randrange(30)},{draw.randrange(20)},{draw.randrange(1, 11) / 2},{1260759144 + n}"
            for n in range(400)]
    path.write_text("userId,movieId,rating,timestamp\n" + "\n".join(rows) + "\n", encoding="utf-8")
    scale = ("--min-rating", "0.5")
    stats = run_cli("data", "stats", str(path), *scale)
    assert stats.returncode == 0, stats.stderr
    assert "read as ratings only" in stats.stderr and "ratings only (no text column)" in stats.stdout
    assert "words per review" not in stats.stdout
    for name in ("pmf", "context-als"):
        trained = run_cli("train", name, "--data", str(path), *scale, "--out", str(tmp_path / name))
        assert trained.returncode == 0, trained.stderr
    compared = run_cli("compare", str(tmp_path / "pmf"), str(tmp_path / "context-als"), "--data", str(path), *scale,
                       "--out", str(tmp_path / "cmp"))
    assert compared.returncode == 0, compared.stderr
    assert "p vs pmf" in compared.stdout  # no features extracted, no sentiment judge trained: there is no text
    # nor a column of text scores, each n/a, and no chart of them; --mi has nothing to estimate
    assert "| system | rmse | mae | train (s) | test (s) | p vs pmf |" in compared.stdout and "n/a | n/a" not in \
        compared.stdout and not (tmp_path / "cmp" / "metrics.png").exists()
    assert_one_line_error(run_cli("compare", str(tmp_path / "pmf"), str(tmp_path / "context-als"), "--data", str(path),
                                  *scale, "--mi"), "--mi estimates what the explanations say")
    for system in ("mt", "peter"):
        assert_one_line_error(run_cli("train", system, "--data", str(path), *scale, "--out", str(tmp_path / system)),
                              f"ratings.csv: holds ratings only (no text column), and {system.upper()} needs review "
                              "text; map the text column with --column text=NAME")
    demo = run_cli("demo", "--data", str(path), *scale, "--out", str(tmp_path / "demo"))
    assert demo.returncode == 0, demo.stderr
    assert "context-aware ALS" in demo.stdout and "the data holds ratings only: no features to extract, and no MT" \
        in demo.stdout
    assert (tmp_path / "demo" / "results.md").exists()
    # the same interactions as JSON lines without a text key (as Goodreads' are): ratings only too
    interactions = tmp_path / "interactions.jsonl"
    interactions.write_text("".join(json.dumps(dict(zip(("user_id", "book_id", "rating", "time"), row.split(","))))
                                    + "\n" for row in rows), encoding="utf-8")
    trained = run_cli("train", "context-als", "--data", str(interactions), *scale, "--out", str(tmp_path / "json-als"))
    assert trained.returncode == 0 and "read as ratings only" in trained.stderr, trained.stderr


def test_a_full_disk_without_a_file_named_is_told_as_the_output_options():
    """A write's OSError names no file (Python knows it only when opening): a full disk or quota is
    told as the command's outputs'; an error naming its file names it; another is told as it is."""
    import errno

    from whyrec.cli import os_error_message

    full = disk_full()
    args = ["experiment", "rating", "--data", "d.csv", "--out", "runs/x", "--checkpoint=ck", "--records"]
    assert os_error_message(full, args) == "--out runs/x, --checkpoint ck: No space left on device"
    assert os_error_message(full, ["data", "stats", "d.csv"]) == "No space left on device"
    named = disk_full("b/arrays.safetensors")
    assert os_error_message(named, args) == "b/arrays.safetensors: No space left on device"
    assert os_error_message(OSError(errno.EIO, os.strerror(errno.EIO)), args) == "Input/output error"
    # the outputs the command checked: a typed one as typed, one left at its default said so
    checked = {"--out": Path("runs/x"), "--records": Path("rows.jsonl")}
    assert os_error_message(full, args[:6], checked) == "--out runs/x, --records rows.jsonl (its default): " \
                                                         "No space left on device"
    assert os_error_message(full, ["demo"], {"--out": Path("runs/demo")}) == \
        "--out runs/demo (its default): No space left on device"


def test_a_full_disk_while_writing_results_to_the_default_out_names_it(tmp_path):
    """A real refusal, whose error names no file: the file-size limit (RLIMIT_FSIZE) makes a
    results file's write fail with EFBIG, as a full disk fails with ENOSPC. The file, in the --out
    no one typed (the default runs/rating), is named; it had been "File too large" alone. (A
    refusal that names no file at all is told as the output options' with "(its default)":
    ``os_error_message``'s test above.)"""
    from whyrec.data.synthetic import make_planted_corpus

    data = tmp_path / "planted.csv"
    make_planted_corpus(n_users=60, n_items=30, reviews_per_user=8, seed=1).corpus.reviews.to_csv(data, index=False)
    proc = run_cli("experiment", "rating", "--data", str(data), "--model", "bias-baseline", cwd=tmp_path,
                   file_size_limit=3000)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == "error: runs/rating/rmse.png: File too large"
    assert list((tmp_path / "runs" / "rating").iterdir()) == []  # no table of the set, no temporary file
