"""What a command does from start to end: run, compare, calibrate, verify; each writes or prints its results."""
