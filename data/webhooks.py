"""Webhooks from email services and forms (PRODUCT.md §7): each sender's signature, and its
events in our own vocabulary, ready for the ingest path.

An endpoint reads one request (headers and raw body) and either refuses it (`Refused`, with the
HTTP status and a readable reason; nothing is written) or returns its events as received
records (`Inbound`). Every event that passes the signature is handed on, also one that will be
rejected (no campaign, no such member): the ingest path records it with its reason. A provider's
events that mean nothing for a member (delivered, a temporary failure) are handed on as `noted`
types, recorded without effect; a machine's open carries `"machine": true`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from data.engagement import EVENT_TYPES
from data.ingest.parsing import NotJSON, Received, _lone_surrogate, load_json, read_records
from data.text import counted

MAX_BODY = 1 << 20
"""Bytes a request body may have (a larger one is refused with 413)."""

TOLERANCE = 300
"""Seconds a signed timestamp may be from now, either way; older is a replay (401)."""


MIN_SECRET = 16
"""Bytes a shared webhook secret must have at least (a short one is guessed)."""


class Refused(Exception):
    """A request that is answered with `status` and `reason`, and changes nothing."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def unauthorized(reason: str) -> Refused:
    return Refused(401, reason)


def not_the_format(reason: str) -> Refused:
    return Refused(400, reason)


@dataclass
class Inbound:
    """One request's events as received records, from one source."""

    source: str
    records: list[Received] = field(default_factory=list)
    noted: frozenset[str] = frozenset()
    """The provider's event types that are recorded without effect."""
    replay_key: str = ""
    """What a replay of this request would share with it (a hash: Mailgun's token, else the
    signed timestamp and body); the receiver remembers it until `expires_at`."""
    digest: str = ""
    """A hash of the whole request: the same key with another digest is a forgery."""
    expires_at: float = 0.0
    """Unix time after which the signature is stale (refused anyway), so the key is forgotten."""


def _sha256(*parts: bytes) -> str:
    return hashlib.sha256(b".".join(parts)).hexdigest()


def _remembered(inbound: Inbound, key: str, digest: str, timestamp: object) -> Inbound:
    """The inbound with its replay key (a signed timestamp has been checked by now)."""
    inbound.replay_key = f"{inbound.source}:{key}"
    inbound.digest = digest
    inbound.expires_at = float(str(timestamp).strip()) + TOLERANCE
    return inbound


def _check_time(timestamp: object, now: float) -> None:
    try:
        when = float(str(timestamp).strip())
    except ValueError:
        raise unauthorized("the signed timestamp is not a number") from None
    if not abs(now - when) <= TOLERANCE:  # also refuses NaN
        raise unauthorized("the signed timestamp is more than 5 minutes from now")


def _hmac_hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def _json(body: bytes):
    """The body as JSON (read as `campaigns ingest` reads a line), or a 400 saying what is
    wrong with it."""
    try:
        return load_json(body)
    except NotJSON as exc:
        raise not_the_format(f"the body is not valid JSON: {exc}") from None


def _iso(timestamp) -> object:
    """A Unix time (a provider's number) as ISO 8601 UTC; anything else as it came, for the
    ingest path to reject as a bad timestamp."""
    if isinstance(timestamp, bool) or not isinstance(timestamp, int | float):
        return timestamp
    try:
        return datetime.fromtimestamp(timestamp, UTC).isoformat()
    except (OverflowError, OSError, ValueError):
        return str(timestamp)


def _received(original: object, event: dict, noted: bool = False) -> Received:
    """A provider's event as a received record: our keys, and the provider's event as the line
    a rejection keeps (compact JSON). A `noted` one is recorded without effect."""
    raw = json.dumps(original, ensure_ascii=False, separators=(",", ":"))
    line = raw.encode("utf-8", "backslashreplace")
    surrogate = _lone_surrogate(event)
    if surrogate:
        return Received(
            line, problem=("unreadable", f"unreadable text: lone surrogate {surrogate}")
        )
    return Received(line, event, noted=noted)


# Mailgun -----------------------------------------------------------------------------------------

MAILGUN_TYPES = {
    "opened": "open",
    "clicked": "click",
    "unsubscribed": "unsubscribe",
    "complained": "unsubscribe",
}
"""Mailgun's events that change a member; `failed` is a bounce when permanent."""


class MailgunEndpoint:
    """`POST /hooks/mailgun`: a Mailgun webhook, its signature in the body (HMAC-SHA256 of
    timestamp + token with the webhook signing key)."""

    source = "mailgun"
    env_var = "CAMPAIGNS_MAILGUN_SIGNING_KEY"

    def __init__(self, signing_key: str) -> None:
        self.key = signing_key

    def read(self, headers: Mapping[str, str], body: bytes, now: float) -> Inbound:
        payload = _json(body)
        if not isinstance(payload, dict):
            raise not_the_format("not a Mailgun webhook: the body is not a JSON object")
        signature = payload.get("signature")
        if not isinstance(signature, dict):
            raise unauthorized("no Mailgun signature in the body")
        timestamp, token, given = (
            signature.get("timestamp"),
            signature.get("token"),
            signature.get("signature"),
        )
        if not all(isinstance(v, str | int) for v in (timestamp, token, given)):
            raise unauthorized("the Mailgun signature is incomplete")
        expected = _hmac_hex(self.key, f"{timestamp}{token}".encode())
        if not hmac.compare_digest(expected, str(given).lower()):
            raise unauthorized("the Mailgun signature does not match the signing key")
        _check_time(timestamp, now)
        data = payload.get("event-data")
        if not isinstance(data, dict):
            raise not_the_format("not a Mailgun webhook: no event-data object")
        inbound = Inbound(self.source, [mailgun_event(data)], MAILGUN_NOTED)
        return _remembered(inbound, _sha256(str(token).encode()), _sha256(body), timestamp)


MAILGUN_NOTED = frozenset(
    {"accepted", "delivered", "failed", "stored", "rejected", "list_member_uploaded"}
)
"""Mailgun's events recorded without effect (a `failed` that is not permanent among them)."""


def mailgun_event(data: dict) -> Received:
    """A Mailgun event-data object as a received record in our event format: one of Mailgun's
    documented events with an effect as our type, anything else under its own name and
    recorded without effect (a Mailgun `convert` converts no one)."""
    name = str(data.get("event", ""))
    kind = MAILGUN_TYPES.get(name)
    if name == "failed" and data.get("severity") == "permanent":
        kind = "bounce"
    variables = data.get("user-variables")
    campaign = variables.get("campaign") if isinstance(variables, dict) else None
    event: dict = {
        "id": data.get("id"),
        "type": kind or name,
        "campaign": campaign,
        "email": data.get("recipient"),
        "at": _iso(data.get("timestamp")),
        "provider_event": name,
    }
    for key in ("url", "severity", "reason"):
        if key in data:
            event[key] = data[key]
    client = data.get("client-info")
    if kind == "open" and isinstance(client, dict) and client.get("bot"):
        event["machine"] = True  # Mailgun names the proxy or scanner that fetched the pixel
    return _received(data, event, noted=kind not in EVENT_TYPES)


# SendGrid ----------------------------------------------------------------------------------------

SENDGRID_TYPES = {
    "open": "open",
    "click": "click",
    "bounce": "bounce",
    "unsubscribe": "unsubscribe",
    "group_unsubscribe": "unsubscribe",
    "spamreport": "unsubscribe",
}
"""SendGrid's events that change a member; the rest are recorded without effect."""

SENDGRID_NOTED = frozenset(
    {"processed", "dropped", "delivered", "deferred", "group_resubscribe", "blocked"}
)
"""SendGrid's events recorded without effect (a `bounce` of type blocked is temporary)."""

SIGNATURE_HEADER = "x-twilio-email-event-webhook-signature"
TIMESTAMP_HEADER = "x-twilio-email-event-webhook-timestamp"


def load_sendgrid_key(text: str) -> ec.EllipticCurvePublicKey:
    """The verification key as SendGrid shows it (base64 of the DER public key; a PEM block
    works too). Raises ValueError with a readable reason."""
    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_public_key(text.encode())
        else:
            key = serialization.load_der_public_key(base64.b64decode(text, validate=True))
    except (ValueError, binascii.Error, TypeError):
        raise ValueError("it is not a base64 public key as SendGrid shows it") from None
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise ValueError("it is not an elliptic-curve (ECDSA) public key")
    return key


class SendGridEndpoint:
    """`POST /hooks/sendgrid`: a SendGrid Event Webhook array, signed with ECDSA over the
    timestamp header + the raw body."""

    source = "sendgrid"
    env_var = "CAMPAIGNS_SENDGRID_VERIFICATION_KEY"

    def __init__(self, verification_key: str) -> None:
        self.key = load_sendgrid_key(verification_key)

    def read(self, headers: Mapping[str, str], body: bytes, now: float) -> Inbound:
        signature, timestamp = headers.get(SIGNATURE_HEADER), headers.get(TIMESTAMP_HEADER)
        if not signature or not timestamp:
            raise unauthorized("no SendGrid signature headers")
        try:
            self.key.verify(
                base64.b64decode(signature, validate=True),
                timestamp.encode() + body,
                ec.ECDSA(hashes.SHA256()),
            )
        except (InvalidSignature, binascii.Error, ValueError):
            raise unauthorized(
                "the SendGrid signature does not match the verification key"
            ) from None
        _check_time(timestamp, now)
        payload = _json(body)
        if not isinstance(payload, list):
            raise not_the_format("not a SendGrid event batch: the body is not a JSON array")
        inbound = Inbound(self.source, noted=SENDGRID_NOTED)
        key = _sha256(timestamp.encode(), body)
        _remembered(inbound, key, key, timestamp)
        for item in payload:
            if isinstance(item, dict):
                inbound.records.append(sendgrid_event(item))
            else:
                raw = json.dumps(item, ensure_ascii=False).encode("utf-8", "backslashreplace")
                inbound.records.append(
                    Received(raw, problem=("malformed", "malformed JSON: not a JSON object"))
                )
        return inbound


def sendgrid_event(item: dict) -> Received:
    """A SendGrid event object as a received record in our event format (documented events
    with an effect as our types, anything else recorded without effect, as for Mailgun)."""
    name = str(item.get("event", ""))
    kind = SENDGRID_TYPES.get(name)
    if name == "bounce" and item.get("type") == "blocked":
        kind = "blocked"
    event: dict = {
        "id": item.get("sg_event_id"),
        "type": kind or name,
        "campaign": item.get("campaign"),
        "email": item.get("email"),
        "at": _iso(item.get("timestamp")),
        "provider_event": name,
    }
    for key in ("url", "reason", "sg_message_id"):
        if key in item:
            event[key] = item[key]
    if kind == "open" and item.get("sg_machine_open") is True:
        event["machine"] = True
    return _received(item, event, noted=kind not in EVENT_TYPES)


# Our own format ----------------------------------------------------------------------------------

OUR_HEADER = "x-campaigns-signature"


def sign_events(secret: str, body: bytes, timestamp: int) -> str:
    """The `X-Campaigns-Signature` value for a body: `t=UNIX,v1=HEX`, HEX the HMAC-SHA256 of
    `"{t}.{body}"` with the secret."""
    return f"t={timestamp},v1={_hmac_hex(secret, str(timestamp).encode() + b'.' + body)}"


class EventsEndpoint:
    """`POST /hooks/events`: our event format (a JSON object, an array, or JSON Lines) for forms
    and custom integrations, signed with `X-Campaigns-Signature`."""

    source = "webhook"
    env_var = "CAMPAIGNS_WEBHOOK_SECRET"

    def __init__(self, secret: str) -> None:
        size = len(secret.encode("utf-8"))
        if size < MIN_SECRET:
            raise ValueError(
                f"{counted(size, 'byte')} is too short to sign with: use at least {MIN_SECRET} "
                "(for example: openssl rand -hex 32)"
            )
        self.secret = secret

    def read(self, headers: Mapping[str, str], body: bytes, now: float) -> Inbound:
        header = headers.get(OUR_HEADER)
        if not header:
            raise unauthorized("no X-Campaigns-Signature header")
        parts: dict[str, list[str]] = {}
        for part in header.split(","):
            key, _, value = part.strip().partition("=")
            parts.setdefault(key, []).append(value.strip())
        timestamps = parts.get("t", [])
        if len(timestamps) != 1 or not timestamps[0].isdigit():
            raise unauthorized("X-Campaigns-Signature has no t=UNIX time")
        expected = _hmac_hex(self.secret, timestamps[0].encode() + b"." + body)
        if not any(hmac.compare_digest(expected, given.lower()) for given in parts.get("v1", [])):
            raise unauthorized("X-Campaigns-Signature does not match the webhook secret")
        _check_time(timestamps[0], now)
        key = _sha256(timestamps[0].encode(), body)
        return _remembered(Inbound(self.source, our_events(body)), key, key, timestamps[0])


def our_events(body: bytes) -> list[Received]:
    """Our events from a body: one JSON object, an array of them, or JSON Lines (each line read
    as `campaigns ingest` reads it). Raises Refused (400) when nothing in it is an event."""
    payload = _json(body)
    if isinstance(payload, dict):
        return [_received(payload, payload)]
    if isinstance(payload, list):
        return [
            _received(item, item)
            if isinstance(item, dict)
            else Received(
                json.dumps(item, ensure_ascii=False).encode("utf-8", "backslashreplace"),
                problem=("malformed", "malformed JSON: not a JSON object"),
            )
            for item in payload
        ]
    records = list(read_records(body.splitlines(), "jsonl"))
    if not any(record.fields is not None for record in records):
        raise not_the_format("not events: neither a JSON object, an array nor JSON Lines")
    return records


ENDPOINTS = (MailgunEndpoint, SendGridEndpoint, EventsEndpoint)
"""Every endpoint, with the environment variable that holds its secret."""

PATHS = {"mailgun": MailgunEndpoint, "sendgrid": SendGridEndpoint, "events": EventsEndpoint}
"""`/hooks/<name>` for each endpoint."""
