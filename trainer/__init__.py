"""Reproduce and improve the LandCover.ai DeepLabv3+ training, and export models for the plugin."""
