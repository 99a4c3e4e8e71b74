"""Where the register is stored: engines and sessions, tables, column types, processed updates."""
