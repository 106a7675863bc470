"""`python -m caresim`: the same commands as the `caresim` console script."""

from caresim.cli import app

app()
