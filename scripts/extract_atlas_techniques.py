"""Write the technique ids and names of a MITRE ATLAS release as a small TSV (for tests).

Usage (from a clone of https://github.com/mitre-atlas/atlas-data)::

    git show v5.6.1:dist/ATLAS.yaml | python scripts/extract_atlas_techniques.py > \
        tests/catalog/data/mitre-atlas-5.6.0-techniques.tsv

The test ``tests/catalog/test_taxonomy_sources.py`` checks every ATLAS entry ddrisk ships
against this extract, so a title typed from memory, or one renamed in a later release, fails.
"""

from __future__ import annotations

import sys

import yaml


def main() -> int:
    data = yaml.load(sys.stdin, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    out = sys.stdout
    out.write(
        "# MITRE ATLAS technique ids and names from mitre-atlas/atlas-data dist/ATLAS.yaml,"
        f" data version {data['version']}.\n"
        "# Copyright 2021-2025 MITRE, Apache License 2.0. Made by scripts/extract_atlas_techniques.py.\n"
        "id\tname\tparent\n"
    )
    seen: set[str] = set()
    for matrix in data["matrices"]:
        for technique in matrix["techniques"]:
            if technique["id"] in seen:
                continue
            seen.add(technique["id"])
            parent = technique.get("subtechnique-of", "")
            out.write(f"{technique['id']}\t{technique['name']}\t{parent}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
