"""What several test modules share: starting `contoso` as a real process, submitting
forms with their CSRF tokens, driving the console, scratch databases and test data.

Fixtures stay in the conftest.py files (pytest finds them there); their code lives here.
"""
