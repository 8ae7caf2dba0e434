#!/usr/bin/env python
"""Entry point: read the environment once, build the app and its stack, synthesize.

The stack is ``TapStack`` (lib/tap_stack.py) for ENVIRONMENT_SUFFIX, or, when SHARED_PLATFORM
is set, ``SharedStack`` (lib/shared_stack.py): the pieces the pull-request environments of an
account share, which refuses every variable of the environments' own.

Exit code 2 with a one-line message for any invalid setting or application manifest
(``app.toml``, ``APP_MANIFEST``); nothing is written then.
"""
from __future__ import annotations

import os
import sys

from lib import bindings
from lib.config import ConfigError, PlatformSettings, Settings, load_platform_settings, load_settings
from lib.manifest import ManifestError
from lib.naming import Names


def main(environ: dict[str, str] | None = None) -> int:
    """Validate the settings, then synthesize; returns the process exit code."""
    environ = dict(os.environ if environ is None else environ)
    settings: Settings | PlatformSettings
    try:
        settings = load_platform_settings(environ) if environ.get("SHARED_PLATFORM") \
            else load_settings(environ)
        Names(settings)  # every derived name must fit its AWS limit before synth
    except (ConfigError, ManifestError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    # Imported after validation: a bad value is reported before jsii starts; the fast
    # bindings loaders go first (once per process: synth_profiles.py calls main() per label).
    bindings.load()
    from cdktf import App  # pylint: disable=import-outside-toplevel
    from lib.shared_stack import SharedStack  # pylint: disable=import-outside-toplevel
    from lib.tap_stack import TapStack  # pylint: disable=import-outside-toplevel

    outdir = os.path.abspath(environ.get("CDKTF_OUTDIR", "cdktf.out"))
    os.makedirs(outdir, exist_ok=True)
    app = App(outdir=outdir)
    if isinstance(settings, PlatformSettings):
        SharedStack(app, settings)
    else:
        TapStack(app, settings)
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
