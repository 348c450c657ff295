"""The browser rating form: one self-contained HTML file an expert opens, fills in and saves.

The page is rendered by jinja2 with autoescaping, so every catalog string (names, definitions,
references) reaches the browser as text; the catalog facts the script needs travel as JSON in
a non-executed ``<script type="application/json">`` block (``tojson`` escapes ``<``, ``>``,
``&`` and ``'``). A Content-Security-Policy allows only the form's own script (by its SHA-256)
and no network access, so even a mistake in escaping could not run injected code or send
ratings anywhere. The script builds a rater file (YAML or JSON, ``ddrisk.raters/1``) and
offers it as a download.
"""

from __future__ import annotations

import base64
import hashlib
from importlib import resources

import jinja2
import markupsafe

from ddrisk.catalog.model import Catalog
from ddrisk.raters.model import RATER_FILE_FORMAT


def _script() -> str:
    return (
        resources.files("ddrisk.report")
        .joinpath("templates/raters_form.js")
        .read_text(encoding="utf-8")
    )


def render_rater_form(
    catalog: Catalog,
    *,
    rater_id: str = "",
    rater_name: str = "",
    show_catalog_rating: bool = False,
) -> str:
    """The rating form for ``catalog`` as one HTML page (no external resources).

    ``show_catalog_rating`` prints the catalog's own level under each cell (off by default:
    raters should judge independently of the existing matrix).
    """
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("ddrisk.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    script = _script()
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    template = environment.get_template("raters_form.html.j2")
    return template.render(
        catalog=catalog,
        references={r.key: r.citation + (f" {r.url}" if r.url else "") for r in catalog.references},
        rater_id=rater_id,
        rater_name=rater_name,
        show_catalog_rating=show_catalog_rating,
        form_data={
            "format": RATER_FILE_FORMAT,
            "catalog_id": catalog.id,
            "catalog_version": catalog.version,
            "catalog_sha256": catalog.content_hash,
        },
        script=markupsafe.Markup(script),
        script_hash=f"sha256-{digest}",
    )
