"""Statistics of finished replications: summaries, paired differences, checks against theory and targets."""
