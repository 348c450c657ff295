"""Write the 72 subcategory ids and outcome texts of NIST AI RMF 1.0 as a TSV (for tests).

Usage (poppler's ``pdftotext`` on NIST AI 100-1, https://doi.org/10.6028/NIST.AI.100-1)::

    pdftotext -bbox NIST.AI.100-1.pdf - | \
        python scripts/extract_nist_ai_rmf_subcategories.py --sha256 "$(sha256sum NIST.AI.100-1.pdf)" > \
        tests/catalog/data/nist-ai-rmf-1.0-subcategories.tsv

The subcategories are the right-hand column of Tables 1-4 (GOVERN, MAP, MEASURE, MANAGE).
``pdftotext -bbox`` gives every word with its position, so the script keeps the words of that
column, joins each subcategory's lines and undoes the typesetter's end-of-line hyphenation
(a hyphen stays where the document writes that compound elsewhere, as in "third-party", or
where ``COMPOUNDS`` lists it; otherwise it goes, and a joined word the document never writes
whole is reported on stderr for a reader to check). ``tests/catalog/test_taxonomy_sources_nist_ai_rmf.py`` checks every shipped
AI RMF entry against this extract.
"""

from __future__ import annotations

import argparse
import html
import itertools
import re
import sys
from dataclasses import dataclass

WORD = re.compile(
    r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="[\d.]+">(.*?)</word>'
)
FUNCTIONS = ("GOVERN", "MAP", "MEASURE", "MANAGE")
NUMBER = re.compile(r"^(\d+)\.(\d+):$")
HEADER_BOTTOM = 60.0  # points from the top: the running header "NIST AI 100-1 ... AI RMF 1.0"
FOOTER_TOP = 700.0  # points from the top: the page number "Page NN"
SAME_LINE = 2.0  # points of baseline jitter between words of one printed line
# Compounds that AI 100-1 writes only across a line break, so the document alone cannot say
# whether the hyphen is the author's; the NIST AI RMF Playbook writes them unbroken.
COMPOUNDS = frozenset({"context-relevant"})


@dataclass(frozen=True)
class Word:
    page: int
    x_min: float
    y_min: float
    x_max: float
    text: str


def read_words(stream: str) -> list[Word]:
    words: list[Word] = []
    page = 0
    for line in stream.splitlines():
        if "<page " in line:
            page += 1
        match = WORD.search(line)
        if match:
            words.append(
                Word(
                    page, float(match[1]), float(match[2]), float(match[3]), html.unescape(match[4])
                )
            )
    return words


def group_lines(words: list[Word]) -> list[list[Word]]:
    """Printed lines, top to bottom and page by page, each left to right."""
    ordered = sorted(words, key=lambda w: (w.page, w.y_min, w.x_min))
    lines: list[list[Word]] = []
    for word in ordered:
        last = lines[-1] if lines else None
        if last and last[0].page == word.page and abs(last[0].y_min - word.y_min) <= SAME_LINE:
            last.append(word)
        else:
            lines.append([word])
    return [sorted(line, key=lambda w: w.x_min) for line in lines]


def subcategory_column(words: list[Word]) -> float:
    """Left edge of the subcategory column: where 'GOVERN 1.1:' starts."""
    for first, second in itertools.pairwise(words):
        if first.text == "GOVERN" and second.text == "1.1:":
            return first.x_min
    raise SystemExit("no 'GOVERN 1.1:' found: is this the AI RMF 1.0 PDF?")


def join_lines(lines: list[str], vocabulary: set[str]) -> str:
    text = ""
    for line in lines:
        if text.endswith("-") and line[:1].islower():
            head = text.rsplit(" ", 1)[-1].rstrip("-")
            tail = re.split(r"[\s,.;:]", line, maxsplit=1)[0]
            compound = f"{head}-{tail}"
            keep_hyphen = compound in vocabulary or compound in COMPOUNDS
            if not keep_hyphen and f"{head}{tail}" not in vocabulary:
                print(f"line-end hyphen dropped, please check: {compound}", file=sys.stderr)
            text = (text if keep_hyphen else text[:-1]) + line
        elif text.endswith("-"):
            text += line
        else:
            text = f"{text} {line}" if text else line
    return text


def extract(words: list[Word]) -> dict[str, str]:
    column = subcategory_column(words)
    vocabulary = {w.text.strip(",.;:()“”’") for w in words}
    found: dict[str, list[str]] = {}
    current: str | None = None
    for line in group_lines(words):
        y = line[0].y_min
        if y < HEADER_BOTTOM or y > FOOTER_TOP:
            continue
        if any(w.x_min < column - 1 and w.x_max > column + 1 for w in line):
            current = None  # running text crosses the column edge: the table has ended
            continue
        right = [w.text for w in line if w.x_min >= column - 1]
        if not right:
            continue
        text = " ".join(right)
        if text in ("Subcategories", "Continued on next page"):
            continue
        if len(right) >= 2 and right[0] in FUNCTIONS and NUMBER.match(right[1]):
            current = f"{right[0]}-{right[1].rstrip(':')}"
            if current in found:
                raise SystemExit(f"{current} appears twice")
            found[current] = [" ".join(right[2:])] if len(right) > 2 else []
        elif current is not None:
            found[current].append(text)
    return {key: join_lines(parts, vocabulary) for key, parts in found.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sha256", required=True, help="sha256 of the PDF read (sha256sum output)")
    args = parser.parse_args()
    subcategories = extract(read_words(sys.stdin.read()))
    if len(subcategories) != 72:
        raise SystemExit(f"expected 72 subcategories, found {len(subcategories)}")
    out = sys.stdout
    out.write(
        "# NIST AI RMF 1.0 subcategories (NIST AI 100-1, January 2023, Tables 1-4):"
        " id and outcome text.\n"
        f"# From the PDF with sha256 {args.sha256.split()[0]}; a work of the US government"
        " (not subject to copyright in the US).\n"
        "# Made by scripts/extract_nist_ai_rmf_subcategories.py.\n"
        "id\ttext\n"
    )
    for key, text in subcategories.items():
        out.write(f"{key}\t{text}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
