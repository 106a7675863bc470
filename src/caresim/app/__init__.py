"""`caresim app`: a local what-if web app over a scenario (question.py asks the model; page.py is the page)."""
