"""`campaigns serve`: the webhook receiver for email services and forms (PRODUCT.md §7).

Starlette routes the three signed endpoints, uvicorn serves them. Each request is read (at most
`MAX_BODY` bytes), its signature checked (`data.webhooks`), and its events handed to the writer
thread (`data.receiver.GroupCommit`); the answer waits for their commit. On SIGTERM or Ctrl-C,
uvicorn stops accepting, the requests already accepted are committed and answered, then the
writer stops."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass

from data.text import visible
from tui_app.cli.common import UserError, open_db, say

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8025
HEADER_TIMEOUT = 30.0
"""Seconds a request's headers may take to arrive (from the connection, or the request's first
byte on a connection kept open, which an idle one keeps for 5 s)."""
BODY_TIMEOUT = 30.0
"""Seconds a request's body may take to arrive after its headers."""
MAX_CONNECTIONS = 500
"""Connections open at once; one more is answered 503 and closed."""
MAX_HEADER = 64 << 10
"""Bytes a request's line and headers may have (431 beyond; a provider sends about 1 KiB)."""
DRAIN_BYTES = 8 << 20
"""Bytes of a body over 1 MiB read and dropped before the 413, so a sender that writes its whole
body before reading (urllib, many HTTP libraries) reads the answer instead of a broken pipe."""
DRAIN_SECONDS = 10.0
"""Seconds spent at most reading and dropping such a body."""


def register(sub, common) -> None:
    p = sub.add_parser(
        "serve",
        parents=[common],
        help="receive signed webhooks from Mailgun, SendGrid and forms",
        description="Receive signed webhooks and apply their events as `campaigns ingest` does. "
        "Secrets come from CAMPAIGNS_MAILGUN_SIGNING_KEY, CAMPAIGNS_SENDGRID_VERIFICATION_KEY "
        "and CAMPAIGNS_WEBHOOK_SECRET; an endpoint whose secret is not set answers 404.",
    )
    p.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on ({DEFAULT_HOST})")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port ({DEFAULT_PORT})")
    p.add_argument(
        "--header-timeout",
        type=float,
        default=HEADER_TIMEOUT,
        metavar="SECONDS",
        help=f"close a request whose headers are not in after this long ({HEADER_TIMEOUT:g})",
    )
    p.add_argument(
        "--body-timeout",
        type=float,
        default=BODY_TIMEOUT,
        metavar="SECONDS",
        help=f"close a request whose body is not in this long after its headers ({BODY_TIMEOUT:g})",
    )
    p.add_argument(
        "--max-connections",
        type=int,
        default=MAX_CONNECTIONS,
        metavar="N",
        help=f"connections open at once; more are answered 503 ({MAX_CONNECTIONS})",
    )
    p.set_defaults(handler=cmd_serve)


def endpoints_from(environ: Mapping[str, str]) -> dict:
    """The endpoints whose secret is set, by path name ("mailgun", "sendgrid", "events").
    Raises UserError for a secret that cannot be used (a SendGrid key that is not a key)."""
    from data.webhooks import PATHS

    endpoints = {}
    for name, kind in PATHS.items():
        secret = environ.get(kind.env_var, "").strip()
        if not secret:
            continue
        try:
            endpoints[name] = kind(secret)
        except ValueError as exc:
            raise UserError(f"{kind.env_var}: {exc}") from None
    return endpoints


def build_app(endpoints: Mapping, writer):
    """The ASGI application: POST /hooks/<name> for every endpoint (404 for one that is off)."""
    from starlette.applications import Starlette
    from starlette.requests import ClientDisconnect, Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from data.webhooks import MAX_BODY, PATHS, Refused

    async def read_body(request: Request) -> bytes:
        length = request.headers.get("content-length", "")
        declared = int(length) if length.isascii() and length.isdigit() else 0
        too_large = declared > MAX_BODY
        if too_large and (
            declared > DRAIN_BYTES  # more than is worth reading: its sender is answered at once
            or request.headers.get("expect", "").lower() == "100-continue"  # it waits to send
        ):
            raise Refused(413, "the body is larger than 1 MiB")
        chunks, size = [], 0
        stream = request.stream()
        try:
            if not too_large:
                async for chunk in stream:
                    size += len(chunk)
                    if size > MAX_BODY:
                        too_large = True
                        break
                    chunks.append(chunk)
            if too_large:
                await discard(stream, size)
                raise Refused(413, "the body is larger than 1 MiB")
        except ClientDisconnect:
            raise Refused(400, "the sender closed the connection before its body was in") from None
        return b"".join(chunks)

    async def discard(stream, size: int) -> None:
        """Read and drop the rest of a body too large to take, up to DRAIN_BYTES within
        DRAIN_SECONDS: answering while the sender still writes would close the connection
        under it, and a sender that reads only once it has written all never sees the 413."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(DRAIN_SECONDS):
                async for chunk in stream:
                    size += len(chunk)
                    if size > DRAIN_BYTES:
                        return

    async def receive(request: Request) -> JSONResponse:
        name = request.path_params["name"]
        endpoint = endpoints.get(name)
        if endpoint is None:
            if name in PATHS:
                why = f"/hooks/{name} is off: {PATHS[name].env_var} is not set"
            else:
                why = f"no endpoint /hooks/{name}"
            return JSONResponse({"error": why}, status_code=404)
        try:
            body = await read_body(request)
            inbound = endpoint.read(request.headers, body, time.time())
        except Refused as refused:
            writer.note_refusal(f"{endpoint.source}: {refused.reason} ({refused.status})")
            return JSONResponse({"error": refused.reason}, status_code=refused.status)
        outcome = await committed(writer, inbound)
        if outcome.report is None:
            if outcome.replayed:
                writer.note_refusal(f"{endpoint.source}: {outcome.error} (401)")
            status = (
                503
                if outcome.unavailable
                else 401
                if outcome.replayed
                else 400
                if outcome.refused
                else 500
            )
            headers = {"Retry-After": "5"} if outcome.unavailable else None
            return JSONResponse({"error": outcome.error}, status_code=status, headers=headers)
        counts = outcome.report.as_dict()
        return JSONResponse(counts, status_code=200)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        writer.start()
        try:
            yield
        finally:
            # uvicorn has answered every accepted request by now; the writer commits anything
            # left and says the receiver stopped
            await asyncio.to_thread(writer.stop)
            say("stopped: every accepted request was committed and answered")

    return Starlette(routes=[Route("/hooks/{name}", receive, methods=["POST"])], lifespan=lifespan)


async def committed(writer, inbound):
    """Hand a request's events to the writer thread and wait for their commit."""
    loop = asyncio.get_running_loop()
    future = loop.create_future()

    def settle(outcome) -> None:
        if not future.done():
            future.set_result(outcome)

    writer.submit(inbound, lambda outcome: loop.call_soon_threadsafe(settle, outcome))
    return await future


@dataclass(frozen=True)
class Limits:
    """What one sender may hold of the receiver: how long its headers and body may take, and
    how many connections all senders may have open at once."""

    header_timeout: float = HEADER_TIMEOUT
    body_timeout: float = BODY_TIMEOUT
    connections: int = MAX_CONNECTIONS
    header_bytes: int = MAX_HEADER


def guarded_protocol(limits: Limits):
    """uvicorn's httptools protocol with the limits a receiver open to the internet needs:
    headers capped at `header_bytes` (431) and due within `header_timeout` (408), a body due
    within `body_timeout` of its headers (408), and no more than `connections` open (503).
    Each is answered in one line and the connection closed, so a slow or huge request holds
    neither memory nor a connection for long."""
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class GuardedProtocol(HttpToolsProtocol):
        _timer: asyncio.TimerHandle | None = None
        _waiting_for = ""
        """"headers" from the connection or a request's first byte, "body" once its headers
        are in, "" once it is whole (the answer is the receiver's to give)."""
        _header_bytes = 0
        _refused = False

        def connection_made(self, transport) -> None:
            super().connection_made(transport)
            if len(self.connections) > limits.connections:
                self._refuse(503, "too many connections at once; try again shortly")
                return
            self._expect("headers")

        def data_received(self, data: bytes) -> None:
            if self._refused:
                return
            super().data_received(data)
            if self._waiting_for == "headers" and not self.transport.is_closing():
                self._header_bytes += len(data)  # none of it completed the headers
                if self._header_bytes > limits.header_bytes:
                    size = limits.header_bytes >> 10
                    self._refuse(431, f"the headers are larger than {size} KiB")

        def on_message_begin(self) -> None:
            super().on_message_begin()
            if self._waiting_for != "headers":
                self._expect("headers")

        def on_headers_complete(self) -> None:
            super().on_headers_complete()
            self._expect("body")

        def on_message_complete(self) -> None:
            super().on_message_complete()
            self._expect("")

        def connection_lost(self, exc: Exception | None) -> None:
            self._expect("")
            super().connection_lost(exc)

        def _expect(self, what: str) -> None:
            """Start waiting for `what` ("headers", "body"; "" for nothing) against its clock."""
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self._waiting_for, self._header_bytes = what, 0
            if what:
                seconds = limits.header_timeout if what == "headers" else limits.body_timeout
                self._timer = self.loop.call_later(seconds, self._late, what, seconds)

        def _late(self, what: str, seconds: float) -> None:
            self._timer = None
            if self._waiting_for == what and not self.transport.is_closing():
                self._refuse(408, f"the request's {what} did not arrive within {seconds:g} s")

        def _refuse(self, status: int, reason: str) -> None:
            """Answer `status` with `reason` and close, whatever state the request is in."""
            from http import HTTPStatus

            self._refused = True
            self._expect("")
            body = json.dumps({"error": reason}).encode()
            head = (
                f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
                "content-type: application/json\r\n"
                f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
            )
            self.transport.write(head.encode() + body)
            self.transport.close()

    return GuardedProtocol


def listening_socket(host: str, port: int) -> socket.socket:
    """The bound socket, or a one-line error (a port in use, an address not of this machine)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UserError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise UserError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def cmd_serve(args) -> None:
    import uvicorn

    from data.receiver import GroupCommit
    from data.webhooks import PATHS

    if not 0 <= args.port <= 65535:
        raise UserError("--port takes a number from 0 to 65535")
    for option, value in (
        ("--header-timeout", args.header_timeout),
        ("--body-timeout", args.body_timeout),
    ):
        if not 0 < value <= 3600:
            raise UserError(f"{option} takes seconds, more than 0 and at most 3600")
    if not 1 <= args.max_connections <= 100_000:
        raise UserError("--max-connections takes a number from 1 to 100000")
    endpoints = endpoints_from(os.environ)
    open_db(args)
    sock = listening_socket(args.host, args.port)
    host, port = sock.getsockname()[:2]
    for name, kind in PATHS.items():
        if name in endpoints:
            say(f"/hooks/{name} is on")
        else:
            say(f"/hooks/{name} is off (404): {kind.env_var} is not set")
    if not endpoints:
        say("no endpoint is on: set at least one secret (see campaigns serve --help)")
    writer = GroupCommit(host, port, [e.source for e in endpoints.values()])
    app = build_app(endpoints, writer)
    limits = Limits(args.header_timeout, args.body_timeout, args.max_connections)
    config = uvicorn.Config(
        app,
        http=guarded_protocol(limits),
        limit_concurrency=limits.connections + 1,  # each request's task too
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=30,
    )
    server = uvicorn.Server(config)
    say(f"receiving on http://{visible(str(host))}:{port}/hooks/ (Ctrl-C or SIGTERM stops)")
    sys.stderr.flush()
    server.run(sockets=[sock])  # on SIGTERM, uvicorn ends the process with it once stopped
    if not server.started:
        raise UserError("the receiver could not start")
