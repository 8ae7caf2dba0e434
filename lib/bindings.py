"""Fast loading of the AWS provider bindings.

The package ``cdktf_cdktf_provider_aws`` imports all ~2,200 resource modules in its
``__init__`` (about 10 s and 550 MB of Python), although the stack uses a few dozen.
Every resource module is self-contained: it only needs the package's ``_jsii``
submodule, which loads the jsii assembly. ``install()`` registers an empty package
module under the real name and path before the first submodule import, so that
``from cdktf_cdktf_provider_aws.vpc import Vpc`` loads ``_jsii`` and ``vpc`` only.

It exposes ``install()``; ``lib/__init__.py`` calls it, so every importer of ``lib``
(``main.py``, the tests) gets the fast path. When the package layout is not the one
this relies on, or ``TAP_FULL_PROVIDER_IMPORT=1`` is set (the equivalence test uses
it), the normal import runs instead. Both paths synthesize identical JSON.
"""
from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import os
import sys
from pathlib import Path

PACKAGE = "cdktf_cdktf_provider_aws"
FULL_IMPORT_VARIABLE = "TAP_FULL_PROVIDER_IMPORT"


def _package_dir() -> Path | None:
    """Directory of the bindings package, found without executing its ``__init__``."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    directory = Path(list(spec.submodule_search_locations)[0])
    # The layout the shortcut relies on: the assembly loader and a plain resource module.
    if not (directory / "_jsii" / "__init__.py").is_file():
        return None
    if not (directory / "provider" / "__init__.py").is_file():
        return None
    return directory


def install() -> str:
    """Make submodule imports skip the package ``__init__``; returns the mode used.

    ``"fast"``: the empty package module is registered. ``"full"``: the package was
    imported normally (requested, already imported, or unexpected layout).
    """
    if PACKAGE in sys.modules:
        module = sys.modules[PACKAGE]
        return "fast" if getattr(module, "__tap_fast__", False) else "full"
    directory = None if os.environ.get(FULL_IMPORT_VARIABLE) == "1" else _package_dir()
    if directory is None:
        importlib.import_module(PACKAGE)
        return "full"
    spec = importlib.machinery.ModuleSpec(PACKAGE, None, is_package=True)
    spec.submodule_search_locations = [str(directory)]
    module = importlib.util.module_from_spec(spec)
    module.__doc__ = "AWS provider bindings, loaded submodule by submodule (lib.bindings)."
    module.__tap_fast__ = True  # type: ignore[attr-defined]
    sys.modules[PACKAGE] = module
    return "fast"
