"""Several raters for one catalog: agreement, pooling, disagreement as uncertainty, survival.

Read rater files with :func:`ddrisk.io.raterfile.load_rater_panel` (or build a
:class:`RaterPanel` with :func:`make_panel`), then:

- :func:`rater_agreement`: Krippendorff's alpha, Fleiss' kappa, pairwise and per-cell agreement,
  each with a seeded bootstrap interval;
- :func:`pool_ratings` / :func:`compare_pooling`: pooled catalogs under named rules;
- :func:`disagreement_uncertainty`: P(stack fails) with an interval from rater disagreement;
- :func:`surviving_conclusions`: which conclusions hold for every rater, every rule and with
  each rater left out.

These are the same functions ``ddrisk raters agree|pool|compare`` call.
"""

from typing import TYPE_CHECKING, Any

from ddrisk.raters.agreement import AgreementResult, Estimate, rater_agreement
from ddrisk.raters.model import (
    RATER_FILE_FORMAT,
    CellRating,
    RaterFile,
    RaterPanel,
    make_panel,
    rater_file_problems,
)
from ddrisk.raters.pooling import (
    DEFAULT_RULE,
    POOLING_RULES,
    PooledCatalog,
    PoolingComparison,
    compare_pooling,
    pool_ratings,
    rater_catalog,
)
from ddrisk.raters.spread import DisagreementRisk, disagreement_uncertainty
from ddrisk.raters.survival import SurvivalResult, surviving_conclusions

if TYPE_CHECKING:
    from ddrisk.io.raterfile import (
        dump_rater_file,
        load_rater_panel,
        parse_rater_text,
        rater_template,
        read_rater_file,
    )

# The readers live in ddrisk.io (which imports this package's models), so they are re-exported
# lazily to keep the import graph acyclic.
_IO_NAMES = frozenset(
    {"dump_rater_file", "load_rater_panel", "parse_rater_text", "rater_template", "read_rater_file"}
)


def __getattr__(name: str) -> Any:
    if name in _IO_NAMES:
        from ddrisk.io import raterfile

        return getattr(raterfile, name)
    raise AttributeError(f"module 'ddrisk.raters' has no attribute {name!r}")


__all__ = [
    "DEFAULT_RULE",
    "POOLING_RULES",
    "RATER_FILE_FORMAT",
    "AgreementResult",
    "CellRating",
    "DisagreementRisk",
    "Estimate",
    "PooledCatalog",
    "PoolingComparison",
    "RaterFile",
    "RaterPanel",
    "SurvivalResult",
    "compare_pooling",
    "disagreement_uncertainty",
    "dump_rater_file",
    "load_rater_panel",
    "make_panel",
    "parse_rater_text",
    "pool_ratings",
    "rater_agreement",
    "rater_catalog",
    "rater_file_problems",
    "rater_template",
    "read_rater_file",
    "surviving_conclusions",
]
