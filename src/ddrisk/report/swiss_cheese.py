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
    figure = Figure(figsize=(5.0 * len(panels), max(3.0, 0.3 * n_modes + 1.5)))
    for k, (title, layers, modes, levels) in enumerate(panels):
        draw_stack(figure.add_subplot(1, len(panels), k + 1), layers, modes, levels, title=title)
    return figure
