"""A Bot API that lives in this process: console mode and the tests talk to it instead of Telegram.

`LocalBotApi` is a request class: the bot's calls are answered as Telegram would answer them and
kept, so what each chat shows (after edits and deletions) can be read back. `LocalUser` plays a
person: it builds the updates Telegram would deliver and feeds them to the Application.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.ext import Application
from telegram.request import BaseRequest, RequestData

BOT_USER = {
    "id": 7000000001,
    "is_bot": True,
    "first_name": "Stolen phone reporter",
    "username": "StolenPhoneReportBot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
ANSWERED_WITH_TRUE = frozenset(
    {
        "answerCallbackQuery",
        "setMyCommands",
        "deleteMyCommands",
        "setWebhook",
        "deleteWebhook",
        "setChatMenuButton",
        "sendChatAction",
        "close",
        "logOut",
    }
)


@dataclass
class ApiCall:
    """One call the bot made: the method and its parameters (files by name)."""

    method: str
    params: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)
    result: Any = None
    at: float = field(default_factory=time.perf_counter)  # when it arrived


@dataclass
class ChatMessage:
    """A message as the chat shows it now."""

    message_id: int
    from_bot: bool
    text: str | None
    reply_markup: dict | None = None
    document: str | None = None
    deleted: bool = False
    photo: str | None = None

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """(label, callback_data or url) of every inline button, row by row."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [
            (button["text"], button.get("callback_data") or button.get("url") or "")
            for row in rows
            for button in row
        ]

    @property
    def reply_keyboard(self) -> list[str]:
        """Labels of a reply keyboard, if the message carries one."""
        rows = (self.reply_markup or {}).get("keyboard", [])
        return [
            button if isinstance(button, str) else button["text"] for row in rows for button in row
        ]


class ApiError(Exception):
    """Make the local API answer a call with an error, as Telegram would."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        """Remember the HTTP code and description."""
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after


Hook = Callable[[ApiCall], Awaitable[None] | None]


class InProcessRequest(BaseRequest):
    """A request class with no network in between: `answer` gives each call's HTTP answer."""

    @property
    def read_timeout(self) -> float | None:
        """No network, so no timeout."""
        return None

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        """Answer one call like the Bot API: (HTTP status, JSON body); timeouts do not apply."""
        return await self.answer(url, method, request_data)

    async def answer(
        self, url: str, method: str, request_data: RequestData | None
    ) -> tuple[int, bytes]:
        """The call's answer: (HTTP status, body)."""
        raise NotImplementedError


def error_body(code: int, description: str, retry_after: int | None = None) -> dict[str, Any]:
    """The JSON body of a refused call, as Telegram writes it."""
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return body


class LocalBotApi(InProcessRequest):
    """Answers the bot's Bot API calls in-process and remembers every chat's messages."""

    answered_with_true: frozenset[str] = ANSWERED_WITH_TRUE

    def __init__(self, *, on_call: Hook | None = None) -> None:
        """Start with no chats; ON_CALL (if given) sees each call first and may raise ApiError."""
        self.calls: list[ApiCall] = []
        self.chats: dict[int, dict[int, ChatMessage]] = {}
        self.files: dict[str, bytes] = {}
        self.on_call = on_call
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._file_ids = itertools.count(1)

    def next_message_id(self, chat_id: int) -> int:
        """The next message id in CHAT_ID (users' and bot's messages share one sequence)."""
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    def remember_user_message(self, chat_id: int, message_id: int, text: str | None) -> None:
        """Record a message the user sent, so deleting it can be checked."""
        self.chats.setdefault(chat_id, {})[message_id] = ChatMessage(message_id, False, text)

    def visible(self, chat_id: int) -> list[ChatMessage]:
        """The messages CHAT_ID still shows, oldest first."""
        return [m for m in self.chats.get(chat_id, {}).values() if not m.deleted]

    def bot_messages(self, chat_id: int) -> list[ChatMessage]:
        """The bot's messages CHAT_ID still shows, oldest first."""
        return [m for m in self.visible(chat_id) if m.from_bot]

    def add_file(self, content: bytes) -> str:
        """Store a file the user uploads; returns its file_id."""
        file_id = f"file-{next(self._file_ids)}"
        self.files[file_id] = content
        return file_id

    async def answer(
        self, url: str, method: str, request_data: RequestData | None
    ) -> tuple[int, bytes]:
        """Serve a file (GET) or answer a Bot API method, from the request class's data."""
        if method == "GET":
            file_id = url.rsplit("/", 1)[-1]
            if file_id in self.files:
                return 200, self.files[file_id]
            return 404, b"not found"
        params = dict(request_data.parameters) if request_data else {}
        files: dict[str, bytes] = {}
        if request_data is not None and request_data.contains_files:
            for name, value in request_data.multipart_data.items():
                content = value[1] if isinstance(value, tuple) else value
                files[name] = content if isinstance(content, bytes) else content.read()
        status, body = await self.handle(url.rsplit("/", 1)[-1], params, files)
        return status, json.dumps(body).encode()

    async def handle(
        self, method: str, params: dict[str, Any], files: dict[str, bytes]
    ) -> tuple[int, dict[str, Any]]:
        """Record one Bot API call and answer it: (HTTP status, JSON body as a dict)."""
        call = ApiCall(method, params, files)
        self.calls.append(call)
        try:
            if self.on_call is not None:
                outcome = self.on_call(call)
                if outcome is not None:
                    await outcome
            call.result = self._answer(method, params, files)
        except ApiError as exc:
            return exc.code, error_body(exc.code, exc.description, exc.retry_after)
        return 200, {"ok": True, "result": call.result}

    def _answer(self, method: str, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        handler = getattr(self, f"_api_{method}", None)
        if handler is not None:
            return handler(params, files)
        if method in self.answered_with_true:
            return True
        raise ApiError(404, f"Not Found: method {method} is not served by the local Bot API")

    def _message(self, chat_id: int, message_id: int, **extra: Any) -> dict[str, Any]:
        return {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
            "from": BOT_USER,
            **{key: value for key, value in extra.items() if value is not None},
        }

    def _stored(self, params: dict[str, Any]) -> ChatMessage:
        chat_id = int(params["chat_id"])
        message = self.chats.get(chat_id, {}).get(int(params["message_id"]))
        if message is None or message.deleted:
            raise ApiError(400, "Bad Request: message to edit not found")
        return message

    def _api_getMe(self, params: dict, files: dict) -> dict:
        return BOT_USER

    def _api_getUpdates(self, params: dict, files: dict) -> list:
        return []

    def _api_sendMessage(self, params: dict, files: dict) -> dict:
        chat_id = int(params["chat_id"])
        text = str(params.get("text", ""))
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(text) > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        message_id = self.next_message_id(chat_id)
        markup = params.get("reply_markup")
        self.chats.setdefault(chat_id, {})[message_id] = ChatMessage(
            message_id, True, text, markup if isinstance(markup, dict) else None
        )
        return self._message(chat_id, message_id, text=text, reply_markup=_inline(markup))

    def _store_file(self, params: dict, files: dict, default_name: str) -> tuple[int, int, str]:
        """Keep an uploaded file as a new bot message: (chat_id, message_id, file_id)."""
        chat_id = int(params["chat_id"])
        message_id = self.next_message_id(chat_id)
        file_id = self.add_file(files.get(next(iter(files), default_name), b""))
        self.chats.setdefault(chat_id, {})
        return chat_id, message_id, file_id

    def _api_sendDocument(self, params: dict, files: dict) -> dict:
        chat_id, message_id, file_id = self._store_file(params, files, "document")
        caption = params.get("caption")
        self.chats[chat_id][message_id] = ChatMessage(message_id, True, caption, document=file_id)
        name = next(iter(files), "document")
        document = {"file_id": file_id, "file_unique_id": file_id, "file_name": name}
        return self._message(chat_id, message_id, document=document, caption=caption)

    def _api_sendPhoto(self, params: dict, files: dict) -> dict:
        chat_id, message_id, file_id = self._store_file(params, files, "photo")
        caption = params.get("caption")
        self.chats[chat_id][message_id] = ChatMessage(message_id, True, caption, photo=file_id)
        size = {"file_id": file_id, "file_unique_id": file_id, "width": 600, "height": 600}
        return self._message(chat_id, message_id, photo=[size], caption=caption)

    def _api_sendLocation(self, params: dict, files: dict) -> dict:
        chat_id = int(params["chat_id"])
        message_id = self.next_message_id(chat_id)
        location = {"latitude": params["latitude"], "longitude": params["longitude"]}
        self.chats.setdefault(chat_id, {})[message_id] = ChatMessage(message_id, True, None)
        return self._message(chat_id, message_id, location=location)

    def _api_editMessageText(self, params: dict, files: dict) -> dict:
        message = self._stored(params)
        text = str(params.get("text", ""))
        markup = params.get("reply_markup")
        if text == message.text and markup == message.reply_markup:
            raise ApiError(400, "Bad Request: message is not modified")
        message.text = text
        message.reply_markup = markup if isinstance(markup, dict) else None
        return self._message(
            int(params["chat_id"]), message.message_id, text=text, reply_markup=_inline(markup)
        )

    def _api_editMessageReplyMarkup(self, params: dict, files: dict) -> dict:
        message = self._stored(params)
        markup = params.get("reply_markup")
        message.reply_markup = markup if isinstance(markup, dict) else None
        return self._message(
            int(params["chat_id"]),
            message.message_id,
            text=message.text,
            reply_markup=_inline(markup),
        )

    def _api_deleteMessage(self, params: dict, files: dict) -> bool:
        chat_id = int(params["chat_id"])
        message = self.chats.get(chat_id, {}).get(int(params["message_id"]))
        if message is None or message.deleted:
            raise ApiError(400, "Bad Request: message to delete not found")
        message.deleted = True
        return True

    def _api_deleteMessages(self, params: dict, files: dict) -> bool:
        chat_id = int(params["chat_id"])
        for message_id in params.get("message_ids", []):
            message = self.chats.get(chat_id, {}).get(int(message_id))
            if message is not None:
                message.deleted = True
        return True

    def _api_getFile(self, params: dict, files: dict) -> dict:
        file_id = str(params["file_id"])
        if file_id not in self.files:
            raise ApiError(400, "Bad Request: invalid file_id")
        return {
            "file_id": file_id,
            "file_unique_id": file_id,
            "file_size": len(self.files[file_id]),
            "file_path": file_id,
        }


def _inline(markup: Any) -> dict | None:
    if isinstance(markup, dict) and "inline_keyboard" in markup:
        return markup
    return None


class LocalUser:
    """A person in one chat, sending what Telegram would deliver to the bot."""

    _update_ids = itertools.count(1)

    def __init__(
        self,
        application: Application,
        api: LocalBotApi,
        *,
        user_id: int = 123456789,
        chat_id: int | None = None,
        chat_type: str = "private",
        first_name: str = "Sam",
        language_code: str | None = "en",
    ) -> None:
        """A user with USER_ID talking in CHAT_ID (their private chat by default)."""
        self.application = application
        self.api = api
        self.user_id = user_id
        self.chat_type = chat_type
        self.chat_id = chat_id if chat_id is not None else user_id
        self.user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if language_code:
            self.user["language_code"] = language_code

    def _chat(self) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": self.chat_id, "type": self.chat_type}
        if self.chat_type == "private":
            chat["first_name"] = self.user["first_name"]
        else:
            chat["title"] = "A group"
        return chat

    def message(self, **content: Any) -> dict[str, Any]:
        """A message update's payload from this user with CONTENT (text, location, ...)."""
        message_id = self.api.next_message_id(self.chat_id)
        self.api.remember_user_message(self.chat_id, message_id, content.get("text"))
        message = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": self._chat(),
            "from": self.user,
            **content,
        }
        return {"message": message}

    async def deliver(self, payload: dict[str, Any], *, update_id: int | None = None) -> int:
        """Feed one update to the application; returns its update_id."""
        update_id = update_id if update_id is not None else next(self._update_ids)
        update = Update.de_json({"update_id": update_id, **payload}, self.application.bot)
        await self.application.process_update(update)
        return update_id

    async def send(self, text: str) -> list[ChatMessage]:
        """Send TEXT (commands included); returns the bot's new messages."""
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split()[0]
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return await self._replies(self.message(**content))

    async def send_location(self, latitude: float, longitude: float) -> list[ChatMessage]:
        """Share a location pin."""
        location = {"latitude": latitude, "longitude": longitude}
        return await self._replies(self.message(location=location))

    async def send_sticker(self) -> list[ChatMessage]:
        """Send a sticker."""
        sticker = {
            "file_id": "sticker-1",
            "file_unique_id": "sticker-1",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
        return await self._replies(self.message(sticker=sticker))

    async def send_photo(self) -> list[ChatMessage]:
        """Send a photo."""
        photo = [{"file_id": "photo-1", "file_unique_id": "photo-1", "width": 90, "height": 90}]
        return await self._replies(self.message(photo=photo))

    async def send_voice(self) -> list[ChatMessage]:
        """Send a voice message."""
        voice = {"file_id": "voice-1", "file_unique_id": "voice-1", "duration": 2}
        return await self._replies(self.message(voice=voice))

    async def send_contact(
        self, phone_number: str, first_name: str = "Friend"
    ) -> list[ChatMessage]:
        """Share a contact card."""
        contact = {"phone_number": phone_number, "first_name": first_name}
        return await self._replies(self.message(contact=contact))

    async def send_document(
        self, name: str, content: bytes, *, caption: str | None = None
    ) -> list[ChatMessage]:
        """Upload a file (e.g. a list of seized IMEIs)."""
        file_id = self.api.add_file(content)
        document = {
            "file_id": file_id,
            "file_unique_id": file_id,
            "file_name": name,
            "file_size": len(content),
        }
        extra: dict[str, Any] = {"document": document}
        if caption:
            extra["caption"] = caption
        return await self._replies(self.message(**extra))

    async def press(
        self, label_or_data: str, message: ChatMessage | None = None
    ) -> list[ChatMessage]:
        """Press an inline button by label or callback data (on MESSAGE, else the newest)."""
        if message is None:
            candidates = [m for m in reversed(self.api.bot_messages(self.chat_id)) if m.buttons]
            if not candidates:
                raise LookupError("no message with buttons in this chat")
            message = candidates[0]
        data = next(
            (data for label, data in message.buttons if label_or_data in (label, data)), None
        )
        if data is None:
            labels = ", ".join(label for label, _ in message.buttons)
            raise LookupError(f"no button {label_or_data!r}; there are: {labels}")
        return await self.press_data(data, message)

    async def press_data(self, data: str, message: ChatMessage) -> list[ChatMessage]:
        """Press a button carrying DATA on MESSAGE (also works for stale or forged data)."""
        callback = {
            "id": str(next(self._update_ids)),
            "from": self.user,
            "chat_instance": str(self.chat_id),
            "data": data,
            "message": {
                "message_id": message.message_id,
                "date": int(time.time()),
                "chat": self._chat(),
                "from": BOT_USER,
                "text": message.text or "",
                **({"reply_markup": message.reply_markup} if message.reply_markup else {}),
            },
        }
        return await self._replies({"callback_query": callback})

    async def _replies(self, payload: dict[str, Any]) -> list[ChatMessage]:
        before = {m.message_id for m in self.api.bot_messages(self.chat_id)}
        calls_before = len(self.api.calls)
        await self.deliver(payload)
        edited = {
            int(call.params["message_id"])
            for call in self.api.calls[calls_before:]
            if call.method.startswith("editMessage") and "message_id" in call.params
        }
        return [
            message
            for message in self.api.bot_messages(self.chat_id)
            if message.message_id not in before or message.message_id in edited
        ]
