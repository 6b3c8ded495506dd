"""Pictures and reports made from a run directory."""
