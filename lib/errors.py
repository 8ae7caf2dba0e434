"""``ConfigError``: a setting that cannot be used, reported as one line naming the variable,
the value and what is allowed (``main.py`` prints it and exits 2).

A leaf module, so that every module that validates settings can raise it without importing
``lib.config`` (which re-exports it: that is where callers import it from).
"""
from __future__ import annotations


class ConfigError(ValueError):
    """A configuration value that cannot be used; ``str()`` is the one-line message."""

    def __init__(self, variable: str, value: str, allowed: str) -> None:
        super().__init__(f"{variable}={value!r} is invalid: {allowed}")
        self.variable = variable
