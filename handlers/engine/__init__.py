"""The one way every Telegram exchange is held: buttons, time, language, typed text.

- `callbacks`: the callback-data codec (64-byte check, stale buttons, expiring tickets);
- `clock`: "now" and expiry;
- `language`: which language a reader reads;
- `cleaning`: what people type, made safe to keep; `BadAnswer` when it cannot be;
- `steps`: an exchange's questions (`Steps`); `actions`: its buttons by code (`Actions`) and
  the buttons that apply a held value once (`Confirmations`);
- `waits`: a question waiting for the chat's next message (`ChatWait`) and the routes' filter for
  the message that answers it (`Awaited`).

See docs/engine.md.
"""
