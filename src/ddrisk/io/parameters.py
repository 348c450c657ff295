"""Read risk parameter files (YAML or JSON) into :class:`~ddrisk.risk.parameters.PartialParameters`.

The format is documented in :mod:`ddrisk.risk.parameters`; this module only reads the file
through :mod:`ddrisk.io.documents` (size, depth and alias limits, duplicate keys rejected,
every key's line kept) and hands the parsed mapping to the pure validator
:func:`~ddrisk.risk.parameters.parameters_from_mapping`, so its errors point at a line.
"""

from __future__ import annotations

from pathlib import Path

from ddrisk.io.documents import read_document
from ddrisk.risk.parameters import PartialParameters, RiskParameters, parameters_from_mapping


def read_parameter_file(path: str | Path) -> PartialParameters:
    """The values a parameter file sets (an empty file sets none), each with its line."""
    document = read_document(path, what="parameter file", allow_empty=True)
    key_lines = {path: line for path, line in document.lines.items() if path}
    return parameters_from_mapping(document.data, source=document.label, lines=key_lines)


def build_parameters(
    *, params_file: str | Path | None = None, cli: PartialParameters | None = None
) -> RiskParameters:
    """Built-in defaults, then the parameter file, then the command line's values."""
    params = RiskParameters()
    if params_file is not None:
        params = params.merged(read_parameter_file(params_file))
    if cli is not None:
        params = params.merged(cli)
    return params
