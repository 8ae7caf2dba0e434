"""The reference application's tests (pytest, run with build/app-venv: `make app-test`)."""
