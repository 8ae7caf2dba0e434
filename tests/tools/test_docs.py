"""The reference pages (docs/reference/) are what tools/docs.py makes from the code: a stale
page fails, with the diff to apply (``make docs``). Runs in ``make scan``, after
``make synth-profiles`` (the quota ledger and the cost read the synthesized labels)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tools import docs


def test_every_reference_page_is_up_to_date() -> None:
    missing = [label for label in docs.LABELS
               if not list(docs.SYNTH.glob(f"{label}/stacks/*/cdk.tf.json"))]
    if missing:
        assert os.environ.get("TAP_SCAN_REQUIRED") != "1", f"no synthesized {missing}"
        pytest.skip(f"no synthesized {', '.join(missing)}: run `make synth-profiles`")
    diffs = docs.stale(docs.OUT, docs.SYNTH)
    assert not diffs, "stale reference pages (run `make docs`):\n" + "\n".join(diffs)


def test_a_stale_page_is_found_with_its_diff(tmp_path: Path) -> None:
    page = docs.outputs()
    (tmp_path / "outputs.md").write_text(page.replace("ID of the VPC", "The VPC"), "utf-8")
    found = docs.stale_pages(tmp_path, {"outputs.md": docs.outputs})
    assert len(found) == 1
    assert "-| `vpc_id` | yes | The VPC |" in found[0]
    assert "+| `vpc_id` | yes | ID of the VPC |" in found[0]
