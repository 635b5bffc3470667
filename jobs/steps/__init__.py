"""The analysis steps: each reads shared aggregates from the run's state and returns its artifacts."""
