"""tools/hcl.py and tools/hcl_render.py on recorded inputs (tests/tools/hcl/): the repair of
cdktf 0.21's raw HCL keeps what the JSON synth says, the scan names the line of a known
mis-rendering, Terraform's own parsers judge the results, and the exit codes hold."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tools import hcl
from tools.hcl_render import (Finding, config_differences, repair, scan, squeeze_expressions,
                              string_literal, template_literal)

FIXTURES = Path(__file__).with_name("hcl")
RAW = FIXTURES / "raw.tf"
SYNTH = json.loads((FIXTURES / "synth.json").read_text(encoding="utf-8"))
TERRAFORM = shutil.which("terraform")
needs_terraform = pytest.mark.skipif(TERRAFORM is None, reason="terraform is not on the PATH")
needs_node = pytest.mark.skipif(not hcl.HCL2JSON.exists(), reason="node_modules: make install")


def _fmt_ok(text: str) -> bool:
    """Whether Terraform's HCL parser accepts a text (``terraform fmt -``: no provider)."""
    return subprocess.run([str(TERRAFORM), "fmt", "-no-color", "-"], input=text,
                          capture_output=True, text=True, check=False).returncode == 0


def _repaired() -> str:
    return repair(RAW.read_text(encoding="utf-8"), SYNTH["terraform"], str(RAW)).text


def test_the_recorded_raw_hcl_is_repaired_line_by_line() -> None:
    result = repair(RAW.read_text(encoding="utf-8"), SYNTH["terraform"], str(RAW))
    assert result.counts == {"condition": 1, "number": 1, "reference": 7, "string": 3,
                             "terraform": 1}
    assert not result.findings
    lines = result.text.split("\n")
    assert '  required_version = ">= 1.10"' in lines
    assert not any(line.strip().startswith("0 =") for line in lines)
    assert 'policy = "{\\"Version\\": \\"2012-10-17\\", \\"Statement\\": [{\\"Sid\\": ' \
           '\\"AccountAdministration\\", \\"Effect\\": \\"Allow\\", \\"Principal\\": {\\"AWS\\": ' \
           '\\"arn:aws:iam::${data.aws_caller_identity.caller.account_id}:root\\"}' \
           in result.text
    assert 'command = "\\"$${TAP_PYTHON:-python3}\\" \\"assets/edge_leftovers-runner_C4D6D4C2/' \
           '9CAF43F11D8FBEB8019DBFBEE1807078/vpc_origin_leftovers.py\\""' in lines
    assert lines.count("provider = aws.global") == 2
    assert lines.count("when = destroy") == 1
    assert "terraform_data.edge_vpc-origin-endpoint_53A547C0," in lines
    assert "aws_internet_gateway.network_igw_5DF1EDA1," in lines
    assert "secret_string," in lines
    assert 'TAP_TIMEOUT_SECONDS = "600"' in lines
    # the expression of a jsonencode() keeps its own quotes: it was never broken
    assert any(line.startswith('secret_string = "${jsonencode({"engine" = "valkey", ')
               for line in lines)
    postcondition = lines.index("postcondition {")
    assert lines[postcondition + 1:postcondition + 4] == [
        'condition = "${self.vpc_id == "vpc-0a1b2c3d4e5f60718"}"',
        'error_message = "subnet-0a00000000000000a (PUBLIC_SUBNET_IDS) is in ${self.vpc_id}, '
        'not in VPC_ID vpc-0a1b2c3d4e5f60718."', "}"]
    assert "postcondition = [" not in result.text


@needs_terraform
def test_terraform_refuses_the_raw_hcl_and_parses_the_repaired() -> None:
    assert not _fmt_ok(RAW.read_text(encoding="utf-8"))
    assert _fmt_ok(_repaired())


@needs_node
def test_the_repaired_hcl_says_what_the_json_synth_says(tmp_path: Path) -> None:
    repaired = tmp_path / "cdk.tf"
    repaired.write_text(_repaired(), encoding="utf-8")
    expected = tmp_path / "cdk.tf.json"
    expected.write_text(json.dumps(SYNTH), encoding="utf-8")
    assert hcl.differences(repaired, expected) == []
    raw = tmp_path / "raw.tf"
    raw.write_text(RAW.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(hcl.Unrunnable, match="could not parse"):
        hcl.parse_hcl(raw)


def test_differences_name_the_value_that_differs() -> None:
    parsed = {"resource": {"terraform_data": {"gate": [{"provisioner": {"local-exec": [{
        "environment": {"TIMEOUT": 600}}]}}]}},
              "moved": [{"from": "${aws_s3_bucket.old}", "to": "${aws_s3_bucket.new}"}]}
    expected = {"resource": {"terraform_data": {"gate": {"//": {"metadata": {}},
                                                         "provisioner": [{"local-exec": {
                                                             "environment": {"TIMEOUT": "600"}}}]}}},
                "moved": [{"from": "aws_s3_bucket.old", "to": "aws_s3_bucket.new"}]}
    assert config_differences(expected, parsed) == [
        'resource.terraform_data.gate.provisioner.local-exec.environment.TIMEOUT: '
        'JSON "600", HCL 600']
    del parsed["moved"]
    assert "moved: in the JSON, not in the HCL" in config_differences(expected, parsed)


def test_spacing_inside_expressions_is_not_a_difference() -> None:
    assert squeeze_expressions('${jsonencode({ "engine" = "v a" })}-x y') == \
        '${jsonencode({"engine"="v a"})}-x y'
    assert not config_differences({"a": '${f({"k" = 1})}'}, {"a": '${f({ "k" = 1 })}'})
    assert config_differences({"a": '${f("x y")}'}, {"a": '${f("xy")}'}) == [
        'a: JSON "${f(\\"x y\\")}", HCL "${f(\\"xy\\")}"']


@pytest.mark.parametrize("value, literal", [
    ('{"a": "${x.y}"}', '{\\"a\\": \\"${x.y}\\"}'),
    ('${jsonencode({"k" = "v"})}', '${jsonencode({"k" = "v"})}'),
    ('"$${HOME}" "run.py"', '\\"$${HOME}\\" \\"run.py\\"'),
    ('a\\b ${x}', 'a\\\\b ${x}'),
    ('${join(",", ["A=${x.arn}"])}', '${join(",", ["A=${x.arn}"])}'),
    ('%{ if x }"y"%{ endif }', '%{ if x }\\"y\\"%{ endif }'),
])
def test_template_literals_escape_only_outside_interpolations(value: str, literal: str) -> None:
    assert template_literal(value) == literal


def test_plain_strings_escape_template_sequences() -> None:
    assert string_literal('>= 1.10 "${x}" %{y} \\') == '">= 1.10 \\"$${x}\\" %%{y} \\\\"'


def test_a_string_the_renderer_left_ambiguous_is_a_finding() -> None:
    text = 'resource "x" "y" {\nname = "a\\nb"\nnote = "say \\"hi\\""\nbad = "${f("x)}"\n}'
    result = repair(text, {}, "cdk.tf")
    assert [str(finding) for finding in result.findings] == [
        "cdk.tf:2: a string with a backslash: cdktf escapes its quotes but not its "
        "backslashes, so its value is ambiguous",
        "cdk.tf:4: a string not repaired: a quoted string that does not close"]
    assert result.text.split("\n")[2] == 'note = "say \\"hi\\""'


def test_a_terraform_attribute_without_a_string_value_is_not_invented() -> None:
    result = repair('terraform {\n  0 = "experiments"\n}', {"experiments": ["x"]}, "cdk.tf")
    assert result.text == 'terraform {\n  0 = "experiments"\n}'
    assert [str(f) for f in result.findings] == [
        "cdk.tf:2: terraform.experiments is not a string in metadata.json: not restored"]


def test_object_object_is_refused_naming_the_line() -> None:
    path = FIXTURES / "object-object.tf"
    assert scan(path) == [Finding(path=str(path), line=37, message=(
        "a nested block rendered as [object Object] (terraform-cdk#3630)"))]
    assert str(scan(path)[0]) == (f"{path}:37: a nested block rendered as [object Object] "
                                  "(terraform-cdk#3630)")


def test_cdktf_021s_untyped_statement_is_refused_naming_the_line() -> None:
    path = FIXTURES / "untyped-statement.tf"
    assert [(f.line, f.message) for f in scan(path)] == [(38, (
        "an attribute cdktf has no type for, written as a map where Terraform may want a "
        "block (cdktf 0.21's rendering of terraform-cdk#3630)"))]


def test_the_stacks_web_acl_with_rule_json_is_clean() -> None:
    path = FIXTURES / "clean.tf"
    assert not scan(path)
    assert "rule_json" in path.read_text(encoding="utf-8")


def test_unresolved_tokens_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "cdk.tf"
    path.write_text('a = "${TfToken[TOKEN.12]}"\nb = -8.109562212591418e+298\n'
                    'c = ["#{TfToken[TOKEN.3]}"]\nd = 2\nterraform {\n  0 = "x"\n}\n',
                    encoding="utf-8")
    assert [(f.line, f.message) for f in scan(path)] == [
        (1, "an unresolved cdktf token"), (2, "an unresolved cdktf number token"),
        (3, "an unresolved cdktf token"),
        (6, "an attribute written by its index (cdktf's renderTerraform)")]


def test_the_repair_step_rewrites_a_synthesized_directory(tmp_path: Path) -> None:
    stack = tmp_path / "stacks" / "TapStackdev"
    stack.mkdir(parents=True)
    (stack / "cdk.tf").write_text(RAW.read_text(encoding="utf-8"), encoding="utf-8")
    (stack / "metadata.json").write_text(json.dumps({"terraform": SYNTH["terraform"]}),
                                         encoding="utf-8")
    (tmp_path / "manifest.json").write_text(json.dumps({"stacks": {"TapStackdev": {
        "synthesizedStackPath": "stacks/TapStackdev/cdk.tf",
        "stackMetadataPath": "stacks/TapStackdev/metadata.json",
        "workingDirectory": "stacks/TapStackdev"}}}), encoding="utf-8")
    report = hcl.repair_outdir(tmp_path)
    assert report == {"TapStackdev": {"counts": {"condition": 1, "number": 1, "reference": 7,
                                                 "string": 3, "terraform": 1},
                                      "findings": []}}
    assert json.loads((tmp_path / hcl.REPORT).read_text(encoding="utf-8")) == report
    assert (stack / "cdk.tf").read_text(encoding="utf-8") == _repaired()
    assert hcl.stack_dirs(tmp_path) == {"TapStackdev": stack}
    assert hcl.findings(tmp_path) == []


@needs_terraform
def test_validate_reports_the_files_errors_as_findings(tmp_path: Path) -> None:
    env = {"PATH": str(Path(str(TERRAFORM)).parent), "HOME": str(tmp_path),
           "CHECKPOINT_DISABLE": "1"}
    (tmp_path / "cdk.tf").write_text('terraform {\n  0 = "required_version"\n}\n',
                                     encoding="utf-8")
    assert [str(f) for f in hcl.validate(tmp_path, env)] == [
        f"{tmp_path / 'cdk.tf'}:2: terraform init: Argument or block definition required"]
    (tmp_path / "cdk.tf").write_text('output "x" {\n  value = "y"\n}\n', encoding="utf-8")
    assert hcl.validate(tmp_path, env) == []


def test_the_synth_runs_cdktf_jsons_app_then_the_repair() -> None:
    command = hcl.synth_command(Path("/tmp/out"))
    assert command[:5] == [str(hcl.CDKTF), "synth", "--hcl", "--output", "/tmp/out"]
    assert command[5] == "--app"
    assert command[6].startswith(".venv/bin/python main.py && ")
    assert command[6].endswith(" -m tools.hcl repair")


def test_labels_get_the_environment_of_the_json_synth(monkeypatch: pytest.MonkeyPatch) -> None:
    labels = hcl.label_environments()
    assert list(labels) == ["dev", "pr4892", "prod", "pr4892-byon", "pr4892-shared", "shared",
                            "dev-app"]
    monkeypatch.setenv("VPC_ID", "vpc-from-the-shell")
    monkeypatch.setenv("APP_MANIFEST", "mine.toml")
    env = hcl.label_env(labels["dev"], labels)
    assert env["ENVIRONMENT_SUFFIX"] == "dev"
    assert "VPC_ID" not in env and "APP_MANIFEST" not in env
    assert hcl.label_env(labels["dev-app"], labels)["APP_MANIFEST"] == "app/app.toml"


@pytest.mark.skipif(not hcl.CDKTF.exists(), reason="node_modules: make install")
def test_exit_codes_when_it_cannot_run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert hcl.main(["staging"]) == 2
    assert "unknown label(s) staging; known: dev, pr4892, prod, pr4892-byon, pr4892-shared, " \
        "shared, dev-app" in \
        capsys.readouterr().err
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", str(tmp_path / "missing.rc"))
    assert hcl.main(["--out", str(tmp_path), "dev"]) == 2
    assert f"TF_CLI_CONFIG_FILE ({tmp_path / 'missing.rc'}) does not exist" in \
        capsys.readouterr().err
    assert not (tmp_path / "dev").exists()
