"""The load benchmark: `cd backend && uv run python -m bench` (see README, Performance)."""
