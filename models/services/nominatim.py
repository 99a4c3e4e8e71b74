"""An optional online geocoder: a Nominatim server the operator names (`NOMINATIM_URL`).

Asked only when the offline gazetteer has no answer. What the victim typed goes to that server,
so an operator should point it at a server they run or trust. Failures (timeouts, errors, odd
answers) mean "no answer", never a lost report; nothing typed is logged.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

import httpx

from models.values.coordinates import (
    Area,
    BadCoordinates,
    Point,
    PointSource,
    Precision,
    check_point,
)

log = logging.getLogger("reportbot.geocoding")
MAX_ANSWER_BYTES = 1024 * 1024


class Nominatim:
    """Looks typed places up on a Nominatim server's /search endpoint."""

    def __init__(
        self,
        url: str,
        *,
        user_agent: str,
        area: Area | None = None,
        country_codes: str = "gb",
        timeout: float = 5.0,
        min_interval: float = 1.0,
    ) -> None:
        """Ask URL (its root), naming ourselves USER_AGENT, at most once per MIN_INTERVAL s."""
        self.url = url.rstrip("/")
        self.user_agent = user_agent
        self.area = area
        self.country_codes = country_codes
        self.timeout = timeout
        self.min_interval = min_interval
        self._lock = asyncio.Lock()
        self._last = 0.0

    def _params(self, text: str) -> dict[str, Any]:
        params: dict[str, Any] = {"q": text, "format": "jsonv2", "limit": 1}
        if self.country_codes:
            params["countrycodes"] = self.country_codes
        if self.area is not None:
            # Prefer (not restrict to) the service area: left,top,right,bottom.
            area = self.area
            params["viewbox"] = f"{area.west},{area.north},{area.east},{area.south}"
        return params

    async def _get(self, text: str) -> bytes | None:
        async with self._lock:
            # The public servers' policy is one request a second; keep to it for any server.
            wait = self._last + self.min_interval - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            self._last = time.monotonic()
            async with (
                httpx.AsyncClient(
                    timeout=self.timeout, headers={"User-Agent": self.user_agent}
                ) as client,
                client.stream("GET", f"{self.url}/search", params=self._params(text)) as answer,
            ):
                if answer.status_code != 200:
                    log.warning("geocoder answered %s", answer.status_code)
                    return None
                body = b""
                async for chunk in answer.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_ANSWER_BYTES:
                        log.warning("geocoder answer too large")
                        return None
                return body

    async def locate(self, text: str) -> Point | None:
        """The first place the server finds for TEXT, or None (no answer, or a failure)."""
        try:
            body = await self._get(text)
        except httpx.HTTPError as exc:
            log.warning("geocoder unreachable: %s", type(exc).__name__)
            return None
        if body is None:
            return None
        try:
            found = json.loads(body)
            first = found[0] if isinstance(found, list) and found else None
            if not isinstance(first, dict):
                return None
            point = check_point(float(first["lat"]), float(first["lon"]))
        except (ValueError, KeyError, TypeError, BadCoordinates):
            log.warning("geocoder answer not understood")
            return None
        kind = str(first.get("addresstype") or first.get("type") or "")
        precision = Precision.POSTCODE if kind == "postcode" else Precision.PLACE
        name = str(first.get("display_name") or "")[:128] or None
        return Point(point.lat, point.lon, PointSource.NOMINATIM, precision, name)
