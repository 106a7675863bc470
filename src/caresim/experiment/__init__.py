"""Experiments: worlds × replications, executors, paired differences and attribution."""
