"""Fast loading of the AWS provider bindings, on the Python side and in the jsii kernel.

Python. The package ``cdktf_cdktf_provider_aws`` imports all ~2,200 resource modules in its
``__init__`` (about 10 s and 550 MB of Python), although the stack uses a few dozen.
Every resource module is self-contained: it only needs the package's ``_jsii``
submodule, which loads the jsii assembly. ``install()`` registers an empty package
module under the real name and path before the first submodule import, so that
``from cdktf_cdktf_provider_aws.vpc import Vpc`` loads ``_jsii`` and ``vpc`` only.

JavaScript. The jsii kernel (node) requires the provider package's ``lib/index.js``,
which requires all ~2,200 resource modules (~600 MB, most of a synth's time).
``install_js()`` adds ``--require lib/jsii_lazy.js`` to ``NODE_OPTIONS`` before the
kernel starts: that preload turns the index into getters that load a submodule on first
access, after checking the index's shape in every process (so a reinstall or another
bindings version is checked again, and nothing is written anywhere); any other shape
loads in full with a one-line notice. ``TAP_FULL_PROVIDER_JS=1`` turns it off.

``load()`` calls both, once per process, the JavaScript one first (the normal Python import
starts the jsii kernel): whatever builds a stack calls it before it imports ``cdktf``
(``main.py``, the unit tests' conftest, ``scripts/synth_profiles.py``, the e2e's synths).
Importing ``lib`` does not. When the package layout is not the one they rely on, or
``TAP_FULL_PROVIDER_IMPORT=1`` / ``TAP_FULL_PROVIDER_JS=1`` is set (the equivalence test
uses them), the normal load runs instead. Both paths synthesize identical JSON.
"""
from __future__ import annotations

import functools
import importlib
import importlib.machinery
import importlib.util
import os
import sys
from pathlib import Path
from typing import MutableMapping, NamedTuple

PACKAGE = "cdktf_cdktf_provider_aws"
FULL_IMPORT_VARIABLE = "TAP_FULL_PROVIDER_IMPORT"
FULL_JS_VARIABLE = "TAP_FULL_PROVIDER_JS"
LAZY_JS = Path(__file__).with_name("jsii_lazy.js")


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


def node_require_option(script: Path) -> str:
    """``--require <script>`` as NODE_OPTIONS parses it (double quotes, backslash escapes)."""
    quoted = str(script).replace("\\", "\\\\").replace('"', '\\"')
    return f'--require "{quoted}"'


def kernel_started() -> bool:
    """Whether a jsii assembly is loaded (its ``<package>._jsii`` module is imported)."""
    return any(name.endswith("._jsii") for name in sys.modules)


def install_js(environ: MutableMapping[str, str] | None = None) -> str:
    """Preload ``lib/jsii_lazy.js`` into the jsii kernel through NODE_OPTIONS; the mode used.

    ``"lazy"``: the preload is in ``environ`` (``os.environ`` by default), which the kernel
    and this process's other node children inherit (it acts on the provider's index only).
    ``"full"``: turned off, or too late, because a jsii assembly is loaded already (the
    kernel is running, with the environment it started with).
    """
    environ = os.environ if environ is None else environ
    if environ.get(FULL_JS_VARIABLE) == "1":
        return "full"
    if kernel_started():
        print("tap: the jsii kernel started before lib.bindings.load(); the AWS provider's "
              "JavaScript loads in full", file=sys.stderr)
        return "full"
    option = node_require_option(LAZY_JS)
    current = environ.get("NODE_OPTIONS", "")
    if option not in current:
        environ["NODE_OPTIONS"] = f"{current} {option}".strip()
    return "lazy"


class Modes(NamedTuple):
    """The modes ``load()`` installed: ``install()``'s and ``install_js()``'s."""

    python: str  # "fast" or "full"
    javascript: str  # "lazy" or "full"


@functools.cache
def load() -> Modes:
    """Install both fast loaders, the JavaScript one first; once per process (a second call
    returns the first's modes: ``install_js`` would find the kernel running and say so)."""
    javascript = install_js()
    return Modes(python=install(), javascript=javascript)
