"""Write the 12 GAI risk names of NIST AI 600-1 (July 2024) as a small TSV (for tests).

The NIST PDF itself was not reachable from where this extract was made; the input is the
Markdown text that the Cloud Security Alliance made from it with ``marker`` and publishes in
https://github.com/CloudSecurityAlliance-DataSets/dataset-public-laws-regulations-standards::

    git show COMMIT:control/nist.gov/ai-600-1/1.0/ai-600-1-1.0.md | \
        python scripts/extract_nist_ai_600_1_risks.py --commit COMMIT > \
        tests/catalog/data/nist-ai-600-1-risks.tsv

Section 2 names each risk twice: in a numbered list ("6. Harmful Bias or Homogenization: ...")
and as the heading of its subsection ("2.6. Harmful Bias and Homogenization"). The two differ
for 2.6 in NIST's own text, so the extract keeps both. ``marker`` recases headings ("Cbrn
Information Or Capabilities"), so a heading is only good for a case-insensitive comparison; the
list keeps the document's case. ``tests/catalog/test_taxonomy_sources_nist_ai_600_1.py`` checks
every shipped entry against this extract.
"""

from __future__ import annotations

import argparse
import re
import sys

SECTION_2 = re.compile(r"^## 2\. ", re.MULTILINE)
SUBSECTION = re.compile(r"^## 2\.(\d{1,2})\. (.+?)\s*$", re.MULTILINE)
# "6. Harmful Bias or Homogenization: Amplification ..." (marker may put a footnote number first)
LIST_ITEM = re.compile(r"(?:^|\s)(\d{1,2})\. ([A-Z][^:\n]{2,80}?):\s")


def plain(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("**", "").replace("*", "")).strip()


def extract(markdown: str) -> list[tuple[str, str, str]]:
    start = SECTION_2.search(markdown)
    if start is None:
        raise SystemExit("no '## 2. ' section: is this the AI 600-1 text?")
    headings = {int(m[1]): plain(m[2]) for m in SUBSECTION.finditer(markdown, start.end())}
    overview = plain(markdown[start.end() : markdown.find("## 2.1.", start.end())])
    listed: dict[int, str] = {}
    for match in LIST_ITEM.finditer(overview):
        number = int(match[1])
        if 1 <= number <= 12 and number not in listed:
            listed[number] = match[2].strip()
    if sorted(headings) != list(range(1, 13)) or sorted(listed) != list(range(1, 13)):
        raise SystemExit(f"expected risks 1-12, found headings {headings} and list {listed}")
    return [(f"2.{n}", listed[n], headings[n]) for n in range(1, 13)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commit", required=True, help="commit of the CSA repository read")
    args = parser.parse_args()
    rows = extract(sys.stdin.read())
    out = sys.stdout
    out.write(
        "# NIST AI 600-1 (July 2024), section 2: the 12 GAI risks, as the numbered list and the"
        " subsection heading name them.\n"
        "# From CloudSecurityAlliance-DataSets/dataset-public-laws-regulations-standards"
        f" control/nist.gov/ai-600-1/1.0/ai-600-1-1.0.md, commit {args.commit}\n"
        "# (marker's text of the NIST PDF; headings recased by marker). A work of the US"
        " government. Made by scripts/extract_nist_ai_600_1_risks.py.\n"
        "section\tlist_name\theading\n"
    )
    for section, listed, heading in rows:
        out.write(f"{section}\t{listed}\t{heading}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
