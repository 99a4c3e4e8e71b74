"""The hotspot picture an analyst can use: a map in Web Mercator with the numbered clusters.

Drawn with matplotlib's Agg canvas (no pyplot, no display, no network: safe in a bot's
threads) on Web Mercator (EPSG:3857, through pyproj), the projection of web maps, so that what
is seen here lines up with any map the analyst opens. Meridians and parallels are straight lines
in it, so the axes are labelled in degrees of longitude and latitude; the scale bar measures true
ground distance at the map's centre (a Mercator metre is 1/cos(latitude) ground metres).
Clusters are circled and numbered as in the table (tracked clusters blue, theft clusters red);
every other point of the period is a grey dot; the imported gazetteer's places, when there are
any, are drawn and named behind them.
"""

from __future__ import annotations

import io
import math
from datetime import UTC, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

from models.services.hotspots import (
    MICRO_METRES,
    RADIUS_METRES,
    TABLE_ROWS,
    TRACKED,
    Hotspots,
)

SIZE_INCHES = 8.0
DPI = 110
MIN_SPAN_METRES = 1500.0
MAX_OTHER_CELLS = 20_000
MARGIN = 0.12
COLOURS = {TRACKED: "#1f5fd9", "theft": "#d62728"}
OTHER = "#9a9a9a"
PLACE = "#5c6b73"
LABELS = {TRACKED: "tracked cluster (phones seen there)", "theft": "theft cluster"}
NICE = (1, 2, 5)

if TYPE_CHECKING:
    from matplotlib.figure import Figure


@cache
def _transformers() -> tuple[Any, Any]:
    # Imported when first drawn: matplotlib and pyproj take a while to import, and only the
    # hotspot map needs them (every other command and the bot's start do not pay for them).
    from pyproj import Transformer

    return (
        Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True),
        Transformer.from_crs("EPSG:3857", "EPSG:4326", always_xy=True),
    )


def mercator(lat: float, lon: float) -> tuple[float, float]:
    """(x, y) in Web Mercator metres of a WGS84 point."""
    x, y = _transformers()[0].transform(lon, lat)
    return float(x), float(y)


def degrees(x: float, y: float) -> tuple[float, float]:
    """(lat, lon) of a Web Mercator point."""
    lon, lat = _transformers()[1].transform(x, y)
    return float(lat), float(lon)


def nice_length(metres: float) -> float:
    """The largest 1, 2 or 5 times a power of ten not above METRES."""
    power: float = 10 ** math.floor(math.log10(metres))
    return max(step * power for step in NICE if step * power <= metres)


def scale_label(metres: float) -> str:
    """A ground distance as the scale bar writes it."""
    return f"{metres / 1000:g} km" if metres >= 1000 else f"{metres:g} m"


def period(found: Hotspots) -> str:
    """The period in words for the title, e.g. '2026-10-24 to 2026-11-22 (30 days)'."""
    first = found.since.astimezone(UTC).date()
    last = (found.until.astimezone(UTC) - timedelta(microseconds=1)).date()
    days = round(found.days)
    return f"{first.isoformat()} to {last.isoformat()} ({days} day{'s' if days != 1 else ''})"


def _frame(found: Hotspots, rows: int) -> tuple[float, float, float, float, float]:
    """(x0, x1, y0, y1, centre latitude) of the map: the numbered clusters with a margin."""
    box = found.extent(rows) or (51.5, -0.13, 51.52, -0.11)
    x0, y0 = mercator(box[0], box[1])
    x1, y1 = mercator(box[2], box[3])
    centre_lat = (box[0] + box[2]) / 2
    # A Mercator metre is 1/cos(lat) ground metres: keep at least MIN_SPAN of ground in view.
    stretch = 1 / max(0.01, math.cos(math.radians(centre_lat)))
    span = max(x1 - x0, y1 - y0, MIN_SPAN_METRES * stretch) * (1 + 2 * MARGIN)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return cx - span / 2, cx + span / 2, cy - span / 2, cy + span / 2, centre_lat


def figure(found: Hotspots, rows: int = TABLE_ROWS) -> Figure:
    """The hotspot map as a matplotlib Figure (not yet drawn)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Circle

    fig = Figure(figsize=(SIZE_INCHES, SIZE_INCHES), dpi=DPI)
    FigureCanvasAgg(fig)
    axes = fig.add_subplot()
    x0, x1, y0, y1, centre_lat = _frame(found, rows)
    axes.set_xlim(x0, x1)
    axes.set_ylim(y0, y1)
    axes.set_aspect("equal")
    axes.set_facecolor("#f7f7f4")
    handles: list[Any] = []

    if found.landmarks:
        xs, ys = zip(*(mercator(p.lat, p.lon) for p in found.landmarks), strict=True)
        axes.scatter(xs, ys, s=6, marker="s", color=PLACE, alpha=0.6, zorder=1)
        for place, x, y in zip(found.landmarks, xs, ys, strict=True):
            axes.annotate(
                place.name[:40],
                (x, y),
                xytext=(3, 3),
                textcoords="offset points",
                fontsize=6.5,
                color=PLACE,
                zorder=1,
                clip_on=True,
            )
        handles.append(
            Line2D([], [], marker="s", linestyle="", color=PLACE, label="gazetteer place")
        )

    numbered = {cluster.number for cluster in found.clusters[:rows]}
    others = [cell for cell in found.cells if cell.cluster not in numbered]
    # One call for every cell: pyproj transforms whole sequences at C speed.
    xs, ys = _transformers()[0].transform(
        [cell.lon for cell in others], [cell.lat for cell in others]
    )
    visible = [
        (cell, float(x), float(y))
        for cell, x, y in zip(others, xs, ys, strict=True)
        if x0 <= x <= x1 and y0 <= y <= y1
    ]
    # A busy period has hundreds of thousands of cells: the busiest are enough for context.
    visible = sorted(visible, key=lambda item: -item[0].count)[:MAX_OTHER_CELLS]
    if visible:
        axes.scatter(
            [x for _, x, _ in visible],
            [y for _, _, y in visible],
            s=[4 + 3 * math.sqrt(cell.count) for cell, _, _ in visible],
            color=OTHER,
            alpha=0.5,
            linewidths=0,
            zorder=2,
        )
        handles.append(Line2D([], [], marker="o", linestyle="", color=OTHER, label="other reports"))

    stretch = 1 / max(0.01, math.cos(math.radians(centre_lat)))
    for kind in (TRACKED, "theft"):
        mine = [cell for cell in found.cells if cell.cluster in numbered and cell.kind == kind]
        if not mine:
            continue
        points = [mercator(cell.lat, cell.lon) for cell in mine]
        axes.scatter(
            [x for x, _ in points],
            [y for _, y in points],
            s=[8 + 4 * math.sqrt(cell.count) for cell in mine],
            color=COLOURS[kind],
            alpha=0.75,
            linewidths=0,
            zorder=3,
        )
        handles.append(
            Line2D([], [], marker="o", linestyle="", color=COLOURS[kind], label=LABELS[kind])
        )
    for cluster in found.clusters[:rows]:
        x, y = mercator(cluster.lat, cluster.lon)
        radius = (max(cluster.radius_metres, MICRO_METRES) + MICRO_METRES) * stretch
        colour = COLOURS[cluster.kind]
        axes.add_patch(
            Circle((x, y), radius, fill=False, edgecolor=colour, linewidth=1.6, zorder=4)
        )
        axes.annotate(
            str(cluster.number),
            (x, y + radius),
            xytext=(0, 4),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=10,
            fontweight="bold",
            color=colour,
            bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": colour, "lw": 1},
            zorder=5,
            gid=f"cluster-{cluster.number}",
        )

    _scale_bar(axes, x0, x1, y0, y1, stretch)
    _degree_axes(axes)
    if handles:
        axes.legend(handles=handles, loc="upper right", fontsize=8, framealpha=0.9)
    title = f"Hotspots: reports filed {period(found)}"
    axes.set_title(title, fontsize=11, loc="left")
    fig.text(
        0.01,
        0.005,
        f"Web Mercator (EPSG:3857). Clusters: DBSCAN, {RADIUS_METRES:.0f} m; "
        f"{found.points} points; numbers as in the table.",
        fontsize=7,
        color="#555555",
    )
    fig.tight_layout()
    return fig


def _scale_bar(axes: Any, x0: float, x1: float, y0: float, y1: float, stretch: float) -> None:
    from matplotlib.patches import Rectangle

    ground = nice_length((x1 - x0) / stretch / 5)
    length = ground * stretch
    left = x0 + 0.05 * (x1 - x0)
    bottom = y0 + 0.05 * (y1 - y0)
    height = 0.008 * (y1 - y0)
    axes.add_patch(Rectangle((left, bottom), length, height, color="black", zorder=6))
    axes.add_patch(
        Rectangle(
            (left, bottom),
            length / 2,
            height,
            facecolor="white",
            edgecolor="black",
            linewidth=0.8,
            zorder=7,
        )
    )
    axes.text(
        left + length / 2,
        bottom + 2.5 * height,
        scale_label(ground),
        ha="center",
        va="bottom",
        fontsize=8,
        zorder=7,
        gid="scale-bar",
    )


def _degree_axes(axes: Any) -> None:
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    def longitude(x: float, _: int) -> str:
        return f"{degrees(x, 0.0)[1]:.3f}°"

    def latitude(y: float, _: int) -> str:
        return f"{degrees(0.0, y)[0]:.3f}°"

    axes.xaxis.set_major_locator(MaxNLocator(5))
    axes.yaxis.set_major_locator(MaxNLocator(5))
    axes.xaxis.set_major_formatter(FuncFormatter(longitude))
    axes.yaxis.set_major_formatter(FuncFormatter(latitude))
    axes.tick_params(labelsize=7)
    axes.set_xlabel("longitude (WGS84; east positive)", fontsize=8)
    axes.set_ylabel("latitude (WGS84; north positive)", fontsize=8)
    axes.grid(color="white", linewidth=0.8)


def render(found: Hotspots, *, image_format: str = "png", rows: int = TABLE_ROWS) -> bytes:
    """The hotspot map as PNG (or SVG, its text kept as text) bytes."""
    import matplotlib

    fig = figure(found, rows)
    out = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "hotspots"}):
        fig.savefig(out, format=image_format, metadata=_metadata(image_format))
    return out.getvalue()


def _metadata(image_format: str) -> dict[str, Any]:
    # No version or time of drawing: the same data gives the same picture.
    return {"Date": None, "Creator": None} if image_format == "svg" else {"Software": None}
