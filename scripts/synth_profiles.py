"""Synthesize the reference environments into build/synth/<label>/, in one process.

``python scripts/synth_profiles.py OUTDIR`` writes dev, pr4892 and prod, ``pr4892-byon``: the
ephemeral profile deployed into a network it is given (VPC_ID and the three subnet lists),
``pr4892-shared``: the same on the five shared pieces (the shared mode), ``shared``: the shared
stack that makes those pieces (SHARED_PLATFORM=main, in the same network), and ``dev-app``: dev
with the reference application's manifest (app/app.toml: its secrets, release and job), for
`terraform validate`, the security scan, the quota ledger and the cost. ``GIVEN_NETWORK`` and
``SHARED_PIECES`` are example values in the shapes AWS uses (never deployed); the unit tests
use them too.
One process loads the provider bindings once (~3 s, the fast loaders of ``lib.bindings``)
instead of once per environment. Exit code: main.py's worst.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import main
from lib import bindings

# The given network of the BYON variant: ids in the formats AWS uses, never deployed.
GIVEN_NETWORK = {
    "VPC_ID": "vpc-0a1b2c3d4e5f60718",
    "PUBLIC_SUBNET_IDS": "subnet-0a00000000000000a,subnet-0a00000000000000b",
    "PRIVATE_SUBNET_IDS": "subnet-0b00000000000000a,subnet-0b00000000000000b",
    "ISOLATED_SUBNET_IDS": "subnet-0c00000000000000a,subnet-0c00000000000000b",
}
EXAMPLE_ACCOUNT = "123456789012"
# The pieces the shared stack ``main`` makes in that network, as it names them.
SHARED_PIECES = {
    "SHARED_WEB_ACL_ARN": f"arn:aws:wafv2:us-east-1:{EXAMPLE_ACCOUNT}:global/webacl/"
                          "tap-shared-main-edge/0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9",
    "SHARED_LISTENER_ARN": f"arn:aws:elasticloadbalancing:us-east-1:{EXAMPLE_ACCOUNT}:listener/"
                           "app/tap-shared-main-alb/0a1b2c3d4e5f6071/8293a4b5c6d7e8f9",
    "SHARED_VPC_ORIGIN_ARN": f"arn:aws:cloudfront::{EXAMPLE_ACCOUNT}:vpcorigin/"
                             "vo_0a1b2c3d4e5f60718293a4",
    "SHARED_DB_CLUSTER_ARN": f"arn:aws:rds:us-east-1:{EXAMPLE_ACCOUNT}:cluster:"
                             "tap-shared-main-aurora",
    "SHARED_CACHE_ARN": f"arn:aws:elasticache:us-east-1:{EXAMPLE_ACCOUNT}:serverlesscache:"
                        "tap-shared-main-cache",
}
ENVIRONMENTS = {
    "dev": {"ENVIRONMENT_SUFFIX": "dev"},
    "pr4892": {"ENVIRONMENT_SUFFIX": "pr4892"},
    "prod": {"ENVIRONMENT_SUFFIX": "prod"},
    "pr4892-byon": {"ENVIRONMENT_SUFFIX": "pr4892", **GIVEN_NETWORK},
    "pr4892-shared": {"ENVIRONMENT_SUFFIX": "pr4892", **GIVEN_NETWORK, **SHARED_PIECES},
    "shared": {"SHARED_PLATFORM": "main", **GIVEN_NETWORK},
    "dev-app": {"ENVIRONMENT_SUFFIX": "dev", "APP_MANIFEST": "app/app.toml"},
}
# What the labels set themselves: never taken from the caller's environment.
SET_HERE = ("VPC_ID", "PUBLIC_SUBNET_IDS", "PRIVATE_SUBNET_IDS", "ISOLATED_SUBNET_IDS",
            "TASK_SUBNETS", "APP_MANIFEST", "ENVIRONMENT_SUFFIX", "SHARED_PLATFORM",
            *SHARED_PIECES)


def synthesize(outdir: Path) -> int:
    """Every environment of ENVIRONMENTS into ``outdir/<label>``; main.py's worst exit code."""
    bindings.load()  # once, for every label (main.main would, at its first synth)
    base = {key: value for key, value in os.environ.items() if key not in SET_HERE}
    return max(main.main({**base, **environment, "CDKTF_OUTDIR": str(outdir / label)})
               for label, environment in ENVIRONMENTS.items())


if __name__ == "__main__":
    sys.exit(synthesize(Path(sys.argv[1])))
