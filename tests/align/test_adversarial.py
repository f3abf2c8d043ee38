import pytest
import torch

from whyrec.align.adversarial import ReviewDiscriminator, discriminator_loss, reinforce_loss, rollout_rewards
from whyrec.explain.seq2seq import ContextGRUDecoder, sample
import torch.nn as nn


def test_discriminator_shapes_and_short_inputs():
    d = ReviewDiscriminator(30, [5, 7], word_dim=6, owner_dim=3, filters=4, pad=2)
    tokens = torch.randint(3, 30, (4, 2))  # shorter than the widest filter
    owners = torch.tensor([[0, 1], [1, 2], [4, 6], [3, 0]])
    assert d(tokens, owners).shape == (4,)
    # it is read as the same words followed by padding up to the widest filter (5)
    d.eval()
    padded = torch.cat([tokens, torch.full((4, 3), 2)], dim=1)
    torch.testing.assert_close(d(tokens, owners), d(padded, owners))


def test_discriminator_loss_is_balanced_bce():
    class Fixed(nn.Module):
        pad = 0

        def forward(self, tokens, owners):
            return tokens[:, 0].float()  # logit = first token

    real = torch.tensor([[2], [0]])
    fake = torch.tensor([[-1], [1], [3]])
    loss, acc = discriminator_loss(Fixed(), real, torch.zeros(2, 1), fake, torch.zeros(3, 1))
    sp = torch.nn.functional.softplus
    expected = 0.5 * ((sp(torch.tensor(-2.0)) + sp(torch.tensor(0.0))) / 2
                      + (sp(torch.tensor(-1.0)) + sp(torch.tensor(1.0)) + sp(torch.tensor(3.0))) / 3)
    torch.testing.assert_close(loss, expected)
    assert acc == pytest.approx(0.5 * (1 / 2 + 1 / 3))


def test_discriminator_loss_pads_the_narrower_side_to_the_wider():
    class CountsWords(nn.Module):
        pad = 0

        def forward(self, tokens, owners):
            return (tokens != self.pad).sum(1).float() - 2  # logit = words − 2

    real, fake = torch.tensor([[5, 5, 5]]), torch.tensor([[5, 0], [5, 5]])  # widths 3 and 2: logits 1; −1, 0
    loss, acc = discriminator_loss(CountsWords(), real, torch.zeros(1, 1), fake, torch.zeros(2, 1))
    sp = torch.nn.functional.softplus
    real_loss, fake_loss = sp(torch.tensor(-1.0)), (sp(torch.tensor(-1.0)) + sp(torch.tensor(0.0))) / 2
    torch.testing.assert_close(loss, 0.5 * (real_loss + fake_loss))
    # a real review is told when D > ½, a generated one when D ≤ ½ (the undecided logit 0 counts for it)
    assert acc == 1.0


def test_reinforce_loss_hand_computed():
    logp = torch.tensor([[-1.0, -2.0], [-0.5, -0.1]], requires_grad=True)
    rewards = torch.tensor([[1.0, 0.4], [0.0, 0.0]])
    lengths = torch.tensor([2, 1])
    loss = reinforce_loss(logp, rewards, lengths)
    # step 0 baseline 0.5: advantages 0.5, −0.5; step 1 only row 0 (baseline 0.4): advantage 0
    expected = -(0.5 * -1.0 + -0.5 * -0.5) / 2
    assert loss.item() == pytest.approx(expected)
    loss.backward()
    torch.testing.assert_close(logp.grad, torch.tensor([[-0.25, 0.0], [0.25, 0.0]]))
    # three sequences of two steps: the sum is divided by the batch, B = 3, not by the steps
    logp = torch.tensor([[-1.0, -2.0], [-0.5, -0.1], [-3.0, -1.0]])
    rewards = torch.tensor([[1.0, 0.4], [0.0, 0.0], [0.5, 0.1]])
    # step 0 baseline 0.5: advantages 0.5, −0.5, 0; step 1 rows 0 and 2, baseline 0.25: 0.15, −0.15
    expected = -(0.5 * -1.0 + -0.5 * -0.5 + 0.0 * -3.0 + 0.15 * -2.0 + -0.15 * -1.0) / 3
    assert reinforce_loss(logp, rewards, torch.tensor([2, 1, 2])).item() == pytest.approx(expected)


def test_rollout_rewards_final_step_is_discriminator():
    torch.manual_seed(0)
    dec = ContextGRUDecoder(nn.Embedding(15, 4, padding_idx=2), 3, 6, dropout=0.0).eval()
    disc = ReviewDiscriminator(15, [4], word_dim=4, filters=3, pad=2).eval()
    ctx, owners = torch.randn(5, 3), torch.tensor([[0], [1], [2], [3], [0]])
    gen = torch.Generator().manual_seed(1)
    s = sample(dec, ctx, 0, 1, 2, max_len=6, keep_hidden=True, generator=gen)
    r = rollout_rewards(dec, disc, ctx, owners, s, n_rollouts=3, bos=0, eos=1, pad=2, generator=gen)
    final = disc.prob(s.tokens, owners)
    torch.testing.assert_close(r[torch.arange(5), s.lengths - 1], final)
    assert ((r >= 0) & (r <= 1)).all()
    after = torch.arange(r.shape[1])[None, :] >= s.lengths[:, None]
    assert (r[after] == 0).all()
    # every prefix before the last token, the first word's too, is scored by its rollouts: D > 0
    before = torch.arange(r.shape[1])[None, :] < (s.lengths - 1)[:, None]
    assert before.any() and (r[before] > 0).all()
    one = rollout_rewards(dec, disc, ctx, owners, s, n_rollouts=1, bos=0, eos=1, pad=2, generator=gen)
    assert (one[before] > 0).all()  # a single rollout is a rollout
    # no rollouts: the final D alone, nothing before it
    alone = rollout_rewards(dec, disc, ctx, owners, s, n_rollouts=0, bos=0, eos=1, pad=2, generator=gen)
    torch.testing.assert_close(alone[torch.arange(5), s.lengths - 1], final)
    assert (alone[before] == 0).all()


def test_rollouts_continue_each_prefix_from_the_decoder_state_after_it():
    """Q_{b,t} for t before the last token: the mean D of rollouts sampled on from the prefix
    y_1..y_t with the GRU state that has read <bos>, y_1..y_{t−1} (computed here step by step,
    with the same draws)."""
    torch.manual_seed(2)
    dec = ContextGRUDecoder(nn.Embedding(15, 4, padding_idx=2), 3, 6, dropout=0.0).eval()
    disc = ReviewDiscriminator(15, [4], word_dim=4, filters=3, pad=2).eval()
    ctx, owners = torch.randn(4, 3), torch.tensor([[0], [1], [2], [3]])
    s = sample(dec, ctx, 0, 1, 2, max_len=5, keep_hidden=True, generator=torch.Generator().manual_seed(3))
    rewards = rollout_rewards(dec, disc, ctx, owners, s, n_rollouts=2, bos=0, eos=1, pad=2,
                              generator=torch.Generator().manual_seed(4))
    draws = torch.Generator().manual_seed(4)
    hidden, fed = None, torch.zeros(4, dtype=torch.long)  # <bos>
    for t in range(1, s.tokens.shape[1]):
        live = s.lengths > t
        if not live.any():
            break
        with torch.no_grad():
            _, hidden = dec.step(ctx, fed, hidden)  # has now read <bos>, y_1..y_{t−1}
        fed = s.tokens[:, t - 1]
        done = sample(dec, ctx.repeat_interleave(2, dim=0), 0, 1, 2, max_len=5,
                      prefix=s.tokens[:, :t].repeat_interleave(2, dim=0),
                      prefix_hidden=hidden.repeat_interleave(2, dim=1), generator=draws)
        q = disc.prob(done.tokens, owners.repeat_interleave(2, dim=0)).reshape(4, 2).mean(dim=1)
        torch.testing.assert_close(rewards[live, t - 1], q[live])


def test_discriminator_learns_a_separable_task():
    torch.manual_seed(0)
    d = ReviewDiscriminator(20, [3], word_dim=8, filters=8, pad=2, dropout=0.0)
    opt = torch.optim.Adam(d.parameters(), lr=1e-2)
    real = torch.randint(3, 10, (32, 6))
    fake = torch.randint(10, 20, (32, 6))
    owners = torch.randint(0, 3, (32, 1))
    first = None
    for _ in range(30):
        loss, acc = discriminator_loss(d, real, owners, fake, owners)
        first = first if first is not None else loss.item()
        opt.zero_grad(); loss.backward(); opt.step()
    assert loss.item() < first / 2 and acc > 0.95
