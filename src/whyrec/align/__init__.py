"""Alignment objectives: adversarial training (discriminator, REINFORCE, rollouts)."""
