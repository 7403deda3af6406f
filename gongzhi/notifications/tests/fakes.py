"""Test doubles at the boundaries: an SMS gateway that records or fails, a local webhook receiver."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

from gongzhi.notifications.sms import SmsError, SmsGateway

FAKE_GATEWAY = "gongzhi.notifications.tests.fakes.FakeGateway"


class FakeGateway(SmsGateway):
    sent: ClassVar[list[tuple[str, str]]] = []
    failing: ClassVar[bool] = False

    @classmethod
    def reset(cls) -> None:
        cls.sent = []
        cls.failing = False

    def send(self, phone: str, text: str) -> None:
        if FakeGateway.failing:
            raise SmsError("provider down")
        FakeGateway.sent.append((phone, text))


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    url: str
    requests: list[Received] = field(default_factory=list)
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


@contextmanager
def webhook_receiver() -> Iterator[Receiver]:
    """A real HTTP server on 127.0.0.1 (any free port) that records requests and answers `status`."""
    receiver = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            receiver.requests.append(Received(self.path, dict(self.headers.items()), body))
            self.send_response(receiver.status)
            for name, value in receiver.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
