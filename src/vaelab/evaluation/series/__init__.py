"""Metrics for anomaly detection on time series: point-wise and point-adjusted F1, ROC-AUC, NAB."""
