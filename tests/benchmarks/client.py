"""A minimal HTTP/1.1 keep-alive client on asyncio (uvloop), cheap on CPU.

The benchmark shares two cores between the server and the load generator, so the client
must cost as little as possible per request: one pre-built request head, one socket
write, one read of the head and one of the body. It speaks only what the benchmark
needs: requests with a Content-Length body, responses with a Content-Length body.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

_HEAD_END = b"\r\n\r\n"
_CONTENT_LENGTH = b"\r\ncontent-length:"


class ProtocolError(RuntimeError):
    """The server answered with something this client does not understand."""


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes


class Connection:
    """One persistent connection; requests on it are sequential (one client = one connection)."""

    def __init__(self, host: str, port: int, headers: dict[str, str] | None = None) -> None:
        self.host = host
        self.port = port
        fixed = {"Host": f"{host}:{port}", "Accept": "application/json", **(headers or {})}
        self._fixed = "".join(f"{k}: {v}\r\n" for k, v in fixed.items()).encode("latin-1")
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError):
                await self._writer.wait_closed()
            self._reader = self._writer = None

    async def request(
        self, method: str, path: str, body: bytes | None = None, headers: bytes = b""
    ) -> Response:
        """Send one request and read its whole response; reconnects if the server closed."""
        if self._writer is None or self._writer.is_closing():
            await self.open()
        assert self._reader is not None
        assert self._writer is not None
        parts = [f"{method} {path} HTTP/1.1\r\n".encode("latin-1"), self._fixed, headers]
        if body is not None:
            parts.append(b"Content-Type: application/json\r\nContent-Length: %d\r\n" % len(body))
            parts.append(b"\r\n")
            parts.append(body)
        else:
            parts.append(b"\r\n")
        self._writer.write(b"".join(parts))
        try:
            head = await self._reader.readuntil(_HEAD_END)
        except asyncio.IncompleteReadError as error:
            await self.close()
            raise ProtocolError("the server closed the connection") from error
        if not head.startswith(b"HTTP/1.1 "):
            raise ProtocolError(f"not an HTTP/1.1 response: {head[:40]!r}")
        status = int(head[9:12])
        lowered = head.lower()
        at = lowered.find(_CONTENT_LENGTH)
        if at < 0:
            raise ProtocolError("response without Content-Length")
        end = lowered.index(b"\r\n", at + 2)
        length = int(lowered[at + len(_CONTENT_LENGTH) : end])
        payload = await self._reader.readexactly(length) if length else b""
        if b"\r\nconnection: close" in lowered:
            await self.close()
        return Response(status, payload)
