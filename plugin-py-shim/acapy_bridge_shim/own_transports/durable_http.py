"""ACA-Py's own HTTP inbound transport, answering a POST only once its message was handled.

`-it acapy_bridge_shim.own_transports.durable_http <host> <port>` instead of `-it http`. ACA-Py's
transport answers 200 right after parsing a message that asks for no direct response, before
its handler ran: an instance killed then loses a forward the sender believes delivered. Here the
answer waits for the handler (whose messages for wallets are in Redis when it ends, see
`WalletOutbound`), so a sender whose POST failed sends again: at-least-once instead of
at-most-once. Everything else is ACA-Py's transport unchanged.
"""

from acapy_agent.transport.inbound import http as acapy_http


class DurableHttpTransport(acapy_http.HttpTransport):
    async def create_session(self, **kwargs):
        session = await super().create_session(**kwargs)
        receive = session.receive

        async def receive_then_handle(payload):
            inbound = await receive(payload)
            if not inbound.receipt.direct_response_requested:
                await inbound.wait_processing_complete()
            return inbound

        session.receive = receive_then_handle
        return session
