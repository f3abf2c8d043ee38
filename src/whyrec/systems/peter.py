"""PETER and PETER+ as a whyrec system: ``fit(train, valid, features)``, ``predict``, ``explain``.

Training follows the reference code (METHODS.md §P.2): loss = text NLL + context NLL +
0.1 · rating MSE, SGD with lr 1.0 and gradient clipping at 1.0, the learning rate multiplied
by 0.25 whenever the validation loss (text NLL + rating MSE) does not improve, early stop after
``patience`` such epochs (0: never), and the best validation state kept. Explanation targets are the
extracted (feature, sentence) pairs of :mod:`whyrec.data.features`; PETER+ is fed the record's
feature word (at test time the ground-truth one, as the reference does). Sizes default smaller
than the paper's (emsize 512, FFN 2048) so that CPU training takes minutes.
"""

from __future__ import annotations

import copy
import itertools
import math
import time
from dataclasses import asdict
from typing import TYPE_CHECKING, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from whyrec.checkpoint import holding_checkpoint_folder
from whyrec.data.text import UNK, Vocabulary
from whyrec.devices import resolve_device
from whyrec.distributed import join, process_device
from whyrec.errors import DivergedError, WhyrecError, require_fitted, warn_data
from whyrec.explain.decoding import Decoding, check_min_words, pairs_per_batch, truncated_logits
from whyrec.explain.interface import RatingInput
from whyrec.explain.pair_draws import PairDraws, for_rows
from whyrec.explain.peter_model import PeterModel, PeterShape, select_rows
from whyrec.explain.seq2seq import Samples, beam_decode, block_repeats, draw, first_max, held_back
from whyrec.explain.targets import explanation_targets, pad_batch
from whyrec.explanations import system_repr
from whyrec.ids import IdMap, paired_ids
from whyrec.kept_epochs import kept_part
from whyrec.systems.peter_checkpoint import TrainingState, resume_training_state, save_training_state
from whyrec.systems.peter_config import PeterConfig

if TYPE_CHECKING:  # the corpus needs pandas, which loading a saved model does not import
    import pandas as pd

    from whyrec.data.corpus import Corpus


SCORE_PAIRS_PER_PASS = 16384  # (user, item) pairs per transformer pass when scoring (Peter.predict_unclipped)
# validation records per transformer pass (Peter.validation_losses): its output is records × words
# × vocabulary, 40 GB for the 32k validation records of TripAdvisor in a single pass
VALID_RECORDS_PER_PASS = 512


def context_nll(context: torch.Tensor, target: torch.Tensor, eos: int, pad: int) -> torch.Tensor:
    """PETER's context loss (METHODS.md §P, D.2: the reference's ``c_loss``): the context
    position's one word distribution ``context`` (B, V log-probs) predicts every word of the
    explanation ``target`` (B, T ids), order-free —

        L_c = −(1/N) Σ_b Σ_t log p_b(w_bt)   over the N words that are neither ``eos`` nor ``pad``.

    (The reference scores seq[1:-1], which holds ``<eos>`` when the explanation is shorter than
    the limit; here ``<eos>`` is left out, not being a word of the explanation.) The log-probs are
    gathered from (B, V), never copied T times: a (B·T, V) copy is 150 MB at batch 128, 15 words
    and 20k words of vocabulary. A batch without a single word (explanations that tokenize to
    nothing) has loss 0, not NaN."""
    words = (target != eos) & (target != pad)
    picked = context.gather(1, target.masked_fill(~words, 0))  # the filler's log-prob is then dropped,
    return -torch.where(words, picked, 0.0).sum() / words.sum().clamp(min=1)  # even if it were −inf


class Peter:
    """PETER (``use_feature=False``) or PETER+ (``use_feature=True``)."""

    def __init__(self, config: PeterConfig | None = None, **overrides) -> None:
        self.config = PeterConfig.from_dict({**(asdict(config) if config else {}), **overrides})
        self.model: PeterModel | None = None
        self.history: list[dict] = []
        self.alignments: list[dict] = []  # what MMI did to it since training (whyrec.align.pipeline.align)
        self.name = "peter+" if self.config.use_feature else "peter"
        self.unicode_folded = False  # whether the training texts were folded to ASCII (whyrec.data.text)
        self.item_titles: dict[str, str] = {}
        self.item_feature: dict[str, str] = {}  # each item's most frequent training feature (PETER+ serving)
        # the data's declared rating scale (None in bundles written before it was kept); predict()
        # clips to rating_range, the train ratings' own, which lies within it
        self.rating_scale: tuple[float, float] | None = None
        # the rating input an alignment fine-tuning added (see PeterExplainer); explain() feeds it
        self.rating_input: RatingInput | None = None

    def to(self, device: str) -> "Peter":
        """Move the trained transformer (and its rating input, if aligned) to ``device``."""
        if self.model is None:
            raise WhyrecError("PETER: train or load the model before moving it")
        self.config.device = resolve_device(device)
        self.model.to(self.config.device)
        if self.rating_input is not None:
            self.rating_input.to(self.config.device)
        return self

    # --- data -------------------------------------------------------------------------------------
    def _tensors(self, corpus: Corpus, features: pd.DataFrame | None):
        targets = explanation_targets(corpus, features, self.config.max_words)
        ids = [self.vocab.encode(t) for t in targets]
        text = pad_batch([[self.vocab.bos] + s + [self.vocab.eos] for s in ids], self.vocab.pad)
        feat = self._feature_ids(corpus, features)
        return (torch.as_tensor(self.user_map.lookup(corpus.users)), torch.as_tensor(self.item_map.lookup(corpus.items)),
                torch.as_tensor(np.array(corpus.ratings, dtype=np.float32)), text, feat)

    def _validation_tensors(self, valid: Corpus | None, features: pd.DataFrame | None):
        """:meth:`_tensors` of the validation records whose user and item the train part has (the
        transformer has no embedding for the others), with a :class:`~whyrec.errors.DataWarning`
        saying how many were left out; None when no record is left."""
        if valid is None or len(valid) == 0:
            return None
        known = (self.user_map.lookup(valid.users) >= 0) & (self.item_map.lookup(valid.items) >= 0)
        if not known.all():
            warn_data(
                f"PETER: {int((~known).sum()):,} of {len(valid):,} validation records have a user or an item "
                "the train part lacks; the validation scores that choose the epoch kept leave them out"
                + ("" if known.any() else ", so there are none, and the last epoch is kept"))
        if not known.any():
            return None
        rows = np.flatnonzero(known)
        data = self._tensors(valid, features)
        return tuple(x[torch.as_tensor(rows)] for x in data) if len(rows) < len(valid) else data

    def _feature_ids(self, corpus: Corpus, features: pd.DataFrame | None) -> torch.Tensor:
        feature_at = dict(zip(features["position"], features["feature"])) if features is not None and len(features) else {}
        return torch.as_tensor([self.vocab.id(feature_at.get(p, UNK)) for p in corpus.positions.tolist()])

    @holding_checkpoint_folder
    def fit(self, train: Corpus, valid: Corpus | None = None, features: pd.DataFrame | None = None,
            log=None, checkpoint_dir: str | None = None, on_step=None) -> "Peter":
        """Train on ``train``, keeping the epoch with the best validation score (text NLL, plus rating
        MSE when ``rating_reg`` > 0) and annealing the learning rate when it does not improve. With
        ``checkpoint_dir`` the state is saved after every epoch, and a rerun with the same folder
        resumes after the last completed epoch. ``log`` gets each epoch's record; ``on_step``
        (epoch, what) the work within an epoch as it goes ("batch 120/1,877"), for a progress line."""
        cfg = self.config
        if len(train) == 0:
            raise WhyrecError("PETER: the training data is empty")
        cfg.device = process_device(resolve_device(cfg.device))
        cluster = join(cfg.device)  # several processes under torchrun: see whyrec.distributed
        torch.manual_seed(cfg.seed)
        self.user_map, self.item_map = IdMap(train.user_ids()), IdMap(train.item_ids())
        targets = explanation_targets(train, features, cfg.max_words)
        feature_words = [[f] for f in features["feature"]] if features is not None and len(features) else []
        self.vocab = Vocabulary.build(targets + feature_words, max_size=cfg.vocab_size)
        self.feature_words = sorted(set(features["feature"])) if features is not None and len(features) else []
        self.rating_range = (float(train.ratings.min()), float(train.ratings.max()))
        self.rating_scale = tuple(float(b) for b in train.rating_scale)
        self.global_mean = float(train.ratings.mean())
        self.train_ratings = {(u, i): float(r) for u, i, r in zip(train.users, train.items, train.ratings)}
        self.name = train.name.split("/")[0] or self.name
        self.unicode_folded = train.unicode_folded
        self.item_titles = {i: title for i in self.item_map.ids if (title := train.item_title(i))}
        if features is not None and len(features):
            in_train = features[features["position"].isin(set(train.positions.tolist()))]
            items_of = dict(zip(train.positions.tolist(), train.items))
            counts = in_train.assign(item=in_train["position"].map(items_of)).groupby(["item", "feature"]).size()
            self.item_feature = {item: str(group.idxmax()[1]) for item, group in counts.groupby(level=0)}
        shape = PeterShape(len(self.user_map), len(self.item_map), len(self.vocab), cfg.emsize, cfg.heads, cfg.ffn,
                           cfg.layers, cfg.dropout, cfg.use_feature, max_positions=cfg.max_words + 8)
        self.model = PeterModel(shape, self.vocab.pad, never_emit=(self.vocab.bos, self.vocab.pad)).to(cfg.device)
        cluster.broadcast_module(self.model)
        self.rating_input = None  # a new transformer: an earlier alignment no longer applies
        data = self._tensors(train, features)
        if cfg.use_feature and not bool((data[4] != self.vocab.unk).any()):
            given = "no features" if features is None or not len(features) else "features of none of its records"
            warn_data(
                f"PETER+: no train record has a feature word (fit was given {given}), so every feature input "
                "is <unk> and it trains as PETER does; pass fit the features that "
                "whyrec.data.features.FeatureExtractor().extract(corpus) finds")
        valid_data = self._validation_tensors(valid, features)
        opt = torch.optim.SGD(self.model.parameters(), lr=cfg.lr)
        run = TrainingState(torch.Generator().manual_seed(cfg.seed), lr=cfg.lr)
        start = resume_training_state(self, run, checkpoint_dir, cluster) + 1 if checkpoint_dir else 1
        for group in opt.param_groups:
            group["lr"] = run.lr
        self.history = run.history

        def working(what: str) -> None:
            if on_step and cluster.is_main:
                on_step(epoch, what)

        for epoch in range(start, cfg.epochs + 1):
            if cfg.patience and run.waited >= cfg.patience:
                break  # checked first, so a resumed run that had stopped stays stopped
            began = time.perf_counter()
            self.model.train()
            order = torch.randperm(len(data[0]), generator=run.generator)
            sums, seen = np.zeros(3), 0
            batches = -(-len(order) // cfg.batch_size)
            for done, idx in enumerate(order.split(cfg.batch_size)):
                working(f"batch {done:,}/{batches:,}")
                idx = cluster.shard(idx)  # every process draws the same batch and takes its slice
                t, c, r = self.losses(*(x[idx] for x in data))
                loss = cfg.text_reg * t + cfg.context_reg * c + cfg.rating_reg * r
                opt.zero_grad()
                loss.backward()
                cluster.average_gradients(self.model.parameters())
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.clip)
                opt.step()
                sums += np.array([t.item(), c.item(), r.item()]) * len(idx)
                seen += len(idx)
            means = cluster.mean_of(dict(zip(("text_nll", "context_nll", "rating_mse"), (sums / seen).tolist())))
            if not np.isfinite(list(means.values())).all():  # every process has the same means: all stop
                lr = opt.param_groups[0]["lr"]
                raise DivergedError("PETER", epoch, "the training loss", f"lr (now {lr:g}) or clip")
            record = {"epoch": epoch, **means, "lr": opt.param_groups[0]["lr"]}
            if valid_data is not None:
                working("validation")
                t, r = self.validation_losses(valid_data)
                record.update(valid_text_nll=t, valid_rating_mse=r)
                score = validation_score(record, cfg.rating_reg)
                if score < run.best:
                    run.best, run.best_state, run.waited = score, copy.deepcopy(self.model.state_dict()), 0
                else:
                    run.waited += 1
                    for group in opt.param_groups:
                        group["lr"] *= cfg.anneal
            run.lr = opt.param_groups[0]["lr"]
            record["seconds"] = time.perf_counter() - began
            self.history.append(record)
            if checkpoint_dir:  # every process: their random states are gathered
                save_training_state(self, run, checkpoint_dir, epoch, cluster)
            if log and cluster.is_main:
                log(record)
        if run.best_state is not None:
            self.model.load_state_dict(run.best_state)
        self._eval_mode()
        return self

    def kept_epochs(self) -> list[dict]:
        """Which epoch's transformer this model holds (:func:`whyrec.kept_epochs.kept_part`),
        as :meth:`fit` chose it: the first with the lowest :func:`validation_score`; [] untrained."""
        if not self.history:
            return []
        by = "lowest validation text NLL" + (" + rating MSE" if self.config.rating_reg > 0 else "")
        return [kept_part("transformer", self.history, lambda r: validation_score(r, self.config.rating_reg), by)]

    def losses(self, user, item, rating, text, feature, word_shift=None):
        """(text NLL, context NLL, rating MSE) of a batch; the MSE skips NaN ratings (pairs
        without an observed rating). Unknown ids (−1) are not allowed here."""
        dev = self.config.device
        user, item, rating, text, feature = (x.to(dev) for x in (user, item, rating, text, feature))
        pred, context, words = self.model(user, item, text[:, :-1], feature, word_shift)
        target = text[:, 1:]
        t = F.nll_loss(words.reshape(-1, words.shape[-1]), target.reshape(-1), ignore_index=self.vocab.pad)
        c = context_nll(context, target, self.vocab.eos, self.vocab.pad)
        known = ~torch.isnan(rating)
        r = F.mse_loss(pred[known], rating[known]) if bool(known.any()) else pred.sum() * 0.0
        return t, c, r

    @torch.no_grad()
    def validation_losses(self, data, records_per_pass: int = VALID_RECORDS_PER_PASS) -> tuple[float, float]:
        """(text NLL per word, rating MSE) of ``data`` (the tensors of ``_tensors``): what one pass
        of :meth:`losses` over all of it gives, computed ``records_per_pass`` records at a time as
        sums of the batches' means times their word (rated record) counts."""
        self._eval_mode()
        nll_sum = squared_sum = 0.0
        words = rated = 0
        for start in range(0, len(data[0]), records_per_pass):
            batch = [x[start:start + records_per_pass] for x in data]
            t, _, r = self.losses(*batch)
            n_words, n_rated = int((batch[3][:, 1:] != self.vocab.pad).sum()), int((~torch.isnan(batch[2])).sum())
            nll_sum, words = nll_sum + t.item() * n_words, words + n_words
            squared_sum, rated = squared_sum + r.item() * n_rated, rated + n_rated
        return nll_sum / words, squared_sum / rated if rated else 0.0

    # --- inference --------------------------------------------------------------------------------
    def _ids(self, users: Sequence[str], items: Sequence[str], features: Sequence[str] | None, known_for: str = ""):
        """The users', items' and feature words' indices (−1: an unknown id); with ``known_for``
        (what PETER cannot do without an embedding), an unknown user or item is refused, named."""
        self.require_fitted("predicting or explaining")
        users, items = paired_ids(users, items, "PETER")
        if features is not None and (isinstance(features, str) or len(features) != len(users)):
            raise WhyrecError(f"PETER: give one feature word per (user, item) pair ({len(users)} pairs)")
        u, i = self.user_map.lookup(users), self.item_map.lookup(items)
        if known_for:
            refusal = f"PETER cannot {known_for} a pair it has no embedding for"
            self.user_map.require_known(users, u, "user", refusal)
            self.item_map.require_known(items, i, "item", refusal)
        f = [self.vocab.id(w) for w in features] if features is not None else [self.vocab.unk] * len(u)
        return u, i, torch.as_tensor(f)

    def _eval_mode(self) -> None:
        """The transformer in evaluation mode (no dropout), its modules walked only when it is not
        there yet: ``eval()`` sets every module's flag, 72 µs a call for a 2-layer PETER+, which the
        service paid on every request it scored items for."""
        if self.model.training:
            self.model.eval()

    def predict(self, users: Sequence[str], items: Sequence[str]) -> np.ndarray:
        """Ratings from the user position, clipped to the train range; the train mean for unknown ids."""
        return np.clip(self.predict_unclipped(users, items), *self.rating_range)

    @torch.no_grad()
    def predict_unclipped(self, users: Sequence[str], items: Sequence[str],
                          pairs_per_pass: int = SCORE_PAIRS_PER_PASS) -> np.ndarray:
        """:meth:`predict` before clipping: what ranks items (clipped ones would tie). The pairs go
        through the transformer ``pairs_per_pass`` at a time: in one pass, the 2 million pairs of a
        ranking evaluation took 20 GB (and longer than in passes)."""
        u, i, _ = self._ids(users, items, None)
        known = np.flatnonzero((u >= 0) & (i >= 0))
        out = np.full(len(u), self.global_mean)
        self._eval_mode()
        dev = self.config.device
        for start in range(0, len(known), pairs_per_pass):
            rows = known[start:start + pairs_per_pass]
            rating = self.model.rate(torch.as_tensor(u[rows], device=dev), torch.as_tensor(i[rows], device=dev))
            out[rows] = rating.cpu().numpy()
        return out

    def predict_corpus(self, corpus: Corpus) -> np.ndarray:
        return self.predict(corpus.users, corpus.items)

    def save(self, folder) -> None:
        """Write a bundle (see :mod:`whyrec.systems.peter_bundle`); ``whyrec.bundle.load_bundle`` reads it."""
        from whyrec.systems.peter_bundle import save_peter

        self.require_fitted("saving")
        save_peter(self, folder)

    def __repr__(self) -> str:
        return system_repr(self, fitted=self.model is not None)

    def get_params(self) -> dict:
        """The settings (the :class:`PeterConfig` as a dict), as a rating model's ``get_params``."""
        return asdict(self.config)

    def clone(self) -> "Peter":
        """An unfitted PETER with the same settings: what :class:`~whyrec.experiment.Experiment`
        fits on each split."""
        return Peter(self.config)

    def require_fitted(self, action: str) -> None:
        """Raise :class:`~whyrec.errors.NotFittedError` naming ``action`` before fit() or loading a bundle."""
        require_fitted(self.model is not None, "PETER", action)

    @torch.no_grad()
    def generate(self, user: torch.Tensor, item: torch.Tensor, feature: torch.Tensor | None = None,
                 greedy: bool = True, use_cache: bool = True, generator: torch.Generator | None = None,
                 word_shift: torch.Tensor | None = None, banned: Sequence[int] = (),
                 no_repeat: bool = False, temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0,
                 min_words: int = 0, scored: bool = True) -> Samples:
        """Decode up to ``max_words + 1`` tokens per row (greedy or sampled). ``use_cache=False``
        re-runs the whole prefix every step, as the reference code does (for comparison only).
        ``word_shift`` (B, d) is added to every word embedding of its row (see ``PeterModel._words``).
        ``banned`` tokens are never emitted (their probability is moved to the rest by
        renormalising); ``no_repeat`` forbids a word right after itself and any bigram already in
        the row (as MT's decoding does for the service), and ``<eos>`` is held back until a row has
        ``min_words`` words. By default none of these, as in the reference.
        Sampling draws at ``temperature`` from the ``top_k`` likeliest words and the ``top_p``
        nucleus (:func:`whyrec.explain.decoding.truncated_logits`; by default the whole
        distribution, as training samples), and the log-probabilities are those drawn from.
        ``scored=False`` leaves the log-probabilities out (``log_probs`` None), and greedy decoding
        then does not renormalise after holding words back, which moves no row's best word."""
        self._eval_mode()
        v, steps = self.vocab, self.config.max_words + 1
        b, dev = user.shape[0], user.device
        tokens = torch.full((b, steps), v.pad, dtype=torch.long, device=dev)
        logps = torch.zeros(b, steps, device=dev) if scored else None
        renormalise = scored or not greedy  # a draw needs the probabilities; the best word is the best either way
        active = torch.arange(b, device=dev)
        never, early = (torch.tensor(list(words), dtype=torch.long, device=dev)
                        for words in (banned, held_back(banned, v.eos, 0, min_words)))
        if use_cache:
            _, logp, caches = self.model.start(user, item, v.bos, feature, word_shift)
        ran = 0
        for t in range(steps):
            if active.numel() == 0:
                break
            if not use_cache:
                prefix = torch.cat([torch.full((len(active), 1), v.bos, device=dev, dtype=torch.long),
                                    tokens[active, :t]], dim=1)
                _, _, words = self.model(user[active], item[active], prefix,
                                         feature[active] if feature is not None else None,
                                         word_shift[active] if word_shift is not None else None)
                logp = words[:, -1]
            held = early if t < min_words else never
            if held.numel():
                logp = logp.index_fill(1, held, float("-inf"))
                logp = torch.log_softmax(logp, dim=-1) if renormalise else logp
            if no_repeat:
                last = tokens[active, t - 1] if t else torch.full_like(active, v.bos)
                logp = block_repeats(logp, tokens[active, :t], last)
                logp = torch.log_softmax(logp, dim=-1) if renormalise else logp
            if not greedy and (temperature != 1.0 or top_k > 0 or top_p < 1.0):
                logp = torch.log_softmax(truncated_logits(logp, temperature, top_k, top_p), dim=-1)
            nxt = first_max(logp)[1] if greedy else draw(logp.exp(), generator, active, t)
            tokens[active, t] = nxt
            if scored:
                logps[active, t] = logp.gather(1, nxt[:, None])[:, 0]
            ran = t + 1
            going = nxt != v.eos
            active, nxt = active[going], nxt[going]
            if use_cache:
                if not bool(going.all()):
                    caches = select_rows(caches, going)
                if active.numel() and t + 1 < steps:
                    logp = self.model.step(nxt, self.model.src_len + 1 + t, caches,
                                           word_shift[active] if word_shift is not None else None,
                                           normalise=renormalise)
        tokens = tokens[:, :ran]
        return Samples(tokens, logps[:, :ran] if scored else None, (tokens != v.pad).sum(1))

    @torch.no_grad()
    def beam_search(self, user: torch.Tensor, item: torch.Tensor, feature: torch.Tensor | None = None, beam: int = 4,
                    length_penalty: float = 0.0, word_shift: torch.Tensor | None = None, banned: Sequence[int] = (),
                    no_repeat: bool = False, min_words: int = 0) -> torch.Tensor:
        """The best (B, ≤ max_words + 1) token rows of a beam search
        (:func:`whyrec.explain.seq2seq.beam_decode`): the prefix ``[u, i, (f), <bos>]`` runs once
        for each of the ``beam`` hypotheses of a row, and every step feeds each hypothesis's last
        word through the key/value caches, which follow the hypotheses kept."""
        self._eval_mode()
        v = self.vocab

        def each(x: torch.Tensor | None) -> torch.Tensor | None:
            return x.repeat_interleave(beam, dim=0) if x is not None else None

        shift = each(word_shift)  # alike for a row's hypotheses, so it needs no reordering
        _, first, caches = self.model.start(each(user), each(item), v.bos, each(feature), shift)
        carried = {"caches": caches}

        def step(last: torch.Tensor, t: int) -> torch.Tensor:
            if t == 0:
                return first
            return self.model.step(last, self.model.src_len + t, carried["caches"], shift)

        def reorder(origin: torch.Tensor) -> None:
            carried["caches"] = select_rows(carried["caches"], origin)

        return beam_decode(step, reorder, user.shape[0], v.bos, v.eos, v.pad, self.config.max_words + 1, beam,
                           length_penalty, banned, no_repeat, user.device, min_words)

    def explain(self, users: Sequence[str], items: Sequence[str], features: Sequence[str] | None = None,
                method: str | Decoding = "greedy", batch_size: int = 256, no_unk: bool = False,
                no_repeat: bool = False, temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0,
                generator: torch.Generator | PairDraws | None = None, beam: int = 4,
                length_penalty: float = 0.0, min_words: int = 0) -> list[str]:
        """Explanations; PETER+ takes each record's feature word (``<unk>`` when not given).
        ``no_unk`` never emits the out-of-vocabulary token ``<unk>`` and ``no_repeat`` blocks
        repeated words and bigrams (what the CLI and the service show); the experiments decode
        without them, as the reference does. Sampling draws at ``temperature`` from the ``top_k``
        likeliest words and the ``top_p`` nucleus, from ``generator`` (None: torch's global
        stream; :class:`~whyrec.explain.pair_draws.PairDraws`: each pair's own); beam search keeps
        ``beam`` hypotheses and ranks the finished ones by summed log-probability over
        ``length ** length_penalty`` (:meth:`beam_search`). Every method writes at least
        ``min_words`` and at most ``max_words`` words (an explanation not ended by then is cut
        there, as the reference decodes ``words`` steps). ``method`` may also be a
        :class:`~whyrec.explain.decoding.Decoding`, which carries those settings (and with a seed,
        the pairs' own draws)."""
        if isinstance(method, Decoding):
            return self.explain(users, items, features, batch_size=batch_size, no_unk=no_unk, no_repeat=no_repeat,
                                **method.arguments(users, items, temperature=temperature, top_k=top_k, top_p=top_p,
                                                   beam=beam, length_penalty=length_penalty, min_words=min_words,
                                                   generator=generator))
        if method not in ("greedy", "sample", "beam"):
            raise WhyrecError(f"PETER: unknown decoding method '{method}' (greedy, sample, beam)")
        # checked: a clear error, not NaNs
        Decoding(method, temperature, top_k, top_p, None, beam, length_penalty, min_words)
        check_min_words(min_words, self.config.max_words, "PETER")
        u, i, f = self._ids(users, items, features, known_for="explain")
        dev, out = self.config.device, []
        batch_size = pairs_per_batch(method, beam, batch_size)
        for s in range(0, len(u), batch_size):
            sl = slice(s, s + batch_size)
            user, item = torch.as_tensor(u[sl], device=dev), torch.as_tensor(i[sl], device=dev)
            banned = (self.vocab.unk,) if no_unk else ()
            if method == "beam":
                tokens = self.beam_search(user, item, f[sl].to(dev), beam, length_penalty,
                                          self.rating_shift(user, item), banned, no_repeat, min_words)
            else:
                tokens = self.generate(user, item, f[sl].to(dev), greedy=method == "greedy",
                                       generator=for_rows(generator, sl),
                                       word_shift=self.rating_shift(user, item), banned=banned, no_repeat=no_repeat,
                                       temperature=temperature, top_k=top_k, top_p=top_p, min_words=min_words,
                                       scored=False).tokens
            out.extend(self.vocab.sentence(row, self.config.max_words) for row in tokens.cpu().tolist())
        return out

    def target_log_probs(self, user: torch.Tensor, item: torch.Tensor, tokens: torch.Tensor,
                         feature: torch.Tensor | None, word_shift: torch.Tensor | None = None) -> torch.Tensor:
        """(B, T) teacher-forced log-probability of each token of ``tokens`` (B, T: explanations
        ending in ``<eos>``, then ``<pad>``), 0 at the padding, with gradients."""
        v = self.vocab
        inputs = torch.cat([torch.full_like(tokens[:, :1], v.bos), tokens[:, :-1]], dim=1)
        inputs = inputs.masked_fill(inputs == v.pad, v.eos)  # after <eos>: never scored
        words = self.model(user, item, inputs, feature, word_shift)[2]
        return words.gather(2, tokens[:, :, None])[:, :, 0].masked_fill(tokens == v.pad, 0.0)

    @torch.no_grad()
    def token_log_probs(self, users: Sequence[str], items: Sequence[str], targets: list[list[str]],
                        features: Sequence[str] | None = None, batch_size: int = 256) -> list[np.ndarray]:
        """Teacher-forced log-probabilities of each word of each target explanation (cut to
        ``max_words``) and of its ``<eos>``, for perplexity; PETER+ is fed ``features``."""
        u, i, f = self._ids(users, items, features, known_for="score the explanation of")
        self._eval_mode()
        v, dev, out = self.vocab, self.config.device, []
        for s in range(0, len(u), batch_size):
            sl = slice(s, s + batch_size)
            user, item = torch.as_tensor(u[sl], device=dev), torch.as_tensor(i[sl], device=dev)
            tokens = pad_batch([v.encode(t[: self.config.max_words]) + [v.eos] for t in targets[sl]], v.pad).to(dev)
            picked = self.target_log_probs(user, item, tokens, f[sl].to(dev), self.rating_shift(user, item)).cpu()
            out.extend(row[t != v.pad].numpy() for row, t in zip(picked, tokens.cpu()))
        return out

    def rating_shift(self, user: torch.Tensor, item: torch.Tensor,
                     predicted: torch.Tensor | None = None) -> torch.Tensor | None:
        """The word shift of each row's predicted-rating class (None without a rating input);
        ``predicted``: the rows' ratings when already computed. The rating is detached; the
        shift keeps its gradient, which is how MMI trains the rating input."""
        if self.rating_input is None:
            return None
        if predicted is None:
            with torch.no_grad():
                predicted = self.model.rate(user, item)
        return self.rating_input.offsets(predicted.cpu().numpy(), predicted.device)


class PeterExplainer:
    """A trained :class:`Peter` through the explainer interface of :mod:`whyrec.explain.interface`.

    A context holds the user, item and feature ids and the observed train rating of the pair
    (NaN when there is none), so that ``nll`` is PETER's whole multi-task loss — text +
    context + 0.1 · rating on the pairs with a rating — which MMI keeps beside its reward
    (METHODS.md §A.7). The model stays in eval mode (no dropout), so the log-probabilities
    that are scored are those of the policy that sampled.

    With ``rating_input``, every word position is also fed PETER's own predicted rating
    (detached) as a learned shift per rating class that starts at zero (a
    :class:`~whyrec.explain.interface.RatingInput`, set as ``peter.rating_input`` so that
    ``peter.explain`` and PETER's bundle keep it); the rating itself cannot change with it. A
    PETER that already has one (aligned before, or loaded from a bundle) always uses it.
    """

    variant = None  # PETER has a single explainer (an MT's explainer names its decoder here)

    def __init__(self, peter: Peter, generator: torch.Generator | None = None, rating_input: bool = False) -> None:
        self.peter = peter
        self.generator = generator or torch.Generator().manual_seed(0)
        if rating_input and peter.rating_input is None:
            peter.rating_input = RatingInput(peter.config.emsize).to(peter.config.device)

    @property
    def system(self) -> Peter:
        """The PETER whose explainer this is: an MMI fit records what it did in its ``alignments``."""
        return self.peter

    @property
    def rating_input(self) -> RatingInput | None:
        return self.peter.rating_input

    def contexts(self, users, items, features=None) -> dict:
        p = self.peter
        u, i, f = p._ids(users, items, features if p.config.use_feature else None, known_for="explain")
        rating = [p.train_ratings.get((a, b), float("nan")) for a, b in zip(users, items)]
        dev = p.config.device
        ctx = {"user": torch.as_tensor(u, device=dev), "item": torch.as_tensor(i, device=dev), "feature": f.to(dev),
               "rating": torch.tensor(rating, dtype=torch.float32, device=dev)}
        if self.rating_input is not None:
            with torch.no_grad():
                ctx["predicted"] = p.model.rate(ctx["user"], ctx["item"])
        return ctx

    def _shift(self, ctx: dict) -> torch.Tensor | None:
        return self.peter.rating_shift(ctx["user"], ctx["item"], ctx.get("predicted"))

    def repeat(self, ctx: dict, k: int) -> dict:
        return {key: value.repeat_interleave(k, dim=0) for key, value in ctx.items()}

    def sample(self, ctx: dict, greedy: bool = False) -> Samples:
        return self.peter.generate(ctx["user"], ctx["item"], ctx["feature"], greedy=greedy, generator=self.generator,
                                   word_shift=self._shift(ctx))

    def seed_sampling(self, seed: int) -> None:
        self.generator.manual_seed(seed)

    def log_prob(self, ctx: dict, tokens: torch.Tensor) -> torch.Tensor:
        return self.peter.target_log_probs(ctx["user"], ctx["item"], tokens, ctx["feature"], self._shift(ctx)).sum(dim=1)

    def nll(self, ctx: dict, targets: list[list[str]]) -> torch.Tensor:
        p, v = self.peter, self.peter.vocab
        text = pad_batch([[v.bos] + v.encode(t[: p.config.max_words]) + [v.eos] for t in targets], v.pad)
        t, c, r = p.losses(ctx["user"], ctx["item"], ctx["rating"], text, ctx["feature"], self._shift(ctx))
        return p.config.text_reg * t + p.config.context_reg * c + p.config.rating_reg * r

    def texts(self, tokens: torch.Tensor) -> list[str]:
        return [self.peter.vocab.sentence(row.tolist(), self.peter.config.max_words) for row in tokens.cpu()]

    def explain(self, users, items, method: str = "greedy", features=None, batch_size: int = 256) -> list[str]:
        return self.peter.explain(users, items, features, method=method, batch_size=batch_size)

    def parameters(self):
        modules = [self.peter.model] + ([self.rating_input] if self.rating_input is not None else [])
        return itertools.chain.from_iterable(m.parameters() for m in modules)

    def frozen_copy(self) -> "PeterExplainer":
        ref = copy.copy(self.peter)
        ref.model = copy.deepcopy(self.peter.model).eval()
        ref.rating_input = copy.deepcopy(self.rating_input) if self.rating_input is not None else None
        adapter_params = ref.rating_input.parameters() if ref.rating_input is not None else ()
        for param in itertools.chain(ref.model.parameters(), adapter_params):
            param.requires_grad_(False)
        return PeterExplainer(ref, self.generator)


def validation_score(record: dict, rating_reg: float) -> float | None:
    """The score an epoch's state is kept by (lowest wins), as the reference code's ``val_loss``
    (METHODS.md §P.2): validation text NLL + rating MSE, the text NLL alone when ``rating_reg`` is 0
    (PETER trained without its rating loss); None for an epoch without validation scores."""
    if "valid_text_nll" not in record:
        return None
    return record["valid_text_nll"] + (record["valid_rating_mse"] if rating_reg > 0 else 0.0)


def peter_epoch_text(record: dict) -> str:
    """A PETER epoch for a status line: the train text NLL and, when there is a validation part,
    the validation rating RMSE (the square root of its MSE) and text NLL, which choose the epoch kept.
    That RMSE is of the predictions before they are clipped to the train ratings' range, as the loss
    sees them, so it is mostly above the clipped predictions' RMSE of the same state (early in
    training, far above it), which `whyrec train` reports for the state kept."""
    text = f"train text NLL {record['text_nll']:.3f}"
    if "valid_text_nll" in record:
        text += (f", valid unclipped RMSE {math.sqrt(record['valid_rating_mse']):.4f}, "
                 f"valid text NLL {record['valid_text_nll']:.3f}")
    return text
