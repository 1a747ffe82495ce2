"""The test suite; tests/support/ holds the helpers several modules share."""

import pytest

# The shared helpers assert too: have pytest explain their failures as it does in tests.
pytest.register_assert_rewrite("tests.support")
