"""The TAP reference application: a small guestbook served by gunicorn.

It is what every environment of the platform runs, and it proves the platform's paths: an
Aurora PostgreSQL role that logs in with IAM tokens, an ElastiCache Serverless cache over
TLS, a release command, a scheduled job and the container health check.

Entry points (each module's docstring says more):
- ``app.wsgi:application``: the WSGI callable (``gunicorn --config app/gunicorn.conf.py``);
- ``python -m app.migrate``: the release command (roles, schema, numbered migrations);
- ``python -m app.report``: the scheduled job (messages of the last day);
- ``python -m app.healthcheck``: the container health check (standard library only).

The settings come from the environment (``app.config``). This package imports nothing at
import time, so that the health check stays cheap.
"""
