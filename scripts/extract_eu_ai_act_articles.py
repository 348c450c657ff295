"""Write the article numbers and titles of the EU AI Act (Regulation (EU) 2024/1689) as a TSV.

The input is the EUR-Lex HTML of the Official Journal text (OJ L, 2024/1689, 12.7.2024;
https://eur-lex.europa.eu/legal-content/EN/TXT/HTML/?uri=OJ:L_202401689). The Cloud Security
Alliance keeps a copy of that page in
https://github.com/CloudSecurityAlliance-DataSets/dataset-public-laws-regulations-standards::

    git show COMMIT:regulation/europa.eu/ai-act/eu-ai-act.html | \
        python scripts/extract_eu_ai_act_articles.py --source \
        "CloudSecurityAlliance-DataSets/dataset-public-laws-regulations-standards regulation/europa.eu/ai-act/eu-ai-act.html, commit COMMIT" > \
        tests/catalog/data/eu-ai-act-2024-1689-articles.tsv

In that HTML each article is a ``<p class="oj-ti-art">Article N</p>`` followed by its title in
``<p class="oj-sti-art">``. Titles are kept as the OJ prints them (Article 1 really is
"Subject matter`", backtick included). ``tests/catalog/test_taxonomy_sources_eu_ai_act.py``
checks every shipped entry against this extract.
"""

from __future__ import annotations

import argparse
import re
import sys
from html.parser import HTMLParser


class ArticleTitles(HTMLParser):
    """Collects the text of ``oj-ti-art`` / ``oj-sti-art`` paragraphs and the OJ date."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.articles: list[tuple[str, str]] = []
        self.date = ""
        self._class: str | None = None
        self._text: list[str] = []
        self._pending: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "p":
            self._class = dict(attrs).get("class")
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._class is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag != "p" or self._class is None:
            return
        text = re.sub(r"\s+", " ", "".join(self._text)).strip()
        if self._class == "oj-ti-art":
            self._pending = text
        elif self._class == "oj-sti-art" and self._pending is not None:
            number = re.fullmatch(r"Article (\d+)", self._pending)
            if number is None:
                raise SystemExit(f"unexpected article heading {self._pending!r}")
            self.articles.append((f"art{number[1]}", text))
            self._pending = None
        elif self._class == "oj-hd-date" and not self.date:
            self.date = text
        self._class = None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", required=True, help="where the HTML read came from")
    args = parser.parse_args()
    titles = ArticleTitles()
    titles.feed(sys.stdin.read())
    if len(titles.articles) != 113:
        raise SystemExit(f"expected 113 articles, found {len(titles.articles)}")
    out = sys.stdout
    out.write(
        f"# Regulation (EU) 2024/1689 (AI Act), OJ L of {titles.date}: article numbers and"
        " titles from the EUR-Lex HTML of the OJ text.\n"
        f"# Source: {args.source}.\n"
        "# (c) European Union, https://eur-lex.europa.eu/, reuse under Commission Decision"
        " 2011/833/EU. Made by scripts/extract_eu_ai_act_articles.py.\n"
        "id\ttitle\n"
    )
    for article, title in titles.articles:
        out.write(f"{article}\t{title}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
