"""lib/moves.py: the moved blocks of the tier re-cut, and cdktf's logical ids recomputed."""
from __future__ import annotations

from lib.moves import MOVES, logical_id
from tests.unit.synth import Synth


def test_logical_ids_are_recomputed_exactly(stacks: dict[str, Synth], variant: Synth) -> None:
    for stack in (*stacks.values(), variant):
        for kind in ("resource", "data"):
            for blocks in stack.json.get(kind, {}).values():
                for lid in blocks:
                    assert logical_id(stack.paths[lid]) == lid


def test_known_ids_of_the_previous_layout() -> None:
    # As the golden lists of main before the re-cut held them (tests/unit/addresses/).
    assert logical_id("app/alb") == "app_alb_971C44C0"
    assert logical_id("app/vpc-origin") == "app_vpc-origin_B96694B8"
    assert logical_id("data/key/key") == "data_key_FECD82CE"
    assert logical_id("caller") == "caller"


def test_every_move_is_a_moved_block_of_each_stack(stacks: dict[str, Synth],
                                                   variant: Synth) -> None:
    for stack in (*stacks.values(), variant):
        moved = {block["from"]: block["to"] for block in stack.json["moved"]}
        present = {f"{rtype}.{lid}": stack.paths[lid]
                   for rtype, blocks in stack.json["resource"].items() for lid in blocks}
        expected = {f"{address.split('.')[0]}.{logical_id(MOVES[path])}": address
                    for address, path in present.items() if path in MOVES}
        assert moved == expected and moved
        assert all(target in present for target in moved.values())
