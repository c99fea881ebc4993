"""Whether ACA-Py's handler for an inbound message succeeded, failed, or refused the message.

ACA-Py reports a handler that raised or was cancelled as "processing complete", like one
that succeeded; only its InboundTransportManager's `dispatch_complete` sees the difference
(`completed.exc_info`). The hook installed there (acapy_compat.wrap_dispatch_complete) keeps
the failures, weakly per InboundMessage, until the transport waiting for that message reads
them.
"""

import asyncio
import weakref
from typing import Any

from acapy_agent.messaging.base_handler import HandlerException

from acapy_bridge_shim.acapy_compat import completed_exception, wrap_dispatch_complete
from acapy_bridge_shim.inbound_outcome import RetryLater


class HandlerRejected(Exception):
    """ACA-Py's handler refused the message (HandlerException): the same would happen again."""


def failure_of(completed: object) -> tuple[str, bool] | None:
    """('Type: message', refused) of the handler's exception or cancellation; None when it succeeded.

    `refused` is True for a HandlerException: the handler judged the message itself (not
    ready, not allowed, inconsistent), so delivering it again would fail the same way.
    """
    ended_with = completed_exception(completed)
    if ended_with is None:
        return None
    exc_type, exc = ended_with
    if exc is None:
        return getattr(exc_type, "__name__", "error"), False
    described = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return described, isinstance(exc, HandlerException)


class HandlerFailures(weakref.WeakKeyDictionary[Any, tuple[str, bool]]):
    """The failed handlers' outcomes by InboundMessage (weakly: a message nobody waits for does not linger).

    Called by the dispatch_complete hook with each handler's end.
    """

    def __call__(self, message: Any, completed: object) -> None:
        failure = failure_of(completed)
        if failure is not None:
            self[message] = failure


def install_handler_outcome_hook(manager: object) -> HandlerFailures | None:
    """The record of failed handlers of this InboundTransportManager, hooked in on the first call.

    None when the manager has no dispatch_complete.
    """
    return wrap_dispatch_complete(manager, HandlerFailures())


async def wait_processed(inbound: Any, limit_s: float, mid: str, failures: HandlerFailures | None = None) -> None:
    """Returns once ACA-Py's handler succeeded.

    Raises HandlerRejected when the handler refused the message (dead-lettered at once: a
    retry would be refused again), RetryLater when it failed otherwise, was cancelled or
    outlasted limit_s.
    """
    try:
        await asyncio.wait_for(inbound.wait_processing_complete(), limit_s)
    except TimeoutError:
        raise RetryLater(f"mid={mid} still processing after {limit_s:.0f} s; not acknowledged") from None
    failure = failures.pop(inbound, None) if failures is not None else None
    if failure is not None:
        described, refused = failure
        if refused:
            raise HandlerRejected(f"mid={mid}: ACA-Py's handler refused it ({described})")
        raise RetryLater(f"mid={mid}: ACA-Py's handler failed ({described}); not acknowledged")
