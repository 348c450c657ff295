"""surviving_conclusions refuses a factor that is not a number >= 1 (NaN made every view differ)."""

from __future__ import annotations

import math

import pytest

from ddrisk.raters import surviving_conclusions
from tests.raters.helpers import base_catalog, panel


@pytest.mark.parametrize("factor", [math.nan, 0.5, math.inf])
def test_bad_factor_is_refused(factor):
    catalog = base_catalog()
    views = panel(catalog, levels={"a": ["prone"] * 6, "b": ["not_prone"] * 6})
    with pytest.raises(ValueError, match="factor"):
        surviving_conclusions(views, stack=["T0", "T1"], factor=factor)
