"""The reference Python client opening short phrasal streams one after another on one client
(for benches/latency.rs): prints, per stream, `stream <ms to first event> <ms to end> <events>`.

Reads BOOKWYRM_API_URL, BOOKWYRM_API_KEY and BENCH_STREAMS; SSL_CERT_FILE names the CA (given
to the client's httpx client as an SSL context: httpx 0.28 does not read the variable).
"""
import asyncio
import os
import ssl
import time

import httpx
from bookwyrm import AsyncBookWyrmClient

TEXT = "One small step. Two more steps. Three steps home."


async def main() -> None:
    streams = int(os.environ.get("BENCH_STREAMS", "30"))
    async with AsyncBookWyrmClient(
        base_url=os.environ["BOOKWYRM_API_URL"], api_key=os.environ["BOOKWYRM_API_KEY"]
    ) as client:
        # The client makes `httpx.AsyncClient(timeout=...)`, whose httpx (0.28) does not read
        # SSL_CERT_FILE: the same client, trusting the private CA.
        await client.client.aclose()
        client.client = httpx.AsyncClient(
            timeout=client.client.timeout,
            verify=ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"]),
        )
        for _ in range(streams):
            started = time.perf_counter()
            first = None
            n = 0
            async for _event in client.stream_process_text(text=TEXT, offsets=True):
                if first is None:
                    first = time.perf_counter() - started
                n += 1
            total = time.perf_counter() - started
            print(f"stream {(first or total) * 1e3:.3f} {total * 1e3:.3f} {n}", flush=True)


asyncio.run(main())
