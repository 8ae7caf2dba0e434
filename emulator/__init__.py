"""The local AWS emulator: moto's server on 127.0.0.1, made to behave like AWS where the
stack depends on it.

moto answers the AWS APIs in memory; this package adds what the stack's lives need:

- ``emulator.moto_ext``: extensions patching moto ``MOTO_VERSION`` where it lacks calls the
  stack makes (ElastiCache Serverless, CloudFront VPC origins...) or answers differently from
  AWS (read-back fidelity, and refusals AWS makes: quotas, deletion protection, names kept
  after delete). ``install()`` refuses any other moto version;
- ``emulator.faults``: the fault hook, to make one call fail with an AWS error or hang a
  while, and its client (``arm``, ``fired``, ``armed``, ``clear``);
- ``emulator.server``: the server (extensions, fault hook, optional request log) and
  ``Emulator``, the context manager a harness starts it with.

Start it by hand with ``make emulator`` (``python -m emulator [--port N]``): the first line
of its output is the endpoint URL, for ``AWS_ENDPOINT_URL`` (AWS CLI, boto3, ``make deploy``).
"""
from __future__ import annotations

# The moto release the extensions patch; Pipfile and Pipfile.lock pin exactly this one
# (tests/emulator/test_moto_version.py), and emulator.moto_ext.install() refuses another.
MOTO_VERSION = "5.2.5"
