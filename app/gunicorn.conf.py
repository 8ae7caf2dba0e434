"""gunicorn's configuration: ``gunicorn --config app/gunicorn.conf.py app.wsgi:application``.

Runs in gunicorn's master before any worker starts, and validates every setting there
(``app.config``): a missing or invalid variable prints one line and exits 2. Then: bind
``0.0.0.0:$PORT``, ``$WEB_CONCURRENCY`` worker processes of ``THREADS`` threads each (one
pooled database connection per thread: ``app.db.MAX_POOL_SIZE``), JSON logs (access on
standard output, errors on standard error: ``app.logs.GunicornJsonLogger``); a worker that
stops closes its connections (``worker_exit``).

The container's root file system is read-only: the workers' heartbeat files go to ``/tmp``
(the task's writable volume), and the control socket (gunicorn 25.1+, by default under
``$HOME``) is off. Nothing else is written; Python writes no bytecode
(PYTHONDONTWRITEBYTECODE in the image).
"""
# pylint: disable=invalid-name  # gunicorn reads these lowercase module-level names
from __future__ import annotations

import os
import sys

from app.config import config_errors_exit, load_settings
from app.db import MAX_POOL_SIZE

with config_errors_exit("gunicorn"):
    _settings = load_settings(os.environ)

THREADS = MAX_POOL_SIZE

bind = [f"0.0.0.0:{_settings.port}"]
workers = _settings.workers
worker_class = "gthread"
threads = THREADS
# Longer than the load balancer's idle timeout (60 s, lib/load_balancer.py), as AWS recommends
# for targets ("Edit attributes for your Application Load Balancer": connection idle
# timeout), so that the load balancer closes idle connections, never the target (502s).
keepalive = 75
timeout = 30
# ECS stops a container with SIGTERM and kills it 30 s later (stopTimeout's default):
# in-flight requests get 20 s to finish.
graceful_timeout = 20
worker_tmp_dir = "/tmp"
control_socket_disable = True
accesslog = "-"
errorlog = "-"
logger_class = "app.logs.GunicornJsonLogger"


def worker_exit(_server: object, _worker: object) -> None:
    """A stopping worker closes its database connections cleanly (the server sees a
    Terminate message rather than a dropped connection) and its cache client."""
    wsgi = sys.modules.get("app.wsgi")  # absent when the worker failed to load it
    if wsgi is not None:
        wsgi.application.close()
