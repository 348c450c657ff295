"""Hostile text for every output: what an attack prompt, a catalog name or a layer output may hold.

Each payload targets one renderer (HTML, Markdown, rich terminal markup, ANSI terminals,
matplotlib mathtext, LaTeX, spreadsheets) or hides text (bidi overrides, zero-width characters).
The browser payloads set ``window.__pwned`` or open a dialog if they ever run.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ddrisk.catalog import Catalog

PAYLOADS: dict[str, str] = {
    "script": "<script>window.__pwned=1;alert(1)</script>",
    "img_onerror": '<img src=x onerror="window.__pwned=1;alert(2)">',
    "svg_onload": "<svg onload=window.__pwned=1>",
    "attribute_breakout": '" onmouseover="window.__pwned=1" x="',
    "iframe": '<iframe src="javascript:window.__pwned=1"></iframe>',
    "md_javascript_link": "[click me](javascript:window.__pwned=1)",
    "md_image_onerror": '![x](x" onerror="window.__pwned=1)',
    "md_autolink": "<javascript:window.__pwned=1>",
    "md_html_block": "\n\n<div onclick=window.__pwned=1>block</div>\n\n",
    "md_table_breakout": "a | b |\n|---|---|\n| <b>x</b> |",
    "md_emphasis": "**bold** _under_ `code` # heading",
    "rich_close": "[/bold] [/]",
    "rich_link": "[link=https://evil.example]click[/link]",
    "rich_style": "[bold red blink]loud[/bold red blink]",
    "ansi": "\x1b[31mred\x1b[0m \x1b]8;;https://evil.example\x07link\x1b]8;;\x07",
    "tex_math": r"$\alpha^{2}$ and $x_1$",
    "tex_unbalanced": r"cost $5 and \frac{",
    "tex_input": r"\input{/etc/passwd} \write18{rm -rf /} 50% & #_~^",
    "formula_eq": '=HYPERLINK("https://evil.example","x")',
    "formula_plus": "+1+1",
    "formula_minus": "-2+3",
    "formula_at": "@SUM(A1:A2)",
    "bidi": "abc\u202eevil\u202c def \u2066x\u2069",
    "zero_width": "a\u200bb\u200dc\ufeffd",
    "jinja": "{{ 7*7 }} {% for x in y %} {# c #}",
    "null_and_controls": "nul\x00 bell\x07 del\x7f",
}

# Ids must match [A-Za-z][A-Za-z0-9_.-]*, so they carry only the characters that pattern allows
# yet other formats treat specially (``_`` in LaTeX and Markdown, ``.`` and ``-``).
HOSTILE_IDS = ("AL_GEN", "x.y-z", "T_1_")


def _join(*names: str) -> str:
    return " ".join(PAYLOADS[n] for n in names)


def hostile_catalog() -> Catalog:
    """A valid catalog whose every free-text field is a payload."""
    names = list(PAYLOADS)
    techniques = [
        {
            "id": tid,
            "name": PAYLOADS[names[i]] + " " + PAYLOADS[names[-1 - i]],
            "category": PAYLOADS["rich_close"],
            "safety_tax": tax,
            "description": PAYLOADS["md_html_block"],
        }
        for i, (tid, tax) in enumerate(zip(HOSTILE_IDS, ("low", "high", "low"), strict=True))
    ]
    modes = [
        {"id": mid, "name": PAYLOADS[names[3 + j]], "definition": PAYLOADS["script"]}
        for j, mid in enumerate(("M_a", "M.b", "M-c"))
    ]
    levels = [["prone", "prone", "not_prone"], ["not_prone", "unclear", "prone"], ["prone"] * 3]
    return Catalog(
        id="hostile_catalog",
        version="1",
        title=_join("script", "rich_close", "tex_math", "ansi", "bidi", "md_javascript_link"),
        raters=[{"id": "r", "name": PAYLOADS["img_onerror"]}],
        techniques=techniques,
        failure_modes=modes,
        ratings=[
            {
                "technique": t["id"],
                "failure_mode": m["id"],
                "level": levels[i][j],
                "rater": "r",
                "rationale": _join("img_onerror", "rich_link", "tex_input"),
            }
            for i, t in enumerate(techniques)
            for j, m in enumerate(modes)
        ],
    )


# Stress runs name layers, families, items and behaviours from user files and layer outputs.
HOSTILE_LAYERS = (
    PAYLOADS["rich_close"] + " $x$",
    PAYLOADS["img_onerror"],
    PAYLOADS["tex_math"] + " " + PAYLOADS["ansi"],
)
HOSTILE_FAMILIES = (
    PAYLOADS["script"],
    PAYLOADS["rich_link"] + " $\\beta$",
    PAYLOADS["formula_eq"],
)


def hostile_outcome_matrix(seed: int = 0):
    """A small synthetic stress run whose layer, family, item and behaviour names are payloads."""
    from ddrisk.stress.matrix import OutcomeMatrix

    rng = np.random.default_rng(seed)
    n = 90
    harmful = np.arange(n) % 3 != 0
    families = [HOSTILE_FAMILIES[(i // 3) % 3] for i in range(n)]
    blocked = (rng.random((n, len(HOSTILE_LAYERS))) < 0.5).astype(float)
    # Family 0: every layer misses every harmful item; family 1: every layer blocks every one.
    # Both ends must print as one-sided bounds, never as "1.000 [1.000, 1.000]" or "0 [0, 0]".
    for i in range(n):
        if (i // 3) % 3 == 0 and harmful[i]:
            blocked[i] = 0.0
        if (i // 3) % 3 == 1 and harmful[i]:
            blocked[i] = 1.0
    items = pd.DataFrame(
        {
            "item_id": [f"{PAYLOADS['rich_close']}{PAYLOADS['script']}-{i}" for i in range(n)],
            "family": families,
            "behavior_id": [f"{PAYLOADS['md_javascript_link']}{i // 2}" for i in range(n)],
            "harmful": harmful,
        }
    )
    return OutcomeMatrix(
        items=items,
        layers=HOSTILE_LAYERS,
        blocked=blocked,
        score=np.full(blocked.shape, np.nan),
        errors=np.full(blocked.shape, None),
    )
