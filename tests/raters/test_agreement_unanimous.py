"""Raters who agree on everything: exact values with a note, never a "1.00 [1.00, 1.00]" interval."""

from __future__ import annotations

from ddrisk.raters import rater_agreement
from ddrisk.report.raters_terminal import print_agreement
from tests.raters.helpers import base_catalog, panel

P, N, U = "prone", "not_prone", "unclear"


def test_full_agreement_gives_exact_values_with_notes():
    catalog = base_catalog(2, 3)
    same = [P, N, U, N, P, None]
    probs = [0.9, 0.1, 0.5, 0.2, 0.8, 0.3]
    result = rater_agreement(
        panel(catalog, {"a": same, "b": same, "c": [*same[:5], N]}, {"a": probs, "b": probs}),
        n_boot=200,
    )
    for estimate in (result.alpha_ordinal, result.fleiss_kappa, result.alpha_interval):
        assert estimate.value == 1.0 and estimate.exact
        assert estimate.low is None and estimate.to_dict()["interval"] is None
        assert estimate.text() == "1.00" and "[" not in estimate.text_noted()
        assert "agree" in estimate.note or "same probability" in estimate.note
    for pair in result.pairs:
        assert pair.share_identical.value == 1.0 and pair.share_identical.exact
        assert pair.share_identical.text_noted() == "1.00 (the two agree on every co-rated cell)"
    assert result.mean_cell_disagreement.exact and result.mean_cell_disagreement.value == 0.0


def test_partial_agreement_keeps_its_intervals():
    # a and b agree everywhere (exact); c differs on one cell, so c's pairs and the panel vary.
    catalog = base_catalog(2, 3)
    a = [P, N, U, N, P, N]
    c = [P, N, U, N, P, P]
    result = rater_agreement(panel(catalog, {"a": a, "b": a, "c": c}), n_boot=200)
    assert not result.alpha_ordinal.exact and result.alpha_ordinal.low is not None
    assert result.alpha_ordinal.low < result.alpha_ordinal.value < 1.0
    assert not result.fleiss_kappa.exact and result.fleiss_kappa.low is not None
    exact = {(p.rater_a, p.rater_b): p.share_identical.exact for p in result.pairs}
    assert exact == {("a", "b"): True, ("a", "c"): False, ("b", "c"): False}
    ac = next(p for p in result.pairs if p.rater_b == "c")
    assert ac.share_identical.low is not None and "[" in ac.share_identical.text_noted()
    assert not result.mean_cell_disagreement.exact


def test_kappa_exact_when_only_the_cells_everyone_rated_agree():
    # The last cell splits a and b but c left it blank: kappa uses complete cells only.
    catalog = base_catalog(2, 3)
    result = rater_agreement(
        panel(
            catalog,
            {"a": [P, N, U, N, P, P], "b": [P, N, U, N, P, N], "c": [P, N, U, N, P, None]},
        ),
        n_boot=200,
    )
    assert result.fleiss_kappa.exact
    assert result.fleiss_kappa.note == "all raters agree on every cell they all rated"
    assert not result.alpha_ordinal.exact


def test_terminal_says_why_there_is_no_interval():
    from rich.console import Console

    catalog = base_catalog(2, 3)
    same = [P, N, U, N, P, N]
    result = rater_agreement(panel(catalog, {"a": same, "b": same}), n_boot=50)
    console = Console(record=True, width=200)
    print_agreement(result, console)
    text = console.export_text()
    assert "[1.00, 1.00]" not in text and "1.00" in text
    assert "all raters agree on every co-rated cell" in text
    assert "No interval for a / b: the two agree on every co-rated cell." in text
