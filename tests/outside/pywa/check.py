"""Parley's sandbox as a real WhatsApp Cloud API client sees it: pywa (pinned in
requirements.txt) sends through the simulator's Graph API, and pywa's own webhook handler,
with signature validation on, parses every webhook the simulator posts.

Run by `tests/outside/pywa/run`, which starts Parley with
`simulator.webhook_url` pointing at this script's server. Environment:

    PARLEY_URL        http://127.0.0.1:PORT of the running Parley
    PARLEY_DATA_DIR   its data directory (bootstrap.json)
    PYWA_PORT         where this script's webhook server listens
    PARLEY_META_ACCESS_TOKEN, PARLEY_META_APP_SECRET, PARLEY_META_VERIFY_TOKEN
                      the simulator's Meta secrets (sandbox defaults)

Exits 0 when everything passed, 1 listing every failure.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
import struct
import sys
import threading
import time
import traceback
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

import pywa
import pywa.handlers as handlers
from pywa import WhatsApp
from pywa.errors import WhatsAppError
from pywa.types import (
    Button,
    CallbackButton,
    CallbackSelection,
    Message,
    MessageStatus,
    RawUpdate,
    Section,
    SectionList,
    SectionRow,
    TemplateStatusUpdate,
)
from pywa.types.templates import (
    BodyText,
    Buttons,
    FooterText,
    HeaderText,
    ParamFormat,
    QuickReplyButton,
    Template,
    TemplateCategory,
    TemplateLanguage,
)

PARLEY = os.environ["PARLEY_URL"].rstrip("/")
DATA_DIR = os.environ["PARLEY_DATA_DIR"]
PYWA_PORT = int(os.environ["PYWA_PORT"])
TOKEN = os.environ.get("PARLEY_META_ACCESS_TOKEN", "parley-sandbox-access-token")
APP_SECRET = os.environ.get("PARLEY_META_APP_SECRET", "parley-sandbox-app-secret")
VERIFY_TOKEN = os.environ.get("PARLEY_META_VERIFY_TOKEN", "parley-sandbox-verify-token")
SELF = f"http://127.0.0.1:{PYWA_PORT}"

USER = "15551230001"  # the phone that chats with the business
NEVER_WROTE = "15551230002"  # a WhatsApp user who never wrote: no service window
NOT_ON_WHATSAPP = "99912345678"  # the simulator's range of numbers not on WhatsApp
TEMPLATE = "pywa_order_update"
BSUID = re.compile(r"^[A-Z]{2}\.(ENT\.)?[A-Za-z0-9]{1,128}$")

log = logging.getLogger("pywa-check")


def snippet(value: Any, limit: int = 700) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[:limit] + f"…(+{len(text) - limit} chars)"


# ---------------------------------------------------------------------------------------
# Test files, each of the type its name says (the simulator judges files by content).


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"\x00\xff\x00\x00"  # one row: filter byte, one red RGB pixel
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


FILES: dict[str, tuple[str, bytes]] = {
    "pic.png": ("image/png", png()),
    "photo.jpg": (
        "image/jpeg",
        bytes([0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9",
    ),
    "clip.mp4": ("video/mp4", b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00\x00\x00\x08free" + b"\x00" * 64),
    "voice.ogg": (
        "audio/ogg",
        b"OggS\x00\x02" + b"\x00" * 8 + b"\x01\x00\x00\x00" + b"\x00" * 8 + b"\x01\x13"
        + b"OpusHead\x01\x01\x38\x01\x80\xbb\x00\x00\x00\x00\x00" + b"\x00" * 64,
    ),
    "sticker.webp": ("image/webp", b"RIFF" + struct.pack("<I", 4 + 8 + 10) + b"WEBPVP8 " + struct.pack("<I", 10) + b"\x00" * 10),
    "invoice.pdf": ("application/pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"),
}


# ---------------------------------------------------------------------------------------
# What happened: checks, sends, webhooks.


@dataclass
class Post:
    body: bytes
    signature: str | None
    status: int
    ours: bool = False  # the forged request this script sends itself


@dataclass
class Processed:
    """One webhook pywa handled: the raw update and what pywa made of it."""

    hash: str
    raw: dict
    typed: list = field(default_factory=list)


class Record:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.checks: list[tuple[str, bool, str]] = []
        self.posts: list[Post] = []
        self.handshakes: list[tuple[dict, int, str]] = []
        self.processed: list[Processed] = []
        self.logs: list[logging.LogRecord] = []
        self.sends_ok = 0
        self.sends_failed = 0

    def check(self, name: str, ok: bool, detail: str = "") -> bool:
        with self.lock:
            self.checks.append((name, ok, detail))
        mark = "ok  " if ok else "FAIL"
        print(f"[{mark}] {name}" + ("" if ok or not detail else f"\n       {detail}"), flush=True)
        return ok

    # Typed updates, newest last.
    def typed(self) -> list:
        with self.lock:
            return [t for p in self.processed for t in p.typed]

    def messages_for(self, wamid: str) -> list:
        return [t for t in self.typed() if isinstance(t, (Message, CallbackButton, CallbackSelection)) and t.id == wamid]

    def statuses_for(self, wamid: str) -> list[MessageStatus]:
        return [t for t in self.typed() if isinstance(t, MessageStatus) and t.id == wamid]

    def raw_values(self) -> list[dict]:
        """The `value` of every change of every webhook pywa processed, in order."""
        with self.lock:
            raws = [p.raw for p in self.processed]
        return [
            change.get("value", {})
            for raw in raws
            for entry in raw.get("entry", [])
            for change in entry.get("changes", [])
        ]

    def raw_statuses_for(self, wamid: str) -> list[dict]:
        return [
            status
            for value in self.raw_values()
            for status in value.get("statuses", []) or []
            if status.get("id") == wamid
        ]

    def raw_messages_for(self, wamid: str) -> list[dict]:
        """The whole `value` of each webhook carrying message `wamid`."""
        return [
            value
            for value in self.raw_values()
            if any(m.get("id") == wamid for m in value.get("messages", []) or [])
        ]

    def webhook_posts(self) -> list[Post]:
        with self.lock:
            return [p for p in self.posts if not p.ours]


R = Record()
_local = threading.local()


class Capture(logging.Handler):
    """Keeps pywa's warnings and errors: its parse failures are logged, not raised."""

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).strip()
        with R.lock:
            R.logs.append(record)


class Recorder:
    """ASGI wrapper that records every request pywa's webhook answers, and how."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http" or scope["path"] != "/":
            return await self.app(scope, receive, send)
        chunks: list[bytes] = []

        async def recv() -> dict:
            message = await receive()
            if message["type"] == "http.request":
                chunks.append(message.get("body", b""))
            return message

        answer: list[bytes] = []

        async def snd(message: dict) -> None:
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
                if scope["method"] == "POST":
                    with R.lock:
                        R.posts.append(
                            Post(
                                body=b"".join(chunks),
                                signature=headers.get("x-hub-signature-256"),
                                status=status,
                                ours=headers.get("x-pywa-check") == "forged",
                            )
                        )
                elif scope["method"] == "GET":
                    query = httpx.QueryParams(scope.get("query_string", b"").decode())
                    with R.lock:
                        R.handshakes.append((dict(query), status, ""))
            await send(message)

        await self.app(scope, recv, snd)


def on_typed(_: WhatsApp, update: Any) -> None:
    pending = getattr(_local, "typed", None)
    if pending is None:
        pending = _local.typed = []
    pending.append(update)


def on_raw(_: WhatsApp, update: RawUpdate) -> None:
    typed = getattr(_local, "typed", None) or []
    _local.typed = []
    with R.lock:
        R.processed.append(Processed(hash=update._update_hash, raw=dict(update), typed=typed))


def all_handler_classes() -> list[type]:
    found: list[type] = []

    def walk(cls: type) -> None:
        for sub in cls.__subclasses__():
            if sub not in found:
                found.append(sub)
                walk(sub)

    walk(handlers.Handler)
    return [c for c in found if c not in (handlers.RawUpdateHandler, handlers._FactoryHandler)]


# ---------------------------------------------------------------------------------------
# The sandbox.


def bootstrap() -> dict:
    with open(os.path.join(DATA_DIR, "bootstrap.json")) as f:
        return json.load(f)


BOOT = bootstrap()
_sim_token = next(
    (v for k, v in BOOT.items() if isinstance(v, str) and "sim" in k.lower() and "token" in k.lower()),
    None,
)
CONTROL = httpx.Client(
    base_url=f"{PARLEY}/sim/api",
    timeout=30,
    headers={"Authorization": f"Bearer {_sim_token}"} if _sim_token else {},
)


def ctl(method: str, path: str, **kwargs: Any) -> Any:
    response = CONTROL.request(method, path, **kwargs)
    if response.status_code >= 400:
        raise RuntimeError(f"{method} /sim/api{path} answered {response.status_code}: {snippet(response.text, 400)}")
    return response.json() if response.content else None


def advance(seconds: int = 5) -> None:
    ctl("POST", "/clock/advance", json={"seconds": seconds})


def wait_for(what: str, done: Callable[[], bool], timeout: float = 30, tick: int = 5) -> bool:
    """Polls `done`, moving the simulator's clock `tick` seconds between polls."""
    deadline = time.monotonic() + timeout
    while True:
        if done():
            return True
        if time.monotonic() > deadline:
            print(f"       (gave up waiting for {what} after {timeout:.0f} s)", flush=True)
            return False
        if tick:
            try:
                advance(tick)
            except Exception as e:  # noqa: BLE001 - reported by the checks that follow
                print(f"       (clock advance failed: {e})", flush=True)
        time.sleep(0.3)


def business() -> dict:
    listed = ctl("GET", "/businesses")["businesses"]

    def get(b: dict, snake: str, camel: str) -> Any:
        return b.get(snake, b.get(camel))

    channel = BOOT.get("channelId")
    chosen = next((b for b in listed if get(b, "alias", "alias") == channel), listed[0])
    return {
        "phone_number_id": str(get(chosen, "phone_number_id", "phoneNumberId")),
        "waba_id": str(get(chosen, "waba_id", "wabaId")),
        "display_number": get(chosen, "display_number", "displayNumber"),
    }


def phone_writes(msisdn: str, body: dict) -> str:
    bubble = ctl("POST", f"/phones/+{msisdn}/messages", json=body)
    return bubble["id"]


def phone_uploads(msisdn: str, name: str) -> str:
    mime, data = FILES[name]
    return ctl("POST", f"/phones/+{msisdn}/media", files={"file": (name, data, mime)})["id"]


def tap(msisdn: str, body: dict) -> str | None:
    answer = ctl("POST", f"/phones/+{msisdn}/tap", json=body)
    return (answer or {}).get("id")


# ---------------------------------------------------------------------------------------
# Sends through pywa.


@dataclass
class Send:
    name: str
    wamid: str | None
    expect: tuple[str, ...]  # statuses expected, in order of arrival
    error_code: int | None = None  # for an expected `failed`


SENDS: list[Send] = []


def describe_error(e: BaseException) -> str:
    if isinstance(e, WhatsAppError):
        parts = [f"pywa WhatsAppError code={e.code} message={e.message!r} details={e.details!r}"]
        response = e.raw_response
        if response is not None:
            request = response.request
            try:
                sent = request.content.decode("utf-8", "replace")
            except Exception:  # noqa: BLE001 - a streamed multipart body
                sent = "<streamed body>"
            parts.append(f"request: {request.method} {request.url} {snippet(sent, 500)}")
            parts.append(f"response {response.status_code}: {snippet(response.text, 500)}")
        return "\n       ".join(parts)
    return f"{type(e).__name__}: {e}\n       " + "".join(traceback.format_exception(e)[-3:]).strip().replace("\n", "\n       ")


def attempt(name: str, call: Callable[[], Any], expect: tuple[str, ...] = (), error_code: int | None = None) -> Any:
    """Runs one pywa call; a send's wamid is kept with the statuses it should get."""
    try:
        result = call()
    except Exception as e:  # noqa: BLE001 - every failure is reported
        R.sends_failed += 1
        R.check(f"pywa: {name}", False, describe_error(e))
        return None
    R.sends_ok += 1
    wamid = getattr(result, "id", None)
    R.check(f"pywa: {name}", True)
    if expect and wamid:
        SENDS.append(Send(name, wamid, expect, error_code))
    return result


# ---------------------------------------------------------------------------------------


def main() -> int:
    print(f"pywa {pywa.__version__}, Graph API v{pywa.utils.Version.GRAPH_API.value}, Parley at {PARLEY}", flush=True)
    biz = business()
    print(f"business number {biz['display_number']} phone_number_id={biz['phone_number_id']} waba_id={biz['waba_id']}", flush=True)

    # pywa's webhook server: Starlette (pywa registers its routes on it), with the test
    # files beside, served by uvicorn in a thread.
    app = Starlette()

    async def serve_file(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in FILES:
            return Response(status_code=404)
        mime, data = FILES[name]
        return Response(content=data, media_type=mime)

    app.add_route("/files/{name}", serve_file)
    session = httpx.Client(timeout=30)
    wa = WhatsApp(
        phone_id=biz["phone_number_id"],
        waba_id=biz["waba_id"],
        token=TOKEN,
        session=session,
        server=app,
        webhook_endpoint="/",
        verify_token=VERIFY_TOKEN,
        app_secret=APP_SECRET,
        validate_updates=True,
        # Every update reaches the handlers: none is dropped for its ids (checked below).
        filter_updates=False,
    )
    # pywa talks to graph.facebook.com; the sandbox's Graph API is the simulator's.
    version = str(pywa.utils.Version.GRAPH_API.value)
    session.base_url = f"{PARLEY}/sim/graph/v{version}"

    capture = Capture(level=logging.WARNING)
    logging.getLogger("pywa").addHandler(capture)
    logging.getLogger("pywa").setLevel(logging.INFO)
    for cls in all_handler_classes():
        wa.add_handlers(cls(on_typed))
    wa.add_handlers(handlers.RawUpdateHandler(on_raw))

    server = uvicorn.Server(
        uvicorn.Config(Recorder(app), host="127.0.0.1", port=PYWA_PORT, log_level="warning", access_log=False, lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            print("pywa's webhook server did not start", flush=True)
            return 1
        time.sleep(0.05)

    try:
        scenario(wa, biz)
    except Exception as e:  # noqa: BLE001 - the scenario's own bug or a dead sandbox
        R.check("scenario ran to its end", False, describe_error(e))
    finally:
        settle()
        verdict = evaluate(biz)
        server.should_exit = True
        thread.join(timeout=5)
    return verdict


def scenario(wa: WhatsApp, biz: dict) -> None:
    # Signature validation is on: a forged webhook is refused.
    forged = json.dumps({"object": "whatsapp_business_account", "entry": []}).encode()
    answer = httpx.post(
        f"{SELF}/",
        content=forged,
        headers={"content-type": "application/json", "x-hub-signature-256": "sha256=" + "0" * 64, "x-pywa-check": "forged"},
    )
    R.check(
        "pywa's webhook refuses a forged signature (validation is on)",
        answer.status_code in (401, 403),
        f"answered {answer.status_code}",
    )

    # The user writes first: the service window opens, and the simulator's first
    # delivery makes it verify the callback (hub.challenge) first.
    first = phone_writes(USER, {"type": "text", "content": {"text": "hello from the phone"}, "name": "Ana Pywa"})
    wait_for("the first inbound webhook", lambda: bool(R.raw_messages_for(first)), timeout=30)
    inbound: dict[str, tuple[str, Callable[[Any], str | None]]] = {
        first: ("text", lambda m: expect_text(m, "hello from the phone")),
    }

    # --- The business sends, through pywa -------------------------------------------
    full = ("sent", "delivered", "read")
    text = attempt("send_message (text)", lambda: wa.send_message(to=USER, text="Hi Ana, this is pywa."), full)
    media = attempt(
        "upload_media (PNG bytes)",
        lambda: wa.upload_media(media=FILES["pic.png"][1], mime_type="image/png", filename="pic.png", media_type="image"),
    )
    if media is not None:
        attempt("send_image (uploaded media object)", lambda: wa.send_image(to=USER, image=media, caption="uploaded"), full)
        if str(media.id).isdigit():
            attempt("send_image (uploaded media id)", lambda: wa.send_image(to=USER, image=str(media.id)), full)
        else:
            R.check("upload_media returns a numeric media id (pywa sends a digit string as an id)", False, f"id={media.id!r}")
        attempt("get_media_url (uploaded media)", lambda: wa.get_media_url(media.id))
    attempt("send_image (link)", lambda: wa.send_image(to=USER, image=f"{SELF}/files/photo.jpg", caption="by link"), full)
    buttons = attempt(
        "send_message (interactive reply buttons)",
        lambda: wa.send_message(
            to=USER,
            text="Pick one",
            header="Choices",
            footer="pywa",
            buttons=[Button("Yes", "btn_yes"), Button("No", "btn_no"), Button("Later", "btn_later")],
        ),
        full,
    )
    listing = attempt(
        "send_message (interactive list)",
        lambda: wa.send_message(
            to=USER,
            text="Choose a size",
            buttons=SectionList(
                "Sizes",
                [Section("Shirts", [SectionRow("Small", "row_s", "S"), SectionRow("Large", "row_l", "L")])],
            ),
        ),
        full,
    )
    asking = attempt("request_location", lambda: wa.request_location(to=USER, text="Where are you?"), full)
    attempt("send_reaction", lambda: wa.send_reaction(to=USER, emoji="👍", message_id=first), ("sent",))
    attempt("mark_message_as_read", lambda: wa.mark_message_as_read(message_id=first))
    attempt("indicate_typing", lambda: wa.indicate_typing(message_id=first))

    # --- Templates -------------------------------------------------------------------
    created = attempt(
        "create_template",
        lambda: wa.create_template(
            Template(
                name=TEMPLATE,
                category=TemplateCategory.UTILITY,
                language=TemplateLanguage.ENGLISH_US,
                parameter_format=ParamFormat.POSITIONAL,
                components=[
                    HeaderText("Order update"),
                    BodyText("Hi {{1}}, your order {{2}} has shipped.", "Ana", "A-1"),
                    FooterText(text="Reply below"),
                    Buttons(buttons=[QuickReplyButton(text="Track it"), QuickReplyButton(text="Talk to us")]),
                ],
            )
        ),
    )
    template_sent = None
    if created is not None:
        listed = ctl("GET", "/templates", params={"name": TEMPLATE})["templates"]
        if R.check("the simulator lists the template pywa created", bool(listed), snippet(listed)):
            ctl("POST", f"/templates/{listed[0]['id']}/actions", json={"action": "approve"})
            approved = wait_for(
                "the template's APPROVED webhook",
                lambda: any(
                    isinstance(t, TemplateStatusUpdate) and t.template_name == TEMPLATE and str(t.new_status) == "APPROVED"
                    for t in R.typed()
                ),
                timeout=30,
            )
            R.check("pywa parses the template status webhook (APPROVED)", approved, raw_of_field("message_template_status_update"))
        found = attempt("get_templates (list)", lambda: list(wa.get_templates(name=TEMPLATE)))
        if found is not None:
            ours = [t for t in found if t.name == TEMPLATE]
            R.check("get_templates finds the template, APPROVED", bool(ours) and str(ours[0].status) == "APPROVED", repr(ours[:1]))
        template_sent = attempt(
            "send_template (upper-case component types: BODY, BUTTON)",
            lambda: wa.send_template(
                to=USER,
                name=TEMPLATE,
                language=TemplateLanguage.ENGLISH_US,
                params=[
                    BodyText.params("Ana", "B-7"),
                    QuickReplyButton.params(callback_data="track_b7", index=0),
                ],
            ),
            full,
        )
        if template_sent is None:
            # So that the template's statuses and its quick-reply tap are still tested.
            template_sent = attempt(
                "send_template (lower-case component types, as a fallback)",
                lambda: wa.send_template(
                    to=USER,
                    name=TEMPLATE,
                    language=TemplateLanguage.ENGLISH_US,
                    params=[
                        {"type": "body", "parameters": [{"type": "text", "text": "Ana"}, {"type": "text", "text": "B-7"}]},
                        {"type": "button", "sub_type": "quick_reply", "index": 0, "parameters": [{"type": "payload", "payload": "track_b7"}]},
                    ],
                ),
                full,
            )

    # --- Sends that fail on WhatsApp's side ------------------------------------------
    attempt("send_message to a number not on WhatsApp (accepted, then failed)", lambda: wa.send_message(to=NOT_ON_WHATSAPP, text="anyone?"), ("failed",), 131026)
    attempt("send_message outside the service window (accepted, then failed)", lambda: wa.send_message(to=NEVER_WROTE, text="hello?"), ("failed",), 131047)

    # --- The user answers and writes: every kind the control API makes ------------------
    def write(kind: str, body: dict, check: Callable[[Any], str | None]) -> None:
        try:
            wamid = phone_writes(USER, body)
        except Exception as e:  # noqa: BLE001
            R.check(f"control API: the phone sends {kind}", False, str(e))
            return
        inbound[wamid] = (kind, check)

    write("image (by url)", {"type": "image", "content": {"url": f"{SELF}/files/photo.jpg", "text": "a photo"}}, lambda m: expect_media(m, "image", "image/jpeg", caption="a photo"))
    for kind, name, mime in (("video", "clip.mp4", "video/mp4"), ("audio", "voice.ogg", "audio/ogg")):
        try:
            media_id = phone_uploads(USER, name)
        except Exception as e:  # noqa: BLE001
            R.check(f"control API: the phone uploads {name}", False, str(e))
            continue
        write(f"{kind} (uploaded)", {"type": kind, "content": {"mediaId": media_id}}, lambda m, k=kind, t=mime: expect_media(m, k, t))
    write("sticker (by url)", {"type": "sticker", "content": {"url": f"{SELF}/files/sticker.webp"}}, lambda m: expect_media(m, "sticker", "image/webp"))
    write("file (by url)", {"type": "file", "content": {"url": f"{SELF}/files/invoice.pdf", "fileName": "invoice.pdf", "text": "the invoice"}}, lambda m: expect_media(m, "document", "application/pdf", filename="invoice.pdf"))
    write("location", {"type": "location", "content": {"location": {"latitude": 1.2834, "longitude": 103.8607, "name": "Marina Bay", "address": "Singapore"}}}, expect_location)
    if text is not None:
        write("text replying to a business message", {"type": "text", "content": {"text": "replying"}, "replyTo": text.id}, lambda m, q=text.id: expect_reply(m, q))
    write(
        "text from a click-to-WhatsApp ad (referral)",
        {"type": "text", "content": {"text": "I saw your ad"}, "referral": {"sourceType": "ad", "sourceId": "ad-42", "sourceUrl": "https://example.com/ad/42", "headline": "Spring sale"}},
        expect_referral,
    )

    def answer(kind: str, body: dict, check: Callable[[Any], str | None]) -> None:
        try:
            wamid = tap(USER, body)
        except Exception as e:  # noqa: BLE001
            R.check(f"control API: the phone answers ({kind})", False, str(e))
            return
        if not wamid:
            R.check(f"control API: the phone answers ({kind}) with a message id", False, "no id in the answer")
            return
        inbound[wamid] = (kind, check)

    if buttons is not None:
        answer("reply button tap", {"messageId": buttons.id, "index": 1}, lambda m, q=buttons.id: expect_button(m, "btn_no", q))
    if listing is not None:
        answer("list row pick", {"messageId": listing.id, "rowId": "row_l"}, lambda m, q=listing.id: expect_selection(m, "row_l", q))
    if asking is not None:
        answer("location shared on request", {"messageId": asking.id, "location": {"latitude": 51.5, "longitude": -0.12}}, lambda m, q=asking.id: expect_location(m, q))
    if template_sent is not None:
        answer("template quick-reply tap", {"messageId": template_sent.id, "index": 0}, lambda m: expect_button(m, "track_b7", None))

    # --- Wait for every webhook -----------------------------------------------------
    def everything_in() -> bool:
        if any(not R.messages_for(w) and not R.raw_messages_for(w) for w in inbound):
            return False
        for send in SENDS:
            seen = {s.get("status") for s in R.raw_statuses_for(send.wamid)}
            if not set(send.expect) <= seen:
                return False
        return True

    wait_for("every inbound message and status", everything_in, timeout=90)
    settle()

    # --- Inbound: parsed, and parsed right -------------------------------------------
    bsuid = None
    for wamid, (kind, check) in inbound.items():
        parsed = R.messages_for(wamid)
        raws = R.raw_messages_for(wamid)
        name = f"webhook: inbound {kind} parsed by pywa"
        if not raws:
            R.check(name, False, f"no webhook carried message {wamid}")
            continue
        if not parsed:
            R.check(name, False, f"{pywa_error_for(wamid)}\n       payload value: {snippet(raws[0])}")
            continue
        message = parsed[-1]
        problems = [p for p in (check(message), expect_user(message.from_user)) if p]
        R.check(name, not problems, "; ".join(problems) + f"\n       payload value: {snippet(raws[0])}")
        bsuid = bsuid or getattr(message.from_user, "bsuid", None)

    # Downloading what the user sent, as a bot does (by the id in the webhook's payload
    # when pywa could not parse it).
    image_id = next(
        (m.image.id for w in inbound for m in R.messages_for(w) if isinstance(m, Message) and m.image is not None),
        None,
    ) or next(
        (v["messages"][0]["image"]["id"] for w in inbound for v in R.raw_messages_for(w) if "image" in v["messages"][0]),
        None,
    )
    if image_id:

        def download() -> bytes:
            url = wa.get_media_url(image_id)
            return wa.get_media_bytes(url.url)

        got = attempt("download an inbound image (get_media_url + get_media_bytes)", download)
        if got is not None:
            R.check("the downloaded image is the file the phone sent", got == FILES["photo.jpg"][1], f"{len(got)} bytes")
    else:
        R.check("download an inbound image", False, "no inbound image webhook arrived")

    # Marked as read: the phone shows blue ticks on its message.
    try:
        chat = ctl("GET", f"/phones/+{USER}/messages")["messages"]
        bubble = next((b for b in chat if b.get("id") == first), None)
        R.check("the phone's message shows read after mark_message_as_read", bool(bubble) and bubble.get("status") == "read", snippet(bubble))
    except Exception as e:  # noqa: BLE001
        R.check("the phone's message shows read after mark_message_as_read", False, str(e))

    # Sending to the business-scoped user id from the webhook.
    if not bsuid:
        bsuid = next(
            (c.get("user_id") for w in inbound for v in R.raw_messages_for(w) for c in v.get("contacts", []) if c.get("user_id")),
            None,
        )
    if bsuid and BSUID.match(str(bsuid)):
        attempt("send_message to the user's BSUID (recipient=…)", lambda: wa.send_message(to=bsuid, text="by BSUID"), ("sent", "delivered", "read"))
        wait_for("the BSUID send's statuses", lambda: all({"sent", "delivered", "read"} <= {s.get("status") for s in R.raw_statuses_for(x.wamid)} for x in SENDS if "BSUID" in x.name), timeout=20)
        settle()
    else:
        R.check("send_message to the user's BSUID", False, f"no business-scoped user id (contacts[].user_id) in the inbound webhooks (got {bsuid!r}); not attempted")

    # --- Statuses: every one parsed, with what pywa needs ------------------------------
    for send in SENDS:
        raws = R.raw_statuses_for(send.wamid)
        parsed = R.statuses_for(send.wamid)
        raw_kinds = [s.get("status") for s in raws]
        parsed_kinds = [str(s.status) for s in parsed]
        name = f"webhook: statuses of '{send.name}' ({'/'.join(send.expect)}) parsed by pywa"
        problems = []
        missing_raw = [k for k in send.expect if k not in raw_kinds]
        if missing_raw:
            problems.append(f"no {'/'.join(missing_raw)} status webhook arrived (got {raw_kinds})")
        unparsed = [k for k in raw_kinds if k not in parsed_kinds]
        if unparsed:
            behind = [f"{k} was statuses[{i}] of {n} in one webhook" for k, i, n in status_positions(send.wamid) if i > 0 and k in unparsed]
            why = "; ".join(behind) + " (pywa reads only statuses[0])" if behind else pywa_error_for(send.wamid, "statuses")
            problems.append(f"pywa parsed {parsed_kinds} of {raw_kinds}: {why}")
        for status in parsed:
            if (p := expect_user(status.from_user)) is not None:
                problems.append(f"{status.status}: {p}")
        if send.error_code is not None:
            failed = [s for s in parsed if str(s.status) == "failed"]
            codes = [s.error.code if s.error else None for s in failed]
            if failed and send.error_code not in codes:
                problems.append(f"failed with {codes}, expected {send.error_code}")
        detail = "; ".join(problems)
        if problems and raws:
            detail += f"\n       raw status: {snippet(raws[0])}\n       webhook value: {snippet(status_value(send.wamid))}"
        R.check(name, not problems, detail)


# ---------------------------------------------------------------------------------------
# What a parsed update should say.


def expect_user(user: Any) -> str | None:
    if user is None:
        return "no from_user"
    problems = []
    if getattr(user, "wa_id", None) != USER and getattr(user, "wa_id", None) not in (NOT_ON_WHATSAPP, NEVER_WROTE):
        problems.append(f"from_user.wa_id={getattr(user, 'wa_id', None)!r}")
    bsuid = getattr(user, "bsuid", None)
    if getattr(user, "wa_id", None) == NOT_ON_WHATSAPP:
        # No WhatsApp account, so no business-scoped id (pywa: bsuid is None then).
        if bsuid is not None:
            problems.append(f"from_user.bsuid={bsuid!r} for a number not on WhatsApp")
    elif not bsuid or not BSUID.match(str(bsuid)):
        problems.append(f"from_user.bsuid={bsuid!r} is not a business-scoped user id (CC.digits)")
    return "; ".join(problems) or None


def expect_text(m: Any, body: str) -> str | None:
    if not isinstance(m, Message) or str(m.type) != "text" or m.text != body:
        return f"expected a text Message {body!r}, got {type(m).__name__} type={getattr(m, 'type', None)} text={getattr(m, 'text', None)!r}"
    return None


def expect_media(m: Any, kind: str, mime: str, caption: str | None = None, filename: str | None = None) -> str | None:
    if not isinstance(m, Message) or str(m.type) != kind:
        return f"expected a {kind} Message, got {type(m).__name__} type={getattr(m, 'type', None)}"
    media = getattr(m, kind)
    problems = []
    if media is None or not media.id:
        return f"message.{kind} has no media id"
    if not (media.mime_type or "").startswith(mime):
        problems.append(f"{kind}.mime_type={media.mime_type!r}, expected {mime}")
    if not getattr(media, "sha256", None):
        problems.append(f"{kind}.sha256 missing")
    if caption is not None and m.caption != caption:
        problems.append(f"caption={m.caption!r}, expected {caption!r}")
    if filename is not None and getattr(media, "filename", None) != filename:
        problems.append(f"filename={getattr(media, 'filename', None)!r}, expected {filename!r}")
    return "; ".join(problems) or None


def expect_location(m: Any, quoted: str | None = None) -> str | None:
    if not isinstance(m, Message) or str(m.type) != "location" or m.location is None:
        return f"expected a location Message, got {type(m).__name__} type={getattr(m, 'type', None)}"
    if quoted and (m.reply_to_message is None or m.reply_to_message.id != quoted):
        return f"expected it to quote {quoted}, got {m.reply_to_message!r}"
    return None


def expect_reply(m: Any, quoted: str) -> str | None:
    if not isinstance(m, Message) or m.reply_to_message is None or m.reply_to_message.id != quoted:
        return f"expected a reply quoting {quoted}, got reply_to_message={getattr(m, 'reply_to_message', None)!r}"
    return None


def expect_referral(m: Any) -> str | None:
    if not isinstance(m, Message) or m.referral is None or m.referral.source_id != "ad-42":
        return f"expected a referral from ad-42, got {getattr(m, 'referral', None)!r}"
    return None


def expect_button(m: Any, data: str, quoted: str | None) -> str | None:
    if not isinstance(m, CallbackButton) or m.data != data:
        return f"expected a CallbackButton with data {data!r}, got {type(m).__name__} data={getattr(m, 'data', None)!r}"
    if quoted and (m.reply_to_message is None or m.reply_to_message.id != quoted):
        return f"expected it to quote {quoted}, got {m.reply_to_message!r}"
    return None


def expect_selection(m: Any, data: str, quoted: str) -> str | None:
    if not isinstance(m, CallbackSelection) or m.data != data:
        return f"expected a CallbackSelection with data {data!r}, got {type(m).__name__} data={getattr(m, 'data', None)!r}"
    if m.reply_to_message is None or m.reply_to_message.id != quoted:
        return f"expected it to quote {quoted}, got {m.reply_to_message!r}"
    return None


# ---------------------------------------------------------------------------------------
# Reporting.


def carries(raw: dict, wamid: str, key: str) -> bool:
    """Whether a webhook carries message or status `wamid` in `key` (messages, statuses)."""
    return any(
        item.get("id") == wamid
        for entry in raw.get("entry", [])
        for change in entry.get("changes", [])
        for item in (change.get("value", {}).get(key) or [])
    )


def pywa_error_for(wamid: str, key: str = "messages") -> str:
    """What pywa logged while handling the webhooks that carried `wamid`."""
    with R.lock:
        hashes = [p.hash for p in R.processed if carries(p.raw, wamid, key)]
        logs = [r for r in R.logs if getattr(r, "update_hash", None) in hashes]
    if not logs:
        return "pywa made no typed update of it, and logged nothing"
    return " | ".join(sorted({last_line(r) for r in logs}))


def last_line(record: logging.LogRecord) -> str:
    message = re.sub(r"^\[[0-9a-f]{8}\] \[/\] ", "", record.getMessage())
    if record.exc_text:
        message += " -> " + record.exc_text.strip().splitlines()[-1]
    return message


def status_positions(wamid: str) -> list[tuple[str, int, int]]:
    """(status, index in its webhook's statuses, how many that webhook carried)."""
    with R.lock:
        raws = [p.raw for p in R.processed]
    found = []
    for raw in raws:
        for entry in raw.get("entry", []):
            for change in entry.get("changes", []):
                statuses = change.get("value", {}).get("statuses") or []
                for i, status in enumerate(statuses):
                    if status.get("id") == wamid:
                        found.append((status.get("status"), i, len(statuses)))
    return found


def status_value(wamid: str) -> Any:
    with R.lock:
        for p in R.processed:
            for entry in p.raw.get("entry", []):
                for change in entry.get("changes", []):
                    value = change.get("value", {})
                    if any(s.get("id") == wamid for s in value.get("statuses", []) or []):
                        return value
    return None


def raw_of_field(name: str) -> str:
    with R.lock:
        values = [c.get("value") for p in R.processed for e in p.raw.get("entry", []) for c in e.get("changes", []) if c.get("field") == name]
    return f"{name} values: {snippet(values)}" if values else f"no {name} webhook arrived"


def kind_of(raw: dict) -> str:
    """`messages/text`, `messages/status:read`, `message_template_status_update`, …"""
    kinds = []
    for entry in raw.get("entry", []):
        for change in entry.get("changes", []):
            value = change.get("value", {})
            name = change.get("field", "?")
            if value.get("messages"):
                m = value["messages"][0]
                sub = m.get("type")
                if sub == "interactive":
                    sub += ":" + (m.get("interactive") or {}).get("type", "?")
                kinds.append(f"{name}/message:{sub}")
            elif value.get("statuses"):
                kinds.append(f"{name}/status:" + ",".join(sorted({s.get('status', '?') for s in value['statuses']})))
            else:
                kinds.append(name)
    return "+".join(kinds) or "?"


def settle(timeout: float = 10) -> None:
    """Waits until pywa has handled every webhook it accepted (handling runs after the answer)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        accepted = [p for p in R.webhook_posts() if p.status == 200]
        unique = {hashlib.blake2s(p.body, digest_size=16).hexdigest() for p in accepted}
        with R.lock:
            handled = len(R.processed)
        if handled >= len(unique):
            return
        time.sleep(0.1)


def verify(body: bytes, header: str | None) -> bool:
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(header.removeprefix("sha256="), expected)


def evaluate(biz: dict) -> int:
    posts = R.webhook_posts()
    with R.lock:
        processed = list(R.processed)
        logs = list(R.logs)
        handshakes = list(R.handshakes)

    # The handshake.
    good = [h for h in handshakes if h[0].get("hub.mode") == "subscribe" and h[1] == 200]
    R.check(
        "the simulator verified pywa's callback (hub.challenge with the verify token)",
        bool(good),
        f"handshakes seen: {[(h[0], h[1]) for h in handshakes]}",
    )

    # Signatures.
    refused = [p for p in posts if p.status != 200]
    R.check(
        f"pywa accepted all {len(posts)} webhooks with its signature validation on",
        not refused,
        "\n       ".join(
            f"answered {p.status}; X-Hub-Signature-256={p.signature!r} (valid HMAC-SHA256 of the body with the app secret: {verify(p.body, p.signature)}); body {snippet(p.body.decode('utf-8', 'replace'), 300)}"
            for p in refused
        ),
    )
    bad_sig = [p for p in posts if not verify(p.body, p.signature)]
    R.check("every webhook carries a valid X-Hub-Signature-256", not bad_sig, f"{len(bad_sig)} without one")

    # Every webhook: exactly one typed update, for this business.
    unparsed = [p for p in processed if len(p.typed) != 1]
    groups: dict[tuple, list[Processed]] = {}
    for p in unparsed:
        errors = " | ".join(sorted({last_line(r) for r in logs if getattr(r, "update_hash", None) == p.hash})) or "logged nothing"
        groups.setdefault((kind_of(p.raw), len(p.typed), errors), []).append(p)
    details = [
        f"{len(ps)} x {kind} -> {n} typed updates; pywa: {errors}\n         e.g. {snippet(ps[0].raw, 500)}"
        for (kind, n, errors), ps in sorted(groups.items(), key=lambda g: g[0][0])
    ]
    R.check(f"pywa made one typed update of each of the {len(processed)} webhooks", not unparsed, "\n       ".join(details))

    # Statuses past the first in one webhook: pywa reads only statuses[0] and messages[0].
    batched = []
    for p in processed:
        for e in p.raw.get("entry", []):
            for c in e.get("changes", []):
                value = c.get("value", {})
                for key in ("statuses", "messages"):
                    items = value.get(key) or []
                    if len(items) > 1:
                        batched.append(f"{key}: {len(items)} in one webhook ({[(i.get('id', '')[-8:], i.get('status', i.get('type'))) for i in items]})")
                if len(e.get("changes", [])) > 1 or len(p.raw.get("entry", [])) > 1:
                    batched.append(f"{len(p.raw.get('entry', []))} entries / {len(e.get('changes', []))} changes in one webhook")
    R.check(
        "each webhook carries one message or one status (pywa handles only messages[0]/statuses[0]; the rest are lost to it)",
        not batched,
        "\n       ".join(sorted(set(batched))),
    )

    # Updates for another business number or account.
    foreign = []
    for p in processed:
        for e in p.raw.get("entry", []):
            if str(e.get("id")) != biz["waba_id"]:
                foreign.append(f"entry.id={e.get('id')}")
            for c in e.get("changes", []):
                pid = (c.get("value", {}).get("metadata") or {}).get("phone_number_id")
                if pid is not None and str(pid) != biz["phone_number_id"]:
                    foreign.append(f"metadata.phone_number_id={pid}")
    R.check("every webhook names this business (pywa would filter the others out)", not foreign, "; ".join(sorted(set(foreign))))

    # pywa's own complaints.
    complaints = [
        last_line(r)
        for r in logs
        if r.levelno >= logging.WARNING and "0" * 64 not in r.getMessage()  # our forged request
    ]
    R.check("pywa logged no warning or error", not complaints, "\n       ".join(sorted(set(complaints))))

    typed = [t for p in processed for t in p.typed]
    kinds: dict[str, int] = {}
    for t in typed:
        kinds[type(t).__name__] = kinds.get(type(t).__name__, 0) + 1
    failed = [c for c in R.checks if not c[1]]
    print()
    print("=" * 78)
    print(f"pywa {pywa.__version__} against Parley's simulator")
    print(f"  pywa calls: {R.sends_ok} ok, {R.sends_failed} failed")
    print(f"  webhooks:   {len(posts)} received, {len([p for p in posts if p.status == 200])} accepted, {len(processed)} handled, "
          f"{len(processed) - len(unparsed)} parsed into one update, {len(unparsed)} not")
    print(f"  updates:    {kinds}")
    if failed:
        print(f"  FAILURES ({len(failed)}):")
        for name, _, _ in failed:
            print(f"    - {name}")
    print(f"pywa: {len(R.checks) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    # pywa's own log (with its tracebacks) goes to a file; what it complains about is
    # captured above and reported by the checks.
    log_file = os.environ.get("PYWA_LOG")
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        **({"filename": log_file} if log_file else {"stream": sys.stderr}),
    )
    if log_file:
        print(f"pywa's own log: {log_file}", flush=True)
    sys.exit(main())
