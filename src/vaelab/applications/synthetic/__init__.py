"""Mixed-type tables and synthetic data: :class:`TabularVAE` on pandas DataFrames."""
