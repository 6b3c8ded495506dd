"""Quality of a synthetic table against the real one, as pure functions on pandas DataFrames.

- :mod:`.shapes`: column shapes (SDMetrics' KSComplement and TVComplement);
- :mod:`.trends`: column-pair trends (SDMetrics' CorrelationSimilarity and ContingencySimilarity);
- :mod:`.efficacy`: machine-learning efficacy (SDGym's binary-classification F1, Xu et al. 2019);
- :mod:`.privacy`: distance to closest record and exact copies;
- :mod:`.report`: all of them in one JSON-able dict;
- :mod:`.tables`: the input checks they share.
"""
