"""MT: multi-task context-aware MF + adversarial GRU seq2seq explanations (Lu, Dong & Smyth, RecSys 2018).

The recipe (§3 and Algorithm 1 of "Why I like it"):

* **rating** — context-aware PMF (:class:`whyrec.rating.ContextAwareALS`, Eq. 10–12) whose
  priors Ũ, Ṽ are the document encoders' outputs;
* **text** — review-document encoders (BiGRU, mean over the document, projected to K) and GRU
  decoders conditioned on Ũ_i (MT-U), Ṽ_j (MT-I) or [Ũ_i; Ṽ_j] (MT-P), each with a CNN
  discriminator of "human-written and by this owner";
* **coupling** — the generator loss ``L(θ) = −J(θ) + λ‖U − Ũ‖² (+ λ‖V − Ṽ‖²)`` ties the text
  features to the MF factors, and the ALS priors tie the factors to the text features;
* **Algorithm 1**, per epoch: ALS updates of U and V with the current Ũ, Ṽ; T teacher-forcing
  steps; G policy-gradient steps (REINFORCE with Monte-Carlo rollouts, the discriminator's
  probability as reward, each followed by a teacher-forcing step as in Li et al. 2017); D
  discriminator steps on K real vs K generated reviews.

Choices the paper leaves open (all constructor arguments, see :class:`MTConfig`): the target
text is the review's extracted explanation sentence (or its first sentence), cut to
``max_words``; a record's own review is left out of its user's/item's document while training
(otherwise the decoder learns to copy, and test documents never contain the test review); the
coupling uses the squared norm (the ALS prior does too); adversarial steps start after
maximum-likelihood training has converged (its validation NLL stopped falling), as in SeqGAN,
or at a fixed epoch ``adversarial_from``, and ``patience`` counts no epoch before the adversarial
phase has run that many; the discriminator
also sees real reviews paired with a wrong owner as negatives (``mismatch_negatives``), which
is what "written by *this* user" asks of it; the rating model is kept at its best validation
RMSE epoch and the generators at their best validation NLL epoch, and the loop ("until
convergence") stops once ``patience`` epochs have improved neither. Ablations:
``encoder="embedding"`` (MT−encoder: a lookup table instead of the document encoder) and
``decoder=False`` (MT−decoder: encoders trained by the coupling loss only).

Two departures from the paper, both switchable back (``prior_folds=1``, ``prior_scales=(1.0,)``,
``bias_prior_scales=(1.0,)``). Measured on the shared data, the paper's loop lets validation RMSE
*rise* after the first epoch: the encoder is trained to reproduce U_i from user i's own reviews,
so the prior Ũ_i becomes U_i itself, ``λ_U‖U − Ũ‖²`` stops regularising and the factors overfit.
Hence (1) **cross-fitted priors**: owners are split into ``prior_folds`` folds, each fold has its
own document encoder (trained, with the decoders, on that fold's owners), and the ALS prior of an
owner is computed by another fold's encoder, one that never fitted the owner's factors; the
decoders and explanations use the owner's own encoder. (2) **Prior scale**: each epoch the ALS
step tries the priors scaled by every (s, s_b) of two small grids (factors, bias) and keeps the
solution with the lowest validation RMSE, s = 0 being plain ridge regularisation. An
uninformative text prior is so shrunk away instead of pulling the factors towards noise.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from whyrec.align.adversarial import ReviewDiscriminator, discriminator_loss, reinforce_loss, rollout_rewards
from whyrec.checkpoint import holding_checkpoint_folder
from whyrec.data.text import Vocabulary, tokenize
from whyrec.devices import resolve_device
from whyrec.distributed import Cluster, join, process_device
from whyrec.divergence import divergence_named
from whyrec.errors import ConfigError, DivergedError, WhyrecError, require_fitted
from whyrec.explain.decoding import Decoding, check_min_words, pairs_per_batch
from whyrec.explain.embeddings import init_word_vectors
from whyrec.explain.pair_draws import PairDraws, for_rows
from whyrec.explain.seq2seq import ContextGRUDecoder, ReviewDocumentEncoder, beam_search, sample
from whyrec.explain.targets import explanation_targets, pad_batch, teacher_forcing_batch
from whyrec.explanations import EXPLAINER_LABELS, system_repr
from whyrec.ids import IdMap, paired_ids
from whyrec.kept_epochs import kept_part
from whyrec.rating.als import ContextAwareALS, TextPriors
from whyrec.rating.base import validation_rmse
from whyrec.systems.mt_checkpoint import TrainingState, resume_training_state, save_training_state
from whyrec.systems.mt_config import VARIANTS, MTConfig
from whyrec.wording import did_you_mean, listed

if TYPE_CHECKING:  # the corpus needs pandas, which loading a saved model does not import
    import pandas as pd

    from whyrec.data.corpus import Corpus

__all__ = ["VARIANTS", "MTConfig", "MultiTask", "mean_valid_nll", "epochs_without_improvement", "owner_folds"]


@dataclass
class _TextData:
    """Tensors of the training text, built once from the train corpus."""

    rec_user: np.ndarray
    rec_item: np.ndarray
    targets: list[list[str]]
    doc_tokens: torch.Tensor  # (R, doc_words) ids of each training review
    doc_lengths: torch.Tensor
    user_rows: list[list[int]] = field(default_factory=list)  # per user: rows of their latest reviews
    item_rows: list[list[int]] = field(default_factory=list)


class MultiTask:
    """The MT system: ``fit(train, valid)``, ``predict(users, items)``, ``explain(users, items)``."""

    def __init__(self, config: MTConfig | None = None, **overrides) -> None:
        base = config.to_dict() if config else {}
        self.config = MTConfig.from_dict({**base, **overrides})
        self.history: list[dict] = []
        self.alignments: list[dict] = []  # what MMI did to it since training (whyrec.align.pipeline.align)
        self.word_vector_info: dict = {}
        self.vocab: Vocabulary | None = None
        self.als: ContextAwareALS | None = None
        self.resumed_from = 0  # the epoch a fit resumed after (0: started afresh)
        self.name = "mt"
        self.unicode_folded = False  # whether the training texts were folded to ASCII (whyrec.data.text)
        self.item_titles: dict[str, str] = {}
        self.feature_words: list[str] = []
        self.train_ratings = np.zeros(0)
        # inference-time Ũ/Ṽ of every user and item (+ a last row for unknown ids), computed once
        # on the first explain() after training: the document encoders are frozen then
        self._context_tables: dict[str, torch.Tensor] | None = None
        # per variant, the rating input an alignment fine-tuning added to its decoder (see
        # GRUExplainer.from_mt); explain() and token_log_probs() then feed it the predicted rating
        self.rating_inputs = nn.ModuleDict()
        self._cluster = Cluster()  # the processes of the running fit (see whyrec.distributed)

    def to(self, device: str) -> "MultiTask":
        """Move the trained networks, and the training documents the encoders read, to ``device``."""
        if self.vocab is None:
            raise WhyrecError("MT: train or load the model before moving it")
        self.config.device = resolve_device(device)
        for modules in (self.generator, self.discriminators, self.rating_inputs):
            modules.to(self.config.device)
        self.data.doc_tokens = self.data.doc_tokens.to(self.config.device)
        self._context_tables = None
        return self

    # --- building ---------------------------------------------------------------------------------
    def _prepare(self, train: Corpus, features: pd.DataFrame | None) -> None:
        cfg = self.config
        self.user_map, self.item_map = IdMap(train.user_ids()), IdMap(train.item_ids())
        self.folds = {"user": owner_folds(len(self.user_map), self.n_folds, cfg.seed),
                      "item": owner_folds(len(self.item_map), self.n_folds, cfg.seed + 1)}
        targets = explanation_targets(train, features, cfg.max_words)
        doc_token_lists = review_token_lists(train, cfg)
        self.vocab = mt_vocabulary(targets, doc_token_lists, cfg)
        rec_user, rec_item = self.user_map.lookup(train.users), self.item_map.lookup(train.items)
        doc_ids = [self.vocab.encode(t) or [self.vocab.unk] for t in doc_token_lists]
        order = np.lexsort((train.positions, np.nan_to_num(train.reviews["time"].to_numpy(), nan=-1.0)))
        user_rows = [[] for _ in range(len(self.user_map))]
        item_rows = [[] for _ in range(len(self.item_map))]
        for row in order.tolist():  # oldest first, so the tail is the latest reviews
            user_rows[rec_user[row]].append(row)
            item_rows[rec_item[row]].append(row)
        self.data = _TextData(rec_user, rec_item, targets, pad_batch(doc_ids, self.vocab.pad).to(cfg.device),
                              torch.tensor([len(d) for d in doc_ids]),
                              [r[-cfg.doc_reviews:] for r in user_rows], [r[-cfg.doc_reviews:] for r in item_rows])

    def _build_modules(self) -> None:
        cfg, n_words = self.config, len(self.vocab)
        torch.manual_seed(cfg.seed)
        vectors, self.word_vector_info = init_word_vectors(self.vocab, cfg.word_dim, cfg.word_vectors, cfg.seed)
        self.embedding = nn.Embedding(n_words, cfg.word_dim, padding_idx=self.vocab.pad)
        self.embedding.weight.data.copy_(torch.as_tensor(vectors))
        k = self.context_dim
        modules = {"embedding": self.embedding}
        if cfg.encoder == "document":
            for side in ("user", "item"):
                for fold in range(self.n_folds):
                    modules[_encoder_name(side, fold)] = ReviewDocumentEncoder(self.embedding, cfg.encoder_hidden, k,
                                                                               cfg.dropout)
        else:
            modules["user_encoder"] = nn.Embedding(len(self.user_map), k)
            modules["item_encoder"] = nn.Embedding(len(self.item_map), k)
            nn.init.normal_(modules["user_encoder"].weight, 0, 0.1)
            nn.init.normal_(modules["item_encoder"].weight, 0, 0.1)
        if cfg.decoder:
            for v in cfg.variants:
                ctx_dim = 2 * k if v == "pair" else k
                modules[f"decoder_{v}"] = ContextGRUDecoder(self.embedding, ctx_dim, cfg.decoder_hidden, cfg.dropout,
                                                            never_emit=(self.vocab.bos, self.vocab.pad))
        self.generator = nn.ModuleDict(modules).to(cfg.device)
        owner_sizes = {"user": [len(self.user_map)], "item": [len(self.item_map)],
                       "pair": [len(self.user_map), len(self.item_map)]}
        self.discriminators = nn.ModuleDict({
            v: ReviewDiscriminator(n_words, owner_sizes[v], word_dim=cfg.word_dim, filters=cfg.d_filters,
                                   widths=cfg.d_widths, pad=self.vocab.pad)
            for v in (cfg.variants if cfg.decoder else ())
        }).to(cfg.device)
        for disc in self.discriminators.values():
            disc.words.weight.data.copy_(torch.as_tensor(vectors))
        # the decoders' own weights get ``decoder_lr``; everything else, the shared word embedding included, ``lr``
        decoder_own = {id(p) for name, m in self.generator.items() if name.startswith("decoder_")
                       for p in m.parameters() if p is not self.embedding.weight}
        groups = [{"params": [p for p in self.generator.parameters() if id(p) not in decoder_own], "lr": cfg.lr}]
        if decoder_own:
            groups.append({"params": [p for p in self.generator.parameters() if id(p) in decoder_own],
                           "lr": cfg.decoder_lr if cfg.decoder_lr is not None else cfg.lr})
        # the optimisers are made at their first use (a training step, a checkpoint), from these
        self._g_groups, self._d_params = groups, list(self.discriminators.parameters())
        self._g_opt: torch.optim.Adam | None = None
        self._d_opt: torch.optim.Adam | None = None
        self._gen = torch.Generator().manual_seed(cfg.seed)
        self._sample_gen = self._gen  # fit() gives each process of a distributed run its own

    @property
    def g_opt(self) -> torch.optim.Adam:
        """The generator's optimiser (the decoders' own weights at ``decoder_lr``, the rest at
        ``lr``), made at its first use: a bundle loaded to explain never makes one, since making
        the first optimiser of a process imports ``torch._dynamo`` (1.3 s of each command)."""
        if self._g_opt is None:
            self._g_opt = torch.optim.Adam(self._g_groups)
        return self._g_opt

    @property
    def d_opt(self) -> torch.optim.Adam | None:
        """The discriminators' optimiser (``d_lr``), made at its first use; None without discriminators."""
        if self._d_opt is None and self._d_params:
            self._d_opt = torch.optim.Adam(self._d_params, lr=self.config.d_lr)
        return self._d_opt

    @property
    def n_folds(self) -> int:
        """Encoders per side: ``prior_folds`` for the document encoder, 1 for the embedding ablation."""
        return self.config.prior_folds if self.config.encoder == "document" else 1

    @property
    def context_dim(self) -> int:
        """Dimension of Ũ_i and Ṽ_j: K, plus one when they also carry a bias prior."""
        return self.config.factors + (1 if self.config.bias_priors else 0)

    # --- contexts: Ũ and Ṽ -----------------------------------------------------------------------------
    def _encode(self, side: str, owners: np.ndarray, exclude: np.ndarray | None = None,
                out_of_fold: bool = False) -> torch.Tensor:
        """Ũ (side="user") or Ṽ rows for ``owners`` (−1 = unknown, gets an empty document).

        Each owner goes through its own fold's encoder, or with ``out_of_fold`` (the ALS priors)
        through the next fold's, which was never trained on this owner's factors. ``exclude[b]``
        is a review row left out of owner b's document."""
        folds = self.n_folds
        if folds == 1:
            return self._encode_with(self.generator[_encoder_name(side, 0)], side, owners, exclude)
        which = np.where(owners >= 0, self.folds[side][np.maximum(owners, 0)], 0)
        if out_of_fold:
            which = (which + 1) % folds
        parts, positions = [], []
        for fold in np.unique(which).tolist():
            at = np.flatnonzero(which == fold)
            parts.append(self._encode_with(self.generator[_encoder_name(side, fold)], side, owners[at],
                                           None if exclude is None else exclude[at]))
            positions.append(at)
        order = torch.as_tensor(np.argsort(np.concatenate(positions)), device=parts[0].device)
        return torch.cat(parts)[order]

    def _encode_with(self, encoder: nn.Module, side: str, owners: np.ndarray, exclude: np.ndarray | None) -> torch.Tensor:
        device = self.config.device
        if isinstance(encoder, nn.Embedding):
            idx = torch.as_tensor(np.maximum(owners, 0), device=device)
            return encoder(idx) * torch.as_tensor(owners >= 0, device=device, dtype=torch.float32)[:, None]
        rows_of = self.data.user_rows if side == "user" else self.data.item_rows
        flat, owner_of = [], []
        for b, o in enumerate(owners.tolist()):
            rows = rows_of[o] if o >= 0 else []
            if exclude is not None:
                rows = [r for r in rows if r != exclude[b]]
            flat.extend(rows)
            owner_of.extend([b] * len(rows))
        if not flat:  # nobody has a document: the projection of the zero vector
            return encoder.project(torch.zeros(len(owners), encoder.project.in_features, device=device))
        unique, review_of = np.unique(np.asarray(flat), return_inverse=True)
        unique_t = torch.as_tensor(unique, device=device)
        return encoder(self.data.doc_tokens[unique_t], self.data.doc_lengths[unique_t.cpu()],
                       torch.as_tensor(owner_of, device=device), len(owners),
                       review_of=torch.as_tensor(review_of, device=device))

    @staticmethod
    def _variant_context(variant: str, cu: torch.Tensor, cv: torch.Tensor) -> torch.Tensor:
        if variant == "user":
            return cu
        if variant == "item":
            return cv
        return torch.cat([cu, cv], dim=1)

    @torch.no_grad()
    def _all_priors(self) -> tuple[TextPriors, TextPriors]:
        self.generator.eval()
        out = []
        for side, id_map in (("user", self.user_map), ("item", self.item_map)):
            chunks = [self._encode(side, np.arange(s, min(s + 256, len(id_map))), out_of_fold=True).cpu().numpy()
                      for s in range(0, len(id_map), 256)]
            out.append(TextPriors(id_map.ids, np.concatenate(chunks).astype(np.float64)))
        self.generator.train()
        return out[0], out[1]

    def _owners(self, variant: str, users: np.ndarray, items: np.ndarray) -> torch.Tensor:
        cols = {"user": [users], "item": [items], "pair": [users, items]}[variant]
        return torch.as_tensor(np.stack(cols, axis=1), device=self.config.device)

    # --- one step of each kind ----------------------------------------------------------------------------
    def _coupling(self, cu: torch.Tensor, cv: torch.Tensor, users: np.ndarray, items: np.ndarray) -> torch.Tensor:
        """‖U − Ũ‖² + ‖V − Ṽ‖² per row, averaged over the batch (U, V fixed: the ALS solution;
        with ``bias_priors`` the rows are [factors; bias])."""
        U, V = self.als.user_factors[users], self.als.item_factors[items]
        if self.config.bias_priors:
            U = np.concatenate([U, self.als.user_bias[users][:, None]], axis=1)
            V = np.concatenate([V, self.als.item_bias[items][:, None]], axis=1)
        U = torch.as_tensor(U, dtype=torch.float32, device=cu.device)
        V = torch.as_tensor(V, dtype=torch.float32, device=cv.device)
        return ((cu - U) ** 2).sum(1).mean() + ((cv - V) ** 2).sum(1).mean()

    def _teacher_step(self, rows: np.ndarray) -> dict:
        cfg = self.config
        users, items = self.data.rec_user[rows], self.data.rec_item[rows]
        cu, cv = self._encode("user", users, rows), self._encode("item", items, rows)
        coupling = self._coupling(cu, cv, users, items)
        loss, stats = cfg.coupling * coupling, {"coupling": coupling.item()}
        if cfg.decoder:
            inputs, targets = teacher_forcing_batch([self.data.targets[r] for r in rows], self.vocab)
            inputs, targets = inputs.to(cfg.device), targets.to(cfg.device)
            n_tokens = (targets != self.vocab.pad).sum()
            for v in cfg.variants:
                logp = self.generator[f"decoder_{v}"].target_log_probs(self._variant_context(v, cu, cv), inputs,
                                                                        targets, self.vocab.pad)
                nll = -logp.sum() / n_tokens
                loss = loss + nll
                stats[f"nll_{v}"] = nll.item()
        self.g_opt.zero_grad()
        loss.backward()
        self._cluster.average_gradients(self.generator.parameters())
        nn.utils.clip_grad_norm_(self.generator.parameters(), 5.0)
        self.g_opt.step()
        return stats

    def _generate(self, variant: str, ctx: torch.Tensor, keep_hidden: bool = False):
        decoder = self.generator[f"decoder_{variant}"]
        v = self.vocab
        return sample(decoder, ctx, v.bos, v.eos, v.pad, self.config.max_words + 1, generator=self._sample_gen,
                      keep_hidden=keep_hidden)

    def _policy_gradient_step(self, variant: str, rows: np.ndarray) -> dict:
        """REINFORCE with Monte-Carlo rollouts and the discriminator's probability as reward."""
        cfg, v = self.config, self.vocab
        decoder, disc = self.generator[f"decoder_{variant}"], self.discriminators[variant]
        users, items = self.data.rec_user[rows], self.data.rec_item[rows]
        cu, cv = self._encode("user", users, rows), self._encode("item", items, rows)
        ctx = self._variant_context(variant, cu, cv)
        owners = self._owners(variant, users, items)
        decoder.eval()
        disc.eval()
        with torch.no_grad():
            samples = self._generate(variant, ctx.detach(), keep_hidden=True)
            rewards = rollout_rewards(decoder, disc, ctx.detach(), owners, samples, cfg.rollouts, v.bos, v.eos, v.pad,
                                      generator=self._sample_gen)
        inputs = torch.cat([torch.full_like(samples.tokens[:, :1], v.bos), samples.tokens[:, :-1]], dim=1)
        logp = decoder.target_log_probs(ctx, inputs, samples.tokens, v.pad)
        loss = reinforce_loss(logp, rewards, samples.lengths) + cfg.coupling * self._coupling(cu, cv, users, items)
        self.g_opt.zero_grad()
        loss.backward()
        self._cluster.average_gradients(self.generator.parameters())
        nn.utils.clip_grad_norm_(self.generator.parameters(), 5.0)
        self.g_opt.step()
        decoder.train()
        disc.train()
        final = rewards[torch.arange(len(rows), device=rewards.device), (samples.lengths - 1).clamp(min=0)]
        return {f"reward_{variant}": float(final.mean())}

    def _discriminator_batch(self, variant: str, rows: np.ndarray):
        """(real tokens, real owners, negative tokens, negative owners) for one D step."""
        v = self.vocab
        users, items = self.data.rec_user[rows], self.data.rec_item[rows]
        owners = self._owners(variant, users, items)
        real = pad_batch([v.encode(self.data.targets[r]) + [v.eos] for r in rows], v.pad).to(self.config.device)
        self.generator.eval()
        with torch.no_grad():
            cu, cv = self._encode("user", users, rows), self._encode("item", items, rows)
            fake = self._generate(variant, self._variant_context(variant, cu, cv)).tokens
        self.generator.train()
        neg_tokens, neg_owners = [fake], [owners]
        if self.config.mismatch_negatives and len(rows) > 1:
            # the same real reviews credited to another owner ("not written by this user")
            shift = torch.roll(torch.arange(len(rows), device=owners.device), 1)
            width = max(real.shape[1], fake.shape[1])
            neg_tokens = [F.pad(fake, (0, width - fake.shape[1]), value=v.pad),
                          F.pad(real, (0, width - real.shape[1]), value=v.pad)]
            neg_owners = [owners, owners[shift]]
        return real, owners, torch.cat(neg_tokens), torch.cat(neg_owners)

    def _discriminator_step(self, variant: str, rows: np.ndarray) -> dict:
        real, real_owners, fake, fake_owners = self._discriminator_batch(variant, rows)
        loss, acc = discriminator_loss(self.discriminators[variant], real, real_owners, fake, fake_owners)
        self.d_opt.zero_grad()
        loss.backward()
        self._cluster.average_gradients(self.discriminators[variant].parameters())
        self.d_opt.step()
        return {f"d_acc_{variant}": acc, f"d_loss_{variant}": loss.item()}

    # --- training ------------------------------------------------------------------------------------------
    def _rows(self, n: int) -> np.ndarray:
        return torch.randint(0, len(self.data.targets), (n,), generator=self._gen).numpy()

    @holding_checkpoint_folder
    def fit(self, train: Corpus, valid: Corpus | None = None, features: pd.DataFrame | None = None,
            checkpoint_dir: str | None = None, on_epoch: Callable[[dict], None] | None = None,
            on_step: Callable[[int, str], None] | None = None) -> "MultiTask":
        """Algorithm 1. With ``checkpoint_dir``, state is saved after every epoch and a rerun
        with the same directory resumes after the last completed epoch. ``on_epoch`` gets each
        epoch's record; ``on_step`` (epoch, what) the work within an epoch as it goes ("teacher
        forcing 120/3,750"), for a progress line on data where one epoch takes long."""
        cfg = self.config
        if len(train) == 0:
            raise WhyrecError("MT: the training data is empty")
        cfg.device = process_device(resolve_device(cfg.device))
        cluster = self._cluster = join(cfg.device)
        self._context_tables = None
        self.rating_inputs = nn.ModuleDict()  # new decoders: an earlier alignment no longer applies
        self._prepare(train, features)
        self._build_modules()
        cluster.broadcast_module(self.generator)
        cluster.broadcast_module(self.discriminators)
        # mini-batches are drawn from ``_gen``, alike in every process; what a process samples from
        # its own slice (policy-gradient sequences, rollouts, fake reviews) from a generator of its own
        if cluster.distributed:
            self._sample_gen = torch.Generator().manual_seed(cfg.seed + 1 + cluster.rank)
        self.name = train.name.split("/")[0]
        self.unicode_folded = train.unicode_folded
        self.train_ratings = train.ratings
        self.item_titles = {i: title for i in self.item_map.ids if (title := train.item_title(i))}
        self.feature_words = sorted(set(features["feature"])) if features is not None and len(features) else []
        self.als = ContextAwareALS(factors=cfg.factors, lambda_u=cfg.lambda_u, lambda_v=cfg.lambda_v,
                                   lambda_bias=cfg.lambda_bias, iterations=cfg.als_sweeps, seed=cfg.seed)
        self.als.fit(train, valid)  # epoch 0: plain ALS, the encoders know nothing yet
        run = TrainingState()
        self.history, start = [], 1
        if checkpoint_dir:
            start = resume_training_state(self, run, checkpoint_dir) + 1
        valid_text = self._valid_text(valid, features)
        n_teacher = cfg.teacher_steps or max(1, int(cfg.teacher_passes * len(self.data.targets) / cfg.batch_size))
        adversarial_training = cfg.decoder and cfg.pg_steps > 0

        def working(what: str) -> None:
            if on_step and cluster.is_main:
                on_step(epoch, what)

        for epoch in range(start, cfg.epochs + 1):
            # both read from the history alone, so a resumed run takes the same decisions
            first_pg = adversarial_start(self.history, cfg.variants, cfg.adversarial_from)
            since = epochs_without_improvement(self.history, cfg.variants if cfg.decoder else ())
            if adversarial_training and since is not None:  # the adversarial phase gets ``patience`` epochs
                since = min(since, epoch - first_pg) if first_pg is not None and epoch > first_pg else 0
            if cfg.patience and since is not None and since >= cfg.patience:
                break  # converged (checked first, so a resumed run that had converged stops too)
            with divergence_named("MT", epoch, _lower_lr(cfg), self._weights):
                began = time.perf_counter()
                self._context_tables = None  # the encoders change this epoch
                stats: dict = {}
                if epoch > 1:
                    working("ALS update")
                    stats = _running(stats, self._als_update(valid, epoch))
                order = torch.randperm(len(self.data.targets), generator=self._gen).numpy()
                for step in range(n_teacher):
                    working(f"teacher forcing {step:,}/{n_teacher:,}")
                    rows = order[(step * cfg.batch_size) % len(order):][: cfg.batch_size]
                    rows = rows if len(rows) else self._rows(cfg.batch_size)
                    stats = _running(stats, self._teacher_step(cluster.shard(rows)))
                adversarial = cfg.decoder and first_pg is not None and epoch >= first_pg
                if adversarial and cfg.adversarial_from == 0 and epoch == first_pg:
                    working("discriminator warm-up")
                    stats = self._discriminator_steps(stats)  # its warm-up, as the start was not known before
                rounds = cfg.pg_steps if adversarial else 0
                for round_ in range(rounds):
                    working(f"policy gradient {round_}/{rounds}")
                    for v in cfg.variants:
                        rows = cluster.shard(self._rows(cfg.pg_batch))
                        stats = _running(stats, self._policy_gradient_step(v, rows))
                    stats = _running(stats, self._teacher_step(cluster.shard(self._rows(cfg.batch_size))))
                if cfg.decoder and first_pg is not None and epoch >= first_pg - (1 if cfg.adversarial_from else 0):
                    working("discriminator")
                    stats = self._discriminator_steps(stats)
                working("validation")
                means = cluster.mean_of({k: float(np.mean(x)) for k, x in stats.items()})
                _check_losses(means, epoch, cfg, len(self.vocab))
            record = {"epoch": epoch, "seconds": time.perf_counter() - began, **means, "adversarial": int(adversarial)}
            record["valid_rmse"] = validation_rmse(self.als, valid)
            if valid_text is not None and cfg.decoder:
                for v in cfg.variants:
                    record[f"valid_nll_{v}"] = self._mean_nll(v, *valid_text)
            if record["valid_rmse"] is not None and record["valid_rmse"] < run.best_rmse:
                run.best_rmse, run.best_als = record["valid_rmse"], self._als_arrays()
            text_nll = mean_valid_nll(record, cfg.variants if cfg.decoder else ())
            if text_nll is not None and text_nll < run.best_nll:
                run.best_nll, run.best_generator = text_nll, copy.deepcopy(self.generator.state_dict())
            self.history.append(record)
            if checkpoint_dir:  # every process: their random states are gathered
                save_training_state(self, run, checkpoint_dir, epoch)
            if on_epoch and cluster.is_main:
                on_epoch(record)
        if run.best_als is not None:  # the rating model at its best validation epoch
            self._restore_als(run.best_als)
        if run.best_generator is not None:  # the generators at their best validation NLL
            self.generator.load_state_dict(run.best_generator)
        self.generator.eval()
        self._context_tables = None
        return self

    def _discriminator_steps(self, stats: dict) -> dict:
        """``d_steps`` steps of every variant's discriminator, their statistics added to ``stats``."""
        for _ in range(self.config.d_steps):
            for v in self.config.variants:
                rows = self._cluster.shard(self._rows(self.config.d_samples))
                stats = _running(stats, self._discriminator_step(v, rows))
        return stats

    def _als_update(self, valid: Corpus | None, epoch: int) -> dict:
        """ALS sweeps with the current text priors, scaled by the (s, s_b) of the config's grids whose
        solution fits the validation ratings best (Algorithm 1's rating step, plus the scale choice)."""
        cfg = self.config
        user_priors, item_priors = self._all_priors()
        if not (np.isfinite(user_priors.vectors).all() and np.isfinite(item_priors.vectors).all()):
            raise DivergedError("MT", epoch, "the document encoders' priors", _lower_lr(cfg))
        grid = [(s, sb) for s in cfg.prior_scales for sb in cfg.bias_prior_scales]
        if valid is None or len(valid) == 0:
            grid = [(max(cfg.prior_scales), max(cfg.bias_prior_scales))]
        start, best = self._als_arrays(), (float("inf"), None, None)
        for scale, bias_scale in grid:
            self._restore_als(start)
            priors = (_scaled(user_priors, scale, bias_scale, cfg.bias_priors),
                      _scaled(item_priors, scale, bias_scale, cfg.bias_priors))
            self.als.set_priors(*priors)
            try:
                for _ in range(cfg.als_sweeps):
                    self.als.sweep()
            except torch.linalg.LinAlgError:  # finite priors, but of a size the solve cannot take
                raise DivergedError("MT", epoch, "the document encoders' priors", _lower_lr(cfg),
                                    happened="grew too large for the ALS solve") from None
            rmse = validation_rmse(self.als, valid) if len(grid) > 1 else 0.0
            if rmse < best[0]:
                best = (rmse, (scale, bias_scale, priors), self._als_arrays())
        scale, bias_scale, priors = best[1]
        self.als.set_priors(*priors)
        self._restore_als(best[2])
        return {"prior_scale": scale, "bias_prior_scale": bias_scale}

    def _valid_text(self, valid: Corpus | None, features: pd.DataFrame | None):
        """(targets, users, items) of the first :data:`VALID_TEXT_RECORDS` validation records whose
        user and item the train part has: what each epoch's validation NLL is taken over."""
        if valid is None or len(valid) == 0:
            return None
        users, items = self.user_map.lookup(valid.users), self.item_map.lookup(valid.items)
        known = (users >= 0) & (items >= 0)
        targets = [t for t, k in zip(explanation_targets(valid, features, self.config.max_words), known) if k]
        n = VALID_TEXT_RECORDS
        return targets[:n], users[known][:n], items[known][:n]

    # --- ALS state ---------------------------------------------------------------------------------------
    def _weights(self) -> list[torch.Tensor]:
        """Every trained tensor: the encoders', decoders' and discriminators' weights and the ALS factors
        (:func:`whyrec.divergence.divergence_named` looks in them for NaN)."""
        return [*self.generator.parameters(), *self.discriminators.parameters(), *self._als_arrays().values()]

    def _als_arrays(self) -> dict[str, torch.Tensor]:
        keys = ("_U", "_V", "_bu", "_bi", "_prior_u", "_prior_v", "_prior_bu", "_prior_bi")
        return {k: getattr(self.als, k).clone() for k in keys}

    def _restore_als(self, arrays: dict[str, torch.Tensor]) -> None:
        for k, value in arrays.items():
            setattr(self.als, k, value.to(torch.float64))
        self.als.user_factors, self.als.item_factors = self.als._U.numpy(), self.als._V.numpy()
        self.als.user_bias, self.als.item_bias = self.als._bu.numpy(), self.als._bi.numpy()

    def kept_epochs(self) -> list[dict]:
        """Which epochs' states this MT holds (:func:`whyrec.kept_epochs.kept_part`), as
        :meth:`fit` chose them: the rating model (ALS arrays) of the first epoch with the lowest
        validation RMSE, the generators of the first with the lowest :func:`mean_valid_nll`
        (none without a decoder); [] untrained."""
        if not self.history:
            return []
        parts = [kept_part("rating model", self.history, lambda r: r.get("valid_rmse"), "lowest validation RMSE")]
        variants = self.config.variants if self.config.decoder else ()
        if variants:
            names = ", ".join(EXPLAINER_LABELS[v] for v in variants)
            parts.append(kept_part("generators", self.history, lambda r: mean_valid_nll(r, variants),
                                   f"lowest validation NLL, mean of {names}"))
        return parts

    # --- saving --------------------------------------------------------------------------------------------
    def save(self, folder) -> None:
        """Write a bundle (see :mod:`whyrec.systems.mt_bundle`); ``whyrec.bundle.load_bundle`` reads it."""
        from whyrec.systems.mt_bundle import save_mt

        self.require_fitted("saving")
        save_mt(self, folder)

    # --- using the trained system ---------------------------------------------------------------------------
    def predict(self, users: Sequence[str], items: Sequence[str]) -> np.ndarray:
        """Ratings from the context-aware MF (clipped to the scale; unknown ids fall back to biases)."""
        self.require_fitted("predicting")
        return self.als.predict(*paired_ids(users, items, "MT: predict"))

    def predict_unclipped(self, users: Sequence[str], items: Sequence[str]) -> np.ndarray:
        """:meth:`predict` before clipping: what ranks items (clipped ones would tie)."""
        self.require_fitted("predicting")
        return self.als.predict_unclipped(*paired_ids(users, items, "MT: predict"))

    def decoder(self, variant: str) -> ContextGRUDecoder:
        """The trained GRU decoder of MT-U (``"user"``), MT-I (``"item"``) or MT-P (``"pair"``)."""
        self.require_variant(variant)
        return self.generator[f"decoder_{variant}"]

    def require_variant(self, variant: str) -> None:
        """Refuse (a :class:`~whyrec.errors.ConfigError`) a variant this MT has no decoder for: a
        mistyped one (with the variant most like it), or one its settings did not train."""
        cfg = self.config
        if variant not in VARIANTS:
            raise ConfigError(f"MT: no variant '{variant}'{did_you_mean(str(variant), list(VARIANTS))}: "
                              f"give {listed(list(VARIANTS))}")
        if not cfg.decoder:
            raise ConfigError(f"MT: no '{variant}' decoder was trained: this MT has none (decoder=False)")
        if variant not in cfg.variants:
            raise ConfigError(f"MT: no '{variant}' decoder was trained: this MT has {listed(list(cfg.variants))} "
                              f"only (variants={list(cfg.variants)})")

    def own_word_embeddings(self, variant: str) -> ContextGRUDecoder:
        """Give ``variant``'s decoder a copy of the word embeddings of its own, and return it.

        MT's word embeddings are one table, read by the document encoders and by all three
        decoders (and tied to the decoders' output layers). Tuning one decoder alone (an
        alignment: :meth:`whyrec.explain.interface.GRUExplainer.from_mt`) would tune the table too,
        moving the other decoders' explanations and, once the contexts are encoded again (a saved
        bundle loaded), the tuned decoder's own contexts. With its own copy, only it changes."""
        decoder = self.decoder(variant)
        if decoder.embedding is self.embedding:
            decoder.embedding = copy.deepcopy(self.embedding)  # the same values, padding row and device
        return decoder

    @property
    def own_embeddings(self) -> list[str]:
        """The variants whose decoder has word embeddings of its own (:meth:`own_word_embeddings`)."""
        if not self.config.decoder or getattr(self, "generator", None) is None:  # not trained yet
            return []
        return [v for v in self.config.variants if self.decoder(v).embedding is not self.embedding]

    def __repr__(self) -> str:
        return system_repr(self, fitted=self.als is not None)

    def get_params(self) -> dict:
        """The settings (the :class:`MTConfig` as a dict), as a rating model's ``get_params``."""
        return self.config.to_dict()

    def clone(self) -> "MultiTask":
        """An unfitted system with the same settings: what :class:`~whyrec.experiment.Experiment`
        fits on each split."""
        return MultiTask(self.config)

    def require_fitted(self, action: str) -> None:
        """Raise :class:`~whyrec.errors.NotFittedError` naming ``action`` before fit() or loading a bundle."""
        require_fitted(self.als is not None, "MT", action)

    def predict_corpus(self, corpus: Corpus) -> np.ndarray:
        return self.predict(corpus.users, corpus.items)

    @torch.no_grad()
    def _context_table(self, side: str) -> torch.Tensor:
        """(n + 1, d) eval-mode encodings of all users (items); row n is the unknown-id encoding.

        Built on first use and kept, so serving a request costs a lookup, not a pass of the
        bidirectional GRU over the owners' review documents. ``fit`` clears it."""
        if self._context_tables is None:
            self.generator.eval()
            tables = {}
            for name, id_map in (("user", self.user_map), ("item", self.item_map)):
                owners = np.append(np.arange(len(id_map)), -1)
                tables[name] = torch.cat([self._encode(name, owners[s:s + 256]) for s in range(0, len(owners), 256)])
            self._context_tables = tables
        return self._context_tables[side]

    def _contexts_for(self, variant: str, users: Sequence[str], items: Sequence[str]) -> torch.Tensor:
        u, i = self.user_map.lookup(users), self.item_map.lookup(items)  # −1 → the last (unknown) row
        users_t, items_t = self._context_table("user"), self._context_table("item")
        cu = users_t[torch.as_tensor(u, device=users_t.device)]
        cv = items_t[torch.as_tensor(i, device=items_t.device)]
        return self._variant_context(variant, cu, cv)

    def _with_rating_input(self, variant: str, ctx: torch.Tensor, users: Sequence[str],
                           items: Sequence[str]) -> torch.Tensor:
        """The decoder's context, shifted by the predicted rating's class when ``variant`` was aligned with one."""
        if variant not in self.rating_inputs:
            return ctx
        return self.rating_inputs[variant](ctx, self.predict(users, items))

    @torch.no_grad()
    def explain(self, users: Sequence[str], items: Sequence[str], variant: str = "pair",
                method: str | Decoding = "greedy", beam: int = 4, batch_size: int = 256, no_repeat: bool = False,
                no_unk: bool = False, temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0,
                length_penalty: float = 0.0, generator: torch.Generator | PairDraws | None = None,
                min_words: int = 0) -> list[str]:
        """Explanations for (user, item) pairs: MT-U/I/P by ``variant``; greedy, sample or beam.

        ``no_repeat`` blocks immediate word repeats and repeated bigrams, and ``no_unk`` the
        out-of-vocabulary token ``<unk>``; the service turns both on, the experiments leave them
        off (the paper's plain decoding, which the metrics score). Sampling draws at
        ``temperature`` from the ``top_k`` likeliest words and the ``top_p`` nucleus
        (:func:`whyrec.explain.decoding.truncated_logits`), from ``generator`` (None: the model's
        own stream; :class:`~whyrec.explain.pair_draws.PairDraws`: each pair's own); beam search
        keeps ``beam`` hypotheses and ranks the finished ones by summed log-probability over
        ``length ** length_penalty``. ``method`` may also be a :class:`~whyrec.explain.decoding.
        Decoding`, which carries those settings (and with a seed, the pairs' own draws). Every
        method writes at least ``min_words`` and at most ``max_words`` words (an explanation not
        ended by then is cut there). A user or
        item the model never saw is written about from the unknown-id encoding (no review
        document); :func:`whyrec.explanations.explain_pairs`, which the CLI and the service use,
        refuses unknown items and gives a new user MT-I or MT-P only."""
        self.require_fitted("explaining")
        decoder = self.decoder(variant)
        (users, items), v = paired_ids(users, items, "MT: explain"), self.vocab
        if isinstance(method, Decoding):
            return self.explain(users, items, variant, batch_size=batch_size, no_repeat=no_repeat, no_unk=no_unk,
                                **method.arguments(users, items, temperature=temperature, top_k=top_k, top_p=top_p,
                                                   beam=beam, length_penalty=length_penalty, min_words=min_words,
                                                   generator=generator))
        banned = (v.unk,) if no_unk else ()
        if method not in ("greedy", "sample", "beam"):
            raise WhyrecError(f"unknown decoding method '{method}' (greedy, sample, beam)")
        # checked: a clear error, not NaNs
        Decoding(method, temperature, top_k, top_p, None, beam, length_penalty, min_words)
        check_min_words(min_words, self.config.max_words, "MT")
        out: list[str] = []
        batch_size = pairs_per_batch(method, beam, batch_size)
        for s in range(0, len(users), batch_size):
            part_u, part_i = users[s:s + batch_size], items[s:s + batch_size]
            ctx = self._with_rating_input(variant, self._contexts_for(variant, part_u, part_i), part_u, part_i)
            if method == "beam":
                tokens = beam_search(decoder, ctx, v.bos, v.eos, v.pad, self.config.max_words + 1, beam=beam,
                                     length_penalty=length_penalty, banned=banned, no_repeat=no_repeat,
                                     min_words=min_words)
            else:
                draws = for_rows(self._gen if generator is None else generator, slice(s, s + batch_size))
                tokens = sample(decoder, ctx, v.bos, v.eos, v.pad, self.config.max_words + 1,
                                greedy=method == "greedy", temperature=temperature, top_k=top_k, top_p=top_p,
                                generator=draws, no_repeat=no_repeat, banned=banned, min_words=min_words,
                                scored=False).tokens
            out.extend(v.sentence(row.tolist(), self.config.max_words) for row in tokens)
        return out

    @torch.no_grad()
    def token_log_probs(self, variant: str, targets: list[list[str]], users: np.ndarray, items: np.ndarray,
                        batch_size: int = 256) -> list[np.ndarray]:
        """Teacher-forced log-probabilities of each target token (and ``<eos>``), for perplexity."""
        self.require_fitted("scoring text")
        self.generator.eval()
        decoder, out = self.decoder(variant), []
        for s in range(0, len(targets), batch_size):
            inputs, tgt = teacher_forcing_batch(targets[s:s + batch_size], self.vocab)
            u, i = users[s:s + batch_size], items[s:s + batch_size]
            ctx = self._variant_context(variant, self._encode("user", u), self._encode("item", i))
            if variant in self.rating_inputs:  # indices −1 (unknown) become an id no map holds
                ctx = self._with_rating_input(variant, ctx, [self.user_map.ids[k] if k >= 0 else "" for k in u],
                                              [self.item_map.ids[k] if k >= 0 else "" for k in i])
            logp = decoder.target_log_probs(ctx, inputs.to(ctx.device), tgt.to(ctx.device), self.vocab.pad).cpu()
            out.extend(row[t != self.vocab.pad].numpy() for row, t in zip(logp, tgt))
        self.generator.train()
        return out

    def _mean_nll(self, variant: str, targets, users, items) -> float:
        return float(-np.concatenate(self.token_log_probs(variant, targets, users, items)).mean())


def _lower_lr(cfg: MTConfig) -> str:
    """The learning rates of the encoders and decoders, as a diverged run is told to lower them."""
    decoder = f" or decoder_lr (now {cfg.decoder_lr:g})" if cfg.decoder_lr is not None else ""
    return f"lr (now {cfg.lr:g}){decoder}"


# validation records (the first ones with a known user and item) whose NLL each epoch scores the decoders
# by: what keeps the generators, starts the adversarial steps and stops training early. It bounds each
# epoch's validation cost on large data. In split 1 of the shared datasets the validation parts hold 236
# (magazines) to 546 (digital music, which so scores 512 of them) records.
VALID_TEXT_RECORDS = 512

# a decoder's mean NLL a word past this many times ln V, a uniform guess's over V words, has blown up
NLL_PAST_UNIFORM = 10.0


def _check_losses(means: dict[str, float], epoch: int, cfg: MTConfig, vocab_size: int) -> None:
    """Raise :class:`DivergedError` when an epoch's mean text loss (``nll_*``, ``coupling``) or
    discriminator loss (``d_loss_*``) is NaN or infinite, naming the learning rate to lower; or,
    with ``vocab_size`` V > 1, when a mean teacher-forcing NLL a word (``nll_*``) is over
    ``NLL_PAST_UNIFORM`` · ln V. A uniform guess over the words scores ln V, a decoder starts about
    there and learns below it; ten times that is logits blown up, though finite (at lr 1e10 on the
    test corpus: 6·10²¹ nats a word in the first epoch, on a VM whose ALS solve took the priors
    that grew with it)."""
    bound = NLL_PAST_UNIFORM * math.log(vocab_size) if vocab_size > 1 else math.inf
    for key, value in means.items():
        if not math.isfinite(value) and (key.startswith(("nll_", "d_loss_")) or key == "coupling"):
            lower = f"d_lr (now {cfg.d_lr:g})" if key.startswith("d_loss_") else _lower_lr(cfg)
            raise DivergedError("MT", epoch, f"the mean {key}", lower)
        if key.startswith("nll_") and value > bound:
            raise DivergedError("MT", epoch, f"the mean {key}", _lower_lr(cfg),
                                happened=f"grew to {value:.3g} nats a word, over {NLL_PAST_UNIFORM:g} × ln V = "
                                         f"{bound:.3g}")


def _scaled(priors: TextPriors, scale: float, bias_scale: float, has_bias: bool) -> TextPriors:
    """Priors times ``scale`` (the last column, a bias prior when ``has_bias``, times ``bias_scale``)."""
    factor = np.full(priors.vectors.shape[1], scale)
    if has_bias:
        factor[-1] = bias_scale
    return TextPriors(priors.ids, priors.vectors * factor[None, :])


def _encoder_name(side: str, fold: int) -> str:
    """Module name of a side's fold encoder (fold 0 keeps the single-encoder name)."""
    return f"{side}_encoder" if fold == 0 else f"{side}_encoder_{fold}"


def review_token_lists(train: Corpus, cfg: MTConfig) -> list[list[str]]:
    """Each training review's first ``doc_words`` tokens, as the review-document encoders read them."""
    return [tokenize(t)[: cfg.doc_words] for t in train.texts]


def mt_vocabulary(targets: list[list[str]], doc_token_lists: list[list[str]], cfg: MTConfig) -> Vocabulary:
    """MT's vocabulary: the ``vocab_size`` most frequent words of the training explanation targets
    and review documents (:func:`review_token_lists`). The MT experiment's text baselines share it,
    so that their perplexities are comparable."""
    return Vocabulary.build(targets + doc_token_lists, max_size=cfg.vocab_size)


def owner_folds(n: int, folds: int, seed: int) -> np.ndarray:
    """A seeded, balanced assignment of ``n`` owners to ``folds`` folds."""
    return np.random.default_rng(seed).permutation(n) % folds


def _running(stats: dict, new: dict) -> dict:
    for k, v in new.items():
        stats.setdefault(k, []).append(v)
    return stats


def mean_valid_nll(record: dict, variants: Sequence[str]) -> float | None:
    """An epoch record's validation NLL averaged over the decoders ``variants`` (None when it has
    none): the score that picks the kept generators and decides early stopping."""
    if not variants or not all(f"valid_nll_{v}" in record for v in variants):
        return None
    return float(np.mean([record[f"valid_nll_{v}"] for v in variants]))


# the first adversarial epoch of ``adversarial_from=0`` when there is no validation text to converge on
ADVERSARIAL_FROM_WITHOUT_VALIDATION = 3


def adversarial_start(history: list[dict], variants: Sequence[str], adversarial_from: int) -> int | None:
    """The first epoch of policy-gradient steps, given the epochs run so far (``history``).

    A fixed ``adversarial_from`` ≥ 1 is returned as is. With 0 the start follows SeqGAN's schedule
    (Yu et al. 2017; METHODS.md D.4: maximum-likelihood pre-training until convergence, then
    adversarial training): the epoch after the first one whose mean validation NLL over
    ``variants`` was not below every earlier epoch's; None while it is still falling. Without
    validation NLL in the history, :data:`ADVERSARIAL_FROM_WITHOUT_VALIDATION`."""
    if adversarial_from:
        return adversarial_from
    best = float("inf")
    for record in history:
        nll = mean_valid_nll(record, variants)
        if nll is None:
            return ADVERSARIAL_FROM_WITHOUT_VALIDATION
        if nll >= best:
            return record["epoch"] + 1
        best = nll
    return None


def adversarial_epochs(history: list[dict]) -> list[int]:
    """The epochs of a training ``history`` that ran policy-gradient steps."""
    return [record["epoch"] for record in history if record.get("adversarial")]


def epochs_without_improvement(history: list[dict], variants: Sequence[str]) -> int | None:
    """Epochs since the last one that lowered the validation RMSE or the decoders' mean validation
    NLL (over ``variants``), whichever is more recent; None without validation scores. The best
    epoch of a series is its first minimum, as the kept states are chosen by strict improvement."""
    since = []
    for series in ([h.get("valid_rmse") for h in history], [mean_valid_nll(h, variants) for h in history]):
        scored = [(value, k) for k, value in enumerate(series) if value is not None]
        if scored:
            since.append(len(series) - 1 - min(scored)[1])
    return min(since) if since else None
