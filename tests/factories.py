"""Builders for test data: valid IMEIs, phone numbers and new reports."""

from __future__ import annotations

import itertools
import random
from dataclasses import replace
from typing import Any

from models.imei import Imei, luhn_check_digit
from models.phone import PhoneNumber
from models.reports import NewReport

_counter = itertools.count(1)


def imei(seed: int | None = None) -> Imei:
    """A valid, distinct IMEI (deterministic for a given seed)."""
    rng = random.Random(seed if seed is not None else next(_counter) * 7919)
    body = "35" + "".join(rng.choice("0123456789") for _ in range(12))
    return Imei.parse(body + luhn_check_digit(body))


def new_report(**overrides: Any) -> NewReport:
    """A complete report as the conversation would build it."""
    base = NewReport(
        make="apple",
        model="iPhone 15",
        colour="blue, cracked corner",
        imeis=(imei(),),
        stolen_number=PhoneNumber.parse("07400 123456"),
        network="Vodafone",
        theft_method="snatched_moped",
        place="Oxford Street by Bond Street station",
        incident_lat=51.5142,
        incident_lon=-0.1494,
        contact_name="Alex Example",
        contact_phone=PhoneNumber.parse("07912 345678"),
        contact_email="alex@example.org",
        preferred_channel="email",
    )
    return replace(base, **overrides)
