"""Latent-state kernels (SIMULATORS.md §4.9): pure numpy updates, checked against §9."""
