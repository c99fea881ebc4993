"""Runs one HTTP request through ACA-Py's admin application in-process, without a socket.

The request goes through the application exactly as aiohttp's server would pass it: the
router, every middleware (readiness, API key and bearer token checks, validation) and the
handler; the response is prepared and written as the server would (headers computed by
`prepare`, `on_response_prepare` hooks), into memory instead of a transport. Errors are
answered as aiohttp's server answers them: an HTTPException is the response, anything else
a plain 500.
"""

import asyncio
import logging
from dataclasses import dataclass
from http import HTTPStatus
from unittest import mock

from aiohttp import hdrs, web
from aiohttp.abc import AbstractStreamWriter
from aiohttp.streams import StreamReader
from aiohttp.test_utils import make_mocked_request
from multidict import CIMultiDict

LOGGER = logging.getLogger(__name__)

# Framing headers: the relay (or the controller's client) frames the body itself.
_FRAMING_HEADERS = frozenset({hdrs.TRANSFER_ENCODING.lower(), hdrs.CONNECTION.lower(), "keep-alive"})


@dataclass(frozen=True)
class AppResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


class UnsupportedAdminRequest(Exception):
    """The request cannot be answered in memory (a WebSocket upgrade, a streamed response)."""


class _MemoryWriter(AbstractStreamWriter):
    """Collects what the response writes: its headers and its body bytes."""

    def __init__(self) -> None:
        self.headers: list[tuple[str, str]] = []
        self.chunks: list[bytes] = []
        self.buffer_size = 0
        self.output_size = 0
        self.length = None

    async def write(self, chunk) -> None:
        data = bytes(chunk)
        self.chunks.append(data)
        self.output_size += len(data)

    async def write_eof(self, chunk: bytes = b"") -> None:
        if chunk:
            await self.write(chunk)

    async def drain(self) -> None:
        return None

    def enable_compression(self, encoding: str = "deflate", strategy=None) -> None:
        # Compression is the relay's business; the request carried no Accept-Encoding anyway.
        return None

    def enable_chunking(self) -> None:
        return None

    async def write_headers(self, status_line: str, headers) -> None:
        self.headers = [(name, value) for name, value in headers.items() if name.lower() not in _FRAMING_HEADERS]

    def send_headers(self) -> None:
        return None


def _payload(protocol, body: bytes) -> StreamReader:
    reader = StreamReader(protocol, 2**16, loop=asyncio.get_running_loop())
    if body:
        reader.feed_data(body)
    reader.feed_eof()
    return reader


def _plain_error(status: int) -> web.Response:
    phrase = HTTPStatus(status)
    return web.Response(status=status, text=f"{status} {phrase.phrase}\n\n{phrase.description}")


async def call_app(
    app: web.Application, *, method: str, path: str, headers: dict[str, str], body: bytes
) -> AppResponse:
    """Answers one request through `app` as its HTTP server would."""
    if headers.get("upgrade"):
        raise UnsupportedAdminRequest("WebSocket upgrades (the admin /ws) cannot be carried through Redis")
    request_headers = CIMultiDict(headers)
    request_headers.popall(hdrs.EXPECT, None)
    if body and hdrs.CONTENT_LENGTH not in request_headers:
        request_headers[hdrs.CONTENT_LENGTH] = str(len(body))
    # As a server's start does (ACA-Py's admin server has): middlewares run only in a frozen app.
    app.freeze()
    writer = _MemoryWriter()
    protocol = mock.Mock(_reading_paused=False)
    request = make_mocked_request(
        method,
        path,
        headers=request_headers,
        app=app,
        writer=writer,
        protocol=protocol,
        payload=_payload(protocol, body),
        client_max_size=app._client_max_size,
    )
    try:
        response = await app._handle(request)
    except web.HTTPException as error:
        response = error
    except asyncio.CancelledError:
        raise
    except Exception:  # noqa: BLE001 - answered as aiohttp's server answers it
        LOGGER.exception("acapy-bridge admin: %s %s failed in ACA-Py's admin application", method, path)
        response = _plain_error(500)
    if isinstance(response, web.WebSocketResponse):
        raise UnsupportedAdminRequest(f"{method} {path} answers with a WebSocket")
    # A streamed response was prepared (and written) by its handler already, into the writer.
    if not response.prepared:
        await response.prepare(request)
    await response.write_eof()
    return AppResponse(status=response.status, headers=writer.headers, body=b"".join(writer.chunks))
