"""The allow-list against checkov's JSON output, and the scan's own logic on small inputs.

``test_every_failure_is_allowed_and_no_entry_is_stale`` reads the reports that
``tools/scan.py`` wrote (``TAP_SCAN_DIR``, default ``build/scan``): ``make scan`` sets
``TAP_SCAN_REQUIRED=1`` so that missing reports fail instead of skipping.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tools import scan

SCAN_DIR = Path(os.environ.get("TAP_SCAN_DIR", scan.OUT))


def reports() -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(checkov report, scanned stack JSON) of every stack in SCAN_DIR."""
    found = []
    for report in sorted(SCAN_DIR.glob(f"*/{scan.REPORT_FILE}")):
        document = json.loads((report.parent / scan.STACK_FILE).read_text(encoding="utf-8"))
        found.append((json.loads(report.read_text(encoding="utf-8")), document))
    return found


def test_every_failure_is_allowed_and_no_entry_is_stale() -> None:
    scanned = reports()
    if not scanned:
        assert os.environ.get("TAP_SCAN_REQUIRED") != "1", f"no checkov reports in {SCAN_DIR}"
        pytest.skip(f"no checkov reports in {SCAN_DIR}: run `make scan`")
    found = [finding for report, document in scanned for finding in scan.findings(report, document)]
    allowlist = scan.load_allowlist(scan.ALLOWLIST.read_text(encoding="utf-8"))
    verdict = scan.judge(found, allowlist, [scan.profile_of(document) for _, document in scanned])
    unexpected = [f"{f.profile} {f.check} {f.resource} ({f.name})" for f in verdict.unexpected]
    assert not unexpected, "failed and not in the allow-list:\n" + "\n".join(unexpected)
    stale = [f"{e.check} {e.resource} in {profile}" for e, profile in verdict.stale]
    assert not stale, "stale allow-list entries (nothing fails):\n" + "\n".join(stale)


def test_the_repository_configuration_is_well_formed() -> None:
    skips = scan.load_skips(scan.CONFIG.read_text(encoding="utf-8"))
    allowlist = scan.load_allowlist(scan.ALLOWLIST.read_text(encoding="utf-8"))
    assert all(len(reason) >= 10 for reason in skips.values())
    # A check skipped for the whole design needs no entry for one resource.
    assert not {entry.check for entry in allowlist} & set(skips)


def stack(profile: str = "standard", resources: dict[str, Any] | None = None) -> dict[str, Any]:
    """A minimal synthesized stack of ``profile``."""
    return {
        "terraform": {"backend": {"local": {"path": "x"}}, "required_version": ">= 1.10"},
        "provider": {"aws": [{"default_tags": [{"tags": {"Profile": profile}}]}]},
        "resource": resources if resources is not None else {
            "aws_s3_bucket": {"app_logs_1A2B3C4D": {
                "//": {"metadata": {"path": "TapStackdev/app/logs"}}, "bucket": "b"}}},
        "data": {"aws_availability_zones": {"network_zones_2241F3F0": {
            "//": {"metadata": {"path": "TapStackdev/network/zones"}}}}},
    }


def failed(check: str, resource: str) -> dict[str, Any]:
    return {"check_id": check, "resource": resource, "check_name": "a check"}


def test_scan_copy_drops_only_the_scalars_of_the_terraform_block() -> None:
    document = stack()
    copy = scan.scan_copy(document)
    assert copy["terraform"] == {"backend": {"local": {"path": "x"}}}
    assert copy["resource"] is document["resource"]
    assert document["terraform"]["required_version"] == ">= 1.10"


@pytest.mark.parametrize("name", ["resource.app_logs_1A2B3C4D", "aws_s3_bucket.app_logs_1A2B3C4D",
                                  "aws_s3_bucket.app_logs_1A2B3C4D[0]"])
def test_checkov_names_map_to_type_and_construct_path(name: str) -> None:
    assert scan.address_of(name, scan.addresses(stack())) == "aws_s3_bucket.app/logs"


def test_data_sources_and_unknown_names() -> None:
    index = scan.addresses(stack())
    assert scan.address_of("data.network_zones_2241F3F0", index) == \
        "data.aws_availability_zones.network/zones"
    with pytest.raises(scan.ScanError, match="not in the stack"):
        scan.address_of("resource.gone_0000", index)


def test_profile_comes_from_the_default_tag() -> None:
    assert scan.profile_of(stack("ephemeral")) == "ephemeral"
    with pytest.raises(scan.ScanError, match="unknown profile"):
        scan.profile_of(stack("other"))
    with pytest.raises(scan.ScanError, match="no Profile default tag"):
        scan.profile_of({"provider": {"aws": {"region": "us-east-1"}}})


ENTRY = """
[[allow]]
check = "CKV_AWS_18"
resource = "aws_s3_bucket.app/logs"
profiles = ["ephemeral"]
reason = "a log bucket does not log itself"
"""


def test_judge_allows_listed_failures_and_reports_the_rest() -> None:
    allowlist = scan.load_allowlist(ENTRY)
    report = {"results": {"failed_checks": [failed("CKV_AWS_18", "resource.app_logs_1A2B3C4D"),
                                            failed("CKV_AWS_21", "resource.app_logs_1A2B3C4D")]}}
    found = scan.findings(report, stack("ephemeral"))
    verdict = scan.judge(found, allowlist, ["ephemeral"])
    assert [f.check for f in verdict.allowed] == ["CKV_AWS_18"]
    assert [f.check for f in verdict.unexpected] == ["CKV_AWS_21"]
    assert not verdict.stale and not verdict.ok


def test_an_entry_allows_only_its_profiles_and_is_stale_where_nothing_fails() -> None:
    allowlist = scan.load_allowlist(ENTRY)
    in_standard = scan.findings({"results": {"failed_checks": [
        failed("CKV_AWS_18", "resource.app_logs_1A2B3C4D")]}}, stack("standard"))
    verdict = scan.judge(in_standard, allowlist, ["standard", "ephemeral"])
    assert [(f.profile, f.check) for f in verdict.unexpected] == [("standard", "CKV_AWS_18")]
    assert [(e.check, profile) for e, profile in verdict.stale] == [("CKV_AWS_18", "ephemeral")]
    # A profile that was not scanned makes no entry stale.
    assert scan.judge([], allowlist, ["production"]).ok


@pytest.mark.parametrize("text,problem", [
    ('[[allow]]\ncheck = "X"\nresource = "aws_s3_bucket.a"\nreason = "long enough reason"',
     "not a checkov id"),
    ('[[allow]]\ncheck = "CKV_AWS_1"\nresource = "bucket"\nreason = "long enough reason"',
     "not <type>.<construct path>"),
    ('[[allow]]\ncheck = "CKV_AWS_1"\nresource = "aws_made_up.a"\nreason = "long enough reason"',
     "^allow-list entry 1: aws_made_up is not a type of lib/resource_types.py$"),
    ('[[allow]]\ncheck = "CKV_AWS_1"\nresource = "aws_s3_bucket.a"\nreason = ""', "no reason"),
    ('[[allow]]\ncheck = "CKV_AWS_1"\nresource = "aws_s3_bucket.a"\nprofiles = ["dev"]\n'
     'reason = "long enough reason"', "profiles"),
    ('[[allow]]\ncheck = "CKV_AWS_1"\nresource = "aws_s3_bucket.a"\nwhy = 1\n'
     'reason = "long enough reason"', "unknown keys"),
    (ENTRY + ENTRY, "repeated"),
])
def test_bad_allowlist_entries_are_rejected(text: str, problem: str) -> None:
    with pytest.raises(scan.ScanError, match=problem):
        scan.load_allowlist(text)


def test_skips_need_a_reason_beside_them() -> None:
    text = "framework:\n  - terraform_json\nskip-check:\n  - CKV_AWS_1  # a reason here\ncompact: true\n"
    assert scan.load_skips(text) == {"CKV_AWS_1": "a reason here"}
    with pytest.raises(scan.ScanError, match="reason"):
        scan.load_skips("skip-check:\n  - CKV_AWS_1\n")


def test_summary_counts_skips_of_both_kinds() -> None:
    report = {"results": {"passed_checks": [{}, {}], "failed_checks": [{}], "skipped_checks": [{}]}}
    skipped = {"results": {"passed_checks": [{}], "failed_checks": [{}, {}]}}
    assert scan.summary(report, skipped) == {"passed": 2, "failed": 1, "skipped": 4}
    assert scan.summary([report], None)["skipped"] == 1
