"""The fast bindings loaders: same JSON as the normal load, fallback when they cannot apply.

Python: ``lib.bindings.install``. JavaScript: ``lib.bindings.install_js`` and the node
preload ``lib/jsii_lazy.js``, run here by node on small packages of the provider's shape.
Both through ``lib.bindings.load``, once per process; importing ``lib``, the registries and
the tools loads no jsii at all.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

from lib import bindings

ROOT = Path(__file__).resolve().parents[2]
PROFILES = ("dev", "pr4892", "prod")
# Synthesizes the reference profiles in one process and prints the loaders' modes.
PROBE = """
import os, sys, main
from lib import bindings
for suffix in sys.argv[2:]:
    environ = {**os.environ, "ENVIRONMENT_SUFFIX": suffix, "CDKTF_OUTDIR": f"{sys.argv[1]}/{suffix}"}
    assert main.main(environ) == 0
print(*bindings.load())
"""
# Imports the package, the registries and the tools, renders the pages of tools/docs.py that
# need no synthesized stack, and prints what of jsii that loaded.
IMPORTS = """
import json, os, sys
import lib, lib.alarms, lib.config, lib.lifecycle, lib.outputs, lib.regions, lib.resource_types
from tools import bootstrap, cost, docs, janitor, plan_check, quotas, scan
pages = docs.pages(docs.SYNTH)
for name in ("configuration.md", "manifest.md", "profiles.md", "outputs.md", "alarms.md"):
    assert pages[name]().startswith(docs.NOTICE), name
print(json.dumps({"NODE_OPTIONS": os.environ.get("NODE_OPTIONS"), "loaded": sorted(
    name for name in sys.modules
    if name.split(".")[0] in ("cdktf", "constructs", "jsii", "cdktf_cdktf_provider_aws"))}))
"""
# Preloaded into the kernel next to lib/jsii_lazy.js: at exit, how many of the provider's
# JavaScript files node loaded.
COUNTER = """
process.on('exit', () => {
  const files = Object.keys(require.cache).filter((file) => file.includes('provider-aws'));
  if (files.length > 0) require('fs').writeFileSync(%s, String(files.length));
});
"""


def synth_profiles(out: Path, loaders: dict[str, str]) -> subprocess.Popen:
    """Start a process that synthesizes every profile into ``out`` with ``loaders`` set.

    A preload writes the number of provider JavaScript files the kernel loaded to
    ``out/js-files``.
    """
    out.mkdir()
    counter = out / "counter.js"
    counter.write_text(COUNTER % json.dumps(str(out / "js-files")))
    environ = {k: v for k, v in os.environ.items()
               if k not in (bindings.FULL_IMPORT_VARIABLE, bindings.FULL_JS_VARIABLE)}
    node_options = f"{environ.get('NODE_OPTIONS', '')} {bindings.node_require_option(counter)}"
    env = {**environ, **loaders, "NODE_OPTIONS": node_options.strip()}
    return subprocess.Popen([sys.executable, "-c", PROBE, str(out), *PROFILES], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow  # the normal load costs ~12 s: `make test` runs it apart from `make unit`
def test_fast_and_full_loads_synthesize_identical_json(tmp_path: Path) -> None:
    fast = synth_profiles(tmp_path / "fast", {})
    full = synth_profiles(tmp_path / "full", {bindings.FULL_IMPORT_VARIABLE: "1",
                                              bindings.FULL_JS_VARIABLE: "1"})
    outputs = {name: process.communicate(timeout=300)
               for name, process in (("fast", fast), ("full", full))}
    assert (fast.returncode, full.returncode) == (0, 0), outputs
    assert outputs["fast"][0].split() == ["fast", "lazy"]
    assert outputs["full"][0].split() == ["full", "full"]
    assert "tap:" not in outputs["fast"][1] + outputs["full"][1]
    # The lazy index loads the stack's few dozen submodules, the normal one all ~2,200.
    assert int((tmp_path / "fast" / "js-files").read_text()) < 100
    assert int((tmp_path / "full" / "js-files").read_text()) > 2000
    for suffix in PROFILES:
        fast_json, full_json = ((tmp_path / mode / suffix / "stacks" / f"TapStack{suffix}" /
                                 "cdk.tf.json").read_text() for mode in ("fast", "full"))
        assert fast_json == full_json, suffix
        assert '"aws_vpc"' in fast_json


def test_install_is_idempotent_and_reports_mode() -> None:
    assert bindings.install() == "fast"
    assert getattr(sys.modules[bindings.PACKAGE], "__tap_fast__") is True


def test_falls_back_to_the_normal_import_when_layout_differs(
        monkeypatch: pytest.MonkeyPatch) -> None:
    imported = []
    monkeypatch.delitem(sys.modules, bindings.PACKAGE)
    monkeypatch.setattr(bindings, "_package_dir", lambda: None)
    monkeypatch.setattr(bindings.importlib, "import_module",
                        lambda name: imported.append(name) or types.ModuleType(name))
    assert bindings.install() == "full"
    assert imported == [bindings.PACKAGE]


def test_full_import_requested(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, bindings.PACKAGE)
    monkeypatch.setenv(bindings.FULL_IMPORT_VARIABLE, "1")
    monkeypatch.setattr(bindings.importlib, "import_module", types.ModuleType)
    assert bindings.install() == "full"


def test_package_dir_checks_the_layout(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert (bindings._package_dir() / "vpc").is_dir()  # pylint: disable=protected-access
    spec = types.SimpleNamespace(submodule_search_locations=[str(tmp_path)])
    monkeypatch.setattr(bindings.importlib.util, "find_spec", lambda name: spec)
    assert bindings._package_dir() is None  # pylint: disable=protected-access
    (tmp_path / "_jsii").mkdir()
    (tmp_path / "_jsii" / "__init__.py").write_text("")
    assert bindings._package_dir() is None  # pylint: disable=protected-access
    monkeypatch.setattr(bindings.importlib.util, "find_spec", lambda name: None)
    assert bindings._package_dir() is None  # pylint: disable=protected-access


def test_this_session_loads_the_provider_javascript_lazily() -> None:
    assert bindings.load() == bindings.Modes(python="fast", javascript="lazy")
    assert bindings.node_require_option(bindings.LAZY_JS) in os.environ["NODE_OPTIONS"]
    assert bindings.kernel_started()


def test_load_installs_both_once_and_says_nothing_the_second_time(
        capsys: pytest.CaptureFixture[str]) -> None:
    first = bindings.load()  # conftest's call: the kernel has started since
    assert bindings.load() is first
    assert capsys.readouterr().err == ""


def test_importing_lib_and_the_tools_starts_no_jsii() -> None:
    environ = {k: v for k, v in os.environ.items() if k != "NODE_OPTIONS"}
    result = subprocess.run([sys.executable, "-c", IMPORTS], cwd=ROOT, env=environ,
                            capture_output=True, text=True, check=False, timeout=120)
    assert (result.returncode, result.stderr) == (0, "")
    # No preload added, no bindings, no cdktf, no jsii: node never started.
    assert json.loads(result.stdout) == {"NODE_OPTIONS": None, "loaded": []}


def test_install_js_adds_the_preload_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bindings, "kernel_started", lambda: False)
    environ = {"NODE_OPTIONS": "--max-semi-space-size=16"}
    assert bindings.install_js(environ) == "lazy"
    assert bindings.install_js(environ) == "lazy"
    assert environ == {"NODE_OPTIONS": "--max-semi-space-size=16 --require "
                                       f'"{bindings.LAZY_JS}"'}
    assert bindings.install_js({}) == "lazy"


def test_install_js_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bindings, "kernel_started", lambda: False)
    environ = {bindings.FULL_JS_VARIABLE: "1"}
    assert bindings.install_js(environ) == "full"
    assert environ == {bindings.FULL_JS_VARIABLE: "1"}


def test_install_js_after_the_kernel_started_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    environ: dict[str, str] = {}
    assert bindings.install_js(environ) == "full"
    assert not environ
    assert capsys.readouterr().err.count("\n") == 1


def test_node_require_option_quotes_the_path() -> None:
    assert bindings.node_require_option(Path('/a b/c"d\\e.js')) == '--require "/a b/c\\"d\\\\e.js"'


def provider_package(root: Path, index_lines: list[str], name: str = "@cdktf/provider-aws") -> Path:
    """A package shaped like @cdktf/provider-aws under ``root``: its index and two submodules.

    Each submodule records in ``globalThis.loaded`` that it was loaded.
    """
    lib_dir = root / "node_modules" / name / "lib"
    lib_dir.mkdir(parents=True)
    (lib_dir.parent / "package.json").write_text(json.dumps({"name": name, "main": "lib/index.js"}))
    for cls, directory in (("Alpha", "alpha-one"), ("Beta", "beta")):
        (lib_dir / directory).mkdir()
        (lib_dir / directory / "index.js").write_text(
            f"(globalThis.loaded ||= []).push({cls!r}); exports.{cls} = class {cls} {{}};\n")
    (lib_dir / "index.js").write_text("\n".join(index_lines) + "\n")
    return lib_dir / "index.js"


INDEX = ['"use strict";', "/**", " * Copyright (c) HashiCorp, Inc.", " */",
         'Object.defineProperty(exports, "__esModule", { value: true });',
         "exports.beta = exports.alphaOne = void 0;", "// generated by cdktf get",
         'exports.alphaOne = require("./alpha-one");', 'exports.beta = require("./beta");',
         "//# sourceMappingURL=data:application/json;base64,e30="]
# What node reports after requiring an index: its keys, what loaded before and after
# reading one export, whether that export was a getter, and the class read through it.
INSPECT = """
const index = require(process.argv[1]);
const before = [...(globalThis.loaded || [])];
const getter = 'get' in Object.getOwnPropertyDescriptor(index, 'alphaOne');
const alpha = index.alphaOne.Alpha.name;
console.log(JSON.stringify({keys: Object.keys(index), esModule: index.__esModule, before,
  getter, alpha, after: globalThis.loaded, again: index.alphaOne === require(process.argv[1]).alphaOne}));
"""


def inspect_index(index: Path, **env: str) -> tuple[dict, str]:
    """Require ``index`` in node with lib/jsii_lazy.js preloaded: the INSPECT report, stderr."""
    environ = {k: v for k, v in os.environ.items() if k != bindings.FULL_JS_VARIABLE}
    environ["NODE_OPTIONS"] = bindings.node_require_option(bindings.LAZY_JS)
    result = subprocess.run(["node", "-e", INSPECT, str(index)], env={**environ, **env},
                            capture_output=True, text=True, check=True, timeout=60)
    return json.loads(result.stdout), result.stderr


def test_lazy_index_loads_a_submodule_on_first_access(tmp_path: Path) -> None:
    report, stderr = inspect_index(provider_package(tmp_path, INDEX))
    assert report == {"keys": ["alphaOne", "beta"], "esModule": True, "before": [],
                      "getter": True, "alpha": "Alpha", "after": ["Alpha"], "again": True}
    assert stderr == ""


def test_lazy_index_turned_off(tmp_path: Path) -> None:
    report, _ = inspect_index(provider_package(tmp_path, INDEX),
                              **{bindings.FULL_JS_VARIABLE: "1"})
    assert (report["before"], report["getter"]) == (["Alpha", "Beta"], False)
    assert report["keys"] == ["alphaOne", "beta"]


@pytest.mark.parametrize("change", [
    ["exports.gamma = 1;"],  # an unknown statement
    ['exports.beta = require("./beta");'],  # a second require of one export
    ["exports.gamma = void 0;"],  # a declared export without its require
])
def test_lazy_index_falls_back_when_the_shape_differs(tmp_path: Path, change: list[str]) -> None:
    report, stderr = inspect_index(provider_package(tmp_path, INDEX + change))
    assert report["before"] == ["Alpha", "Beta"]
    assert stderr.startswith("tap: @cdktf/provider-aws lib/index.js is not in the shape")
    assert stderr.count("\n") == 1


def test_other_packages_load_as_they_are(tmp_path: Path) -> None:
    report, _ = inspect_index(provider_package(tmp_path, INDEX, "@cdktf/provider-other"))
    assert (report["before"], report["getter"]) == (["Alpha", "Beta"], False)
    (tmp_path / "node_modules" / "@cdktf" / "provider-other" / "package.json").unlink()
    report, _ = inspect_index(tmp_path / "node_modules" / "@cdktf" / "provider-other" / "lib" /
                              "index.js")
    assert report["getter"] is False
