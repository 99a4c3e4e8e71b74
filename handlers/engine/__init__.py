"""The one way every Telegram exchange is held: buttons, time, language, typed text.

- `callbacks`: the callback-data codec (64-byte check, stale buttons, expiring tickets);
- `clock`: "now" and expiry;
- `language`: which language a reader reads;
- `cleaning`: what people type, made safe to keep; `BadAnswer` when it cannot be;
- `steps`: an exchange's questions (`Steps`); `actions`: its buttons by code (`Actions`) and
  the buttons that apply a held value once (`Confirmations`).

See docs/engine.md.
"""
