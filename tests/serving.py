"""A real `campaigns serve` process on loopback, and signed requests for it (tests and bench)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from data.webhooks import sign_events

PATIENCE = 60.0
"""Seconds to wait for the server to start or stop before calling it a failure."""

MAILGUN_KEY = "key-mailgun-test-signing"
WEBHOOK_SECRET = "webhook-test-secret"


@dataclass
class Keys:
    """Secrets made for one test: the SendGrid pair is a fresh ECDSA P-256 key."""

    sendgrid_private: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )

    @property
    def sendgrid_public(self) -> str:
        """The verification key as SendGrid shows it: base64 of the DER public key."""
        der = self.sendgrid_private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return base64.b64encode(der).decode()

    def environ(self) -> dict[str, str]:
        return {
            "CAMPAIGNS_MAILGUN_SIGNING_KEY": MAILGUN_KEY,
            "CAMPAIGNS_SENDGRID_VERIFICATION_KEY": self.sendgrid_public,
            "CAMPAIGNS_WEBHOOK_SECRET": WEBHOOK_SECRET,
        }


class Server:
    """`campaigns serve --port 0` on a database (and any further options); `url` once it
    accepts connections."""

    def __init__(self, db, environ: dict[str, str], *options: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CAMPAIGNS_")}
        env.update(environ)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tui_app", "--db", str(db), "serve", "--port", "0", *options],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
        )
        self.log: list[str] = []
        self.port = self._wait_for_port()
        self.url = f"http://127.0.0.1:{self.port}"

    def _wait_for_port(self) -> int:
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:  # the lines it says at start, the address last
            line = raw.decode("utf-8", "replace").rstrip()
            self.log.append(line)
            found = re.search(r"receiving on http://127\.0\.0\.1:(\d+)/", line)
            if found:
                port = int(found.group(1))
                threading.Thread(target=self._drain, daemon=True).start()
                _wait_until_accepting(port, self.proc)
                return port
        raise AssertionError("the receiver exited before listening: " + "\n".join(self.log))

    def _drain(self) -> None:
        """Keep reading what it says, so a full pipe never blocks it."""
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            self.log.append(raw.decode("utf-8", "replace").rstrip())

    def stop(self, sig=None) -> int:
        """Send a signal (SIGTERM by default) and wait for the process to end."""
        import signal

        if self.proc.poll() is None:
            self.proc.send_signal(sig or signal.SIGTERM)
        return self.proc.wait(timeout=PATIENCE)


def _wait_until_accepting(port: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError("the receiver exited")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.01)
    raise AssertionError(f"nothing accepted connections on port {port}")


# Signed requests ---------------------------------------------------------------------------------


def events_request(events, now: float | None = None, secret: str = WEBHOOK_SECRET):
    """(body, headers) of a signed /hooks/events request."""
    body = json.dumps(events).encode()
    stamp = int(now if now is not None else time.time())
    return body, {
        "X-Campaigns-Signature": sign_events(secret, body, stamp),
        "Content-Type": "application/json",
    }


def mailgun_request(event_data: dict, now: float | None = None, key: str = MAILGUN_KEY):
    """(body, headers) of a Mailgun webhook as Mailgun sends one: the signature in the body."""
    stamp = str(int(now if now is not None else time.time()))
    token = hashlib.sha256(json.dumps(event_data).encode()).hexdigest()[:50]
    signature = hmac.new(key.encode(), (stamp + token).encode(), hashlib.sha256).hexdigest()
    body = {
        "signature": {"timestamp": stamp, "token": token, "signature": signature},
        "event-data": event_data,
    }
    return json.dumps(body).encode(), {"Content-Type": "application/json"}


def sendgrid_request(keys: Keys, events: list, now: float | None = None):
    """(body, headers) of a SendGrid Event Webhook batch, signed with the test's private key."""
    body = json.dumps(events).encode()
    stamp = str(int(now if now is not None else time.time()))
    signature = keys.sendgrid_private.sign(stamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    return body, {
        "Content-Type": "application/json",
        "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
        "X-Twilio-Email-Event-Webhook-Timestamp": stamp,
    }
