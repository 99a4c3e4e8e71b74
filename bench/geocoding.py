"""Geocoding typed places against an imported gazetteer: 10,000 places, 300,000 names.

python -m bench.geocoding [--quick] [--database-url URL]

A synthetic gazetteer (streets, stations, areas and postcodes across Greater London, as a plain
`name,lat,lon` CSV) is imported with `Gazetteer.import_files`, then 10,000 places are typed the
way victims type them (case, "St" for "Street", a trailing "station", postcodes without their
space, partial postcodes, and some places that do not exist) and geocoded in one batch
(`Geocoder.locate_many`) and, for a sample, one call at a time (`Geocoder.locate`, what filing
does). Baseline, same run: exact look-ups of the already-canonical keys, one indexed query per
chunk, with none of the forgiving matching.
"""

from __future__ import annotations

import asyncio
import random
import sys
import tempfile
import uuid
from pathlib import Path

if not __package__:  # run as `python bench/geocoding.py`: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select, text

from bench.common import Result, Timer, emit, log, parser, peak_rss_mb, ratio, stage
from models.services.geocoding import Geocoder
from models.services.places import Gazetteer
from models.storage.database import Database
from models.storage.tables import Dataset, PlaceName
from models.values.coordinates import GREATER_LONDON
from models.values.placename import place_key, postcode_key

TARGET_S = 5.0
FULL = {"names": 300_000, "queries": 10_000, "single": 1_000}
QUICK = {"names": 3_000, "queries": 500, "single": 100}
WORDS = [
    "oak",
    "elm",
    "ash",
    "birch",
    "maple",
    "cedar",
    "willow",
    "hazel",
    "rowan",
    "alder",
    "king",
    "queen",
    "prince",
    "duke",
    "earl",
    "park",
    "mill",
    "bridge",
    "church",
    "market",
    "castle",
    "abbey",
    "manor",
    "grange",
    "meadow",
    "field",
    "green",
    "hill",
    "vale",
    "brook",
    "river",
    "well",
    "spring",
    "north",
    "south",
    "east",
    "west",
    "high",
    "old",
    "new",
    "long",
    "broad",
    "wood",
    "stone",
    "bell",
    "crown",
]
KINDS = ("Street", "Road", "Lane", "Avenue", "Square", "Gardens", "Place", "Terrace")
AREAS = ("E", "EC", "N", "NW", "SE", "SW", "W", "WC")
LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


def synthetic_gazetteer(path: Path, count: int, rng: random.Random) -> list[tuple[str, str]]:
    """Write COUNT names (a fifth of them postcodes) to PATH; returns (name, kind) pairs."""
    names: list[tuple[str, str]] = []
    seen: set[str] = set()
    area = GREATER_LONDON
    with path.open("w", encoding="utf-8") as out:
        out.write("name,lat,lon\n")
        while len(names) < count:
            lat = rng.uniform(area.south, area.north)
            lon = rng.uniform(area.west, area.east)
            if len(names) % 5 == 0:
                district = f"{rng.choice(AREAS)}{rng.randint(1, 20)}"
                inward = f"{rng.randint(0, 9)}{rng.choice(LETTERS)}{rng.choice(LETTERS)}"
                name = f"{district} {inward}"
                kind = "postcode"
                key = postcode_key(name) or name
            else:
                first, second = rng.sample(WORDS, 2)
                number = rng.randint(1, 400)
                if len(names) % 5 == 1:
                    name, kind = f"{first.title()} {second.title()} {number}", "station"
                else:
                    name = f"{first.title()} {second.title()} {number} {rng.choice(KINDS)}"
                    kind = "street"
                key = place_key(name)
            if key in seen:
                continue
            seen.add(key)
            names.append((name, kind))
            out.write(f"{name},{lat:.6f},{lon:.6f}\n")
    return names


def typed_forms(names: list[tuple[str, str]], count: int, rng: random.Random) -> list[str]:
    """COUNT places as victims type them: sloppy forms of known names, and some unknown ones."""
    typed = []
    for _ in range(count):
        if rng.random() < 0.05:
            typed.append(f"Nowhere {rng.randint(1, 10**6)} Close")
            continue
        name, kind = rng.choice(names)
        if kind == "postcode":
            typed.append(rng.choice([name.replace(" ", "").lower(), name, name.split()[0]]))
        elif kind == "station":
            typed.append(rng.choice([f"{name} station", f"{name.upper()} STN", f"{name} st"]))
        else:
            forms = [
                name.lower(),
                name.replace("Street", "St").replace("Road", "Rd"),
                f"{name}, London",
                name.upper() + ".",
            ]
            typed.append(rng.choice(forms))
    return typed


async def baseline_exact(db: Database, keys: list[str]) -> int:
    """Exact look-ups of canonical keys (no forgiving matching): how many were found."""
    found = 0
    async with db.read() as session:
        for start in range(0, len(keys), 500):
            rows = await session.execute(
                select(PlaceName.key)
                .join(Dataset, Dataset.generation == PlaceName.generation)
                .where(Dataset.name == "places", PlaceName.key.in_(keys[start : start + 500]))
            )
            found += len(set(rows.scalars()))
    return found


async def run(sizes: dict[str, int], database_url: str | None, folder: Path) -> Result:
    """Build, import, geocode; the figures."""
    rng = random.Random(12)
    schema = None
    if database_url:
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        admin = Database(database_url)
        async with admin.write_engine.begin() as connection:
            await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        await admin.dispose()
        db = Database(database_url, schema=schema)
    else:
        db = Database(f"sqlite+aiosqlite:///{folder / 'geocoding.db'}")
    try:
        await db.upgrade()
        path = folder / "gazetteer.csv"
        with stage(f"writing a synthetic gazetteer of {sizes['names']:,} names"):
            names = synthetic_gazetteer(path, sizes["names"], rng)
        with stage("importing it") as imported:
            outcome = await Gazetteer(db).import_files([path], actor="bench")
        geocoder = Geocoder(db, area=GREATER_LONDON)
        typed = typed_forms(names, sizes["queries"], rng)
        keys = [postcode_key(name) or place_key(name) for name, _ in rng.sample(names, len(typed))]
        await geocoder.locate_many(typed[:50])  # warm the caches
        with Timer() as base:
            exact = await baseline_exact(db, keys)
        with stage(f"geocoding {len(typed):,} typed places in one batch") as batch:
            points = await geocoder.locate_many(typed)
        single = typed[: sizes["single"]]
        with stage(f"geocoding {len(single):,} one call at a time") as one_by_one:
            for place in single:
                await geocoder.locate(place)
    finally:
        await db.dispose()
        if schema:
            admin = Database(database_url)  # type: ignore[arg-type]
            async with admin.write_engine.begin() as connection:
                await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            await admin.dispose()
    result = Result("geocoding")
    result.sizes = {**sizes, "backend": "postgresql" if database_url else "sqlite"}
    hits = sum(point is not None for point in points)
    result.figures = {
        "import_s": imported.seconds,
        "import_rows_per_s": outcome.rows / imported.seconds,
        "batch_s": batch.seconds,
        "batch_places_per_s": len(typed) / batch.seconds,
        "single_places_per_s": len(single) / one_by_one.seconds,
        "single_ms_per_place": one_by_one.seconds / len(single) * 1000,
        "found_share": hits / len(typed),
        "peak_rss_mb": peak_rss_mb(),
    }
    result.baseline = {"exact_keys_s": base.seconds, "exact_found": exact}
    result.ratio = {"batch_vs_exact": ratio(batch.seconds, base.seconds)}
    scale = 10_000 / len(typed)
    result.below("batch_10k_s", batch.seconds * scale, TARGET_S, "s")
    log(f"found {hits:,} of {len(typed):,}; {len(typed) / batch.seconds:,.0f} places/s")
    return result


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its JSON line."""
    args = parser(__doc__.splitlines()[0]).parse_args(argv)
    sizes = QUICK if args.quick else FULL
    with tempfile.TemporaryDirectory() as folder:
        result = asyncio.run(run(sizes, args.database_url, Path(folder)))
    return emit(result, quick=args.quick)


if __name__ == "__main__":
    sys.exit(main())
