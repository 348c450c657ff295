"""Write the ids and names of the OWASP Top 10 for LLM Applications 2025 as a small TSV (for tests).

Usage (from a clone of https://github.com/OWASP/www-project-top-10-for-large-language-model-applications)::

    cat 2_0_vulns/LLM0[1-9]_*.md 2_0_vulns/LLM10_*.md | \
        python scripts/extract_owasp_llm_top10.py --commit "$(git rev-parse HEAD)" > \
        tests/catalog/data/owasp-llm-2025-top10.tsv

Each English entry file of the 2025 list opens with a heading ``## LLM01:2025 Prompt Injection``;
the script keeps exactly those headings. ``tests/catalog/test_taxonomy_sources_owasp_llm.py``
checks every OWASP entry ddrisk ships against this extract.
"""

from __future__ import annotations

import argparse
import re
import sys

HEADING = re.compile(r"^##\s+(LLM\d{2}:2025)\s+(.+?)\s*$")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commit", required=True, help="commit of the OWASP clone read")
    args = parser.parse_args()
    entries: dict[str, str] = {}
    for line in sys.stdin:
        match = HEADING.match(line)
        if match and match.group(1) not in entries:
            entries[match.group(1)] = match.group(2)
    if len(entries) != 10:
        raise SystemExit(f"expected 10 LLMnn:2025 headings, found {sorted(entries)}")
    out = sys.stdout
    out.write(
        "# OWASP Top 10 for LLM Applications 2025: ids and names from the entry headings of\n"
        "# OWASP/www-project-top-10-for-large-language-model-applications 2_0_vulns/LLM*.md,"
        f" commit {args.commit}.\n"
        "# OWASP Foundation, CC BY-SA 4.0. Made by scripts/extract_owasp_llm_top10.py.\n"
        "id\tname\n"
    )
    for entry_id in sorted(entries):
        out.write(f"{entry_id}\t{entries[entry_id]}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
