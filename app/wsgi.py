"""The WSGI entry point: ``app.wsgi:application``.

Imported once per gunicorn worker (no preload: each worker opens its own database pool and
cache client after the fork). The settings come from the environment (``app.config``); a
missing or invalid variable prints one line and exits 2.
"""
from __future__ import annotations

import os

from app.config import config_errors_exit, load_settings
from app.logs import configure_logging
from app.web import create_app

configure_logging()
with config_errors_exit("tap-app"):
    _SETTINGS = load_settings(os.environ)

application = create_app(_SETTINGS, os.environ)
