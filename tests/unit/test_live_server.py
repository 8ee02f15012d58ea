"""The test server that browsers talk to closes every response, whatever the client does."""

from __future__ import annotations

import socket
import struct
import threading

from tests.conftest import serving


class Body:
    """A response body that notes whether it was closed."""

    def __init__(self) -> None:
        self.closed = threading.Event()

    def __iter__(self):  # type: ignore[no-untyped-def]
        yield b"font bytes"

    def close(self) -> None:
        self.closed.set()


def test_a_client_that_resets_after_the_response_leaves_no_body_open() -> None:
    # Once it has the response, the client sends a few bytes more and resets the
    # connection: werkzeug's server, reading those bytes, meets the reset before it
    # closes the body. Chromium does this with fonts, and the file left open
    # once failed an unrelated test with a ResourceWarning.
    body = Body()

    def app(environ, start_response):  # type: ignore[no-untyped-def]
        start_response("200 OK", [("Content-Length", "10")])
        return body

    with serving(app) as url:
        port = int(url.rsplit(":", 1)[1])
        client = socket.create_connection(("127.0.0.1", port))
        client.sendall(b"GET /font HTTP/1.1\r\nHost: x\r\n\r\n")
        received = b""
        while b"font bytes" not in received:
            chunk = client.recv(4096)
            assert chunk, received
            received += chunk
        client.sendall(b"extra")
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.close()
        assert body.closed.wait(5), "the response body was never closed"
