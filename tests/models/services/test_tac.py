"""The TAC table: importing the Osmocom and GSMA formats, hostile files, and the make check."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from models.register import Register
from models.services.datasets import ImportRefused
from models.services.tac import BadTacFile, TacFormat, brand_key, disagrees
from models.storage.tables import AuditEvent, TacEntry
from models.values.imei import Imei, luhn_check_digit
from tests.factories import new_report

OSMOCOM_BANNER = '"Osmocom TAC database, CC-BY-SA 3.0",,,,,,,\n'
OSMOCOM_HEADER = "tac,name,name,contributor,comment,gsmarena,gsmarena,aka\n"
GSMA_HEADER = (
    "TAC|Marketing Name|Manufacturer (or) Applicant|Bands|5G Bands|LPWAN|Radio Interface|"
    "Brand Name|Model Name|Operating System|NFC|Bluetooth|WLAN|Device Type\n"
)


def imei_with(tac: str, serial: str = "123456") -> Imei:
    """A valid IMEI whose first eight digits are TAC."""
    body = tac + serial
    return Imei(body + luhn_check_digit(body))


def osmocom(path: Path, *lines: str) -> Path:
    """An Osmocom tacdb CSV with LINES after its banner and header."""
    path.write_text(OSMOCOM_BANNER + OSMOCOM_HEADER + "".join(f"{line}\n" for line in lines))
    return path


def gsma(path: Path, *rows: tuple[str, str, str, str]) -> Path:
    """A GSMA TAC file with ROWS of (tac, marketing name, manufacturer, brand, model...)."""
    lines = [
        f"{tac}|{model}|{maker}|GSM 900|||LTE|{brand}|{model}|iOS|Y|Y|Y|Smartphone"
        for tac, maker, brand, model in rows
    ]
    path.write_text(GSMA_HEADER + "\n".join(lines) + "\n", encoding="cp1252")
    return path


async def tac_rows(register: Register) -> int:
    async with register.db.read() as session:
        return (await session.execute(select(func.count()).select_from(TacEntry))).scalar_one()


@pytest.mark.parametrize(
    ("maker", "key"),
    [
        ("Apple Inc", "apple"),
        ("Apple", "apple"),
        ("Samsung Korea", "samsung"),
        ("Samsung Electronics Co., Ltd.", "samsung"),
        ("Google Inc", "google"),
        ("HMD Global Oy", "nokia"),
        ("Motorola Mobility LLC, a Lenovo Company", "motorola"),
        ("OnePlus Technology (Shenzhen) Co., Ltd.", "oneplus"),
        ("Sony Mobile Communications Inc", "sony"),
    ],
)
def test_brands_are_normalised(maker: str, key: str) -> None:
    assert brand_key(maker) == key


def test_what_counts_as_disagreeing() -> None:
    assert disagrees("samsung", "apple")
    assert not disagrees("apple", "apple")
    assert disagrees("other", "google")  # "other" chosen for a Pixel
    assert not disagrees("other", "nokia")


async def test_an_osmocom_table_is_imported_and_checked(register: Register, tmp_path) -> None:
    path = osmocom(
        tmp_path / "tacdb.csv",
        "35209900,Apple,iPhone 15 Pro,someone,,,,",
        '35332211,"Samsung Korea","Galaxy S23, 5G",someone,,gsmarena,12082,',
    )

    result = await register.tac.import_file(path, actor="cli:test")

    assert (result.rows, result.rejected_total, result.format) == (2, 0, "osmocom")
    apple = await register.tac.check(imei_with("35209900"), "samsung")
    assert apple is not None
    assert (apple.brand, apple.model, apple.brand_key, apple.mismatch) == (
        "Apple",
        "iPhone 15 Pro",
        "apple",
        True,
    )
    samsung = await register.tac.check(imei_with("35332211"), "samsung")
    assert samsung is not None and not samsung.mismatch and samsung.model == "Galaxy S23, 5G"
    assert await register.tac.check(imei_with("35999999"), "apple") is None
    info = await register.tac.info()
    assert info is not None and (info.rows, info.format, info.imported_by) == (
        2,
        "osmocom",
        "cli:test",
    )


async def test_a_gsma_file_is_imported(register: Register, tmp_path) -> None:
    path = gsma(
        tmp_path / "tac.txt",
        ("35209900", "Apple Inc", "Apple", "iPhone 15 Pro"),
        ("35690011", "Société Générale Mobile", "", "Téléphone"),
    )

    result = await register.tac.import_file(path, actor="cli:test")

    assert (result.format, result.rows) == (TacFormat.GSMA.value, 2)
    found = await register.tac.lookup("35690011")
    # No brand name: the manufacturer stands in; Windows-1252 text is read right.
    assert found is not None and (found.brand, found.model) == (
        "Société Générale Mobile",
        "Téléphone",
    )


async def test_bad_lines_are_listed_with_their_reasons(register: Register, tmp_path) -> None:
    path = osmocom(
        tmp_path / "tacdb.csv",
        "35209900,Apple,iPhone 15 Pro,,,,,",
        "3520990X,Apple,letters,,,,,",
        "1234,Apple,short,,,,,",
        "35209900,Apple,again,,,,,",
        "35111111,,no brand,,,,,",
        "35222222",
        '35333333,"Broken,quote,,,,,',
        "",
    )

    result = await register.tac.import_file(path, actor="cli:test")

    assert result.rows == 1
    assert [(item.line, item.reason) for item in result.rejected] == [
        ("4", "bad_tac"),
        ("5", "bad_tac"),
        ("6", "duplicate_tac"),
        ("7", "no_brand"),
        ("8", "too_few_columns"),
        ("9", "malformed_csv"),
    ]


async def test_a_reimport_replaces_the_table_whole(register: Register, tmp_path) -> None:
    await register.tac.import_file(
        osmocom(tmp_path / "a.csv", "35209900,Apple,iPhone 15,,,,,", "35332211,Samsung,S23,,,,,"),
        actor="cli:a",
    )

    result = await register.tac.import_file(
        osmocom(tmp_path / "b.csv", "35209900,Apple,iPhone 15 Pro,,,,,"), actor="cli:b"
    )

    assert (result.rows, result.previous_rows) == (1, 2)
    assert await register.tac.lookup("35332211") is None
    found = await register.tac.lookup("35209900")
    assert found is not None and found.model == "iPhone 15 Pro"
    assert await tac_rows(register) == 1  # the old generation is gone


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "import_empty"),
        (b"tac,name\x00,\n35209900,Apple,x\n", "import_not_text"),
        (b"just some words\nand more\nand more\n", "tac_file_header"),
        ((OSMOCOM_BANNER + OSMOCOM_HEADER).encode(), "import_no_rows"),
    ],
)
async def test_a_file_that_is_not_a_tac_table_changes_nothing(
    register: Register, tmp_path, content: bytes, code: str
) -> None:
    await register.tac.import_file(
        osmocom(tmp_path / "good.csv", "35209900,Apple,iPhone 15,,,,,"), actor="cli:a"
    )
    bad = tmp_path / "bad.csv"
    bad.write_bytes(content)

    with pytest.raises((ImportRefused, BadTacFile)) as refused:
        await register.tac.import_file(bad, actor="cli:b")

    assert refused.value.code == code
    assert await register.tac.lookup("35209900") is not None
    assert await tac_rows(register) == 1


async def test_a_file_over_the_size_cap_is_refused_before_reading(
    register: Register, tmp_path
) -> None:
    path = osmocom(tmp_path / "big.csv", *[f"3520{n:04d},Apple,x,,,,," for n in range(100)])

    with pytest.raises(ImportRefused) as refused:
        await register.tac.import_file(path, actor="cli:a", max_bytes=1000)

    assert refused.value.code == "import_too_large"
    assert await tac_rows(register) == 0


async def test_an_endless_line_is_rejected_in_bounded_memory(register: Register, tmp_path) -> None:
    path = tmp_path / "long.csv"
    with path.open("w") as out:
        out.write(OSMOCOM_BANNER + OSMOCOM_HEADER + "35209900,Apple,ok,,,,,\n")
        out.write("35332211,Samsung," + "x" * 5_000_000 + "\n")
        out.write("35444444,Google,Pixel,,,,,\n")

    result = await register.tac.import_file(path, actor="cli:a")

    assert result.rows == 2
    assert [(item.line, item.reason) for item in result.rejected] == [("4", "line_too_long")]


async def test_a_file_of_mostly_garbage_is_refused(register: Register, tmp_path) -> None:
    garbage = [f"garbage line {n},x,y" for n in range(1200)]
    path = osmocom(tmp_path / "junk.csv", "35209900,Apple,ok,,,,,", *garbage)

    with pytest.raises(ImportRefused) as refused:
        await register.tac.import_file(path, actor="cli:a")

    assert refused.value.code == "import_mostly_rejected"
    assert await tac_rows(register) == 0


async def test_imports_are_audited(register: Register, tmp_path) -> None:
    await register.tac.import_file(
        osmocom(tmp_path / "a.csv", "35209900,Apple,iPhone,,,,,", "bad,,,,,,,"), actor="cli:a"
    )
    async with register.db.read() as session:
        (event,) = (
            await session.execute(select(AuditEvent).where(AuditEvent.action == "tac_import"))
        ).scalars()
    assert event.actor == "cli:a"
    assert '"rows": 1' in event.details and '"rejected": 1' in event.details


async def test_filing_stores_the_tac_make_and_the_mismatch(register: Register, tmp_path) -> None:
    await register.tac.import_file(
        osmocom(tmp_path / "a.csv", '35209900,"Apple Inc",iPhone 15 Pro,,,,,'), actor="cli:a"
    )

    wrong = await register.reports.file(
        new_report(make="samsung", imeis=(imei_with("35209900", "000001"),)), "k1"
    )
    right = await register.reports.file(
        new_report(make="apple", imeis=(imei_with("35209900", "000002"),)), "k2"
    )
    unknown = await register.reports.file(
        new_report(make="apple", imeis=(imei_with("35777777"),)), "k3"
    )

    flagged = await register.reports.get(wrong.reference)
    assert flagged is not None
    assert (flagged.tac_make, flagged.tac_model, flagged.tac_mismatch) == (
        "Apple Inc",
        "iPhone 15 Pro",
        True,
    )
    fine = await register.reports.get(right.reference)
    assert fine is not None and fine.tac_mismatch is False
    nothing = await register.reports.get(unknown.reference)
    assert nothing is not None and (nothing.tac_make, nothing.tac_mismatch) == (None, None)
