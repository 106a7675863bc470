"""The scenario: schema, distributions and loading with errors for people."""
