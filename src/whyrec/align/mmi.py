"""MMI: fine-tune any explainer to maximise the mutual information between its explanations and
the predicted rating (and/or the item feature). Zhao et al., CIKM 2024; METHODS.md §A.

Per batch of B inputs, K explanations e_ik are sampled from the policy π_φ and embedded by a
frozen sentence encoder (x_ik; one encoder for all targets, or one per target, e.g. a
rating-tuned encoder for the rating and a generic one for the feature word). With y_i the
target (one-hot of the *predicted* rating, detached — or the observed one — and/or the
feature word's embedding) and π one batch permutation held fixed across the K samples:

    r_MI(e_ik) = T(x_ik, y_i) − T(x_ik, y_π(i))                       (MINE reward, §A.4)
    r_joint    = (1 − ε)·r_MI^R + ε·r_MI^F                             (§A.8, ε = 0.2)
    r_KL(e)    = log π_φ(e) − log π_ref(e)     (π_ref: frozen copy, its own state; §A.4)
    r_H(e)     = −log π_φ(e)                                            (entropy bonus)

and, each with its own mean-over-K baseline (ApRef2Seq variant, §A.5),

    L_MI = −mean[(r_MI − r̄_MI)·log π_φ(e)],  L_KL = +mean[(r_KL − r̄_KL)·log π_φ(e)],
    L_H  = −mean[(r_H − r̄_H)·log π_φ(e)]
    L    = λ_MI·L_MI + λ_KL·c_KL·L_KL + λ_H·c_H·L_H + w_b·L_backbone

λ from Dynamic Weight Average over the epoch means of (−r_MI, r_KL, −r_H) (or fixed at 1),
c_KL = 0.16 and c_H = 0.0005 the MMI code's constants, L_backbone the explainer's own
teacher-forced loss (kept, §A.7; ``backbone_weight=0`` drops it). Odd epochs train the
generator with the estimators frozen, even epochs train the estimators on greedy outputs of
the current generator (§A.5). Training stops after ``patience`` generator epochs without a
better validation MI, and the generator state with the best validation MI is kept — by default
with every candidate state re-scored by the final estimators (``selection``).

Two additions of whyrec's, both off by default: ``estimator_replay`` mixes pre-training
(review, target) pairs back into every estimator epoch, which keeps the estimator's reading of
"agrees with the target" anchored to how people write rather than to whatever separates the
generator's current outputs; ``adapter_lr`` trains an explainer's rating input
(:class:`~whyrec.explain.interface.RatingInput`) at a learning rate of its own.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn as nn

from whyrec.align.alignment_records import alignment_record
from whyrec.align.dwa import DynamicWeightAverage
from whyrec.align.mine import MINE, MINEConfig, one_hot_ratings
from whyrec.divergence import divergence_named
from whyrec.errors import ConfigError, DivergedError
from whyrec.explain.interface import missing_methods
from whyrec.settings import above, at_least, at_most, check_settings, config_from_dict

TARGETS = ("rating", "feature", "joint")
MOST_SAMPLES = 64  # the most explanations sampled per input (K)


@dataclass
class MMIConfig:
    target: str = "rating"  # rating | feature | joint
    epsilon: float = 0.2  # weight of the feature reward in the joint reward
    samples: int = 5  # K explanations per input
    epochs: int = 8  # generator and estimator epochs, alternating (odd: generator)
    batch_size: int = 64
    lr: float = 1e-4
    kl_weight: float = 0.16  # c_KL
    entropy_weight: float = 0.0005  # c_H
    backbone_weight: float = 1.0
    dwa: bool = True
    dwa_temperature: float = 2.0
    patience: int = 2
    # which generator state is kept: "final" scores the starting state and every generator epoch's
    # greedy validation explanations with the *last* estimators, so all are judged by one yardstick;
    # "running" compares each epoch's score by the estimators of its time (the MMI code's rule), a
    # comparison across estimators that online re-training keeps changing
    selection: str = "final"
    max_batches_per_epoch: int = 0  # 0: the whole training set
    mine_hidden: int = 100
    mine_lr: float = 1e-4
    mine_batch_size: int = 1024
    mine_pretrain_epochs: int = 50
    # learning rate of an explainer's rating-input adapter (``explainer.rating_input``); None: ``lr``.
    # A zero-initialised shift trained at a transformer's small lr hardly moves in a few epochs.
    adapter_lr: float | None = None
    # estimator epochs mix in this many pre-training (review, target) pairs per generated pair, drawn
    # afresh each epoch, so the estimator keeps the reviews' notion of what agrees with a target while
    # it follows the generator; 0 re-trains on generated explanations only (the MMI code)
    estimator_replay: float = 0.0
    # seeds the estimators, the batch permutations, the replay draws and the explainer's sampling
    # (its ``seed_sampling``, called when the trainer is made)
    seed: int = 0

    def __post_init__(self) -> None:
        check_settings(self, "MMI", _MMI_RULES)
        if self.selection not in ("final", "running"):
            raise ConfigError(f"MMI: selection must be 'final' or 'running', got '{self.selection}'")
        if self.target not in TARGETS:
            raise ConfigError(f"MMI: target must be one of {TARGETS}, got '{self.target}'")
        if self.samples < 2:
            raise ConfigError("MMI: at least 2 samples per input are needed for the mean-over-K baseline")
        if not 0 <= self.epsilon <= 1:
            raise ConfigError(f"MMI: epsilon must be in [0, 1], got {self.epsilon}")
        if self.estimator_replay < 0:
            raise ConfigError(f"MMI: estimator_replay must be >= 0, got {self.estimator_replay}")
        if self.adapter_lr is not None and self.adapter_lr <= 0:
            raise ConfigError(f"MMI: adapter_lr must be > 0, got {self.adapter_lr}")

    @classmethod
    def from_dict(cls, values: dict) -> "MMIConfig":
        """From settings by name (the command line's ``--set``): an unknown name is a ConfigError."""
        return config_from_dict(cls, "MMI", values)


_MMI_RULES = {
    **{name: at_least(1) for name in ("epochs", "patience", "mine_hidden", "mine_batch_size")},
    # the MI reward scores each record's explanation against another record's target in its batch
    "batch_size": at_least(2),
    # each step samples batch_size × K explanations and holds their word probabilities: K = 10⁵ had
    # filled 22 GB within two minutes; the paper samples 5, and 64 took 3.4 GB on magazines
    "samples": at_most(MOST_SAMPLES),
    **{name: at_least(0) for name in ("kl_weight", "entropy_weight", "backbone_weight", "max_batches_per_epoch",
                                      "mine_pretrain_epochs")},
    **{name: above(0) for name in ("lr", "mine_lr", "dwa_temperature")},
}


@dataclass
class MMIData:
    """Inputs and targets: ``ratings`` are what the rating reward aligns to (predicted, by default)."""

    users: list[str]
    items: list[str]
    ratings: np.ndarray
    references: list[list[str]]  # tokenised reference explanations, for the backbone loss
    features: list[str] | None = None  # the feature word per record ("" when none)

    def __post_init__(self) -> None:
        self.ratings = np.asarray(self.ratings, dtype=np.float64)
        sizes = {"users": len(self.users), "items": len(self.items), "ratings": len(self.ratings),
                 "references": len(self.references)}
        if self.features is not None:
            sizes["features"] = len(self.features)
        if len(set(sizes.values())) > 1:
            raise ConfigError(f"MMI data: one entry per record in each list, got {sizes}")
        if not np.isfinite(self.ratings).all():
            raise ConfigError("MMI data: a rating is NaN or infinite (the rating reward needs a number per record)")

    def __len__(self) -> int:
        return len(self.users)

    def take(self, idx: np.ndarray) -> "MMIData":
        return MMIData([self.users[i] for i in idx], [self.items[i] for i in idx], self.ratings[idx],
                       [self.references[i] for i in idx],
                       [self.features[i] for i in idx] if self.features is not None else None)


def policy_gradient_loss(reward: torch.Tensor, log_prob: torch.Tensor, k: int) -> torch.Tensor:
    """−mean[(r − r̄)·log π(e)], r̄ the mean reward of the same input's K samples (rows input-major)."""
    r = reward.detach().reshape(-1, k)
    advantage = (r - r.mean(dim=1, keepdim=True)).reshape(-1)
    return -(advantage * log_prob).mean()


def _loss_settings(cfg: MMIConfig) -> str:
    """The settings to lower when the generator's loss or gradient leaves float32's range, which a
    weight in the loss causes as much as the learning rate does."""
    return f"lr (now {cfg.lr:g}), kl_weight (now {cfg.kl_weight:g}) or entropy_weight (now {cfg.entropy_weight:g})"


class MMITrainer:
    """Fine-tunes ``explainer`` (see :mod:`whyrec.explain.interface`) with MINE rewards."""

    def __init__(self, explainer, encoder, config: MMIConfig | None = None, **overrides) -> None:
        self.config = MMIConfig.from_dict({**(asdict(config) if config else {}), **overrides})
        lacking = missing_methods(explainer)
        if lacking:
            raise ConfigError(f"MMI: the explainer ({type(explainer).__name__}) lacks {', '.join(lacking)} "
                              "of the explainer interface (whyrec.explain.interface.Explainer)")
        self.explainer = explainer
        # one encoder for every target, or one per target ({"rating": ..., "feature": ...})
        self.encoders = dict(encoder) if isinstance(encoder, dict) else {t: encoder for t in ("rating", "feature")}
        explainer.seed_sampling(self.config.seed)  # the explanations sampled are the run's chief randomness
        self.reference = explainer.frozen_copy()
        # the estimators, the encoded texts and the targets live where the explainer does; the
        # sentence encoders stay on the CPU
        first = next(iter(explainer.parameters()), None)
        self.device = first.device if first is not None else torch.device("cpu")
        self.optimizer = torch.optim.Adam(self._parameter_groups(explainer), lr=self.config.lr)
        self.dwa = DynamicWeightAverage(["mi", "kl", "entropy"], self.config.dwa_temperature, fixed=not self.config.dwa)
        self.rng = np.random.default_rng(self.config.seed)
        self.perm_gen = torch.Generator().manual_seed(self.config.seed)
        mine_cfg = MINEConfig(hidden=self.config.mine_hidden, lr=self.config.mine_lr,
                              batch_size=self.config.mine_batch_size, epochs=self.config.mine_pretrain_epochs,
                              seed=self.config.seed, device=str(self.device))
        self.estimators: dict[str, MINE] = {}
        names = {"rating": ["rating"], "feature": ["feature"], "joint": ["rating", "feature"]}[self.config.target]
        missing = [n for n in names if n not in self.encoders]
        if missing:
            raise ConfigError(f"MMI: no sentence encoder for the {', '.join(missing)} target")
        if "rating" in names:
            self.estimators["rating"] = MINE(self.encoders["rating"].dim, 5, mine_cfg)
        if "feature" in names:
            dim = self.encoders["feature"].dim
            self.estimators["feature"] = MINE(dim, dim, mine_cfg)
        self.history: list[dict] = []
        self._replay: tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]] | None = None

    def _parameter_groups(self, explainer) -> list[dict]:
        """The explainer's trainable parameters; its rating-input adapter apart when ``adapter_lr`` is set."""
        adapter = getattr(explainer, "rating_input", None)
        apart = {id(p) for p in adapter.parameters()} if adapter is not None and self.config.adapter_lr else set()
        groups = [{"params": [p for p in explainer.parameters() if p.requires_grad and id(p) not in apart]}]
        if apart:
            groups.append({"params": [p for p in adapter.parameters() if p.requires_grad],
                           "lr": self.config.adapter_lr})
        return [g for g in groups if g["params"]]

    # --- targets ------------------------------------------------------------------------------------
    def _targets(self, data: MMIData) -> dict[str, torch.Tensor]:
        out = {}
        if "rating" in self.estimators:
            out["rating"] = torch.as_tensor(one_hot_ratings(data.ratings))
        if "feature" in self.estimators:
            if data.features is None:
                raise ConfigError("MMI: feature alignment needs a feature word per record")
            out["feature"] = self.encoders["feature"].encode(list(data.features))
        return {name: y.to(self.device) for name, y in out.items()}

    def _embed(self, texts: list[str]) -> dict[str, torch.Tensor]:
        """Each estimator's view of ``texts``: its target's encoder, each distinct encoder run once."""
        done: dict[int, torch.Tensor] = {}
        for name in self.estimators:
            encoder = self.encoders[name]
            if id(encoder) not in done:
                done[id(encoder)] = encoder.encode(texts).to(self.device)
        return {name: done[id(self.encoders[name])] for name in self.estimators}

    def pretrain(self, texts: list[str], data: MMIData) -> None:
        """Pre-train each estimator on (reference review/explanation text, target) pairs (§A.3)."""
        x, targets = self._embed(texts), self._targets(data)
        for name, y in targets.items():
            self.estimators[name].fit(x[name], y)
        self._replay = (x, targets)

    def _with_replay(self, x: torch.Tensor, y: torch.Tensor, name: str) -> tuple[torch.Tensor, torch.Tensor]:
        """Generated pairs plus ``estimator_replay``·N pre-training pairs drawn without replacement."""
        if not self.config.estimator_replay or self._replay is None:
            return x, y
        real_x, real_y = self._replay[0][name], self._replay[1][name]
        n = min(len(real_x), int(round(self.config.estimator_replay * len(x))))
        pick = torch.as_tensor(self.rng.choice(len(real_x), size=n, replace=False))
        return torch.cat([x, real_x[pick].to(x)]), torch.cat([y, real_y[pick].to(y)])

    # --- one generator step ----------------------------------------------------------------------------
    def _generator_step(self, batch: MMIData, weights: dict[str, float], epoch: int = 1) -> dict[str, float]:
        cfg, k = self.config, self.config.samples
        ctx = self.explainer.contexts(batch.users, batch.items, batch.features)
        rep = self.explainer.repeat(ctx, k)
        samples = self.explainer.sample(rep)
        x = self._embed(self.explainer.texts(samples.tokens))
        perm = torch.randperm(len(batch), generator=self.perm_gen)
        # one π for an input's K samples: row i·K + j (input i's j-th sample) meets the target of input π(i)
        shuffled = (perm[:, None] * k + torch.arange(k)).reshape(-1).to(self.device)
        rewards = {name: self.estimators[name].reward(x[name], y.repeat_interleave(k, dim=0), shuffled)
                   for name, y in self._targets(batch).items()}
        if cfg.target == "joint":
            r_mi = (1 - cfg.epsilon) * rewards["rating"] + cfg.epsilon * rewards["feature"]
        else:
            r_mi = rewards[cfg.target]
        log_prob = self.explainer.log_prob(rep, samples.tokens)
        with torch.no_grad():
            ref_ctx = self.reference.contexts(batch.users, batch.items, batch.features)
            ref_log_prob = self.reference.log_prob(self.reference.repeat(ref_ctx, k), samples.tokens)
        r_kl = (log_prob - ref_log_prob).detach()
        r_h = -log_prob.detach()
        loss_mi = policy_gradient_loss(r_mi, log_prob, k)
        loss_kl = -policy_gradient_loss(r_kl, log_prob, k)
        loss_h = policy_gradient_loss(r_h, log_prob, k)
        loss = (weights["mi"] * loss_mi + weights["kl"] * cfg.kl_weight * loss_kl
                + weights["entropy"] * cfg.entropy_weight * loss_h)
        backbone = torch.zeros(())
        if cfg.backbone_weight > 0:
            backbone = self.explainer.nll(ctx, batch.references)
            loss = loss + cfg.backbone_weight * backbone
        if not torch.isfinite(r_mi).all():  # before the step: the explainer is left as it was
            raise DivergedError("MMI", epoch, "the MI reward", f"mine_lr (now {cfg.mine_lr:g})")
        if not torch.isfinite(loss):
            raise DivergedError("MMI", epoch, "the generator's loss", _loss_settings(cfg))
        self.optimizer.zero_grad()
        loss.backward()
        norm = nn.utils.clip_grad_norm_([p for p in self.explainer.parameters() if p.requires_grad], 5.0)
        if not torch.isfinite(norm):  # clipping an infinite gradient gives NaN weights: not stepped
            raise DivergedError("MMI", epoch, "the generator's gradient", _loss_settings(cfg))
        self.optimizer.step()
        return {"reward_mi": float(r_mi.mean()), "kl": float(r_kl.mean()), "entropy": float(r_h.mean()),
                "backbone": float(backbone.detach())}

    def _batches(self, n: int):
        order = self.rng.permutation(n)
        batches = [order[s:s + self.config.batch_size] for s in range(0, n, self.config.batch_size)]
        batches = [b for b in batches if len(b) >= 2]
        return batches[: self.config.max_batches_per_epoch] if self.config.max_batches_per_epoch else batches

    # --- evaluation -------------------------------------------------------------------------------------
    def greedy_texts(self, data: MMIData, batch_size: int = 256) -> list[str]:
        out: list[str] = []
        for s in range(0, len(data), batch_size):
            features = data.features[s:s + batch_size] if data.features is not None else None
            ctx = self.explainer.contexts(data.users[s:s + batch_size], data.items[s:s + batch_size], features)
            out.extend(self.explainer.texts(self.explainer.sample(ctx, greedy=True).tokens))
        return out

    def mutual_information(self, data: MMIData, texts: list[str] | None = None) -> dict[str, float]:
        """I_θ between the (greedy) explanations and each target, by the current estimators (nats)."""
        return self._estimate(self._embed(texts if texts is not None else self.greedy_texts(data)), self._targets(data))

    def _estimate(self, x: dict[str, torch.Tensor], targets: dict[str, torch.Tensor]) -> dict[str, float]:
        return {name: self.estimators[name].estimate(x[name], y) for name, y in targets.items()}

    def _score(self, mi: dict[str, float]) -> float:
        if self.config.target == "joint":
            return (1 - self.config.epsilon) * mi["rating"] + self.config.epsilon * mi["feature"]
        return mi[self.config.target]

    # --- the loop ----------------------------------------------------------------------------------------
    def fit(self, train: MMIData, valid: MMIData | None = None, log=None, on_step=None,
            data_name: str | None = None) -> "MMITrainer":
        """Alternate generator and estimator epochs; keep the best generator state (see ``selection``).
        ``log(record)`` after each epoch; ``on_step(epoch, what)`` as its work goes (``generator batch 3/50``).
        An explainer of a system (``explainer.system``: an MT's or PETER's) has what was done
        appended to that system's ``alignments``, with ``data_name`` as the data's name, so that
        its bundle and ``whyrec show`` tell it was aligned."""
        on_step = on_step or (lambda epoch, what: None)
        history_before = len(self.history)  # a second fit of the same trainer adds to its history
        if len(train) < 2:
            raise ConfigError(f"MMI: at least 2 training records are needed, got {len(train)}")
        valid = valid if valid is not None else train
        valid_targets = self._targets(valid)
        x = self._embed(self.greedy_texts(valid))
        # (epoch, parameters, embedded greedy validation texts) of the starting state and each generator epoch
        candidates = [(0, [p.detach().clone() for p in self.explainer.parameters()], x)]
        running = [self._score(self._estimate(x, valid_targets))]
        waited = 0
        for epoch in range(1, self.config.epochs + 1):
            began = time.perf_counter()
            record: dict = {"epoch": epoch}
            # a failure on a NaN explainer (sampling from it) is named as the divergence it is
            with divergence_named("MMI", epoch, f"lr (now {self.config.lr:g})", self.explainer.parameters):
                if epoch % 2 == 1:  # generator epoch, estimators frozen
                    weights, batches, steps = self.dwa.weights(), self._batches(len(train)), []
                    for done, batch in enumerate(batches):
                        on_step(epoch, f"generator batch {done:,}/{len(batches):,}")
                        steps.append(self._generator_step(train.take(batch), weights, epoch))
                    on_step(epoch, "explaining the validation records")
                    means = {key: float(np.mean([s[key] for s in steps])) for key in steps[0]}
                    self.dwa.record_epoch({"mi": -means["reward_mi"], "kl": means["kl"], "entropy": -means["entropy"]})
                    record.update(phase="generator", weights=weights, **means)
                    x = self._embed(self.greedy_texts(valid))
                    record["valid_mi"] = self._estimate(x, valid_targets)
                    score = self._score(record["valid_mi"])
                    waited = 0 if score > max(running) else waited + 1
                    running.append(score)
                    candidates.append((epoch, [p.detach().clone() for p in self.explainer.parameters()], x))
                else:  # estimator epoch on greedy outputs of the current generator (§A.3, online re-training)
                    on_step(epoch, "explaining the training records")
                    x = self._embed(self.greedy_texts(train))
                    on_step(epoch, "estimator epoch")
                    for name, y in self._targets(train).items():
                        try:
                            self.estimators[name].fit(*self._with_replay(x[name], y, name), epochs=1)
                        except DivergedError:  # told by MMI's epoch, not by that one-epoch fit's
                            raise DivergedError("MMI", epoch, f"the {name} estimator's MI estimate",
                                                f"mine_lr (now {self.config.mine_lr:g})") from None
                    record.update(phase="estimator")
            record["seconds"] = time.perf_counter() - began
            self.history.append(record)
            if log:
                log(record)
            if waited >= self.config.patience:
                break
        if self.config.selection == "final":  # every candidate scored by the same, last estimators
            scores = [self._score(self._estimate(x, valid_targets)) for _, _, x in candidates]
        else:
            scores = running
        kept = int(np.argmax(scores))
        with torch.no_grad():
            for p, saved in zip(self.explainer.parameters(), candidates[kept][1]):
                p.copy_(saved)
        self.selection = {"rule": self.config.selection, "epochs": [c[0] for c in candidates], "scores": scores,
                          "running_scores": running, "kept_epoch": candidates[kept][0]}
        self.best_valid_score = scores[kept]
        system = getattr(self.explainer, "system", None)
        if isinstance(getattr(system, "alignments", None), list):
            system.alignments.append(alignment_record(self, len(train), data_name,
                                                      len(self.history) - history_before))
        return self
