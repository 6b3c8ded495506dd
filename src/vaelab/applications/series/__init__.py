"""Anomaly detection on time series (univariate or multichannel)."""
