"""The reference Python client consuming 1,000 concurrent phrasal streams of the story on one
client (for benches/stream_cpu.rs, case `python-1000-streams`).

Reads BOOKWYRM_API_URL, BOOKWYRM_API_KEY and BENCH_STORY (the text's path); fails if a stream
fails or the streams deliver different numbers of events; prints `events N` (all streams).
"""
import asyncio
import os

from bookwyrm import AsyncBookWyrmClient

STREAMS = 1000


async def one(client: AsyncBookWyrmClient, text: str) -> int:
    n = 0
    async for _event in client.stream_process_text(text=text, offsets=True):
        n += 1
    return n


async def main() -> None:
    with open(os.environ["BENCH_STORY"], encoding="utf-8") as f:
        story = f.read()
    async with AsyncBookWyrmClient(
        base_url=os.environ["BOOKWYRM_API_URL"], api_key=os.environ["BOOKWYRM_API_KEY"]
    ) as client:
        counts = await asyncio.gather(*(one(client, story) for _ in range(STREAMS)))
    if len(set(counts)) != 1 or counts[0] == 0:
        raise SystemExit(f"streams delivered different numbers of events: {sorted(set(counts))}")
    print(f"events {sum(counts)}")


asyncio.run(main())
