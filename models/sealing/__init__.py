"""Personal data sealed at rest: keys, the vault, blind indexes, the key check."""
