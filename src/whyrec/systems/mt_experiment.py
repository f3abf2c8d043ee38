"""The MT paper's comparison on one split (§4.1–4.3): rating, explanation text, discriminator.

* **Rating** (Table 2): test MSE/RMSE of PMF, plain ALS (the foundation's context-aware ALS
  with no text features — the same λ and K as MT's), MT−encoder, MT−decoder and MT, each
  with a paired t-test of its squared errors against MT's. (The ablations train only the
  MT-P decoder, which keeps their cost down; MT trains MT-U, MT-I and MT-P.) Also each one's
  test RMSE by the user's number of training ratings (``rating_by_activity``, with the same
  paired t-test against MT on each group's records), where review text should help most: on the
  users who have rated little.
* **Text** (Tables 3–4): perplexity of the test explanations under the interpolated n-gram
  LM, an LSTM LM, a GRU LM (MT's decoder cell with no context: the like-for-like reference
  for what the context adds), GCN-U/I/P and MT-U/I/P, and the tf-idf cosine similarity (and
  BLEU-1, ROUGE-L) of their greedy outputs to the ground truth (the n-gram, LSTM and GRU LMs
  are unconditional, so their "generation" is the same sentence for every pair).
* **Discriminator** (§4.3): the learning curve of a fresh discriminator trained against the
  trained generator (accuracy on held-out real vs generated reviews after each step), and
  the shuffled-label test: half the test reviews get a wrong user (item, pair), and the
  trained discriminator must tell which labels are original.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable, Mapping

import numpy as np
import torch

from whyrec.align.adversarial import ReviewDiscriminator, discriminator_loss
from whyrec.data.corpus import Corpus
from whyrec.data.features import split_features
from whyrec.data.split import Split
from whyrec.errors import ConfigError, DataError
from whyrec.explain.decoding import Decoding
from whyrec.explain.embeddings import word_vectors_text
from whyrec.explain.ngram import InterpolatedNgramLM
from whyrec.explain.recurrent_lm import MIN_GAIN as LM_MIN_GAIN, RecurrentLanguageModel
from whyrec.explain.targets import explanation_targets, pad_batch
from whyrec.explanations import generate
from whyrec.kept_elsewhere import write_or_keep_elsewhere
from whyrec.kept_epochs import first_lowest_epoch
from whyrec.metrics.rating import paired_p_by_group, paired_t_test, rmse_by_group
from whyrec.metrics.text import corpus_bleu, perplexity, rouge, tfidf_similarity
from whyrec.provenance import split_fingerprint
from whyrec.rating.als import PMF, ContextAwareALS
from whyrec.results_table import markdown_table
from whyrec.strict_json import SEAL, read_json_file, sealed, strict_dumps, unsealed
from whyrec.systems.mt import VARIANTS, MTConfig, MultiTask, adversarial_epochs, mean_valid_nll
from whyrec.systems.mt_holm import holm_against_mt, holm_by_activity, holm_line_against_mt, holm_line_by_activity
from whyrec.systems.mt_progress import mt_epoch_text
from whyrec.temporary_names import text_writer, write_together_in
from whyrec.wording import shown


def known_records(model: MultiTask, corpus: Corpus,
                  targets: list[list[str]]) -> tuple[list[list[str]], np.ndarray, np.ndarray, np.ndarray]:
    """Of ``corpus``'s records and their explanation ``targets``, those whose user and item MT
    knows: (their targets, user indices, item indices) and the mask of them among all records."""
    users, items = model.user_map.lookup(corpus.users), model.item_map.lookup(corpus.items)
    known = (users >= 0) & (items >= 0)
    return [t for t, k in zip(targets, known) if k], users[known], items[known], known


def known_texts(model: MultiTask, corpus: Corpus, features) -> tuple[list[list[str]], np.ndarray, np.ndarray]:
    """The explanation targets of ``corpus``'s records whose user and item MT knows, with their
    user and item indices: what the text rows are scored on."""
    return known_records(model, corpus, explanation_targets(corpus, features, model.config.max_words))[:3]


def baseline_als_settings(model: MultiTask) -> dict:
    """PMF's and plain ALS's settings next to a trained MT: its K, λ_U, λ_V and seed, and as many
    sweeps as MT's ALS made (its first fit, then one round per epoch run)."""
    c = model.config
    return dict(factors=c.factors, lambda_u=c.lambda_u, lambda_v=c.lambda_v, seed=c.seed,
                iterations=c.als_sweeps * (len(model.history) + 1))


def plain_als_like(model: MultiTask) -> ContextAwareALS:
    """Plain ALS (no text priors) with a trained MT's settings (:func:`baseline_als_settings`), unfitted."""
    return ContextAwareALS(lambda_bias=model.config.lambda_bias, **baseline_als_settings(model))


def rating_table(split: Split, models: dict[str, object], reference: str = "MT") -> list[dict]:
    """Each model's test MSE and RMSE, with ``p_vs_mt``, the paired t-test of its squared errors
    against the ``reference``'s (None for the reference), and ``p_holm``, that p adjusted by
    Holm's method over the table's (:func:`whyrec.metrics.significance.holm_by_test`)."""
    test = split.test
    errors = {name: (m.predict_corpus(test) - test.ratings) ** 2 for name, m in models.items()}
    rows = []
    for name, err in errors.items():
        p = None if name == reference else paired_t_test(err, errors[reference])[1]
        rows.append({"system": name, "mse": float(err.mean()), "rmse": float(np.sqrt(err.mean())), "p_vs_mt": p})
    return holm_against_mt(rows)


def rating_by_activity(split: Split, models: dict[str, object], reference: str = "MT") -> dict[str, dict]:
    """Each model's test RMSE by the user's number of training ratings (whether MT's text priors
    help the users who have rated little): ``{model: {group: {"count", "rmse", "p_vs_mt"}}}``,
    ``p_vs_mt`` the paired t-test of the model's squared errors against the ``reference``'s on
    the group's records (:func:`whyrec.metrics.rating.paired_t_test`; absent for the reference,
    None for a group of fewer than two records), and ``p_holm``, that p adjusted by Holm's method
    over every model's every group (None where there is no p)."""
    from whyrec.experiment import activity_groups_of, ordered_activity

    test, groups = split.test, activity_groups_of(split)
    predictions = {name: m.predict_corpus(test) for name, m in models.items()}
    errors = {name: (pred - test.ratings) ** 2 for name, pred in predictions.items()}
    out = {}
    for name, pred in predictions.items():
        out[name] = ordered_activity(rmse_by_group(pred, test.ratings, groups))
        if name != reference:
            p_values = paired_p_by_group(errors[name], errors[reference], groups)
            for group, entry in out[name].items():
                entry["p_vs_mt"] = p_values[group]
    return holm_by_activity(out)


@torch.no_grad()
def shuffled_label_accuracy(model: MultiTask, corpus: Corpus, variant: str, seed: int = 0) -> float:
    """§4.3: half of the (known) test reviews get a wrong owner; accuracy of D's
    "is this the original owner" decision (P > 0.5) over all of them."""
    disc = model.discriminators[variant]
    disc.eval()
    rng = np.random.default_rng(seed)
    targets, users, items = known_texts(model, corpus, None)
    v = model.vocab
    tokens = pad_batch([v.encode(t) + [v.eos] for t in targets], v.pad).to(model.config.device)
    flip = rng.random(len(targets)) < 0.5
    wrong_u, wrong_i = users.copy(), items.copy()
    if variant in ("user", "pair"):
        wrong_u[flip] = (users[flip] + rng.integers(1, len(model.user_map), flip.sum())) % len(model.user_map)
    if variant in ("item", "pair"):
        wrong_i[flip] = (items[flip] + rng.integers(1, len(model.item_map), flip.sum())) % len(model.item_map)
    owners = model._owners(variant, wrong_u, wrong_i)
    says_original = disc.prob(tokens, owners).cpu().numpy() > 0.5
    return float((says_original == ~flip).mean())


def discriminator_learning_curve(model: MultiTask, variant: str, steps: int = 60, held_out: int = 128,
                                 seed: int = 0) -> list[float]:
    """Accuracy of a *fresh* discriminator on held-out real vs generated reviews after each
    training step against the trained generator (§4.3, Figure 3)."""
    torch.manual_seed(seed)
    cfg = model.config
    owner_sizes = {"user": [len(model.user_map)], "item": [len(model.item_map)],
                   "pair": [len(model.user_map), len(model.item_map)]}[variant]
    disc = ReviewDiscriminator(len(model.vocab), owner_sizes, word_dim=cfg.word_dim, filters=cfg.d_filters,
                               widths=cfg.d_widths, pad=model.vocab.pad).to(cfg.device)  # where MT's batches are
    opt = torch.optim.Adam(disc.parameters(), lr=cfg.d_lr)
    rng = np.random.default_rng(seed)
    all_rows = rng.permutation(len(model.data.targets))
    test_rows, train_rows = all_rows[:held_out], all_rows[held_out:]
    held = real_and_generated(model, variant, test_rows)
    curve = []
    for _ in range(steps):
        loss, _ = discriminator_loss(disc, *real_and_generated(model, variant, rng.choice(train_rows, cfg.d_samples)))
        opt.zero_grad()
        loss.backward()
        opt.step()
        curve.append(discriminator_accuracy(disc, held))
    return curve


def real_and_generated(model: MultiTask, variant: str, rows: np.ndarray):
    """(real tokens, owners, generated tokens, owners) of training records ``rows``: their
    explanation sentences, and the trained generator's samples for the same owners (no
    mismatched negatives: this is about real vs generated only)."""
    saved = model.config.mismatch_negatives
    model.config.mismatch_negatives = False
    try:
        return model._discriminator_batch(variant, rows)
    finally:
        model.config.mismatch_negatives = saved


@torch.no_grad()
def discriminator_accuracy(disc: ReviewDiscriminator, batch) -> float:
    """Balanced accuracy of ``disc`` (in eval mode) on a :func:`real_and_generated` batch, the
    mean of its accuracy on the real and on the generated reviews."""
    disc.eval()
    _, accuracy = discriminator_loss(disc, *batch)
    disc.train()
    return accuracy


def seeded_row(name: str, runs: list[dict]) -> dict:
    """A text row from several training runs of one model: the mean perplexity, its sample standard
    deviation (0 for one run), each run, and the first run's ``training``."""
    values = np.array([r["perplexity"] for r in runs])
    return {"system": name, "perplexity": float(values.mean()),
            "perplexity_sd": float(values.std(ddof=1)) if len(values) > 1 else 0.0,
            "training": runs[0]["training"], "runs": runs}


def training_end(valid_nll: list[float], cap: int, min_gain: float = 0.0) -> dict:
    """How a text model's training ended: epochs run, the epoch whose state was kept (the first
    with the lowest validation NLL, an epoch counting as lower only when below the best before by
    more than ``min_gain``, as the model's training loop took it:
    :func:`whyrec.kept_epochs.first_lowest_epoch`) and the cap on epochs. ``best_epoch == epochs
    == cap`` means the validation NLL was still falling when the cap stopped it."""
    kept = first_lowest_epoch([{"epoch": k, "nll": v} for k, v in enumerate(valid_nll, 1)], lambda r: r["nll"],
                              min_gain)
    return {"epochs": len(valid_nll), "best_epoch": kept or 0, "cap": cap}


def run_mt_experiment(split: Split, out: str | Path, config: MTConfig | None = None, lm_epochs: int = 60,
                      lm_seeds: int = 1, checkpoint_dir: str | Path | None = None, log: Callable[[str], None] = print,
                      curve_steps: int = 60, bundle_dir: str | Path | None = None,
                      step_log: Callable[[str], None] | None = None, decoding: Decoding | None = None,
                      also: Mapping[str, Callable[[Path], None]] | None = None) -> dict:
    """Train everything on ``split``, write tables/plots into ``out``, return the results dict.
    ``log`` gets the stages and epochs; ``step_log``, when given, the work within an MT epoch as
    it goes ("  MT epoch 2: teacher forcing 120/3,750"), many times a second. ``also``: other
    files of the results (the command's ``run.json``), each name with the function writing that
    file at the path given; all are renamed into place together once whole.

    The LSTM, GRU and GCN language models stop when their validation NLL has not improved for 3
    epochs, or at ``lm_epochs``; MT and its ablations stop by their own rule (``config.patience``)
    or at ``config.epochs``. Each text row records how its training ended (:func:`training_end`).
    The unconditional LMs (LSTM, and the GRU LM: MT's decoder cell without a context) are trained
    with ``lm_seeds`` seeds from ``config.seed`` on, and their rows give the mean perplexity.
    MT-U/I/P's explanations (tf-idf, BLEU-1, ROUGE-L, the examples) are decoded greedily as the
    paper's are, or as ``decoding`` says, as `whyrec explain` shows them (its perplexity, taken by
    teacher forcing, does not depend on it)."""
    if lm_seeds < 1:
        raise ConfigError("lm_seeds must be at least 1")
    missing = [name for name, part in (("validation", split.valid), ("test", split.test)) if not len(part)]
    if missing:
        raise DataError(f"split {split.name} has no {' and no '.join(missing)} records: the MT comparison scores "
                        "the models on the test part and stops their training on the validation part (the data "
                        "may be too small to split)")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    config = config or MTConfig()
    timings: dict[str, float] = {}
    began = time.perf_counter()

    log("extracting features for the explanation targets")
    # targets of every part come from one extraction (as the benchmarks' Sentires run covers all data)
    features = split_features(split)

    def timed(name, fn):
        start = time.perf_counter()
        result = fn()
        timings[name] = time.perf_counter() - start
        log(f"{name}: {timings[name]:.1f}s")
        return result

    def epoch_log(name):
        return lambda r: log(f"  {name} epoch {r['epoch']}: {mt_epoch_text(r)} ({r['seconds']:.0f}s)")

    def within(name):
        return (lambda epoch, what: step_log(f"  {name} epoch {epoch}: {what}")) if step_log else None

    base = config.to_dict()
    mt = timed("MT", lambda: MultiTask(config).fit(split.train, split.valid, features,
                                                   checkpoint_dir=str(checkpoint_dir) if checkpoint_dir else None,
                                                   on_epoch=epoch_log("MT"), on_step=within("MT")))
    if bundle_dir is not None:
        mt.save(bundle_dir)
    # the ablations are about the rating model: they train the pair decoder only, to save time
    ablation = {**base, "variants": ["pair"]}
    mt_enc = timed("MT-encoder", lambda: MultiTask(MTConfig.from_dict({**ablation, "encoder": "embedding"})).fit(
        split.train, split.valid, features, on_epoch=epoch_log("MT-encoder"), on_step=within("MT-encoder")))
    mt_dec = timed("MT-decoder", lambda: MultiTask(MTConfig.from_dict({**ablation, "decoder": False})).fit(
        split.train, split.valid, features, on_epoch=epoch_log("MT-decoder"), on_step=within("MT-decoder")))
    pmf = timed("PMF", lambda: PMF(**baseline_als_settings(mt)).fit(split.train))
    plain = timed("plain ALS", lambda: plain_als_like(mt).fit(split.train))
    rating_models = {"PMF": pmf, "plain ALS": plain, "MT-encoder": mt_enc, "MT-decoder": mt_dec, "MT": mt}
    rating = rating_table(split, rating_models)
    by_activity = rating_by_activity(split, rating_models)
    err_mt = (mt.predict_corpus(split.test) - split.test.ratings) ** 2
    err_plain = (plain.predict_corpus(split.test) - split.test.ratings) ** 2
    p_mt_vs_plain = paired_t_test(err_mt, err_plain)[1]

    # --- text ---------------------------------------------------------------------------------------
    test = split.test
    test_targets, users, items, known = known_records(mt, test, explanation_targets(test, features, config.max_words))
    train_targets = explanation_targets(split.train, features, config.max_words)
    valid_targets = explanation_targets(split.valid, features, config.max_words)
    owners = {"user": users[:, None], "item": items[:, None], "pair": np.stack([users, items], 1)}
    tr_u, tr_i = mt.user_map.lookup(split.train.users), mt.item_map.lookup(split.train.items)
    tr_owners = {"user": tr_u[:, None], "item": tr_i[:, None], "pair": np.stack([tr_u, tr_i], 1)}
    va_targets, va_u, va_i, _ = known_records(mt, split.valid, valid_targets)
    va_owners = {"user": va_u[:, None], "item": va_i[:, None], "pair": np.stack([va_u, va_i], 1)}
    sizes = {"user": [len(mt.user_map)], "item": [len(mt.item_map)], "pair": [len(mt.user_map), len(mt.item_map)]}

    text_rows = []

    def add_text(name, logps, generations, training):
        row = {"system": name, "perplexity": perplexity(logps), "training": training}
        if generations is not None:
            hyp = [g.split() for g in generations]
            row.update(tfidf=tfidf_similarity(test_targets, hyp, idf_corpus=train_targets),
                       bleu1=corpus_bleu(test_targets, hyp, 1), rouge_l=rouge(test_targets, hyp)["rouge_l/f_score"])
        text_rows.append(row)

    from whyrec.explain.embeddings import init_word_vectors

    vectors, _ = init_word_vectors(mt.vocab, config.word_dim, config.word_vectors, config.seed)  # same start as MT
    ngram = timed("n-gram", lambda: InterpolatedNgramLM(mt.vocab).fit(train_targets, valid_targets))
    add_text("N-gram", [ngram.token_log_probs(t) for t in test_targets], None, None)
    for name, cell in (("LSTM", "lstm"), ("GRU LM", "gru")):
        # the unconditional LMs are cheap, so they run ``lm_seeds`` times: the row is the mean, "runs" each run
        runs = []
        for seed in range(config.seed, config.seed + lm_seeds):
            lm = timed(f"{name} (seed {seed})", lambda: RecurrentLanguageModel(
                mt.vocab, word_dim=config.word_dim, hidden=config.decoder_hidden, cell=cell, word_vectors=vectors,
                seed=seed, device=mt.config.device).fit(train_targets, None, va_targets, None, epochs=lm_epochs,
                                                        seed=seed, patience=3))
            runs.append({"seed": seed, "perplexity": perplexity(lm.token_log_probs(test_targets)),
                         "training": training_end([h["valid_nll"] for h in lm.history], lm_epochs, LM_MIN_GAIN)})
        text_rows.append(seeded_row(name, runs))
    for variant in VARIANTS:
        gcn = timed(f"GCN-{variant[0].upper()}", lambda: RecurrentLanguageModel(
            mt.vocab, word_dim=config.word_dim, hidden=config.decoder_hidden, owner_sizes=sizes[variant],
            word_vectors=vectors, seed=config.seed, device=mt.config.device).fit(
                train_targets, tr_owners[variant], va_targets, va_owners[variant], epochs=lm_epochs,
                seed=config.seed, patience=3))
        add_text(f"GCN-{variant[0].upper()}", gcn.token_log_probs(test_targets, owners[variant]), None,
                 training_end([h["valid_nll"] for h in gcn.history], lm_epochs, LM_MIN_GAIN))
    test_users = [u for u, k in zip(test.users, known) if k]
    test_items = [i for i, k in zip(test.items, known) if k]
    # MT keeps the generators of the epoch with the lowest validation NLL averaged over its variants
    mt_nll = [n for n in (mean_valid_nll(h, config.variants) for h in mt.history) if n is not None]
    def written(variant: str, who: list[str], what: list[str]) -> list[str]:
        return mt.explain(who, what, variant=variant) if decoding is None else generate(mt, variant, who, what, decoding)

    for variant in config.variants:
        add_text(f"MT-{variant[0].upper()}", mt.token_log_probs(variant, test_targets, users, items),
                 written(variant, test_users, test_items), training_end(mt_nll, config.epochs))

    # --- discriminator ----------------------------------------------------------------------------------
    disc = {}
    for variant in config.variants:
        curve = discriminator_learning_curve(mt, variant, steps=curve_steps, seed=config.seed)
        disc[variant] = {"shuffled_label_accuracy": shuffled_label_accuracy(mt, test, variant, seed=config.seed),
                         "learning_curve": curve}

    examples = [{"user": u, "item": i, "rating": float(r), "predicted": float(p), "truth": " ".join(t), "mt_p": e}
                for u, i, r, p, t, e in zip(test_users[:8], test_items[:8], test.ratings[known][:8],
                                              mt.predict(test_users[:8], test_items[:8]), test_targets[:8],
                                              written("pair", test_users[:8], test_items[:8]))]
    results = {"split": split.name, "sizes": split.sizes(), "split_fingerprint": split_fingerprint(split),
               "config": config.to_dict(), "p_mt_vs_plain_als": p_mt_vs_plain,
               "mt_adversarial_epochs": adversarial_epochs(mt.history),
               "word_vectors": mt.word_vector_info, "rating": rating, "rating_by_activity": by_activity,
               "text": text_rows,
               "discriminator": disc, "history": {"MT": mt.history, "MT-encoder": mt_enc.history,
                                                   "MT-decoder": mt_dec.history},
               "examples": examples, "decoding": decoding.describe() if decoding is not None else None,
               "seconds": timings, "wall_seconds": time.perf_counter() - began,
               "test_records_scored_for_text": len(test_targets), "torch_threads": torch.get_num_threads()}

    def write_outputs(folder: Path) -> None:  # renamed into place together: a refusal leaves the last run's
        write_together_in(folder, {**report_writers(results),
                                   "discriminator_curve.png": lambda path: plot_discriminator(results, path),
                                   "training.png": lambda path: plot_training(results, path), **(also or {})})

    # hours of training not lost to a disk that filled meanwhile: the tables go elsewhere, the error says where
    try:
        write_or_keep_elsewhere(write_outputs, out, f"MT comparison of split {split.name}")
    except OSError:  # written nowhere: the tables at least shown (log), not lost with the files
        log(markdown(results))
        raise
    return results


def write_report(results: dict, out: Path) -> None:
    """``out/mt.json`` and ``out/mt.md`` of one comparison's ``results``, renamed into place
    together once both are whole (:func:`whyrec.temporary_names.write_together_in`)."""
    write_together_in(out, report_writers(results))


def report_writers(results: dict) -> dict[str, Callable[[Path], None]]:
    """``mt.json`` and ``mt.md`` of ``results``, by name, each a function writing its file at the
    path it is given (a temporary name, renamed with the others). ``mt.json`` records the SHA-256
    of its content (:func:`whyrec.strict_json.sealed`): a copy changed since is not read back."""
    texts = {"mt.json": strict_dumps(sealed(results), indent=1), "mt.md": markdown(results)}
    return {name: text_writer(text) for name, text in texts.items()}


def rewrite_report(folder: str | Path) -> dict:
    """Write ``folder``'s ``mt.md`` and ``mt.json`` again from its ``mt.json``, as this version
    writes them, training and scoring nothing: what a report written by an earlier version lacks
    and can be worked out from its numbers (so far Holm's adjustment of the p-values against MT,
    ``p_holm``, and its lines) is added; every measured number stays as it was. The plots are not
    touched. Returns the results."""
    folder = Path(folder)
    return update_report(read_report(folder / "mt.json", "rating"), folder)


def update_report(results: dict, folder: Path) -> dict:
    """``results`` read back from ``folder``'s ``mt.json`` (:func:`rewrite_report`; a split that
    ``--resume`` reads back), with what this version works out from their numbers (``p_holm``),
    written again as ``mt.json`` and ``mt.md``. Returns them."""
    holm_against_mt(results["rating"])
    if results.get("rating_by_activity"):  # runs before it was recorded have none
        holm_by_activity(results["rating_by_activity"])
    write_report(results, folder)
    return results


def read_report(path: Path, *keys: str) -> dict:
    """The JSON object of a report ``path`` (``mt.json``, ``mt_splits.json``), which must hold
    ``keys`` and, when it records one, the SHA-256 of its content
    (:func:`whyrec.strict_json.unsealed`; not returned); a :class:`~whyrec.errors.DataError`
    naming the file otherwise."""
    report = read_json_file(path, DataError, f"{path}: no such file (a report of `whyrec experiment mt` is read)")
    missing = [key for key in keys if not isinstance(report, dict) or key not in report]
    if missing:
        raise DataError(f"{path}: not a report of `whyrec experiment mt`: no {', '.join(missing)}")
    whole = unsealed(report)
    if whole is None:
        raise DataError(f"{path}: changed since `whyrec experiment mt` wrote it (its '{SEAL}' is not the SHA-256 "
                        f"of what it holds now); run the comparison again, or delete '{SEAL}' to have it read as "
                        "it is")
    return whole


def adversarial_span(epochs: list[int] | None) -> str:
    """MT's adversarial epochs as "first–last" ("none"; "?" for a run that did not record them)."""
    if epochs is None:
        return "?"
    return f"{epochs[0]}–{epochs[-1]}" if epochs else "none"


def adversarial_sentence(epochs: list[int] | None) -> str:
    """What the tables' header says of MT's adversarial (policy-gradient) epochs."""
    if epochs is None:
        return ""
    if not epochs:
        return "; MT ran no adversarial epoch"
    return f"; MT's adversarial (policy-gradient) epochs: {adversarial_span(epochs)}"


def markdown(results: dict) -> str:
    lines = [f"# MT on {results['split']}", "",
             f"train {results['sizes']['train']:,} · valid {results['sizes']['valid']:,} · test {results['sizes']['test']:,}; "
             f"word vectors: {word_vectors_text(results['word_vectors'])}; wall time {results['wall_seconds']:.0f}s"
             + adversarial_sentence(results.get("mt_adversarial_epochs")), "",
             "## Rating (test)", "", "| system | MSE | RMSE | p vs MT |", "|---|---|---|---|"]
    for r in results["rating"]:
        lines.append(f"| {r['system']} | {shown(r['mse'], '.4f')} | {shown(r['rmse'], '.4f')} | "
                     f"{shown(r['p_vs_mt'], '.3g')} |")
    lines += holm_line_against_mt(results["rating"])
    by_activity = results.get("rating_by_activity")  # runs before it was recorded have none
    if by_activity:
        first = next(iter(by_activity.values()))
        lines += ["", "## Test RMSE by the user's number of training ratings (n: test records; p: paired t-test "
                  "against MT on the group's records)", "",
                  markdown_table(["system", *(f"{g} (n={v['count']:,})" for g, v in first.items())],
                                 [[name, *(activity_cell(v) for v in groups.values())]
                                  for name, groups in by_activity.items()])]
        lines += holm_line_by_activity(by_activity)
    lines += ["", f"## Explanations (test, {results['test_records_scored_for_text']:,} records)", ""]
    if results.get("decoding"):
        lines += [f"MT-U/I/P's explanations decoded by {results['decoding']}, as `whyrec explain` shows them, not by "
                  "the paper's greedy decoding.", ""]
    lines += ["| system | perplexity | tf-idf | BLEU-1 | ROUGE-L F | epochs run / kept (cap; first run) |",
              "|---|---|---|---|---|---|"]
    for r in results["text"]:
        extra = (f"{shown(r['tfidf'], '.4f')} | {shown(r['bleu1'], '.2f')} | {shown(r['rouge_l'], '.2f')}"
                 if "tfidf" in r else "— | — | —")
        lines.append(f"| {r['system']} | {perplexity_cell(r)} | {extra} | {epochs_cell(r.get('training'))} |")
    lines += ["", "## Discriminator", "", "| variant | shuffled-label accuracy | fresh-D accuracy after 1 / last step |",
              "|---|---|---|"]
    for v, d in results["discriminator"].items():
        curve = d["learning_curve"]
        lines.append(f"| {v} | {shown(d['shuffled_label_accuracy'], '.3f')} | {shown(curve[0], '.3f')} / "
                     f"{shown(curve[-1], '.3f')} |")
    decoded = results.get("decoding")  # None: the paper's greedy decoding
    lines += ["", f"## Examples (MT-P, {decoded or 'greedy'})", ""]
    for e in results["examples"][:5]:
        lines.append(f"- {e['user']} → {e['item']}: predicted {shown(e['predicted'], '.2f')} (true {e['rating']:g}): "
                     f"“{e['mt_p']}” — truth: “{e['truth']}”")
    return "\n".join(lines) + "\n"


def activity_cell(entry: dict) -> str:
    """An activity group's RMSE, with its p against MT when it has one."""
    p = entry.get("p_vs_mt")
    return shown(entry["rmse"], ".4f") + ("" if p is None else f" (p {p:.2g})")


def perplexity_cell(row: dict) -> str:
    """A text row's perplexity; for a row over several runs, ``mean ± sd (n runs: a–b)``; for a row
    measured again since (``remeasured``: date, why, the value before), when and what it was."""
    runs = row.get("runs", [])
    if len(runs) < 2:
        return shown(row["perplexity"], ".2f") + remeasured_note(row)
    values = [v for v in (r["perplexity"] for r in runs) if v is not None and v == v]  # neither null nor NaN
    spread = f"{min(values):.2f}–{max(values):.2f}" if values else "—"
    return (f"{shown(row['perplexity'], '.2f')} ± {shown(row['perplexity_sd'], '.2f')} ({len(runs)} runs: {spread})"
            + remeasured_note(row))


def remeasured_note(row: dict) -> str:
    """`` (re-measured <date>, <why>; was <value>)`` for a row whose number was measured again
    after its run (``row["remeasured"]``: date, why, the value before; ``benchmarks/mt_ngram.py``
    writes it), else ``""``."""
    again = row.get("remeasured")
    return f" (re-measured {again['date']}, {again['why']}; was {again['before']:.2f})" if again else ""


def epochs_cell(training: dict | None) -> str:
    """``run / kept (cap)`` of a text row's training, flagged when the cap stopped a model still improving."""
    if not training:
        return "—"
    still_improving = training["best_epoch"] == training["epochs"] == training["cap"]
    return (f"{training['epochs']} / {training['best_epoch']} ({training['cap']})"
            + (" still improving" if still_improving else ""))


def plot_discriminator(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.2))
    for v, d in results["discriminator"].items():
        ax.plot(range(1, len(d["learning_curve"]) + 1), d["learning_curve"], label=f"MT-{v[0].upper()}")
    ax.axhline(0.5, color="grey", lw=0.8, ls="--")
    ax.set_xlabel("discriminator step")
    ax.set_ylabel("held-out accuracy")
    ax.set_title("fresh discriminator vs trained generator")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110, format="png")  # a PNG under its temporary name too
    plt.close(fig)


def plot_training(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    for name, hist in results["history"].items():
        epochs = [h["epoch"] for h in hist]
        axes[0].plot(epochs, [h["valid_rmse"] for h in hist], marker="o", label=name)
        if hist and "valid_nll_pair" in hist[0]:
            axes[1].plot(epochs, [h["valid_nll_pair"] for h in hist], marker="o", label=name)
    axes[0].set_title("validation RMSE")
    axes[1].set_title("validation NLL (MT-P)")
    for ax in axes:
        ax.set_xlabel("epoch")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110, format="png")  # a PNG under its temporary name too
    plt.close(fig)
