"""Build a report (HTML, Markdown, JSON) from result objects.

The report never computes: :func:`build_report` takes the
:class:`~ddrisk.analysis.AnalysisResult` (and, optionally, risk and stress
results) that the CLI and the Python API already produce, turns them into
sections of tables and figures once, and lays those out three ways:

* :meth:`Report.html`: one self-contained file (inline CSS, figures inlined as
  SVG data URIs, no scripts, no external resources);
* :meth:`Report.markdown`: the same sections as Markdown tables, figures linked
  as files when written with :meth:`Report.write`;
* :meth:`Report.json`: the results' own ``to_dict()`` plus provenance.

The timestamp honours ``SOURCE_DATE_EPOCH`` (reproducible-builds convention),
so two builds from the same inputs are byte-identical.
"""

from __future__ import annotations

import base64
import importlib
import json
import os
import platform
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import jinja2
import markupsafe

from ddrisk.__version__ import __version__
from ddrisk._jsonnum import json_default, json_ready
from ddrisk.analysis.analyze import AnalysisResult
from ddrisk.catalog.model import Catalog
from ddrisk.errors import InputError
from ddrisk.report import figures as _figures
from ddrisk.report.analysis_sections import analysis_sections
from ddrisk.report.blocks import (
    Details,
    FigureBlock,
    FindingItem,
    KeyValues,
    Paragraph,
    Section,
)
from ddrisk.report.escape import html_text
from ddrisk.report.markdown import render_markdown

REPORT_FORMAT_VERSION = "1"
FORMATS = ("html", "markdown", "json")
DEFAULT_FILENAMES = {
    "html": "ddrisk-report.html",
    "markdown": "ddrisk-report.md",
    "json": "ddrisk-report.json",
}
_PACKAGES = ("numpy", "scipy", "pandas", "matplotlib", "jinja2", "pydantic")


def report_timestamp(created: datetime | str | None = None) -> str:
    """The report's creation time as ISO 8601 UTC, from ``created``, ``SOURCE_DATE_EPOCH`` or now.

    >>> report_timestamp("2025-10-13T00:00:00Z")
    '2025-10-13T00:00:00Z'
    >>> report_timestamp(datetime(2025, 10, 13, 12, 30, tzinfo=UTC))
    '2025-10-13T12:30:00Z'
    """
    if isinstance(created, str):
        return created
    if created is None:
        epoch = os.environ.get("SOURCE_DATE_EPOCH")
        if epoch is not None:
            try:
                created = datetime.fromtimestamp(int(epoch), tz=UTC)
            except (ValueError, OverflowError, OSError) as error:
                raise InputError(
                    "SOURCE_DATE_EPOCH",
                    None,
                    f"not a Unix timestamp: {epoch!r} ({error})",
                    "set it to whole seconds since 1970-01-01 UTC, or unset it",
                ) from None
        else:
            created = datetime.now(tz=UTC)
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    return created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _package_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def report_provenance(
    catalog: Catalog, analysis: AnalysisResult, created: str, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """What produced the report: software, platform, input hash, settings and seed."""
    return {
        "created": created,
        "source_date_epoch": os.environ.get("SOURCE_DATE_EPOCH"),
        "ddrisk_version": __version__,
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "packages": _package_versions(),
        "catalog": {
            **analysis.catalog,
            "citation": catalog.citation,
            "license": catalog.license,
        },
        "settings": analysis.settings,
        "seed": analysis.settings.get("seed"),
        **(extra or {}),
    }


def _setting_text(value: Any) -> str:
    """A setting as shown to readers: strings bare, everything else as exact JSON.

    >>> _setting_text("bounds"), _setting_text(["DEBATE", "RE"]), _setting_text(None)
    ('bounds', '["DEBATE", "RE"]', 'null')
    """
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=json_default)


def _provenance_section(catalog: Catalog, provenance: dict[str, Any]) -> Section:
    settings = provenance["settings"]
    pairs = [
        ("created (UTC)", provenance["created"]),
        ("ddrisk", provenance["ddrisk_version"]),
        (
            "Python",
            f"{provenance['python']} ({provenance['python_implementation']}) on "
            f"{provenance['platform']}",
        ),
        (
            "packages",
            ", ".join(
                f"{name} {version or 'absent'}" for name, version in provenance["packages"].items()
            ),
        ),
        ("catalog", f"{provenance['catalog']['id']} version {provenance['catalog']['version']}"),
        ("catalog title", provenance["catalog"]["title"]),
        ("catalog sha256", provenance["catalog"]["sha256"]),
    ]
    if provenance["catalog"].get("citation"):
        pairs.append(("citation", provenance["catalog"]["citation"]))
    if provenance["catalog"].get("license"):
        pairs.append(("licence", provenance["catalog"]["license"]))
    pairs += [(f"setting: {key}", _setting_text(value)) for key, value in settings.items()]
    for key in ("risk", "stress", "raters", "attack"):
        if key in provenance:
            for name, value in provenance[key].items():
                pairs.append((f"{key}: {name}", _setting_text(value)))
    references = [(r.key, r.citation + (f" {r.url}" if r.url else "")) for r in catalog.references]
    blocks: list[Any] = [KeyValues("How this report was produced", pairs)]
    if references:
        blocks.append(Details("Catalog references", [KeyValues("References", references)]))
    blocks.append(
        Paragraph(
            "Every number above comes from the same result objects as `ddrisk analyze --json` "
            "(and `ddrisk risk` / `ddrisk stress analyze` for those sections); the JSON form of "
            "this report carries them in full."
        )
    )
    return Section("provenance", "Provenance", "", blocks)


@dataclass
class Report:
    """A built report: sections of tables and figures plus the results and provenance behind them.

    Use :func:`build_report` to make one. Figures are drawn once, on first use,
    and cached, so ``html()`` and ``write()`` can be called repeatedly.
    """

    catalog: Catalog
    analysis: AnalysisResult
    sections: list[Section]
    provenance: dict[str, Any]
    risk: Any = None
    stress: Any = None
    raters: Any = None
    attack: Any = None
    _svg_cache: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def title(self) -> str:
        return f"ddrisk report: {self.catalog.title}"

    # ------------------------------------------------------------------ figures
    def figure_blocks(self) -> list[FigureBlock]:
        """Every figure in reading order (including those inside expandable details)."""

        def walk(blocks: list[Any]) -> list[FigureBlock]:
            found: list[FigureBlock] = []
            for block in blocks:
                if isinstance(block, FigureBlock):
                    found.append(block)
                elif isinstance(block, Details):
                    found.extend(walk(block.blocks))
            return found

        return [figure for section in self.sections for figure in walk(section.blocks)]

    def figure_svg(self, name: str) -> str:
        """The named figure as SVG text (drawn once, then cached)."""
        if name not in self._svg_cache:
            blocks = {b.name: b for b in self.figure_blocks()}
            if name not in blocks:
                raise KeyError(f"no figure {name!r}; the report has {', '.join(blocks)}")
            self._svg_cache[name] = _figures.figure_svg(blocks[name].draw())
        return self._svg_cache[name]

    def figure_svgs(self) -> dict[str, str]:
        return {block.name: self.figure_svg(block.name) for block in self.figure_blocks()}

    # ------------------------------------------------------------------ outputs
    def to_dict(self) -> dict[str, Any]:
        """The JSON report: every result's own ``to_dict()`` plus provenance.

        Keys: ``format``, ``title``, ``provenance``, ``matrix`` (as ``ddrisk show --format
        json``), ``analysis`` (as ``ddrisk analyze --json``), ``risk`` and ``stress`` (their
        results' ``to_dict()``, or ``None``) and ``figures`` (name, caption, provenance).
        Run-time measurements (``elapsed_seconds``) are left out so rebuilds are identical.
        """
        from ddrisk.report.tables import matrix_dict

        return _without_timings(
            {
                "format": f"ddrisk.report/{REPORT_FORMAT_VERSION}",
                "title": self.title,
                "provenance": self.provenance,
                "matrix": matrix_dict(self.catalog),
                "analysis": self.analysis.to_dict(),
                "risk": _to_dict(self.risk),
                "stress": _to_dict(self.stress),
                "raters": _to_dict(self.raters),
                "attack": _to_dict(self.attack),
                "figures": [
                    {"name": b.name, "caption": b.caption, "provenance": b.provenance}
                    for b in self.figure_blocks()
                ],
            }
        )

    def json(self) -> str:
        return (
            json.dumps(
                json_ready(self.to_dict()), indent=2, ensure_ascii=False, default=json_default
            )
            + "\n"
        )

    def markdown(self, *, figure_dir: str | None = None) -> str:
        """Markdown with the same sections; figures are linked as ``figure_dir/NAME.svg`` if given."""
        return render_markdown(self, figure_dir=figure_dir)

    def html(self) -> str:
        """One self-contained HTML file: inline CSS, figures as SVG data URIs, no scripts."""
        environment = jinja2.Environment(
            loader=jinja2.PackageLoader("ddrisk.report", "templates"),
            autoescape=True,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            undefined=jinja2.StrictUndefined,
        )
        environment.filters["inline"] = _inline_code
        template = environment.get_template("report.html.j2")
        images = {
            name: "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii")
            for name, svg in self.figure_svgs().items()
        }
        return template.render(report=self, images=images, provenance=self.provenance)

    def render(self, fmt: str, *, figure_dir: str | None = None) -> str:
        if fmt == "html":
            return self.html()
        if fmt == "markdown":
            return self.markdown(figure_dir=figure_dir)
        if fmt == "json":
            return self.json()
        raise InputError(
            "--format", None, f"unknown report format {fmt!r}", f"use one of {', '.join(FORMATS)}"
        )

    def write(self, path: str | Path, *, fmt: str = "html") -> list[Path]:
        """Write the report; Markdown also writes its figures to ``<stem>-figures/``.

        Returns every path written, report first.
        """
        path = Path(path)
        written: list[Path] = []
        figure_dir = None
        if fmt == "markdown":
            directory = path.parent / f"{path.stem}-figures"
            directory.mkdir(parents=True, exist_ok=True)
            for name, svg in self.figure_svgs().items():
                target = directory / f"{name}.svg"
                target.write_text(svg, encoding="utf-8")
                written.append(target)
            figure_dir = directory.name
        text = self.render(fmt, figure_dir=figure_dir)
        path.write_text(text, encoding="utf-8")
        return [path, *written]


def _inline_code(text: str) -> markupsafe.Markup:
    """Escape text for HTML and show `backticked` spans as code.

    >>> str(_inline_code("run `ddrisk report` <now>"))
    'run <code>ddrisk report</code> &lt;now&gt;'
    """
    parts = str(text).split("`")
    html = [
        f"<code>{html_text(part)}</code>" if index % 2 else html_text(part)
        for index, part in enumerate(parts)
    ]
    if len(parts) % 2 == 0:  # an unmatched backtick: keep it literally
        html[-1] = "`" + html_text(parts[-1])
    return markupsafe.Markup("".join(html))


_TIMINGS = frozenset({"elapsed_seconds"})


def _without_timings(value: Any) -> Any:
    """Drop run-time measurements, which differ on every run, so the JSON report is reproducible.

    >>> _without_timings({"p": 0.1, "elapsed_seconds": 0.02, "inner": [{"elapsed_seconds": 1}]})
    {'p': 0.1, 'inner': [{}]}
    """
    if isinstance(value, dict):
        return {k: _without_timings(v) for k, v in value.items() if k not in _TIMINGS}
    if isinstance(value, list):
        return [_without_timings(v) for v in value]
    return value


def _to_dict(value: Any) -> Any:
    if value is None:
        return None
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return value


def build_report(
    *,
    catalog: Catalog,
    analysis: AnalysisResult,
    risk: Any = None,
    stress: Any = None,
    raters: Any = None,
    attack: Any = None,
    audit: Any = None,
    created: datetime | str | None = None,
) -> Report:
    """Assemble a report from results the caller has already computed.

    Parameters
    ----------
    catalog
        The catalog the analysis ran on; its hash must match ``analysis``.
    analysis
        ``ddrisk.analyze(catalog, ...)``: the structural sections.
    risk
        Optional :class:`~ddrisk.report.risk_sections.RiskReportInput` for a stack.
    stress
        Optional :class:`~ddrisk.stress.statistics.StressAnalysis` of a stress run.
    raters
        Optional :class:`~ddrisk.report.raters_sections.RatersReportInput` (several raters'
        files for this catalog).
    attack
        Optional :class:`~ddrisk.stress.attack.statistics.AttackAnalysis` of an adaptive attack.
    audit
        Optional :class:`~ddrisk.audit.AuditResult` of a stack file (``ddrisk audit``).
    created
        Timestamp to print; default ``SOURCE_DATE_EPOCH`` if set, else now (UTC).

    Examples
    --------
    >>> import ddrisk
    >>> catalog = ddrisk.load_catalog()
    >>> report = build_report(catalog=catalog, analysis=ddrisk.analyze(catalog), created="2025-01-01T00:00:00Z")
    >>> [s.id for s in report.sections][:3]
    ['summary', 'matrix', 'overlap']
    """
    if analysis.catalog.get("sha256") != catalog.content_hash:
        raise InputError(
            "build_report",
            "analysis.catalog.sha256",
            "the analysis was computed on a different catalog than the one given",
            "pass the catalog that ddrisk.analyze() ran on",
        )
    timestamp = report_timestamp(created)
    later: list[Section] = []
    headlines: list[FindingItem] = []
    extra: dict[str, Any] = {}
    # Each optional input has a report/<name>_sections.py module with the same three functions:
    # <name>_sections (the sections), <name>_headline (a finding line) and <name>_provenance.
    for name, value in (("risk", risk), ("stress", stress), ("raters", raters), ("attack", attack)):
        if value is None:
            continue
        module = importlib.import_module(f"ddrisk.report.{name}_sections")
        later += getattr(module, f"{name}_sections")(value)
        headlines.append(getattr(module, f"{name}_headline")(value))
        extra[name] = getattr(module, f"{name}_provenance")(value)
    if audit is not None:
        from ddrisk.report.audit_sections import audit_report_sections

        later += audit_report_sections(audit)
        extra["audit"] = {"format": "ddrisk.audit/1", "stack_sha256": audit.input_sha256}
    from ddrisk.report.swiss_cheese import swiss_cheese_section

    sections = analysis_sections(catalog, analysis, extra_findings=headlines)
    sections += [swiss_cheese_section(catalog), *later]
    provenance = report_provenance(catalog, analysis, timestamp, extra)
    sections.append(_provenance_section(catalog, provenance))
    return Report(
        catalog=catalog,
        analysis=analysis,
        sections=sections,
        provenance=provenance,
        risk=risk,
        stress=stress,
        raters=raters,
        attack=attack,
    )
