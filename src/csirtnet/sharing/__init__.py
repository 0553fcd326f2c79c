"""Sharing policy: the Traffic Light Protocol 2.0 labels and who may see what."""
