"""Where candidate layers go in a structured stack, and the structure of any chosen subset.

The best-stack search (:mod:`ddrisk.risk.optimize`) chooses layers; with a structure
(:mod:`ddrisk.risk.structure`) it must also know *where* each chosen layer sits, because the
same layer lowers P(stack fails) by different amounts on different routes. Two kinds of layer:

* a layer the structure already places stays at its place; the search only decides whether
  it is deployed;
* any other candidate *joins* a position: a group of the structure named by its path
  (``structure`` for the whole stack, ``structure.any_route[1]`` for the second route,
  ``structure.any_route[1].vote[0]`` ...), the same paths the structure's error messages use.

Joining keeps the structure coherent, so adding a layer never raises P and the search's bound
stays valid:

* an all-miss group gets one more member that must also miss;
* a vote gets one more voter, and the number of flags needed to block stays the same
  (a 2-of-3 vote becomes 2-of-4);
* a route group (any-route) or a single-layer route gets the layer in series in front of it:
  ``all miss (route, new layer)``, so joining the whole stack guards every route.

A layer that is not deployed always misses (the same event as its residual becoming certain,
which is how :func:`ddrisk.risk.assessment.assess_stack` defines "without a layer");
:func:`remove_absent` rewrites the structure accordingly, so that a model of only the deployed
layers can be built and an all-miss result goes back to the fast all-miss engine.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace

from ddrisk.risk import structure as st
from ddrisk.risk.model import FailureModeModel

ROOT = "structure"
BEST = "best"
"""The position value that tries every admissible position for every joining candidate."""

Address = tuple[int, ...]


@dataclass(frozen=True)
class Position:
    """A place candidates can join: its path, its child indices from the root and its content."""

    path: str
    address: Address
    text: str

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "group": self.text}


def positions(node: st.Node) -> tuple[Position, ...]:
    """Every admissible position of ``node``: each group, and each single-layer route.

    A layer directly inside an all-miss group or a vote is not a position of its own: joining
    it would be the same as joining its group (all-miss) or would change what a vote counts.
    """
    found: list[Position] = []

    def walk(item: st.Node, path: str, address: Address, parent: st.Node | None) -> None:
        if isinstance(item, str):
            if parent is None or isinstance(parent, st.AnyRoute):
                found.append(Position(path, address, item))
            return
        found.append(Position(path, address, st.describe(item)))
        for k, child in enumerate(item.children):
            walk(child, f"{path}.{item.kind}[{k}]", (*address, k), item)

    walk(node, ROOT, (), None)
    return tuple(found)


def find_position(node: st.Node, path: str) -> Position:
    """The position named ``path``; ``ValueError`` listing the admissible ones otherwise."""
    wanted = path.strip()
    for position in positions(node):
        if position.path == wanted:
            return position
    options = "; ".join(f"{p.path} = {p.text}" for p in positions(node))
    raise ValueError(f"no position {path!r} in this structure; admissible positions: {options}")


def assemble(node: st.Node, joins: Mapping[Address, Sequence[str]]) -> st.Node:
    """``node`` with the layers of ``joins[address]`` joined at each address (see module doc)."""

    def build(item: st.Node, address: Address) -> st.Node:
        if not isinstance(item, str):
            children = tuple(build(c, (*address, k)) for k, c in enumerate(item.children))
            item = (
                st.Vote(item.flag, children) if isinstance(item, st.Vote) else type(item)(children)
            )
        joined = tuple(joins.get(address, ()))
        if not joined:
            return item
        if isinstance(item, st.AllMiss):
            return st.AllMiss((*item.children, *joined))
        if isinstance(item, st.Vote):
            return st.Vote(item.flag, (*item.children, *joined))
        return st.AllMiss((item, *joined))

    return build(node, ())


def remove_absent(node: st.Node, present: Collection[str]) -> st.Node | None:
    """The structure over the ``present`` layers when every other layer always misses.

    ``None`` means the structure then always fails (P = 1). Groups left with one member are
    replaced by it and nested groups of the same kind are flattened, so an all-miss remainder
    is recognised as the default structure.
    """
    if isinstance(node, str):
        return node if node in present else None
    kept = [remove_absent(c, present) for c in node.children]
    alive = [c for c in kept if c is not None]
    if isinstance(node, st.AnyRoute):
        if len(alive) < len(kept):
            return None  # an undefended route: the attack gets through
        return _group(st.AnyRoute, alive)
    if isinstance(node, st.AllMiss):
        return _group(st.AllMiss, alive) if alive else None
    if node.flag > len(alive):
        return None  # too few voters left to ever block
    if node.flag == 1:
        return _group(st.AllMiss, alive)  # blocks when any voter flags: fails when all miss
    if node.flag == len(alive):
        return _group(st.AnyRoute, alive)  # every voter must flag: fails when any misses
    return st.Vote(node.flag, tuple(alive))


def _group(kind: type[st.AllMiss] | type[st.AnyRoute], members: list[st.Node]) -> st.Node:
    flat: list[st.Node] = []
    for member in members:
        flat.extend(member.children if isinstance(member, kind) else (member,))
    return flat[0] if len(flat) == 1 else kind(tuple(flat))


@dataclass(frozen=True)
class Placement:
    """One choice the search can make: deploy ``layer``, at ``position`` when it joins one."""

    layer: str
    position: Position | None = None


class StructuredStacks:
    """The structured stack for every choice of placements (bit ``k`` of a mask: placement k).

    ``base`` is the all-miss model of every layer involved (its parameters); ``kept`` are layers
    the structure places that the search may not remove.
    """

    def __init__(
        self,
        base: FailureModeModel,
        template: st.Node,
        kept: Sequence[str],
        placements: Sequence[Placement],
    ) -> None:
        self.base = base
        self.template = template
        self.kept = tuple(kept)
        self.placements = tuple(placements)

    def chosen(self, mask: int) -> list[Placement]:
        return [p for k, p in enumerate(self.placements) if mask >> k & 1]

    def structure_for(self, mask: int) -> st.Node | None:
        """The deployed structure (``None``: it always fails)."""
        chosen = self.chosen(mask)
        joins: dict[Address, list[str]] = {}
        for placement in chosen:
            if placement.position is not None:
                joins.setdefault(placement.position.address, []).append(placement.layer)
        present = {*self.kept, *(p.layer for p in chosen)}
        return remove_absent(assemble(self.template, joins), present)

    def model_for(self, mask: int) -> FailureModeModel | None:
        """The model of the deployed layers under their structure (``None``: P = 1)."""
        node = self.structure_for(mask)
        return None if node is None else model_with_structure(self.base, node)


def model_with_structure(base: FailureModeModel, node: st.Node) -> FailureModeModel:
    """``base`` restricted to the layers of ``node``, combined as ``node`` says."""
    plain = base if base.structure is None else replace(base, structure=None)
    return replace(plain.subset(st.leaves(node)), structure=node)
