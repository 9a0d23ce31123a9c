"""`campaigns serve`: the webhook receiver for email services and forms (PRODUCT.md §7).

Starlette routes the three signed endpoints, uvicorn serves them. Each request is read (at most
`MAX_BODY` bytes), its signature checked (`data.webhooks`), and its events handed to the writer
thread (`data.receiver.GroupCommit`); the answer waits for their commit. On SIGTERM or Ctrl-C,
uvicorn stops accepting, the requests already accepted are committed and answered, then the
writer stops."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
import time
from collections.abc import Mapping

from data.text import visible
from tui_app.cli.common import UserError, open_db, say

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8025


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
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from data.webhooks import MAX_BODY, PATHS, Refused

    async def read_body(request: Request) -> bytes:
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > MAX_BODY:
            raise Refused(413, "the body is larger than 1 MiB")
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY:
                raise Refused(413, "the body is larger than 1 MiB")
            chunks.append(chunk)
        return b"".join(chunks)

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
            status = 503 if outcome.unavailable else 400 if outcome.refused else 500
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
    config = uvicorn.Config(
        app,
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
