"""One router a page; each module has `router` and `NAV` (its menu entry, or None)."""
