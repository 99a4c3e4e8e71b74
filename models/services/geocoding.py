"""Typed place -> point: the offline gazetteer first, then the operator's geocoder if any.

Matching is forgiving (models.values.placename): case, punctuation, accents, street/st,
road/rd, a trailing "station", postcodes with or without their space, and a partial postcode
gives its district's centroid. Among places of the same name, those inside the service area
come first, then the kind people usually mean (a station before a hamlet), then the nearest to
the area's centre.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.storage.database import Database
from models.storage.tables import Dataset, PlaceName
from models.values.coordinates import Area, Point, PointSource, Precision
from models.values.placename import (
    place_keys,
    postcode_district,
    postcode_in,
    postcode_key,
)

DATASET = "places"
QUERY_CHUNK = 500
MAX_CANDIDATES = 200


class OnlineGeocoder(Protocol):
    """What the geocoder asks when the gazetteer has no answer (models.services.nominatim)."""

    async def locate(self, text: str) -> Point | None:
        """The point for TEXT, or None."""
        ...


@dataclass(frozen=True, slots=True)
class _Plan:
    """The keys to try for one typed place, best first, and whether each must be in the area."""

    keys: tuple[str, ...]
    strict_from: int  # keys from this position on are guesses: only trusted inside the area


def plan(text: str) -> _Plan:
    """The gazetteer keys for TEXT, in the order they are trusted."""
    full = postcode_key(text)
    if full is not None:
        return _Plan((full,), 1)
    district = postcode_district(text)
    if district is not None:
        return _Plan((district,), 1)
    keys: list[str] = []
    embedded = postcode_in(text)
    if embedded is not None:
        keys.append(embedded)
    names = place_keys(text)
    keys.extend(names[:1])
    strict_from = len(keys)
    keys.extend(names[1:])
    # A district near the end ("Oxford St W1", "W1, London") when nothing else is found.
    for word in reversed(text.replace(",", " ").split()[-2:]):
        district = postcode_district(word)
        if district is not None:
            keys.append(district)
            break
    return _Plan(tuple(dict.fromkeys(keys)), strict_from)


class Geocoder:
    """Finds the point of a typed place."""

    def __init__(
        self, db: Database, *, area: Area | None = None, online: OnlineGeocoder | None = None
    ) -> None:
        """Search DB's gazetteer, preferring AREA; ask ONLINE when the gazetteer has nothing."""
        self.db = db
        self.area = area
        self.online = online

    async def _rows(self, session: AsyncSession, keys: Sequence[str]) -> dict[str, list[Any]]:
        found: dict[str, list[Any]] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), QUERY_CHUNK):
            rows = await session.execute(
                select(
                    col(PlaceName.key),
                    col(PlaceName.name),
                    col(PlaceName.lat),
                    col(PlaceName.lon),
                    col(PlaceName.precision),
                    col(PlaceName.source),
                    col(PlaceName.rank),
                )
                .join(Dataset, col(Dataset.generation) == col(PlaceName.generation))
                .where(
                    col(Dataset.name) == DATASET,
                    col(PlaceName.key).in_(unique[start : start + QUERY_CHUNK]),
                )
            )
            for row in rows:
                bucket = found.setdefault(row.key, [])
                if len(bucket) < MAX_CANDIDATES:
                    bucket.append(row)
        return found

    def _best(self, chosen: _Plan, rows: dict[str, list[Any]]) -> Point | None:
        centre = self.area.centre if self.area is not None else None
        for position, key in enumerate(chosen.keys):
            candidates = rows.get(key, [])
            if self.area is not None:
                inside = [row for row in candidates if self.area.contains(row.lat, row.lon)]
                if position >= chosen.strict_from or inside:
                    candidates = inside
            if not candidates:
                continue

            def order(row: Any) -> tuple[int, float]:
                distance = 0.0
                if centre is not None:
                    distance = math.hypot(row.lat - centre[0], row.lon - centre[1])
                return row.rank, distance

            best = min(candidates, key=order)
            return Point(
                best.lat, best.lon, PointSource(best.source), Precision(best.precision), best.name
            )
        return None

    async def locate(self, text: str) -> Point | None:
        """The point for TEXT (point, source, precision, the gazetteer's name), or None."""
        chosen = plan(text)
        if chosen.keys:
            async with self.db.read() as session:
                rows = await self._rows(session, chosen.keys)
            found = self._best(chosen, rows)
            if found is not None:
                return found
        if self.online is not None and text.strip():
            return await self.online.locate(text)
        return None

    async def locate_many(self, texts: Sequence[str]) -> list[Point | None]:
        """The point for each of TEXTS, with a few queries for all of them (offline only)."""
        plans = [plan(text) for text in texts]
        async with self.db.read() as session:
            rows = await self._rows(session, [key for chosen in plans for key in chosen.keys])
        return [self._best(chosen, rows) for chosen in plans]
