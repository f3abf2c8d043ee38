"""``whyrec models`` (what ``train`` fits, with each setting's default) and ``whyrec show`` (what
saved bundles hold, and how they were made)."""

from __future__ import annotations

from pathlib import Path

import typer

from whyrec.cli.common import app
from whyrec.cli.output import console, labelled
from whyrec.strict_json import strict_dumps
from whyrec.wording import counted


@app.command("models")
def models() -> None:
    """List what `whyrec train` fits, with each parameter's default: the rating models, then the
    explanation systems (mt: MTConfig; peter and peter+: PeterConfig, without / with the feature word)."""
    from dataclasses import asdict

    from whyrec.rating import RATING_MODELS
    from whyrec.rating.tuning import DEFAULT_GRIDS
    from whyrec.systems.mt_config import MTConfig
    from whyrec.systems.peter_config import PeterConfig

    con = console()
    con.print(labelled("rating models", "bold", " (a setting given several values, factors=4|8|16, is picked on "
                                                "validation; --tuned tries the grid shown)"))
    for name, cls in sorted(RATING_MODELS.items()):
        con.print(labelled(f"  {name}", "bold", f"  {_as_typed(cls().get_params())}"), highlight=False)
        if name in DEFAULT_GRIDS:
            con.print("    grid: " + ", ".join(f"{k}={'|'.join(f'{v:g}' for v in values)}"
                                             for k, values in DEFAULT_GRIDS[name].items()), highlight=False)
    con.print(labelled("explanation systems", "bold", " (they predict ratings too)"))
    peter = {k: v for k, v in asdict(PeterConfig()).items() if k != "use_feature"}  # set by the name
    for name, settings in (("mt", asdict(MTConfig())), ("peter, peter+", peter)):
        con.print(labelled(f"  {name}", "bold", f"  {_as_typed(settings)}"), highlight=False)


def _as_typed(settings: dict) -> str:
    """Settings as ``--set`` takes them: ``NAME=VALUE`` with the value in JSON (``true``,
    ``[1, 2]``), a string bare."""
    import json

    pairs = (f"{k}={v if isinstance(v, str) else json.dumps(v)}" for k, v in settings.items())
    return ", ".join(pairs) or "(no parameters)"


@app.command("show")
def show(
    bundle: list[Path] = typer.Argument(..., help="Bundle folders written by `whyrec train` or `align`."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per bundle instead of text."),
) -> None:
    """What saved bundles hold: the system and its training data, users and items, explainers,
    settings, how training went, what MMI alignment did to it, its files."""
    from whyrec.bundle import describe_bundle

    con = console()
    for folder in bundle:
        described = describe_bundle(folder)
        if as_json:
            print(strict_dumps(described))
        else:
            folder = str(described["folder"])  # the text's first words, shown in bold
            con.print(labelled(folder, "bold", bundle_text(described)[len(folder):]), highlight=False)


def bundle_text(d: dict) -> str:
    """A bundle's description (:func:`whyrec.bundle.describe_bundle`) as a few lines of text."""
    from whyrec.explain.embeddings import word_vectors_text
    from whyrec.explanations import EXPLAINER_LABELS
    from whyrec.kept_epochs import kept_text
    from whyrec.provenance import record_view

    scale = f", ratings {d['rating_scale'][0]:g}–{d['rating_scale'][1]:g}" if d["rating_scale"] else ""
    lines = [f"{d['folder']}: {d['system']}, saved by whyrec {d['whyrec_version']}",
             f"  {counted(d['users'], 'user')}, {counted(d['items'], 'item')}{scale}"]
    if d["explainers"]:
        words = d["word_vectors"]
        vectors = f", word vectors {word_vectors_text(words)}" if isinstance(words, dict) and words else ""
        folded = ", texts folded to ASCII (--fold-unicode)" if d.get("unicode_folded") else ""
        lines.append(f"  explainers {', '.join(d['explainers'])}; "
                     f"vocabulary {counted(d['vocabulary'], 'word')}{vectors}"
                     f"{folded}; {d['feature_words']:,} feature words")
    else:
        lines.append("  a rating model: it writes no explanations")
    training = d["training"]
    unit = training["unit"]
    lowest = ", ".join(f"{name} {m['value']:.4f} ({unit} {m['epoch']})" for name, m in training["lowest"].items())
    lines.append(f"  training: {counted(training['epochs'], unit)}" + (f"; lowest {lowest}" if lowest else "")
                 if training["epochs"] else "  training: the bundle keeps no per-epoch history")
    if training.get("kept"):
        lines.append(f"  kept: {kept_text(training['kept'])}")
    for run in d["alignments"]:  # read with care: a hand-edited bundle.json may lack any key
        which = f" of {EXPLAINER_LABELS.get(run['variant'], run['variant'])}" if run.get("variant") else ""
        which += " with a rating input" if run.get("rating_input") is True else ""
        test = run.get("test") or {}
        kept = ("the explainer as it was kept (no epoch raised the estimated MI)" if run.get("kept_epoch") == 0
                else f"epoch {run.get('kept_epoch', '?')} kept")
        data = test.get("split", run.get("data", "?"))  # None: an MMITrainer.fit not told the data's name
        line = (f"  aligned: {run.get('method', '?')}({run.get('target', '?')}){which} on "
                f"{'unnamed data' if data is None else data}, {_epochs_run(run.get('epochs_run'))}, {kept}")
        reward = run.get("rating_reward_encoder")
        if isinstance(reward, dict):  # recorded since ensembles could read it
            classifiers = reward.get("members", "?")
            line += ("; rating reward read by the generic encoder" if reward.get("kind") == "generic" else
                     f"; rating reward read by the rating-tuned encoder ({classifiers} classifier"
                     f"{'' if classifiers == 1 else 's'})")
        if "before" in test and "after" in test:
            line += (f"; test RMSE {test['before']['rmse']:.4f} → {test['after']['rmse']:.4f}, sentiment accuracy "
                     f"{test['before']['acc5']:.1f}% → {test['after']['acc5']:.1f}% (5 classes"
                     + _tested_text(test.get("after_minus_before") or {}) + ")")
        lines.append(line)
    if d.get("aligned_shared_embeddings"):
        lines.append("  note: aligned before whyrec gave the aligned decoder word embeddings of its own, so the "
                     "alignment also moved the other decoders' explanations and the encoded contexts; aligning the "
                     "original bundle again keeps them")
    if isinstance(d.get("tuning"), dict):
        from whyrec.rating.tuning import describe_tuning

        lines.append(f"  settings picked on validation: {describe_tuning(d['tuning'])}")
    lines.append(f"  settings: {_as_typed(d['settings'])}")
    lines.extend(_made_by_lines(record_view(d.get("made_by"))))
    lines.append("  files: " + ", ".join(f"{name} {_size(size)}" for name, size in d["files"].items()))
    digest = d.get("arrays_sha256")
    lines.append(f"  arrays: sha256 {digest[:12]}…, checked on loading" if digest else
                 "  arrays: no sha256 recorded (saved before whyrec recorded one), loaded unchecked")
    return "\n".join(lines)


def _made_by_lines(view: dict | None) -> list[str]:
    """How the bundle was made (:func:`whyrec.provenance.record_view` of its run.json): the command,
    its date and whyrec commit, the data and split with the start of their SHA-256; for an aligned
    bundle, then how the bundle it aligned was."""
    if view is None:
        return ["  made by: not recorded (no run.json: saved by code, or before whyrec wrote one)"]
    commit, threads = view["whyrec_commit"], view["torch_threads"]
    made_with = []
    if commit:
        made_with.append(f"whyrec commit {commit[:12]}{'+changes' if commit.endswith('+changes') else ''}")
    if threads:
        made_with.append(counted(threads, "torch thread"))
    line = (f"  made by `{view['command'] or '?'}` on {(view['date'] or '?')[:10]}"
            + (f" ({', '.join(made_with)})" if made_with else ""))
    if view["data_path"] or view["data_sha256"]:
        line += f"; data {view['data_path'] or '?'} (sha256 {(view['data_sha256'] or '?')[:12]}…)"
    for split in view["splits"]:
        line += f"; split {split['path'] or '?'} (sha256 {(split['sha256'] or '?')[:12]}…)"
    lines = [line]
    source = view["aligned_from"]
    if source is not None:
        aligned = f"  aligned from {source['bundle'] or '?'}"
        if source["made_by"] is not None:
            before = _made_by_lines(source["made_by"])
            lines += [f"{aligned}, which was {before[0].strip()}", *before[1:]]
        else:
            lines.append(f"{aligned} (how that was made is not recorded)")
    return lines


def _tested_text(change: dict) -> str:
    """What ``show`` says of an alignment's tested change in the 5-class sentiment accuracy: its
    p, and (aligned since align recorded it) that p adjusted by Holm's method over every metric
    tested; "" for a run without tests."""
    tested = change.get("acc5")
    if not tested:
        return ""
    adjusted = tested.get("p_holm")
    if adjusted is None:
        return f"; p {tested['p']:.3f}"
    count = sum(t.get("p_holm") is not None for t in change.values())
    return f"; p {tested['p']:.3f}, {adjusted:.3f} adjusted over the {count} metrics tested"


def _epochs_run(epochs) -> str:
    return f"{counted(epochs, 'epoch')} run" if isinstance(epochs, int) else "epochs run not recorded"


def _size(size: int) -> str:
    return f"{size / 2**20:.1f} MB" if size >= 2**20 else f"{size / 2**10:.1f} kB"
