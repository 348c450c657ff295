"""Layer-entry errors quote pydantic's constraint exactly (a pattern is case-sensitive)."""

from __future__ import annotations

import pytest

from ddrisk.errors import InputError
from ddrisk.stress.config import build_layer


def test_name_pattern_is_quoted_with_its_case():
    spec = {"kind": "python", "name": "bomb<script>", "target": "mod:fn"}
    with pytest.raises(InputError) as caught:
        build_layer(spec, source="layers.yaml", where="layers[0]")
    problem = caught.value.problem
    assert "^[A-Za-z][A-Za-z0-9_" in problem, problem
    assert problem.startswith("invalid value 'bomb<script>' (string should match pattern")
