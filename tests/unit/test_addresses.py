"""Stable addresses: every resource keeps its Terraform address unless a change says so.

A resource's address is ``<type>.<logical id>`` as in cdk.tf.json; cdktf derives the logical
id from the construct path, so renaming or moving a construct changes it, and Terraform then
destroys the resource under the old address and creates a new one (for a database: its data
gone). ``tests/unit/addresses/<suffix>.txt`` lists the addresses of each reference profile;
the session's synthesized stacks (tests/unit/conftest.py) must have exactly those.

Data sources are left out: they hold no state (Terraform reads them again on every plan),
and a ``moved`` block cannot name one, so renaming one costs nothing.

The shared mode's two stacks have theirs too: ``pr4892-shared.txt`` (pr4892 on the shared pieces)
and ``shared.txt`` (the shared stack, whose state holds the pieces sixty environments use).

``make golden`` (``python -m tests.unit.test_addresses``) rewrites the lists from fresh
synths of the same profiles, for when a change of addresses is intended.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from lib.resource_types import STATEFUL_TYPES
from tests.unit.conftest import REFERENCE_SUFFIXES
from tests.unit.synth import Synth, parsed, synthesize

GOLDEN = Path(__file__).resolve().parent / "addresses"
# The shared mode's labels and the session fixture (tests/unit/conftest.py) of each.
SHARED_LABELS = {"pr4892-shared": "on_shared", "shared": "platform"}
HEADER = ("# Terraform addresses of the resources of {suffix} (data sources left out).\n"
          "# Regenerate with `make golden` only when a change of address is intended:\n"
          "# see tests/unit/test_addresses.py.\n")


def addresses(stack: Synth) -> dict[str, str]:
    """The construct path below the stack of every resource, by Terraform address."""
    return {f"{rtype}.{logical_id}": stack.paths[logical_id]
            for rtype, blocks in stack.json.get("resource", {}).items() for logical_id in blocks}


def moves(stack: Synth) -> dict[str, str]:
    """The stack's ``moved`` blocks (written by cdktf's move_to / move_to_id / move_from_id):
    new address by old."""
    return {block["from"]: block["to"] for block in stack.json.get("moved", [])}


def golden_path(suffix: str) -> Path:
    return GOLDEN / f"{suffix}.txt"


def read_golden(path: Path) -> set[str]:
    """The addresses of a golden file (comment lines left out)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


def golden_text(stack: Synth, suffix: str) -> str:
    name = "TapSharedmain" if suffix == "shared" else \
        f"TapStack{suffix.removesuffix('-shared')}" + (" on the shared pieces"
                                                       if suffix.endswith("-shared") else "")
    return HEADER.format(suffix=name) + "".join(f"{a}\n" for a in sorted(addresses(stack)))


def differences(golden: set[str], stack: Synth, golden_name: str) -> str:
    """What changed against the golden list and what to do about it ('' when nothing did)."""
    current, moved = addresses(stack), moves(stack)
    gone = sorted(golden - set(current))
    new = sorted(set(current) - golden)
    if not gone and not new:
        return ""
    lost = [a for a in gone if moved.get(a) not in current]
    lines = [f"resource addresses differ from {golden_name}:"]
    lines += [f"  moved: {a} -> {moved[a]} (a moved block keeps its state)"
              for a in gone if a not in lost]
    lines += [f"  gone:  {a} (Terraform would DESTROY it"
              f"{', with its data' if a.split('.', 1)[0] in STATEFUL_TYPES else ''})"
              for a in lost]
    lines += [f"  new:   {a} (construct path {current[a]})" for a in new
              if a not in moved.values()]
    renames = [(current[new_address], old) for old in lost for new_address in new
               if new_address.split(".", 1)[0] == old.split(".", 1)[0]]
    lines.append("What to do:")
    if renames:
        lines.append("  - if a refactor renamed a construct id (the same resource), keep its state "
                     "with a Terraform moved block: call `.move_from_id(OLD)` on the new resource "
                     "(or `move_to_id` / `move_to` on the old one), then `make golden`:")
        lines += [f'      {path}: .move_from_id("{old}")' for path, old in renames]
    lines.append("  - if the change of addresses is intended (resources added, removed, or moved "
                 "with a moved block), update the golden list on purpose: `make golden`, and "
                 "commit tests/unit/addresses/ with the change")
    return "\n".join(lines)


@pytest.mark.parametrize("suffix", (*REFERENCE_SUFFIXES, *SHARED_LABELS))
def test_addresses_match_the_golden_list(stacks: dict[str, Synth], suffix: str,
                                         request: pytest.FixtureRequest) -> None:
    path = golden_path(suffix)
    assert path.is_file(), f"{path} is missing: run `make golden`"
    golden = read_golden(path)
    assert len(golden) > 50  # a whole stack, not a stub
    stack = stacks[suffix] if suffix in stacks else request.getfixturevalue(SHARED_LABELS[suffix])
    problem = differences(golden, stack, f"tests/unit/addresses/{path.name}")
    if problem:
        pytest.fail(problem, pytrace=False)


def tiny(bucket_id: str, moved_from: str | None = None) -> Synth:
    """A stack with one bucket at construct id ``bucket_id``, optionally moved from an address."""
    # Imported here, after tests.unit.conftest has installed the fast bindings loaders
    # (lib.bindings.load), also when `make golden` runs this module as __main__.
    # pylint: disable=import-outside-toplevel
    from cdktf import TerraformStack, Testing
    from cdktf_cdktf_provider_aws.provider import AwsProvider
    from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
    stack = TerraformStack(Testing.app(), "tiny")
    AwsProvider(stack, "aws", region="us-east-1")
    bucket = S3Bucket(stack, bucket_id, bucket="tiny-logs")
    if moved_from:
        bucket.move_from_id(moved_from)
    return parsed(stack)


def test_a_renamed_construct_id_fails_and_says_what_to_do() -> None:
    before = set(addresses(tiny("logs")))
    assert before == {"aws_s3_bucket.logs"}
    assert differences(before, tiny("logs"), "tiny.txt") == ""
    renamed = tiny("access-logs")
    assert differences(before, renamed, "tiny.txt").splitlines() == [
        "resource addresses differ from tiny.txt:",
        "  gone:  aws_s3_bucket.logs (Terraform would DESTROY it, with its data)",
        "  new:   aws_s3_bucket.access-logs (construct path access-logs)",
        "What to do:",
        "  - if a refactor renamed a construct id (the same resource), keep its state with a "
        "Terraform moved block: call `.move_from_id(OLD)` on the new resource (or `move_to_id` / "
        "`move_to` on the old one), then `make golden`:",
        '      access-logs: .move_from_id("aws_s3_bucket.logs")',
        "  - if the change of addresses is intended (resources added, removed, or moved with a "
        "moved block), update the golden list on purpose: `make golden`, and commit "
        "tests/unit/addresses/ with the change",
    ]


def test_a_rename_with_a_moved_block_only_asks_for_the_golden_list() -> None:
    before = set(addresses(tiny("logs")))
    moved = tiny("access-logs", moved_from="aws_s3_bucket.logs")
    assert moves(moved) == {"aws_s3_bucket.logs": "aws_s3_bucket.access-logs"}
    message = differences(before, moved, "tiny.txt")
    assert message.splitlines()[1] == \
        "  moved: aws_s3_bucket.logs -> aws_s3_bucket.access-logs (a moved block keeps its state)"
    assert "DESTROY" not in message and "move_from_id" not in message
    assert "`make golden`" in message


def test_golden_files_round_trip(dev: Synth) -> None:
    text = golden_text(dev, "dev")
    assert text.startswith(HEADER.format(suffix="TapStackdev"))
    body = text.splitlines()[HEADER.count("\n"):]
    assert body == sorted(body) and set(body) == set(addresses(dev))
    assert all(not line.startswith("data.") for line in body)


def write_golden() -> None:
    """Rewrite every golden list from fresh synths of the reference profiles (all three
    synthesized before any file is written: a stack that fails leaves the lists as they were)."""
    # pylint: disable=import-outside-toplevel  # after the bindings loaders (conftest)
    from cdktf import Testing

    from lib.config import load_platform_settings
    from lib.shared_stack import SharedStack
    from tests.unit.variants import GIVEN_NETWORK, SHARED
    stacks = {suffix: synthesize({"ENVIRONMENT_SUFFIX": suffix}) for suffix in REFERENCE_SUFFIXES}
    stacks["pr4892-shared"] = synthesize(SHARED)
    stacks["shared"] = parsed(SharedStack(Testing.app(), load_platform_settings(
        {"SHARED_PLATFORM": "main", **GIVEN_NETWORK})))
    GOLDEN.mkdir(exist_ok=True)
    for suffix, stack in stacks.items():
        path = golden_path(suffix)
        path.write_text(golden_text(stack, suffix), encoding="utf-8")
        print(f"wrote {path.relative_to(GOLDEN.parents[2])}: {len(addresses(stack))} addresses")


if __name__ == "__main__":
    write_golden()
