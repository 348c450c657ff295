"""Numbers for JSON: the one convention every ddrisk record follows for NaN and infinities.

JSON (RFC 8259) has no NaN or Infinity. Python's :func:`json.dumps` writes the bare tokens
``NaN`` and ``Infinity`` anyway, which strict parsers (``jq``, JavaScript's ``JSON.parse``,
most databases) reject, so ddrisk never lets a non-finite float reach a JSON encoder:

* a finite float stays a number (numpy scalars become Python ``float``/``int``/``bool``);
* ``NaN`` means "not defined here" (an interval with no data, a statistic of one rater) and
  becomes ``null``, the same as a value that is missing;
* ``+inf`` and ``-inf`` carry meaning (a log probability of an impossible event is ``-inf``; a
  ratio over zero is ``inf``) and become the strings ``"inf"`` and ``"-inf"``, which
  ``float()`` reads back in Python and which no reader confuses with a missing value.

Keys are never added or removed by the conversion: a record keeps its shape whatever its
numbers are. :func:`json_number` converts one value; :func:`json_ready` converts a whole
structure (dicts, lists, tuples, numpy arrays and scalars); :func:`json_default` is the
``default=`` hook of :func:`json.dumps` for result objects (``to_dict()``) and numpy values.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

__all__ = ["json_default", "json_number", "json_ready"]


def json_number(value: float | None) -> float | str | None:
    """One float (or ``None``) for JSON under the convention above.

    >>> json_number(1.5), json_number(float("inf")), json_number(float("-inf"))
    (1.5, 'inf', '-inf')
    >>> json_number(float("nan")) is None, json_number(None) is None
    (True, True)
    """
    if value is None:
        return None
    number = float(value)
    if math.isnan(number):
        return None
    if math.isinf(number):
        return "inf" if number > 0 else "-inf"
    return number


def json_ready(value: Any) -> Any:
    """``value`` with every number made JSON-safe, recursively; other values unchanged.

    >>> import numpy as np
    >>> json_ready({"a": np.float64("nan"), "b": [np.int64(2), float("inf")], "c": (True,)})
    {'a': None, 'b': [2, 'inf'], 'c': [True]}
    """
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, float):
        return json_number(value)
    if isinstance(value, Mapping):
        return {key: json_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(item) for item in value]
    # numpy without importing it: arrays have ``tolist``, scalars have ``item``.
    if hasattr(value, "tolist") and hasattr(value, "ndim"):
        return json_ready(value.tolist())
    if hasattr(value, "item") and hasattr(value, "dtype"):
        return json_ready(value.item())
    return value


def json_default(value: Any) -> Any:
    """``default=`` for :func:`json.dumps`: result objects by ``to_dict()``, numpy by value.

    >>> import json, numpy as np
    >>> json.dumps({"a": np.array([1.0, np.nan])}, default=json_default)
    '{"a": [1.0, null]}'
    """
    if hasattr(value, "to_dict"):
        return json_ready(value.to_dict())
    if hasattr(value, "tolist"):
        return json_ready(value.tolist())
    if hasattr(value, "item"):
        return json_ready(value.item())
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
