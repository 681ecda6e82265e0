//! Typed decoding of every operation's events through `EventStream::from_byte_stream`: any
//! bytes, in any pieces, give items or typed errors, never a panic; every event serializes
//! back (`Serialize`, `sse_data`).
#![no_main]

use bookwyrm::{
    CitationStreamEvent, ClassifyStreamEvent, EventStream, PdfStreamEvent, PhrasalStreamEvent,
    StreamEvent, SummarizeStreamEvent,
};
use futures_util::FutureExt;
use libfuzzer_sys::fuzz_target;

fn drain<E: StreamEvent + serde::Serialize>(
    input: &[u8],
    chunk: usize,
    data: impl Fn(&E) -> serde_json::Result<String>,
) {
    let pieces: Vec<Result<bytes::Bytes, std::io::Error>> = input
        .chunks(chunk)
        .map(|c| Ok(bytes::Bytes::copy_from_slice(c)))
        .collect();
    let mut stream = EventStream::<E>::from_byte_stream(futures_util::stream::iter(pieces));
    // Every piece is ready: the stream never waits.
    while let Some(item) = stream.next().now_or_never().expect("a ready stream") {
        if let Ok(event) = item {
            let _ = event.event_name();
            let _ = event.server_error();
            serde_json::to_string(&event).expect("an event serializes");
            data(&event).expect("an event's data serializes");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, input)) = data.split_first() else {
        return;
    };
    let chunk = 1 + (control >> 3) as usize * 7;
    match control % 5 {
        0 => drain(input, chunk, CitationStreamEvent::sse_data),
        1 => drain(input, chunk, ClassifyStreamEvent::sse_data),
        2 => drain(input, chunk, PdfStreamEvent::sse_data),
        3 => drain(input, chunk, PhrasalStreamEvent::sse_data),
        _ => drain(input, chunk, SummarizeStreamEvent::sse_data),
    }
});
