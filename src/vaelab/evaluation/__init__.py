"""Evaluation: likelihoods, latent diagnostics, sample quality and disentanglement metrics."""
