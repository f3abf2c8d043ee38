"""MMI's rules checked by hand (METHODS.md §A) on an explainer small enough to differentiate by
hand, a softmax over four fixed sentences: a generator step's loss and its clipping, the batches
of an epoch, patience, the joint score, and the features each input is explained with."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from whyrec.align.mine import one_hot_ratings
from whyrec.align.mmi import MMIConfig, MMIData, MMITrainer
from whyrec.errors import ConfigError
from whyrec.explain.seq2seq import Samples

SENTENCES = ["great sound", "poor strings", "fine price", "bad cable"]
FEATURES = ["sound", "strings", "price"]


class SentencePolicy:
    """π(e) = softmax(θ)[e] over :data:`SENTENCES`, whatever the input: the explainer interface with
    nothing in it but the policy. It keeps the sentences it samples."""

    system = None

    def __init__(self, theta: torch.Tensor, generator: torch.Generator | None = None) -> None:
        self.theta = nn.Parameter(theta.clone())
        self.generator = generator or torch.Generator()
        self.drawn: list[torch.Tensor] = []  # the sampled sentences of each call (greedy ones not)
        self.features_seen: list[list[str] | None] = []

    def contexts(self, users, items, features=None):
        self.features_seen.append(None if features is None else list(features))
        return torch.zeros(len(users), 1)

    def repeat(self, ctx, k):
        return ctx.repeat_interleave(k, dim=0)

    def sample(self, ctx, greedy=False):
        probs = torch.softmax(self.theta.detach(), 0).expand(len(ctx), -1)
        if greedy:
            return Samples(probs.argmax(1, keepdim=True), None, torch.ones(len(ctx), dtype=torch.long))
        tokens = torch.multinomial(probs, 1, generator=self.generator)
        self.drawn.append(tokens)
        return Samples(tokens, None, torch.ones(len(ctx), dtype=torch.long))

    def seed_sampling(self, seed):
        self.generator.manual_seed(seed)

    def log_prob(self, ctx, tokens):
        return torch.log_softmax(self.theta, 0)[tokens[:, 0]]

    def nll(self, ctx, targets):
        return -torch.log_softmax(self.theta, 0)[[SENTENCES.index(" ".join(t)) for t in targets]].mean()

    def texts(self, tokens):
        return [SENTENCES[t] for t in tokens[:, 0].tolist()]

    def explain(self, users, items, method="greedy", features=None):
        return self.texts(self.sample(self.contexts(users, items), greedy=method == "greedy").tokens)

    def parameters(self):
        return iter([self.theta])

    def frozen_copy(self):
        copy = SentencePolicy(self.theta.detach(), self.generator)
        copy.theta.requires_grad_(False)
        return copy


class TableEncoder:
    """A fixed random vector per sentence and per feature word."""

    dim = 3

    def __init__(self) -> None:
        table = torch.randn(len(SENTENCES) + len(FEATURES), self.dim, generator=torch.Generator().manual_seed(7))
        self.table = dict(zip(SENTENCES + FEATURES, table))

    def encode(self, texts):
        return torch.stack([self.table[t] for t in texts])


def _give_a_slope(trainer) -> None:
    """Untrained, T is ≈ 0 everywhere (exactly 0 at a small width, its ReLUs all off): N(0, 1) weights."""
    scale = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for estimator in trainer.estimators.values():
            for weight in estimator.network.parameters():
                weight.copy_(torch.randn(weight.shape, generator=scale))


def _advantage_loss(reward, log_prob, k):
    """−mean[(r − r̄)·log π(e)], r̄ the mean of the same input's K rewards (§A.5)."""
    r = reward.reshape(-1, k)
    return -((r - r.mean(1, keepdim=True)).reshape(-1) * log_prob).mean()


@pytest.mark.parametrize("target, backbone_weight", [("joint", 0.4), ("rating", 0.4), ("feature", 0.0)])
def test_a_generator_step_descends_the_mmi_loss_written_out_by_hand(target, backbone_weight):
    """L = λ_MI·L_MI + λ_KL·c_KL·L_KL + λ_H·c_H·L_H + w_b·L_backbone with
    r_MI = T(x, y) − T(x, y_π) (π one permutation of the batch, the same for its K samples; joint:
    (1 − ε)·r_MI^R + ε·r_MI^F), r_KL = log π − log π_ref and r_H = −log π; L_KL enters with the
    opposite sign of the other two. Every weight differs from every other, so that none can stand
    for another; plain SGD at lr 1 makes the step the gradient itself. With w_b = 0 the backbone
    loss is neither taken nor reported."""
    k, encoder = 3, TableEncoder()
    policy = SentencePolicy(torch.tensor([0.3, -0.2, 0.1, 0.5]))
    trainer = MMITrainer(policy, encoder, MMIConfig(target=target, epsilon=0.3, samples=k, kl_weight=0.5,
                                                    entropy_weight=0.25, backbone_weight=backbone_weight, mine_hidden=6,
                                                    seed=2))
    _give_a_slope(trainer)
    with torch.no_grad():
        policy.theta.add_(torch.tensor([0.4, -0.3, 0.2, 0.1]))  # π moves away from π_ref
    trainer.optimizer = torch.optim.SGD([policy.theta], lr=1.0)
    batch = MMIData(["a", "b", "c"], ["x", "y", "z"], [1.0, 4.0, 5.0],
                    [["great", "sound"], ["poor", "strings"], ["fine", "price"]], FEATURES)
    weights = {"mi": 0.7, "kl": 1.3, "entropy": 2.1}
    before = policy.theta.detach().clone()
    permutation = torch.randperm(3, generator=torch.Generator().manual_seed(2))  # the trainer's first
    stats = trainer._generator_step(batch, weights)

    tokens = policy.drawn[-1][:, 0]
    assert len(tokens) == 3 * k and len(set(tokens.tolist())) > 1 and permutation.tolist() != [0, 1, 2]
    theta = before.clone().requires_grad_(True)
    log_prob = torch.log_softmax(theta, 0)[tokens]
    x = encoder.encode([SENTENCES[t] for t in tokens.tolist()])
    targets = {"rating": torch.as_tensor(one_hot_ratings(batch.ratings)), "feature": encoder.encode(FEATURES)}

    def mi_reward(name):
        statistics = trainer.estimators[name].network
        y = targets[name]
        joint, shuffled = y.repeat_interleave(k, 0), y[permutation].repeat_interleave(k, 0)
        return (statistics(x, joint) - statistics(x, shuffled)).detach()

    r_mi = 0.7 * mi_reward("rating") + 0.3 * mi_reward("feature") if target == "joint" else mi_reward(target)
    r_kl = (log_prob - torch.log_softmax(before - torch.tensor([0.4, -0.3, 0.2, 0.1]), 0)[tokens]).detach()
    r_h = -log_prob.detach()
    backbone = -torch.log_softmax(theta, 0)[:3].mean()  # the references are sentences 0, 1 and 2
    loss = (0.7 * _advantage_loss(r_mi, log_prob, k) - 1.3 * 0.5 * _advantage_loss(r_kl, log_prob, k)
            + 2.1 * 0.25 * _advantage_loss(r_h, log_prob, k) + backbone_weight * backbone)
    loss.backward()
    assert 1e-3 < float(theta.grad.norm()) < 5.0  # below the clipping norm: the step is the gradient
    torch.testing.assert_close(policy.theta.detach(), before - theta.grad, atol=1e-6, rtol=1e-6)
    reported = float(backbone.detach()) if backbone_weight else 0.0
    assert stats == pytest.approx({"reward_mi": float(r_mi.mean()), "kl": float(r_kl.mean()),
                                   "entropy": float(r_h.mean()), "backbone": reported}, abs=1e-6)


def test_any_explainer_of_the_interface_is_fine_tuned_from_two_records_up():
    """The whole loop on the sentence policy: generator and estimator epochs alternate, the kept
    state is one of those scored, and two records are enough (the reward needs another record's
    target); one is refused."""
    data = MMIData(["a", "b"], ["x", "y"], [1.0, 5.0], [["great", "sound"], ["bad", "cable"]], ["sound", "price"])
    policy = SentencePolicy(torch.zeros(4))
    trainer = MMITrainer(policy, TableEncoder(), MMIConfig(samples=2, epochs=3, batch_size=2, lr=0.1, mine_hidden=6,
                                                            mine_batch_size=2, mine_pretrain_epochs=2, patience=3))
    trainer.pretrain(["great sound", "bad cable"], data)
    trainer.fit(data)
    assert [r["phase"] for r in trainer.history] == ["generator", "estimator", "generator"]
    assert trainer.selection["epochs"] == [0, 1, 3] and trainer.selection["kept_epoch"] in (0, 1, 3)
    with pytest.raises(ConfigError, match="at least 2 training records are needed, got 1"):
        trainer.fit(data.take([0]))


def test_a_gradient_beyond_norm_5_is_clipped_to_it():
    """§A.5: gradient clipping at 5.0. A backbone weight of 100 makes the gradient far longer."""
    policy = SentencePolicy(torch.tensor([3.0, -3.0, 0.0, 0.0]))
    trainer = MMITrainer(policy, TableEncoder(), MMIConfig(samples=2, backbone_weight=100.0, mine_hidden=6))
    trainer.optimizer = torch.optim.SGD([policy.theta], lr=1.0)
    before = policy.theta.detach().clone()
    trainer._generator_step(MMIData(["a", "b"], ["x", "y"], [1.0, 5.0], [["poor", "strings"]] * 2),
                            {"mi": 1.0, "kl": 1.0, "entropy": 1.0})
    assert float((policy.theta.detach() - before).norm()) == pytest.approx(5.0, rel=1e-5)


def _scripted_fit(scores, patience, records=4, batch_size=2, **settings):
    """A fit whose validation scores are ``scores`` in turn (the starting state's first), kept by the
    running rule; returns the trainer and its policy."""
    names = [f"u{n}" for n in range(records)]
    data = MMIData(names, names, [1.0 + n % 5 for n in range(records)], [["fine", "price"]] * records)
    policy = SentencePolicy(torch.zeros(4))
    trainer = MMITrainer(policy, TableEncoder(), MMIConfig(samples=2, epochs=2 * len(scores), batch_size=batch_size,
                                                            patience=patience, selection="running", mine_hidden=6,
                                                            mine_batch_size=2, **settings))
    _give_a_slope(trainer)
    script = iter(scores)
    trainer._score = lambda mi: next(script)
    return trainer.fit(data), policy


@pytest.mark.parametrize("scores, patience, generator_epochs, kept", [
    ([1.0, 0.5, 0.4, 9.0], 2, 2, 0),  # two generator epochs without a gain: stop after the second
    ([1.0, 0.5, 2.0, 0.1, 0.1, 9.0], 2, 4, 3),  # a gain starts the count again
    ([1.0, 0.5, 0.7, 9.0], 2, 2, 0),  # above an earlier score but not above the best: no gain
    ([1.0, 1.0, 1.0, 9.0], 2, 2, 0),  # nor is equalling it
    ([1.0, 0.5, 9.0], 1, 1, 0),
])
def test_patience_counts_generator_epochs_without_a_better_validation_score(scores, patience, generator_epochs,
                                                                          kept):
    trainer, _ = _scripted_fit(scores, patience)
    phases = [r["phase"] for r in trainer.history]
    assert phases == ["generator", "estimator"] * (generator_epochs - 1) + ["generator"]
    assert trainer.selection["running_scores"] == scores[:generator_epochs + 1]
    assert trainer.selection["kept_epoch"] == kept
    assert all(0 <= record["seconds"] < 60 for record in trainer.history)
    # each estimator epoch trains the estimator one epoch further on the generator's explanations
    assert len(trainer.estimators["rating"].history) == generator_epochs - 1


def test_an_epoch_takes_every_batch_of_two_or_more_and_max_batches_cuts_them():
    """Four records in batches of 2 are two generator steps, each of its 2 inputs × K samples;
    five records are too (the batch of one left over is dropped: its reward would need another
    record's target); ``max_batches_per_epoch`` 1 keeps one (its default, 0, keeps them all)."""
    for records, cut, steps in ((4, 0, 2), (5, 0, 2), (4, 1, 1)):
        cut_setting = {"max_batches_per_epoch": cut} if cut else {}  # 0: the default
        _, policy = _scripted_fit([1.0, 0.5], patience=1, records=records, **cut_setting)
        assert [len(drawn) for drawn in policy.drawn] == [4] * steps, (records, cut)


def test_dwa_is_given_the_epochs_mean_losses():
    """−r̄_MI, r̄_KL and −r̄_H of the generator epoch (seed 2: a batch permutation that moves)."""
    trainer, _ = _scripted_fit([1.0, 0.5], patience=1, records=3, batch_size=3, seed=2)
    (epoch,) = trainer.history
    assert epoch["reward_mi"] != 0 and epoch["kl"] == 0  # π is π_ref until its first step
    assert trainer.dwa.epoch_losses == [{"mi": -epoch["reward_mi"], "kl": epoch["kl"], "entropy": -epoch["entropy"]}]


def test_the_joint_score_is_the_joint_rewards_mix_of_the_two_estimates():
    trainer = MMITrainer(SentencePolicy(torch.zeros(4)), TableEncoder(),
                         MMIConfig(target="joint", epsilon=0.3, mine_hidden=6))
    assert trainer._score({"rating": 2.0, "feature": 10.0}) == pytest.approx(0.7 * 2.0 + 0.3 * 10.0)


def test_greedy_explanations_are_made_in_chunks_each_with_its_own_features():
    policy = SentencePolicy(torch.tensor([0.0, 0.0, 1.0, 0.0]))
    trainer = MMITrainer(policy, TableEncoder(), MMIConfig(target="feature", mine_hidden=6))
    data = MMIData(["a", "b", "c"], ["x", "y", "z"], [1.0, 2.0, 3.0], [["fine", "price"]] * 3, FEATURES)
    policy.features_seen.clear()
    assert trainer.greedy_texts(data, batch_size=2) == ["fine price"] * 3
    assert policy.features_seen == [["sound", "strings"], ["price"]]
