"""Swiss-cheese diagrams drawn from a stack's own ratings.

Slices are layers (in stack order); each failure mode is a row; a hole is cut in a slice where
the layer is prone to the mode (solid outline) or unclear (dashed outline). A mode every layer
is prone to passes straight through: it is drawn as an arrow across the whole stack. Holes,
slices and arrows carry ``gid`` labels (``hole:LAYER:MODE``, ``slice:LAYER``,
``through:MODE``) so tests and readers can check the figure against the data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ddrisk.report.escape import mpl_text


def draw_stack(
    ax: Any,
    layers: Sequence[str],
    modes: Sequence[str],
    levels: Mapping[str, Mapping[str, str]],
    *,
    title: str | None = None,
) -> dict[str, int]:
    """Draw one stack on ``ax``; returns counts of slices, holes and straight-through arrows."""
    from matplotlib.patches import Ellipse, FancyArrow, Rectangle

    n_modes = max(len(modes), 1)
    counts = {"slices": 0, "holes": 0, "through": 0}
    for i, layer in enumerate(layers):
        x = i * 1.5 + 1.0
        ax.add_patch(
            Rectangle(
                (x - 0.3, -0.5),
                0.6,
                n_modes,
                facecolor="#f6d365",
                edgecolor="#b8860b",
                gid=f"slice:{layer}",
            )
        )
        counts["slices"] += 1
        ax.text(
            x, n_modes - 0.3, mpl_text(layer), ha="center", va="bottom", rotation=30, fontsize=7
        )
        for j, mode in enumerate(modes):
            level = levels[layer][mode]
            if level == "not_prone":
                continue
            ax.add_patch(
                Ellipse(
                    (x, n_modes - 1 - j),
                    0.4,
                    0.6,
                    facecolor="white",
                    edgecolor="#555",
                    linestyle="-" if level == "prone" else "--",
                    gid=f"hole:{layer}:{mode}",
                )
            )
            counts["holes"] += 1
    for j, mode in enumerate(modes):
        ax.text(0.0, n_modes - 1 - j, mpl_text(mode), ha="right", va="center", fontsize=7)
        if layers and all(levels[layer][mode] != "not_prone" for layer in layers):
            definite = all(levels[layer][mode] == "prone" for layer in layers)
            ax.add_patch(
                FancyArrow(
                    0.3,
                    n_modes - 1 - j,
                    (len(layers) - 1) * 1.5 + 1.6,
                    0,
                    width=0.06,
                    head_width=0.3,
                    head_length=0.25,
                    color="#c0392b" if definite else "#e67e22",
                    gid=f"through:{mode}",
                )
            )
            counts["through"] += 1
    ax.set_xlim(-2.5, len(layers) * 1.5 + 1.2)
    ax.set_ylim(-1, n_modes + 1.5)
    ax.axis("off")
    if title:
        ax.set_title(mpl_text(title), fontsize=9)
    return counts


def stack_figure(
    layers: Sequence[str],
    modes: Sequence[str],
    levels: Mapping[str, Mapping[str, str]],
    *,
    title: str | None = None,
) -> Any:
    """A one-panel figure of a stack (``levels[layer][mode]`` is prone/unclear/not_prone)."""
    from matplotlib.figure import Figure

    height = max(3.0, 0.28 * len(modes) + 1.5)
    figure = Figure(figsize=(max(5.0, 1.1 * len(layers) + 3), height))
    draw_stack(figure.add_subplot(1, 1, 1), layers, modes, levels, title=title)
    return figure


def audit_figure(result: Any) -> Any:
    """The Swiss-cheese diagram of an audited stack (modes no layer is prone to are omitted)."""
    levels = result.levels
    modes = [
        m
        for m in result.compiled.catalog.failure_mode_ids
        if any(levels[layer][m] != "not_prone" for layer in result.layers)
    ]
    return stack_figure(result.layers, modes, levels, title=result.compiled.stack.title)


def three_panels(
    panels: Sequence[tuple[str, Sequence[str], Sequence[str], Mapping[str, Mapping[str, str]]]],
) -> Any:
    """The paper's three panels (A, B, C) from real stacks: (title, layers, modes, levels) each."""
    from matplotlib.figure import Figure

    n_modes = max((len(p[2]) for p in panels), default=1)
    figure = Figure(figsize=(5.0 * max(len(panels), 1), max(3.0, 0.3 * n_modes + 1.5)))
    if not panels:
        ax = figure.add_subplot(1, 1, 1)
        ax.axis("off")
        ax.text(0.5, 0.5, "no stack of 2 or 3 techniques in this catalog", ha="center")
    for k, (title, layers, modes, levels) in enumerate(panels):
        draw_stack(figure.add_subplot(1, len(panels), k + 1), layers, modes, levels, title=title)
    return figure


def paper_panel_stacks(
    catalog: Any, *, sizes: Sequence[int] = (3, 2)
) -> list[tuple[str, tuple[str, ...], list[str]]]:
    """Real stacks of ``catalog`` for the paper's panels A, B and C.

    A: two or more modes pass straight through; B: exactly one; C: none (counting '?' as
    prone). For each panel, the first stack in catalog order among those of the first size in
    ``sizes`` that has one; a panel no stack of those sizes fits is left out (and said so by
    its absence from the caption).
    """
    import itertools

    from ddrisk.analysis.coverage import coverage_from_profile
    from ddrisk.analysis.profile import Profile, UnclearPolicy

    profile = Profile.from_catalog(catalog)
    wanted = {
        "A": lambda n: n >= 2,
        "B": lambda n: n == 1,
        "C": lambda n: n == 0,
    }
    found: dict[str, tuple[tuple[str, ...], list[str]]] = {}
    for size in sizes:
        for stack in itertools.combinations(catalog.technique_ids, size):
            if len(found) == len(wanted):
                break
            coverage = coverage_from_profile(profile, stack, UnclearPolicy.PESSIMISTIC)
            through = coverage.straight_through["pessimistic"]
            for panel, test in wanted.items():
                if panel not in found and test(len(through)):
                    found[panel] = (tuple(stack), through)
    return [(panel, *found[panel]) for panel in wanted if panel in found]


def paper_panels_figure(catalog: Any) -> Any:
    """The paper's three Swiss-cheese panels drawn from real stacks of the catalog."""
    levels = {
        t: {m: catalog.rating(t, m).effective_level.value for m in catalog.failure_mode_ids}
        for t in catalog.technique_ids
    }
    panels = []
    for panel, stack, through in paper_panel_stacks(catalog):
        modes = [
            m for m in catalog.failure_mode_ids if any(levels[t][m] != "not_prone" for t in stack)
        ]
        title = f"{panel}: {' + '.join(stack)} ({len(through)} straight through)"
        panels.append((title, list(stack), modes, {t: levels[t] for t in stack}))
    return three_panels(panels)


def swiss_cheese_section(catalog: Any) -> Any:
    """A report section with the three panels (used by :func:`ddrisk.report.build.build_report`)."""
    from ddrisk.report.blocks import FigureBlock, Paragraph, Section

    stacks = paper_panel_stacks(catalog)
    text = "; ".join(
        f"{panel}: {' + '.join(stack)} lets {len(through)} mode(s) straight through"
        + (f" ({', '.join(through)})" if through else "")
        for panel, stack, through in stacks
    )
    return Section(
        id="swiss-cheese",
        title="Swiss-cheese view of real stacks",
        intro="The paper's three panels, drawn from stacks of this catalog: holes are the modes "
        "each layer is prone to (dashed: unclear), arrows the modes that pass every layer.",
        blocks=[
            Paragraph(text or "no stack of 2 or 3 layers in this catalog"),
            FigureBlock(
                name="swiss_cheese_panels",
                caption="Panels A (several straight-through modes), B (one), C (none), each the "
                "first such stack of 3 (else 2) techniques in catalog order, '?' counted as prone.",
                provenance=f"catalog {catalog.id}@{catalog.version} sha256 {catalog.content_hash}; "
                "levels as rated, '?' counted as prone",
                draw=lambda: paper_panels_figure(catalog),
            ),
        ],
    )
