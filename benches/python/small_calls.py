"""The reference Python client making small JSON calls one after another (for
benches/stream_cpu.rs): BENCH_CALLS `get_citations` calls of one short chunk on one client.

Reads BOOKWYRM_API_URL and BOOKWYRM_API_KEY; prints `events N` (the calls made) at the end.
"""
import asyncio
import os

from bookwyrm import AsyncBookWyrmClient
from bookwyrm.models import TextSpan


async def main() -> None:
    calls = int(os.environ.get("BENCH_CALLS", "2000"))
    async with AsyncBookWyrmClient(
        base_url=os.environ["BOOKWYRM_API_URL"], api_key=os.environ["BOOKWYRM_API_KEY"]
    ) as client:
        for _ in range(calls):
            answer = await client.get_citations(
                chunks=[TextSpan(text="The sky is blue over the valley.", start_char=0, end_char=32)],
                question="What colour is the sky?",
            )
            assert answer.total_citations == 1, answer
    print(f"events {calls}")


asyncio.run(main())
