"""``python -m emulator [--port N] [--request-log PATH] [--exit-on-stdin-close]``: the
emulator in the foreground, with every extension and the fault hook (``make emulator``).

The first line of standard output is the endpoint URL (``http://127.0.0.1:<port>``), printed
once the server accepts requests, so a script can take it from there; the next lines say how
to point the AWS CLI, boto3 or ``make deploy`` at it. It serves until Ctrl-C or SIGTERM
(exit 0); its state lives in memory and goes with it. ``--port 0`` (the default) takes a
free port. ``--exit-on-stdin-close`` also stops it when standard input closes:
``emulator.server.Emulator`` passes it and holds the pipe, so an emulator never outlives its
harness. ``--request-log PATH`` appends one line per request (status, region, service,
action, path). ``--runtime-dir DIR`` also runs what is deployed (emulator/runtime: real
databases, caches and ECS tasks), its state in DIR. The extensions it installs are listed on
standard error.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from emulator import MOTO_VERSION, moto_ext
from emulator.faults import FAULTS_PATH
from emulator.runtime import Runtime
from emulator.runtime.control import Control
from emulator.server import HOST, listen, serve_until_stopped

# Any region works; the lives and the docs' examples use this one. It is exported twice:
# main.py and Terraform read AWS_REGION, but botocore (boto3, AWS CLI v1) reads AWS_DEFAULT_REGION
# (the SDKs' region setting: https://docs.aws.amazon.com/sdkref/latest/guide/feature-region.html;
# boto3 1.43 here raises NoRegionError with AWS_REGION alone).
REGION = "us-east-1"


def usage(url: str) -> str:
    """What the emulator prints after its URL: how to use it."""
    return "\n".join((
        f"# moto {MOTO_VERSION} with the emulator's extensions; Ctrl-C or SIGTERM stops it "
        "(its state is in memory).",
        "# Point the AWS CLI, boto3 or `make deploy` at it (any non-empty credentials):",
        f"export AWS_ENDPOINT_URL={url} AWS_ACCESS_KEY_ID=testing "
        f"AWS_SECRET_ACCESS_KEY=testing AWS_REGION={REGION} AWS_DEFAULT_REGION={REGION}",
        f"# Fault hook: POST {url}{FAULTS_PATH} (emulator/faults.py).",
    ))


def announce(url: str) -> None:
    print(url, usage(url), sep="\n", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m emulator",
        description="The AWS emulator (moto with the emulator's extensions and fault hook) in "
        "the foreground until Ctrl-C or SIGTERM; the first line of standard output is its "
        "endpoint URL.")
    parser.add_argument("--port", type=int, default=0,
                        help=f"port on {HOST} (default 0: a free one)")
    parser.add_argument("--request-log", type=Path, metavar="PATH",
                        help="append one line per request to PATH")
    parser.add_argument("--exit-on-stdin-close", action="store_true",
                        help="also stop when standard input closes (for a harness)")
    parser.add_argument("--runtime-dir", type=Path, metavar="DIR",
                        help="run what is deployed (emulator/runtime): databases, caches and "
                             "ECS tasks as local processes, their state in DIR")
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error(f"--port {args.port}: a port is 0-65535")
    # AWS-managed IAM policies (e.g. AmazonRDSEnhancedMonitoringRole, attached by the
    # production profile) exist in every account; moto loads them only when asked.
    os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
    # A taken port: werkzeug says so on standard error and exits with status 1.
    control = Control(lambda *_: [])  # its app is moto's, set by build_app
    server = listen(args.port, args.request_log, control)
    print(f"moto extensions: {', '.join(moto_ext.install()) or 'none'}", file=sys.stderr,
          flush=True)
    url = f"http://{HOST}:{server.server_port}"
    runtime = Runtime(url, args.runtime_dir.resolve(), control).start() \
        if args.runtime_dir else None
    try:
        serve_until_stopped(server, exit_on_stdin_close=args.exit_on_stdin_close,
                            ready=announce)
    finally:
        if runtime is not None:
            runtime.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
