"""The conversation's steps: their names (stored in the draft) and the review's edit groups.

How the steps follow each other: flow.py. How each is asked and answered: the step modules,
which declare themselves with `turn.question`.
"""

from __future__ import annotations

CONSENT = "consent"
ACCOUNT = "account"
MAKE = "make"
MODEL = "model"
COLOUR = "colour"
IMEI = "imei"
IMEI_OK = "imei_ok"
TAC_OK = "tac_ok"
IMEI2 = "imei2"
IMEI2_OK = "imei2_ok"
NUMBER = "number"
NETWORK = "network"
WHEN = "when"
WHEN_TIME = "when_time"
WHEN_DATE = "when_date"
WHEN_OK = "when_ok"
WHERE = "where"
WHERE_NOTE = "where_note"
LOSS = "loss"
HOW = "how"
TRACKED = "tracked"
TRACKED_WHERE = "tracked_where"
TRACKED_WHEN = "tracked_when"
CONTACT_NAME = "contact_name"
CONTACT_PHONE = "contact_phone"
CONTACT_EMAIL = "contact_email"
CHANNEL = "channel"
REVIEW = "review"
FILED = "filed"
CANCELLED = "cancelled"

# Steps after which there is no question left to answer.
FINISHED = frozenset({FILED, CANCELLED})

# What the review's Edit buttons reopen: editing a group walks its steps, then returns to review.
EDIT_GROUPS: dict[str, tuple[str, ...]] = {
    "device": (MAKE, MODEL, COLOUR),
    "imei": (IMEI, IMEI_OK, TAC_OK, IMEI2, IMEI2_OK),
    "number": (NUMBER, NETWORK),
    "when": (WHEN, WHEN_TIME, WHEN_DATE, WHEN_OK),
    "where": (WHERE, WHERE_NOTE),
    "how": (LOSS, HOW),
    "tracked": (TRACKED, TRACKED_WHERE, TRACKED_WHEN),
    "name": (CONTACT_NAME,),
    "phone": (CONTACT_PHONE,),
    "email": (CONTACT_EMAIL,),
    "channel": (CHANNEL,),
    "account": (ACCOUNT,),
}
