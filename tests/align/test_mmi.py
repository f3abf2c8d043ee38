"""MMI on the planted corpus: rewards follow sentiment, the fine-tuning loop runs and is sound."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from whyrec.align.mine import one_hot_ratings
from whyrec.align.mmi import MMIConfig, MMIData, MMITrainer, policy_gradient_loss
from whyrec.data import ratio_split
from whyrec.data.synthetic import make_planted_corpus
from whyrec.data.text import Vocabulary, tokenize
from whyrec.errors import ConfigError
from whyrec.explain.interface import GRUExplainer
from whyrec.explain.sentence import MeanWordVectorEncoder
from whyrec.explain.targets import explanation_targets
from whyrec.systems.mt import MultiTask

# coupling 5.0: the weight these MMI tests were calibrated with (MT's default became 0.5 later; with it
# the rating-input test's tiny decoder still gave one sentence after its 7 MMI epochs)
TINY_MT = dict(coupling=5.0, factors=3, vocab_size=300, max_words=8, doc_words=12, doc_reviews=3, word_dim=16,
               word_vectors="random", encoder_hidden=12, decoder_hidden=24, batch_size=32, pg_batch=8, rollouts=2, d_samples=8,
               pg_steps=1, d_steps=2, adversarial_from=2, d_filters=4, d_widths=(1, 2, 3), lr=1e-2, decoder_lr=1e-2)


@pytest.fixture(scope="module")
def planted():
    return make_planted_corpus(n_users=60, n_items=20, reviews_per_user=10, seed=4).corpus


@pytest.fixture(scope="module")
def encoder(planted):
    vocab = Vocabulary.build([tokenize(t) for t in planted.texts], max_size=500)
    vectors = np.random.default_rng(0).standard_normal((len(vocab), 24)).astype(np.float32)
    return MeanWordVectorEncoder(vocab, vectors)


def _data(corpus, ratings=None) -> MMIData:
    refs = explanation_targets(corpus, None, 8)
    return MMIData(list(corpus.users), list(corpus.items), np.asarray(ratings if ratings is not None else corpus.ratings),
                   refs)


def test_policy_gradient_loss_uses_a_mean_over_k_baseline():
    reward = torch.tensor([1.0, 3.0, 5.0, 5.0])  # input 0: advantages −1, +1; input 1: 0, 0
    log_prob = torch.tensor([-2.0, -4.0, -1.0, -7.0], requires_grad=True)
    loss = policy_gradient_loss(reward, log_prob, k=2)
    assert float(loss.detach()) == pytest.approx(-((-1) * -2 + 1 * -4) / 4)
    loss.backward()
    assert log_prob.grad.tolist() == pytest.approx([0.25, -0.25, 0.0, 0.0])


def test_an_explanation_naming_the_right_sentiment_gets_a_higher_reward(planted, encoder):
    from whyrec.align.mine import MINE, MINEConfig

    mine = MINE(encoder.dim, 5, MINEConfig(hidden=64, lr=3e-3, batch_size=256, epochs=60, seed=0))
    mine.fit(encoder.encode(list(planted.texts)), one_hot_ratings(planted.ratings))
    texts = ["I found the strap excellent. Really amazing strap.", "Honestly the strap was horrible for me."]
    x = encoder.encode(texts)
    five, one = torch.as_tensor(one_hot_ratings([5, 5])), torch.as_tensor(one_hot_ratings([1, 1]))
    # the reward against a shuffled target that is a 1-star rating: T(x, 5) − T(x, 1)
    with torch.no_grad():
        reward = mine.network(x, five) - mine.network(x, one)
    assert float(reward[0]) > float(reward[1]) + 0.5


def test_mmi_fine_tuning_runs_alternates_and_keeps_the_best_state(planted, encoder):
    split = ratio_split(planted, seed=0)
    mt = MultiTask(epochs=2, **TINY_MT).fit(split.train, split.valid)
    explainer = GRUExplainer.from_mt(mt, "pair")
    train = _data(split.train, mt.predict_corpus(split.train))  # predicted ratings, the default target
    valid = _data(split.valid, mt.predict_corpus(split.valid))
    before = [p.detach().clone() for p in explainer.parameters()]
    trainer = MMITrainer(explainer, encoder, MMIConfig(samples=3, epochs=4, batch_size=32, lr=3e-3, mine_hidden=32,
                                                       mine_lr=3e-3, mine_batch_size=128, mine_pretrain_epochs=20,
                                                       max_batches_per_epoch=6))
    trainer.pretrain(list(split.train.texts), train)
    start = trainer.mutual_information(valid)["rating"]
    steps = []
    trainer.fit(train, valid, on_step=lambda epoch, what: steps.append((epoch, what)))
    phases = [h["phase"] for h in trainer.history]
    assert phases[:2] == ["generator", "estimator"]
    # the work within each epoch is told as it goes, a generator epoch's batches counted
    batches = min(6, len(train) // 32)
    assert steps[:batches + 1] == [(1, f"generator batch {b}/{batches}") for b in range(batches)] + [
        (1, "explaining the validation records")]
    assert steps[batches + 1:batches + 3] == [(2, "explaining the training records"), (2, "estimator epoch")]
    gen = [h for h in trainer.history if h["phase"] == "generator"]
    assert all(set(h["weights"]) == {"mi", "kl", "entropy"} for h in gen)
    assert all(np.isfinite([h["reward_mi"], h["kl"], h["entropy"], h["backbone"]]).all() for h in gen)
    assert gen[0]["entropy"] > 0
    chosen = trainer.selection
    assert chosen["rule"] == "final" and chosen["epochs"][0] == 0 and chosen["running_scores"][0] == start
    assert len(chosen["scores"]) == len(chosen["epochs"]) == 1 + len(gen)
    # the kept state is the candidate the final estimators score highest, the starting state included
    assert trainer.best_valid_score == max(chosen["scores"])
    assert chosen["kept_epoch"] == chosen["epochs"][int(np.argmax(chosen["scores"]))]
    assert trainer.mutual_information(valid)["rating"] == pytest.approx(trainer.best_valid_score)
    changed = any(not torch.equal(a, b) for a, b in zip(before, explainer.parameters()))
    assert changed == (chosen["kept_epoch"] != 0)
    # the reference copy is frozen and untouched
    assert all(not p.requires_grad for p in trainer.reference.parameters())
    assert all(torch.equal(a, b) for a, b in zip(before, trainer.reference.parameters()))
    assert len(explainer.explain(split.test.users[:3], split.test.items[:3])) == 3


def test_a_fit_from_a_script_records_the_alignment_on_the_system_it_tuned(planted, encoder, tmp_path):
    """An MT aligned by the README's own MMI steps (not ``whyrec align``) had saved a bundle that
    ``whyrec show`` and the service called never aligned: only the pipeline recorded alignments."""
    from whyrec.bundle import describe_bundle

    split = ratio_split(planted, seed=0)
    mt = MultiTask(epochs=1, **TINY_MT).fit(split.train, split.valid)
    small = MMIConfig(samples=2, epochs=2, batch_size=32, mine_hidden=8, mine_pretrain_epochs=1,
                      max_batches_per_epoch=2)
    train = _data(split.train, mt.predict_corpus(split.train))
    by_hand = GRUExplainer(mt.decoder("user"), mt.vocab, lambda u, i: mt._contexts_for("user", u, i).detach(), 9)
    MMITrainer(by_hand, encoder, small).fit(train)  # a decoder taken out by hand: no system to tell
    assert mt.alignments == []
    trainer = MMITrainer(GRUExplainer.from_mt(mt, "item", rating_input=True), encoder, small)
    trainer.pretrain(list(split.train.texts), train)
    trainer.fit(train)
    assert len(mt.alignments) == 1
    run = mt.alignments[0]
    assert {k: run[k] for k in ("method", "target", "variant", "rating_input", "data", "train_records",
                                "epochs_run", "kept_epoch", "rating_reward_encoder")} == {
        "method": "MMI", "target": "rating", "variant": "item", "rating_input": True, "data": None,
        "train_records": len(train), "epochs_run": 2, "kept_epoch": trainer.selection["kept_epoch"],
        "rating_reward_encoder": {"kind": "generic"}}
    assert run["settings"]["samples"] == 2
    # a second fit is a second alignment; its explainer uses the rating input the first one left
    MMITrainer(GRUExplainer.from_mt(mt, "item"), encoder, small).fit(train, data_name="planted/train")
    assert [(r["data"], r["rating_input"]) for r in mt.alignments] == [(None, True), ("planted/train", True)]
    trainer.fit(train, data_name="again")  # the first trainer once more: its own epochs, not its history's
    assert len(trainer.history) == 4 and mt.alignments[-1]["epochs_run"] == 2
    assert "aligned by MMI 3 times" in repr(mt)
    mt.save(tmp_path / "aligned")
    assert describe_bundle(tmp_path / "aligned")["alignments"] == mt.alignments


def test_a_reward_or_loss_that_is_not_finite_stops_mmi_before_the_explainer_changes(planted, encoder):
    """NaN rewards from a diverged estimator used to be stepped into the explainer."""
    from whyrec.errors import DivergedError

    split = ratio_split(planted, seed=0)
    mt = MultiTask(epochs=1, **TINY_MT).fit(split.train, split.valid)
    explainer = GRUExplainer.from_mt(mt, "pair")
    train = _data(split.train, mt.predict_corpus(split.train))
    trainer = MMITrainer(explainer, encoder, MMIConfig(samples=2, epochs=1, batch_size=16, mine_hidden=8,
                                                       mine_pretrain_epochs=1, max_batches_per_epoch=1))
    trainer.pretrain(list(split.train.texts), train)
    before = [p.detach().clone() for p in explainer.parameters()]
    network = trainer.estimators["rating"].network
    class NaNNetwork(torch.nn.Module):  # a diverged statistics network
        def __init__(self):
            super().__init__()
            self.weight = torch.nn.Parameter(torch.full((1,), float("nan")))

        def forward(self, x, y):
            return self.weight.expand(len(x))

    trainer.estimators["rating"].network = NaNNetwork()
    with pytest.raises(DivergedError, match=r"MMI: training diverged in epoch 1 \(the MI reward became NaN or "
                                            r"infinite\); lower mine_lr"):
        trainer.fit(train)
    assert all(torch.equal(a, b) for a, b in zip(before, explainer.parameters()))
    # an estimator that diverges in MMI's own estimator epoch is told by MMI's epoch
    trainer.estimators["rating"].network = network
    trainer.config.epochs = 2

    def diverge_after_the_generator_epoch(record):
        trainer.estimators["rating"].network = NaNNetwork()

    with pytest.raises(DivergedError, match=r"MMI: training diverged in epoch 2 \(the rating estimator's MI estimate "
                                            r"became NaN or infinite\); lower mine_lr"):
        trainer.fit(train, log=diverge_after_the_generator_epoch)
    trainer.estimators["rating"].network, trainer.config.epochs = network, 1
    before = [p.detach().clone() for p in explainer.parameters()]  # its generator epoch had stepped
    trainer.config.kl_weight = float("inf")
    with pytest.raises(DivergedError, match=r"the generator's loss became NaN or infinite\); lower lr .*kl_weight "
                                            r"\(now inf\)"):
        trainer.fit(train)
    assert all(torch.equal(a, b) for a, b in zip(before, explainer.parameters()))
    # a regulariser's weight so large that the gradient overflows: named, and not stepped into the explainer
    trainer.config.kl_weight, trainer.config.entropy_weight = 0.16, 1e30
    with pytest.raises(DivergedError, match=r"the generator's gradient became NaN or infinite\); lower lr .* or "
                                            r"entropy_weight \(now 1e\+30\)"):
        trainer.fit(train)
    assert all(torch.equal(a, b) for a, b in zip(before, explainer.parameters()))
    trainer.config.entropy_weight = MMIConfig().entropy_weight
    # a learning rate so large that one step makes the explainer NaN: sampling from it fails next
    trainer.config.kl_weight, trainer.config.max_batches_per_epoch = 0.16, 3
    trainer.optimizer = torch.optim.Adam(explainer.parameters(), lr=1e20)
    trainer.config.lr = 1e20
    with pytest.raises(DivergedError, match=r"MMI: training diverged in epoch 1 \(the (weights|word probabilities) "
                                            r"became NaN or infinite\); lower lr \(now 1e\+20\)"):
        trainer.fit(train)


class Stub:
    """An explainer with every method of the interface and nothing behind them."""

    def frozen_copy(self):
        return self

    def parameters(self):
        return [torch.nn.Parameter(torch.zeros(1))]

    def seed_sampling(self, seed):
        self.seed = seed

    def _unused(self, *args, **kwargs):
        raise AssertionError("not called here")

    contexts = repeat = sample = log_prob = nll = texts = explain = _unused


def test_an_explainer_lacking_interface_methods_is_refused_by_name(encoder):
    class Partial(Stub):
        log_prob = nll = None  # as if never written

    with pytest.raises(ConfigError, match=r"MMI: the explainer \(Partial\) lacks log_prob, nll of the explainer "
                                          r"interface \(whyrec.explain.interface.Explainer\)"):
        MMITrainer(Partial(), encoder)
    assert MMITrainer(Stub(), encoder, MMIConfig(seed=7)).explainer.seed == 7


def test_config_errors(encoder):

    with pytest.raises(ConfigError, match="at least 2 training records"):
        MMITrainer(Stub(), encoder).fit(MMIData(["u"], ["i"], np.array([4.0]), [["good"]]))
    with pytest.raises(ConfigError, match="target"):
        MMIConfig(target="style")
    with pytest.raises(ConfigError, match="2 samples"):
        MMIConfig(samples=1)
    with pytest.raises(ConfigError, match="MMI: samples must be at most 64, got 65"):  # 10⁵ had filled 22 GB
        MMIConfig(samples=65)
    assert MMIConfig(samples=64).samples == 64
    with pytest.raises(ConfigError, match="MMI: batch_size must be at least 2"):  # was an IndexError in fit
        MMIConfig(batch_size=1)
    with pytest.raises(ConfigError, match="selection"):
        MMIConfig(selection="best")
    for epsilon in (-0.1, 1.1):  # the feature reward's share of the joint reward
        with pytest.raises(ConfigError, match=rf"MMI: epsilon must be in \[0, 1\], got {epsilon}"):
            MMIConfig(target="joint", epsilon=epsilon)
    assert [MMIConfig(target="joint", epsilon=e).epsilon for e in (0.0, 1.0)] == [0.0, 1.0]  # either reward alone
    with pytest.raises(ConfigError, match="estimator_replay"):
        MMIConfig(estimator_replay=-0.5)
    with pytest.raises(ConfigError, match="adapter_lr"):
        MMIConfig(adapter_lr=0.0)
    with pytest.raises(ConfigError, match="kl_weight must be at least 0"):
        MMIConfig(kl_weight=-0.1)
    with pytest.raises(ConfigError, match="epochs must be a whole number"):
        MMIConfig(epochs="6")
    with pytest.raises(ConfigError, match=r"MMI: unknown setting\(s\) \['epoch'\] \(did you mean 'epochs'\?\); "
                                          r"known: .*epochs"):
        MMIConfig.from_dict({"epoch": 6})  # what `whyrec align --set epoch=6` reaches
    with pytest.raises(ConfigError, match=r"unknown setting\(s\) \['epoch'\]"):
        MMITrainer(Stub(), encoder, epoch=6)


def test_the_rating_input_adapter_gets_its_own_learning_rate(planted, encoder):
    split = ratio_split(planted, seed=0)
    mt = MultiTask(epochs=1, **TINY_MT).fit(split.train, split.valid)
    fed = GRUExplainer.from_mt(copy.deepcopy(mt), "pair", rating_input=True)
    groups = MMITrainer(fed, encoder, MMIConfig(lr=1e-4, adapter_lr=5e-2)).optimizer.param_groups
    assert [g["lr"] for g in groups] == [1e-4, 5e-2]
    assert [id(p) for p in groups[1]["params"]] == [id(p) for p in fed.rating_input.parameters()]
    assert sum(len(g["params"]) for g in groups) == len(list(fed.parameters()))
    # without an adapter lr, or without an adapter, one group at lr
    for explainer, config in ((fed, MMIConfig(lr=1e-4)), (GRUExplainer.from_mt(mt, "pair"), MMIConfig(adapter_lr=5e-2))):
        groups = MMITrainer(explainer, encoder, config).optimizer.param_groups
        assert len(groups) == 1 and groups[0]["lr"] == config.lr
        assert len(groups[0]["params"]) == len(list(explainer.parameters()))


def test_the_seed_also_seeds_the_explainers_draws(planted, encoder):
    """MMIConfig.seed used to seed the estimators and permutations only: every seed sampled the
    same explanations from the explainer's own generator (seeded 0), so runs over seeds varied less
    than they should."""
    split = ratio_split(planted, seed=0)
    mt = MultiTask(epochs=1, **TINY_MT).fit(split.train, split.valid)
    users, items = list(split.train.users[:16]), list(split.train.items[:16])

    def drawn(seed: int) -> torch.Tensor:
        explainer = GRUExplainer.from_mt(copy.deepcopy(mt), "pair")
        explainer.sample(explainer.contexts(users, items))  # draws before MMI do not matter
        MMITrainer(explainer, encoder, MMIConfig(seed=seed, mine_hidden=8))
        rep = explainer.repeat(explainer.contexts(users, items), 4)
        return explainer.sample(rep).tokens

    assert torch.equal(drawn(1), drawn(1))
    assert not torch.equal(drawn(0), drawn(1))
    # seed 0 draws what the explainer's own generator drew before this (runs recorded at seed 0 stand)
    explainer = GRUExplainer.from_mt(copy.deepcopy(mt), "pair")
    rep = explainer.repeat(explainer.contexts(users, items), 4)
    assert torch.equal(explainer.sample(rep).tokens, drawn(0))


def test_estimator_replay_mixes_pretraining_pairs_into_online_estimator_epochs(planted, encoder):
    split = ratio_split(planted, seed=0)
    mt = MultiTask(epochs=1, **TINY_MT).fit(split.train, split.valid)
    train = _data(split.train)  # pre-training pairs: the reviews with their observed ratings
    trainer = MMITrainer(GRUExplainer.from_mt(mt, "pair"), encoder,
                         MMIConfig(estimator_replay=0.5, mine_hidden=8, mine_pretrain_epochs=1))
    generated = torch.zeros(10, encoder.dim), torch.zeros(10, 5)
    assert trainer._with_replay(*generated, "rating")[0] is generated[0]  # nothing to replay before pre-training
    trainer.pretrain(list(split.train.texts), train)
    real_x = encoder.encode(list(split.train.texts))
    x, y = trainer._with_replay(*generated, "rating")
    assert x.shape == (15, encoder.dim) and y.shape == (15, 5)
    assert torch.equal(x[:10], generated[0]) and torch.equal(y[:10], generated[1])
    # each replayed row is a pre-training pair: a train review's embedding with that review's rating
    real_y = torch.as_tensor(one_hot_ratings(split.train.ratings))
    for k in range(10, 15):
        same_text = torch.cdist(x[k:k + 1], real_x)[0] < 1e-5
        assert same_text.any() and (real_y[same_text] == y[k]).all(dim=1).any()
    # never more than there is to replay
    big = torch.zeros(4 * len(real_x), encoder.dim), torch.zeros(4 * len(real_x), 5)
    assert trainer._with_replay(*big, "rating")[0].shape[0] == 5 * len(real_x)
    plain = MMITrainer(GRUExplainer.from_mt(mt, "pair"), encoder, MMIConfig(mine_hidden=8, mine_pretrain_epochs=1))
    plain.pretrain(list(split.train.texts), train)
    assert plain._with_replay(*generated, "rating")[0] is generated[0]


def test_the_running_rule_keeps_the_state_its_own_epoch_scored_best(planted, encoder):
    split = ratio_split(planted, seed=0)
    mt = MultiTask(epochs=1, **TINY_MT).fit(split.train, split.valid)
    explainer = GRUExplainer.from_mt(mt, "pair")
    train, valid = _data(split.train, mt.predict_corpus(split.train)), _data(split.valid, mt.predict_corpus(split.valid))
    trainer = MMITrainer(explainer, encoder, MMIConfig(samples=2, epochs=3, batch_size=32, lr=3e-2, mine_hidden=16,
                                                       mine_pretrain_epochs=5, max_batches_per_epoch=3,
                                                       selection="running", patience=5))
    trainer.pretrain(list(split.train.texts), train)
    trainer.fit(train, valid)
    chosen = trainer.selection
    assert chosen["scores"] == chosen["running_scores"] and chosen["epochs"] == [0, 1, 3]
    assert chosen["kept_epoch"] == chosen["epochs"][int(np.argmax(chosen["running_scores"]))]


def test_each_target_can_read_its_own_encoder(planted, encoder):
    from whyrec.explain.sentence import RatingTunedEncoder

    split = ratio_split(planted, seed=0)
    mt = MultiTask(epochs=1, **TINY_MT).fit(split.train, split.valid)
    explainer = GRUExplainer.from_mt(mt, "pair")
    tuned = RatingTunedEncoder(encoder, hidden=8, epochs=50).fit(list(split.train.texts), split.train.ratings)
    calls = []

    class Counting:  # the generic encoder, counting what it is asked to embed
        dim = encoder.dim

        def encode(self, texts):
            calls.append(len(texts))
            return encoder.encode(texts)

    features = ["strap"] * len(split.train)
    data = MMIData(list(split.train.users), list(split.train.items), np.asarray(split.train.ratings),
                   explanation_targets(split.train, None, 8), features)
    trainer = MMITrainer(explainer, {"rating": tuned, "feature": Counting()},
                         MMIConfig(target="joint", samples=2, epochs=1, batch_size=32, mine_hidden=8,
                                   mine_pretrain_epochs=2, max_batches_per_epoch=1))
    assert (trainer.estimators["rating"].x_dim, trainer.estimators["feature"].x_dim) == (8, encoder.dim)
    assert trainer.estimators["feature"].y_dim == encoder.dim
    trainer.pretrain(list(split.train.texts), data)
    calls.clear()
    trainer.fit(data)
    assert calls  # the feature estimator read the generic encoder, the rating one the tuned layer
    assert set(trainer.mutual_information(data)) == {"rating", "feature"}
    with pytest.raises(ConfigError, match="no sentence encoder for the feature target"):
        MMITrainer(explainer, {"rating": tuned}, MMIConfig(target="feature"))


def test_an_explainer_blind_to_its_inputs_learns_to_follow_the_rating_through_the_rating_input(planted, encoder):
    """MMI's reward is the information the explanation carries about the rating, whichever way
    round: a run may as well learn to write the words of 1 star for 5 stars. So one run's gain in
    sentiment accuracy is a draw (on a 2-core Intel VM, from −21.7 to +45.0 points by MMI seed,
    after a one-seed version of this test had cleared a bar of +15 on AMD VMs); the test holds
    the mean over five MMI seeds (+22 to +25 for MT seeds 0–2 there) to above 10 points."""
    from whyrec.explain.interface import RatingInput
    from whyrec.metrics.alignment import SentimentJudge, sentiment_accuracy

    split = ratio_split(planted, seed=0)
    mt = MultiTask(**{**TINY_MT, "epochs": 4, "adversarial_from": 99}).fit(split.train, split.valid)
    observed = {(u, i): r for part in (split.train, split.valid, split.test)
                for u, i, r in zip(part.users, part.items, part.ratings)}
    judge = SentimentJudge(epochs=100).fit(list(split.train.texts), split.train.ratings)
    test, train = split.test, _data(split.train)  # observed ratings: the ones the rating input is fed
    gains = []
    for seed in range(5):
        decoder = copy.deepcopy(mt.generator["decoder_pair"])
        # every input gets the same (zero) context: without the rating, all explanations are one sentence
        explainer = GRUExplainer(decoder, mt.vocab, lambda users, items: torch.zeros(len(users), decoder.context_dim),
                                 mt.config.max_words + 1, rating_input=RatingInput(decoder.context_dim),
                                 rating_fn=lambda users, items: np.array([observed[p] for p in zip(users, items)]))
        before = explainer.explain(test.users, test.items)
        assert len(set(before)) == 1
        trainer = MMITrainer(explainer, encoder, MMIConfig(samples=3, epochs=15, batch_size=32, lr=5e-2, mine_hidden=32,
                                                           mine_lr=3e-3, mine_batch_size=128, mine_pretrain_epochs=20,
                                                           max_batches_per_epoch=8, seed=seed))
        trainer.pretrain(list(split.train.texts), train)
        trainer.fit(train, _data(split.valid))
        after = explainer.explain(test.users, test.items)
        gains.append(sentiment_accuracy(judge.predict(after), test.ratings)["acc5"]
                     - sentiment_accuracy(judge.predict(before), test.ratings)["acc5"])
        assert float(trainer.reference.rating_input.shift.weight.abs().sum()) == 0.0  # π_ref keeps the zero shift
    assert np.mean(gains) > 10, gains


def test_mmi_data_refuses_lists_of_different_lengths_and_missing_ratings():
    with pytest.raises(ConfigError, match=r"one entry per record in each list, got \{'users': 2, 'items': 1"):
        MMIData(["a", "b"], ["c"], np.array([4.0]), [["x"]])
    with pytest.raises(ConfigError, match="'features': 2"):
        MMIData(["a"], ["c"], np.array([4.0]), [["x"]], ["f", "g"])
    with pytest.raises(ConfigError, match="a rating is NaN"):
        MMIData(["a"], ["c"], np.array([np.nan]), [["x"]])
    data = MMIData(["a", "b"], ["c", "d"], [4, 5], [["x"], ["y"]])
    assert data.ratings.dtype == np.float64 and len(data.take(np.array([1]))) == 1


def test_the_defaults_are_the_published_settings(encoder):
    """METHODS.md §A: K = 5 samples and Adam at 1e-4 (§A.5), ε = 0.2 (§A.8, the paper's Table 11),
    the fixed weights 0.16 and 0.0005 of KL and entropy (the code's fixed-weight mode, §F.2), DWA's
    T = 2 (Liu et al. 2019); the estimators as the MMI code's MINE trains them (§A.3: hidden 100,
    Adam 1e-4, batches of 1024, 50 epochs, moving-average rate 0.01)."""
    from whyrec.align.mine import MINEConfig

    config = MMIConfig()
    assert (config.samples, config.lr, config.epsilon, config.kl_weight, config.entropy_weight,
            config.dwa_temperature) == (5, 1e-4, 0.2, 0.16, 0.0005, 2.0)
    mine = MINEConfig()
    assert (mine.hidden, mine.lr, mine.batch_size, mine.epochs, mine.ma_rate) == (100, 1e-4, 1024, 50, 0.01)
    built = MMITrainer(Stub(), encoder).estimators["rating"].config
    assert (built.hidden, built.lr, built.batch_size, built.epochs, built.ma_rate) == \
        (mine.hidden, mine.lr, mine.batch_size, mine.epochs, mine.ma_rate)
