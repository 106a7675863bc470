"""caresim: whole-system simulation of health and social care for Better Care Fund decisions."""

__version__ = "0.1.0"
