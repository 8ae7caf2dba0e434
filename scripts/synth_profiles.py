"""Synthesize the reference environments into build/synth/<label>/, in one process.

``python scripts/synth_profiles.py OUTDIR`` writes dev, pr4892 and prod, ``pr4892-byon``: the
ephemeral profile deployed into a network it is given (VPC_ID and the three subnet lists),
and ``dev-app``: dev with the reference application's manifest (app/app.toml: its secrets,
release and job), for `terraform validate`, the security scan, the quota ledger and the cost.
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
ENVIRONMENTS = {
    "dev": {"ENVIRONMENT_SUFFIX": "dev"},
    "pr4892": {"ENVIRONMENT_SUFFIX": "pr4892"},
    "prod": {"ENVIRONMENT_SUFFIX": "prod"},
    "pr4892-byon": {"ENVIRONMENT_SUFFIX": "pr4892", **GIVEN_NETWORK},
    "dev-app": {"ENVIRONMENT_SUFFIX": "dev", "APP_MANIFEST": "app/app.toml"},
}


def synthesize(outdir: Path) -> int:
    """Every environment of ENVIRONMENTS into ``outdir/<label>``; main.py's worst exit code."""
    bindings.load()  # once, for every label (main.main would, at its first synth)
    base = {key: value for key, value in os.environ.items()
            if key not in ("VPC_ID", "PUBLIC_SUBNET_IDS", "PRIVATE_SUBNET_IDS",
                           "ISOLATED_SUBNET_IDS", "TASK_SUBNETS", "APP_MANIFEST")}
    return max(main.main({**base, **environment, "CDKTF_OUTDIR": str(outdir / label)})
               for label, environment in ENVIRONMENTS.items())


if __name__ == "__main__":
    sys.exit(synthesize(Path(sys.argv[1])))
