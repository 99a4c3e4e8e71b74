"""The hotspots as a picture: cells on a white-to-red scale, tracked clusters framed in blue."""

from __future__ import annotations

import math
from dataclasses import dataclass

from models.present.png import Canvas, Colour
from models.services.hotspots import CELL_METRES, METRES_PER_DEGREE, Cell

SIZE = 600
MARGIN = 30
MIN_CELL_PX = 4
# The picture spans at least this many cells, so a lone hotspot is not a red page.
MIN_SPAN_CELLS = 12
BLUE: Colour = (0, 70, 255)
GREY: Colour = (200, 200, 200)
FRAME = 3


@dataclass(frozen=True, slots=True)
class Projection:
    """Where a (lat, lon) lands on the picture (equirectangular around the cells' middle)."""

    lat_top: float
    lon_left: float
    x_scale: float
    scale: float
    x_offset: float
    y_offset: float

    def pixel(self, lat: float, lon: float) -> tuple[int, int]:
        """The (x, y) pixel of a point."""
        x = (lon - self.lon_left) * METRES_PER_DEGREE * self.x_scale * self.scale
        y = (self.lat_top - lat) * METRES_PER_DEGREE * self.scale
        return round(self.x_offset + x), round(self.y_offset + y)

    @property
    def cell_px(self) -> int:
        """How many pixels a cell's side takes (at least MIN_CELL_PX)."""
        return max(MIN_CELL_PX, round(CELL_METRES * self.scale))


def project(cells: list[Cell], size: int = SIZE) -> Projection:
    """The projection that fits every cell's centre on a SIZE x SIZE picture."""
    centres = [cell.centre for cell in cells] or [(0.0, 0.0)]
    lats = [lat for lat, _ in centres]
    lons = [lon for _, lon in centres]
    x_scale = math.cos(math.radians((min(lats) + max(lats)) / 2))
    width = (max(lons) - min(lons)) * METRES_PER_DEGREE * x_scale
    height = (max(lats) - min(lats)) * METRES_PER_DEGREE
    span = max(width, height, MIN_SPAN_CELLS * CELL_METRES)
    scale = (size - 2 * MARGIN) / span
    return Projection(
        lat_top=max(lats),
        lon_left=min(lons),
        x_scale=x_scale,
        scale=scale,
        x_offset=(size - width * scale) / 2,
        y_offset=(size - height * scale) / 2,
    )


def heat(count: int, most: int) -> Colour:
    """White (few) to red (the most), never so pale that a cell disappears."""
    share = math.sqrt(count / most) if most else 0.0
    intensity = 0.25 + 0.75 * share
    fade = round(255 * (1 - intensity))
    return 255, fade, fade


def render(cells: list[Cell], size: int = SIZE) -> bytes:
    """A SIZE x SIZE PNG of CELLS (deterministic)."""
    canvas = Canvas(size, size)
    canvas.outline(0, 0, size, size, GREY, 1)
    projection = project(cells, size)
    half = projection.cell_px // 2
    most = max((cell.total for cell in cells), default=0)
    # Quiet cells first, so the busiest are drawn on top where they overlap.
    ordered = sorted(cells, key=lambda c: (c.total, c.lat_index, c.lon_index))
    for cell in ordered:
        x, y = projection.pixel(*cell.centre)
        canvas.fill(
            x - half,
            y - half,
            x - half + projection.cell_px,
            y - half + projection.cell_px,
            heat(cell.total, most),
        )
    for cell in ordered:
        if cell.is_cluster:
            x, y = projection.pixel(*cell.centre)
            edge = half + FRAME + 1
            canvas.outline(x - edge, y - edge, x + edge + 1, y + edge + 1, BLUE, FRAME)
    return canvas.png()
