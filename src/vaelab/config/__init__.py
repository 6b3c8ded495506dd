"""Typed configs, presets and builders (config -> objects), saved-model loading and config-driven runs."""
