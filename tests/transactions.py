"""Counting the register's transactions (reads, writes) while something runs."""

from __future__ import annotations

from collections import Counter
from typing import Any

from models.register import Register


def count_transactions(register: Register) -> Counter[str]:
    """Count the register's transactions from now on, by kind (read, write); all of them."""
    db = register.db
    counts: Counter[str] = Counter()
    run, read, write = db.run, db.read, db.write

    def counted_run(job: Any, *, write: bool = False) -> Any:
        counts["write" if write else "read"] += 1
        return run(job, write=write)

    def counted_read() -> Any:
        counts["read"] += 1
        return read()

    def counted_write() -> Any:
        counts["write"] += 1
        return write()

    db.run, db.read, db.write = counted_run, counted_read, counted_write  # type: ignore[method-assign]
    return counts
