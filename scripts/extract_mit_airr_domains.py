"""Write the domains and subdomains of the MIT AI Risk Repository's Domain Taxonomy as a TSV.

The input is the "Domain Taxonomy of AI Risks v3" sheet of the repository's spreadsheet
(https://airisk.mit.edu/, "Updated: 26 March 2025") as CSV. The Cloud Security Alliance keeps
a copy downloaded from airisk.mit.edu in
https://github.com/CloudSecurityAlliance-DataSets/dataset-public-laws-regulations-standards::

    git show "COMMIT:reference/mit.edu/ai-risk-repository/The-AI-Risk-Repository-V3_26_03_2025-Domain-Taxonomy-of-AI-Risks-v3.csv" | \
        python scripts/extract_mit_airr_domains.py --commit COMMIT > \
        tests/catalog/data/mit-airr-2025-03-26-domains.tsv

Names are kept as the sheet writes them except for whitespace: runs of spaces and line breaks
inside a cell become one space, and a space the sheet puts after a hyphen inside a word
("Human- Computer Interaction") is dropped. ``tests/catalog/test_taxonomy_sources_mit_airr.py``
checks every shipped entry against this extract.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys

DOMAIN_ID = re.compile(r"^\d$")
SUBDOMAIN_ID = re.compile(r"^\d\.\d$")
UPDATED = re.compile(r"Updated:\s*(.+?)\s*$")


def clean(name: str) -> str:
    name = re.sub(r"\s+", " ", name).strip()
    return re.sub(r"(?<=\w)- (?=\w)", "-", name)


def extract(rows: list[list[str]]) -> tuple[str, list[tuple[str, str, str]]]:
    updated = ""
    entries: list[tuple[str, str, str]] = []
    for row in rows:
        cells = [*row, "", "", "", "", "", ""][:6]
        for cell in cells:
            found = UPDATED.search(cell)
            if found and not updated:
                updated = found[1]
        if DOMAIN_ID.match(cells[1].strip()) and cells[2].strip():
            entries.append((cells[1].strip(), clean(cells[2]), "domain"))
        if SUBDOMAIN_ID.match(cells[3].strip()) and cells[4].strip():
            entries.append((cells[3].strip(), clean(cells[4]), "subdomain"))
    if not updated:
        raise SystemExit("no 'Updated:' date in the sheet")
    return updated, entries


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commit", required=True, help="commit of the CSA repository read")
    args = parser.parse_args()
    updated, entries = extract(list(csv.reader(sys.stdin)))
    out = sys.stdout
    out.write(
        "# MIT AI Risk Repository, Domain Taxonomy of AI Risks v3 (sheet 'Updated: "
        f"{updated}'): domain and subdomain ids and names.\n"
        "# From CloudSecurityAlliance-DataSets/dataset-public-laws-regulations-standards"
        " reference/mit.edu/ai-risk-repository/The-AI-Risk-Repository-V3_26_03_2025-"
        f"Domain-Taxonomy-of-AI-Risks-v3.csv, commit {args.commit}.\n"
        "# MIT AI Risk Repository (Slattery et al.), CC BY 4.0. Made by"
        " scripts/extract_mit_airr_domains.py.\n"
        "id\tname\tlevel\n"
    )
    for entry_id, name, level in entries:
        out.write(f"{entry_id}\t{name}\t{level}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
