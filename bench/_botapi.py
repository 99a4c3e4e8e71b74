"""A tiny Bot API over HTTP on 127.0.0.1, for benchmarks that run the bot as a real process.

It answers getMe, getUpdates (held open like Telegram's long polling, always empty) and any other
method with ``true``, and notes when each call arrived (``time.perf_counter``, this process).
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

BOT_USER = {
    "id": 7000000001,
    "is_bot": True,
    "first_name": "Bench bot",
    "username": "BenchReportBot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}


class BotApiServer:
    """The server, run in a background thread; use as a context manager."""

    def __init__(self, *, hold_max: float = 10.0) -> None:
        """Hold getUpdates for its timeout, but never longer than HOLD_MAX seconds."""
        self.hold_max = hold_max
        self.calls: list[tuple[str, float]] = []
        self._changed = threading.Condition()
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        """What to give the bot as TELEGRAM_API_BASE_URL."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> BotApiServer:
        """Start serving."""
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        """Release held requests and stop serving."""
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def reset(self) -> None:
        """Forget the calls so far (before the next process starts)."""
        with self._changed:
            self.calls.clear()

    def first_call(self, method: str, *, timeout: float, alive: Any = None) -> float | None:
        """When METHOD was first called; waits up to TIMEOUT, or until ALIVE() turns false."""
        deadline = time.perf_counter() + timeout
        with self._changed:
            while True:
                for name, at in self.calls:
                    if name == method:
                        return at
                left = deadline - time.perf_counter()
                if left <= 0 or (alive is not None and not alive()):
                    return None
                self._changed.wait(min(left, 0.05))

    def _record(self, method: str) -> None:
        with self._changed:
            self.calls.append((method, time.perf_counter()))
            self._changed.notify_all()

    def _answer(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return BOT_USER
        if method == "getUpdates":
            hold = min(float(params.get("timeout") or 0), self.hold_max)
            self._stopping.wait(hold)
            return []
        return True

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                method = self.path.rstrip("/").rsplit("/", 1)[-1]
                api._record(method)
                length = int(self.headers.get("Content-Length") or 0)
                params = _parameters(self.rfile.read(length), self.headers.get("Content-Type"))
                body = json.dumps({"ok": True, "result": api._answer(method, params)}).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the bot stopped while its getUpdates was held: as with Telegram

            do_GET = do_POST

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


def _parameters(raw: bytes, content_type: str | None) -> dict[str, Any]:
    """The call's parameters from a JSON or form-encoded body (multipart is not needed here)."""
    if not raw:
        return {}
    if content_type and content_type.startswith("application/json"):
        return json.loads(raw)
    return {key: values[-1] for key, values in parse_qs(raw.decode()).items()}
