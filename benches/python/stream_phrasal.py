"""The reference Python client consuming one phrasal stream (for benches/stream_cpu.rs).

Reads BOOKWYRM_API_URL and BOOKWYRM_API_KEY; prints `events N` at the end.
"""
import asyncio
import os

from bookwyrm import AsyncBookWyrmClient


async def main() -> None:
    n = 0
    async with AsyncBookWyrmClient(
        base_url=os.environ["BOOKWYRM_API_URL"], api_key=os.environ["BOOKWYRM_API_KEY"]
    ) as client:
        async for _event in client.stream_process_text(text="Synthetic load.", offsets=True):
            n += 1
    print(f"events {n}")


asyncio.run(main())
