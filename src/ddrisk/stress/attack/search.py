"""Black-box search for a prompt that gets past a target (one layer, or the whole stack).

Strategy: beam search over operator compositions
------------------------------------------------
The search space is a tree: the original prompt at the root, one operator per
edge, so a node at depth *d* is a composition of *d* distinct operators. The
default strategy, :class:`BeamSearch`, evaluates the root, then every one-operator
rewrite, keeps the ``beam_width`` best candidates, expands each of them by one more
operator, and so on down to ``max_depth``, stopping at the first candidate that
passes or when the query budget is spent.

Why beam search rather than greedy or evolutionary search:

* the budget is small (tens of queries per behavior), and the first layer of the
  tree alone has about a dozen candidates: an evolutionary population would spend
  the whole budget on its first generation;
* greedy search (beam width 1) commits to one rewrite after a single noisy score;
  keeping a few candidates costs little and recovers when the best-scoring first
  step leads nowhere;
* it is deterministic under a seed and spends queries one batch at a time, so the
  budget is respected exactly and a killed search replays identically;
* it needs only what a black-box layer gives: it ranks candidates by *fitness*,
  the number of targeted layers that blocked (errors count as blocks), then the
  sum over the blocking layers of their score relative to the original prompt's
  score (``score / original score``, so layers with different score scales weigh
  alike); a blocking layer without scores contributes 1, a passing layer nothing.

Children are visited round-robin over the beam (best parent first), each parent's
operators in a seeded order, so a budget that ends mid-level still explores the
children of every beam member. Texts already queried in this search are skipped
without spending budget. :class:`RandomSearch` (uniformly random compositions) is
the baseline strategy; new strategies implement :class:`SearchStrategy` and are
registered in :data:`STRATEGIES`.

A query's verdicts come from ``evaluate`` (the query engine). A candidate
*passes* only when every targeted layer decided and none blocked: an error is
never a pass.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from ddrisk.stress.attack.engine import Query
from ddrisk.stress.attack.operators import Operator
from ddrisk.stress.layer import Verdict

#: Error verdicts count as this much relative score pressure (worse than any block).
ERROR_PRESSURE = 2.0


@dataclass(frozen=True)
class SearchSettings:
    """How hard to search, per behavior and target."""

    budget: int = 30
    beam_width: int = 3
    max_depth: int = 3
    batch_size: int = 8
    strategy: str = "beam"

    def __post_init__(self) -> None:
        if self.budget < 1:
            raise ValueError("budget must be at least 1 query")
        if self.beam_width < 1 or self.max_depth < 0 or self.batch_size < 1:
            raise ValueError("beam_width and batch_size must be >= 1 and max_depth >= 0")
        if self.strategy not in STRATEGIES:
            raise ValueError(f"unknown strategy {self.strategy!r}; use one of {sorted(STRATEGIES)}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "budget": self.budget,
            "beam_width": self.beam_width,
            "max_depth": self.max_depth,
            "batch_size": self.batch_size,
            "strategy": self.strategy,
        }


@dataclass(frozen=True)
class Evaluated:
    """A query and what the targeted layers said."""

    query: Query
    verdicts: Mapping[str, Verdict]

    @property
    def passed(self) -> bool:
        return bool(self.verdicts) and all(
            v.blocked is False and v.error is None for v in self.verdicts.values()
        )


@dataclass(frozen=True)
class SearchResult:
    """How a search ended. ``first_success`` counts queries up to and including the first pass."""

    status: str  # found | budget_exhausted | space_exhausted
    queries_used: int
    first_success: int | None
    chain: tuple[str, ...] | None
    text: str | None


Evaluate = Callable[[Sequence[Query]], list[Evaluated]]


class SearchStrategy(Protocol):
    """What the attack runner needs from a search strategy."""

    def search(
        self,
        prompt: str,
        *,
        operators: Sequence[Operator],
        seed: int,
        settings: SearchSettings,
        evaluate: Evaluate,
    ) -> SearchResult: ...


def _rng(seed: int, label: str, prompt: str) -> np.random.Generator:
    digest = hashlib.sha256(f"{seed}\x1f{label}\x1f{prompt}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:16], "big"))


class _Budget:
    """Spends queries in batches, never past the budget; remembers the first pass."""

    def __init__(self, budget: int, batch_size: int, evaluate: Evaluate) -> None:
        self.budget = budget
        self.batch_size = batch_size
        self.evaluate = evaluate
        self.used = 0
        self.success: Evaluated | None = None
        self.first_success: int | None = None

    @property
    def done(self) -> bool:
        return self.success is not None or self.used >= self.budget

    def submit(self, candidates: Sequence[tuple[tuple[str, ...], str]]) -> list[Evaluated]:
        """Evaluate candidates in order, a batch at a time, until success or budget."""
        evaluated: list[Evaluated] = []
        position = 0
        while position < len(candidates) and not self.done:
            room = min(self.batch_size, self.budget - self.used)
            batch = candidates[position : position + room]
            position += len(batch)
            queries = [Query(self.used + k, chain, text) for k, (chain, text) in enumerate(batch)]
            results = self.evaluate(queries)
            self.used += len(queries)
            for result in results:
                if result.passed and self.success is None:
                    self.success = result
                    self.first_success = result.query.index + 1
            evaluated += results
        return evaluated

    def result(self) -> SearchResult:
        """Found; else the budget ran out; else the strategy had nothing left to try."""
        if self.success is not None:
            query = self.success.query
            return SearchResult("found", self.used, self.first_success, query.chain, query.text)
        status = "budget_exhausted" if self.used >= self.budget else "space_exhausted"
        return SearchResult(status, self.used, None, None, None)


class _Fitness:
    """Lower is better: (blocks including errors, pressure summed over the layers that block).

    A layer that already passes the candidate adds no pressure: its score is irrelevant
    until it blocks, and counting it would let a comfortably passing layer with a tiny
    reference score dominate the sum.
    """

    def __init__(self) -> None:
        self.reference: dict[str, float] = {}

    def set_reference(self, root: Evaluated) -> None:
        for name, verdict in root.verdicts.items():
            if verdict.score is not None and verdict.error is None:
                self.reference[name] = max(abs(float(verdict.score)), 1e-6)

    def __call__(self, result: Evaluated) -> tuple[int, float]:
        blocks = 0
        pressure = 0.0
        for name, verdict in result.verdicts.items():
            if verdict.error is not None or verdict.blocked is None:
                blocks += 1
                pressure += ERROR_PRESSURE
            elif verdict.blocked:
                blocks += 1
                if verdict.score is not None and name in self.reference:
                    pressure += float(verdict.score) / self.reference[name]
                else:
                    pressure += 1.0
        return blocks, pressure


@dataclass(frozen=True)
class _Node:
    chain: tuple[str, ...]
    text: str


class BeamSearch:
    """Beam search over operator compositions, guided by scores (see the module docstring)."""

    def search(
        self,
        prompt: str,
        *,
        operators: Sequence[Operator],
        seed: int,
        settings: SearchSettings,
        evaluate: Evaluate,
    ) -> SearchResult:
        budget = _Budget(settings.budget, settings.batch_size, evaluate)
        fitness = _Fitness()
        seen = {prompt}
        root = budget.submit([((), prompt)])
        if root:
            fitness.set_reference(root[0])
        beam = [_Node((), prompt)]
        rng = _rng(seed, "beam", prompt)
        for _depth in range(settings.max_depth):
            if budget.done or not beam:
                break
            queues: list[list[_Node]] = []
            for parent in beam:
                order = rng.permutation(len(operators))
                children = []
                for index in order:
                    operator = operators[int(index)]
                    if operator.name in parent.chain:
                        continue
                    text = operator.apply(parent.text, seed=seed)
                    if text in seen:
                        continue
                    seen.add(text)
                    children.append(_Node((*parent.chain, operator.name), text))
                queues.append(children)
            candidates = []
            while any(queues):
                for queue in queues:
                    if queue:
                        candidates.append(queue.pop(0))
            if not candidates:
                break
            evaluated = budget.submit([(node.chain, node.text) for node in candidates])
            ranked = sorted(range(len(evaluated)), key=lambda k: (fitness(evaluated[k]), k))[
                : settings.beam_width
            ]
            beam = [_Node(evaluated[k].query.chain, evaluated[k].query.text) for k in ranked]
        return budget.result()


class RandomSearch:
    """Uniformly random compositions of 1..max_depth distinct operators (a baseline)."""

    def search(
        self,
        prompt: str,
        *,
        operators: Sequence[Operator],
        seed: int,
        settings: SearchSettings,
        evaluate: Evaluate,
    ) -> SearchResult:
        budget = _Budget(settings.budget, settings.batch_size, evaluate)
        budget.submit([((), prompt)])
        rng = _rng(seed, "random", prompt)
        seen = {prompt}
        by_name = {op.name: op for op in operators}
        depth_max = min(settings.max_depth, len(operators))
        misses = 0
        while not budget.done and depth_max > 0 and misses < 50 * settings.budget:
            batch: list[tuple[tuple[str, ...], str]] = []
            while len(batch) < settings.batch_size and misses < 50 * settings.budget:
                depth = int(rng.integers(1, depth_max + 1))
                chain = tuple(
                    operators[int(i)].name for i in rng.choice(len(operators), depth, replace=False)
                )
                text = prompt
                for name in chain:
                    text = by_name[name].apply(text, seed=seed)
                if text in seen:
                    misses += 1
                    continue
                seen.add(text)
                batch.append((chain, text))
            budget.submit(batch)
        return budget.result()


#: Search strategies by name; add yours here (an object with the :class:`SearchStrategy` method).
STRATEGIES: dict[str, SearchStrategy] = {"beam": BeamSearch(), "random": RandomSearch()}
