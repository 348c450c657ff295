"""Invariants of the structural analysis on random catalogs (hypothesis)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ddrisk.analysis import best_stacks, pairwise_overlap, stack_coverage, technique_groups
from ddrisk.analysis.profile import Profile, UnclearPolicy
from ddrisk.analysis.robustness import robustness_from_profile
from tests.conftest import catalogs

SETTINGS = settings(max_examples=60, deadline=None)


@SETTINGS
@given(catalogs())
def test_overlap_is_symmetric_and_bounded(catalog):
    result = pairwise_overlap(catalog)
    for pair in result.pairs:
        reverse = result.pair(pair.technique_b, pair.technique_a, pair.policy)
        assert reverse is pair  # one record per unordered pair
        assert 0.0 <= pair.jaccard <= 1.0
        assert pair.phi is None or -1.0 - 1e-12 <= pair.phi <= 1.0 + 1e-12
    for policy in ("pessimistic", "optimistic"):
        table = result.matrix("jaccard", policy)
        assert table.equals(table.T)


@SETTINGS
@given(catalogs(), st.data())
def test_adding_a_layer_never_worsens_coverage(catalog, data):
    ids = catalog.technique_ids
    stack = data.draw(
        st.lists(st.sampled_from(ids), min_size=1, max_size=len(ids) - 1, unique=True)
    )
    extra = data.draw(st.sampled_from([t for t in ids if t not in stack]))
    before = stack_coverage(catalog, stack)
    after = stack_coverage(catalog, [*stack, extra])
    for policy in ("pessimistic", "optimistic"):
        assert set(after.straight_through[policy]) <= set(before.straight_through[policy])


@SETTINGS
@given(catalogs(), st.data())
def test_policies_bracket_each_other(catalog, data):
    ids = catalog.technique_ids
    stack = data.draw(st.lists(st.sampled_from(ids), min_size=1, unique=True))
    coverage = stack_coverage(catalog, stack)
    assert set(coverage.straight_through["optimistic"]) <= set(
        coverage.straight_through["pessimistic"]
    )
    stacks = best_stacks(catalog, top=1)
    for k in stacks.ranked["pessimistic"]:
        optimistic = len(stacks.best(k, "optimistic").straight_through)
        pessimistic = len(stacks.best(k, "pessimistic").straight_through)
        assert optimistic <= pessimistic
    overlap = pairwise_overlap(catalog)
    for pair in overlap.pairs:
        if pair.policy == "optimistic":
            pess = overlap.pair(pair.technique_a, pair.technique_b, "pessimistic")
            assert set(pair.shared_modes) <= set(pess.shared_modes)


@SETTINGS
@given(catalogs())
def test_best_stack_count_never_rises_with_k(catalog):
    stacks = best_stacks(catalog, top=1)
    for policy, by_k in stacks.ranked.items():
        counts = [len(by_k[k][0].straight_through) for k in sorted(by_k)]
        assert counts == sorted(counts, reverse=True)
        # the exhaustive best really is minimal: no single stack of that size beats it
        for k in by_k:
            best = len(by_k[k][0].straight_through)
            assert all(len(s.straight_through) >= best for s in stacks.tied_best[policy][k])


@SETTINGS
@given(catalogs())
def test_groups_partition_the_techniques(catalog):
    result = technique_groups(catalog)
    for groups in result.groups.values():
        members = [m for g in groups for m in g.members]
        assert sorted(members) == sorted(catalog.technique_ids)
        for g in groups:
            if g.kind == "high_tax":
                assert all(catalog.technique(m).safety_tax.value == "high" for m in g.members)
            if g.kind == "complementary":
                assert len(g.shared_modes) <= result.complementary_max_shared


@settings(max_examples=15, deadline=None)
@given(catalogs(max_techniques=5, max_modes=5))
def test_robustness_baseline_and_resolutions_consistent(catalog):
    profile = Profile.from_catalog(catalog)
    result = robustness_from_profile(profile, UnclearPolicy.BOUNDS)
    unclear = len(result.unclear_cells)
    assert result.resolutions_enumerated == (unclear <= 10)
    assert result.resolutions_checked == (2**unclear if unclear <= 10 else 1024)
    for conclusion, outcomes in result.resolution_outcomes.items():
        assert sum(outcomes.values()) == result.resolutions_checked
        if not result.unclear_cells:
            # no '?' cells: both policies agree and every resolution is the baseline itself
            assert (
                result.baseline["pessimistic"][conclusion]
                == result.baseline["optimistic"][conclusion]
            )
            assert result.holds_share(conclusion) == 1.0
