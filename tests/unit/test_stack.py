"""Providers, tags, backend and the Terraform version constraint."""
from __future__ import annotations

from tests.unit.synth import Synth
from tests.unit.variants import VARIANT, VARIANT_REGION


def test_providers_and_default_tags(stacks: dict[str, Synth]) -> None:
    profiles = {"dev": "standard", "pr4892": "ephemeral", "prod": "production"}
    for suffix, stack in stacks.items():
        main, global_ = stack.json["provider"]["aws"]
        assert main["region"] == "us-east-1" and "alias" not in main
        assert global_ == {**main, "alias": "global", "region": "us-east-1"}
        assert main["default_tags"] == [{"tags": {
            "Environment": suffix, "Repository": "unknown", "Author": "unknown",
            "Project": "tap", "Profile": profiles[suffix], "ManagedBy": "cdktf"}}]
        assert stack.json["terraform"]["required_providers"]["aws"]["version"] == "5.100.0"


def test_region_and_tags_come_from_settings(variant: Synth) -> None:
    stack = variant
    main, global_ = stack.json["provider"]["aws"]
    assert main["region"] == VARIANT_REGION != "us-east-1"
    assert global_["region"] == "us-east-1" and global_["alias"] == "global"
    tags = main["default_tags"][0]["tags"]
    assert (tags["Repository"], tags["Author"], tags["Environment"]) == ("org/tap", "jane", "qa")
    assert stack.at("aws_vpc_endpoint", "network/s3-endpoint")["service_name"] == \
        f"com.amazonaws.{VARIANT_REGION}.s3"


def test_local_backend_by_default(stacks: dict[str, Synth]) -> None:
    for suffix, stack in stacks.items():
        assert stack.json["terraform"]["backend"] == {
            "local": {"path": f"terraform.TapStack{suffix}.tfstate"}}
        assert stack.json["terraform"]["required_version"] == ">= 1.10"


def test_s3_backend_with_native_locking(variant: Synth) -> None:
    assert (VARIANT["TERRAFORM_STATE_BUCKET"], VARIANT["TERRAFORM_STATE_BUCKET_REGION"]) == \
        ("tap-states", "eu-central-1")
    assert variant.json["terraform"]["backend"] == {"s3": {
        "bucket": "tap-states", "key": "qa/TapStackqa.tfstate",
        "region": "eu-central-1", "encrypt": True, "use_lockfile": True}}
    assert variant.json["terraform"]["required_version"] == ">= 1.10"
