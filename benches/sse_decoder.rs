//! Decoder throughput: every operation's stream, recorded from the emulator and repeated to
//! about 24 MB, through the SSE decoder alone, through the typed `EventStream`, and, as a
//! baseline, plain `serde_json::Value` parsing of the same data payloads. Also an 8 MiB line in 1 KiB chunks.
//!
//! `cargo bench --bench sse_decoder`

use std::hint::black_box;

use bookwyrm::sse::Decoder;
use bookwyrm::{
    CitationStreamEvent, ClassifyStreamEvent, EventStream, PdfStreamEvent, PhrasalStreamEvent,
    StreamEvent, SummarizeStreamEvent,
};
use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const TARGET: usize = 24 << 20;

/// A stream recorded from the emulator (`benches/recorded/*.sse`, see its README) repeated to
/// about 24 MB: (SSE bytes, the data payloads, number of events).
fn recorded(name: &str) -> (Vec<u8>, Vec<String>, usize) {
    let one = std::fs::read(format!(
        "{}/recorded/{name}.sse",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let mut d = Decoder::new();
    d.feed(Bytes::from(one.clone()));
    let mut payloads = Vec::new();
    while let Some(e) = d.next_event().unwrap() {
        payloads.push(e.data);
    }
    let per = payloads.len();
    let copies = TARGET.div_ceil(one.len());
    let payloads = (0..copies).flat_map(|_| payloads.iter().cloned()).collect();
    (one.repeat(copies), payloads, per * copies)
}

/// Feeds `input` in `chunk`-byte pieces and counts the events: borrowed from the decoder
/// (`next_event_ref`, framing alone: no allocation per event) or copied out as owned `Event`s
/// (`next_event`).
fn decode_raw(input: &Bytes, chunk: usize, borrowed: bool) -> usize {
    let mut d = Decoder::new();
    let mut n = 0;
    let mut at = 0;
    while at < input.len() {
        let end = (at + chunk).min(input.len());
        d.feed(input.slice(at..end));
        if borrowed {
            while let Some(e) = d.next_event_ref().unwrap() {
                black_box(&e);
                n += 1;
            }
        } else {
            while let Some(e) = d.next_event().unwrap() {
                black_box(&e);
                n += 1;
            }
        }
        at = end;
    }
    n
}

fn decode_typed<E: StreamEvent>(input: &Bytes, chunk: usize) -> usize {
    let pieces: Vec<Result<Bytes, std::io::Error>> = (0..input.len())
        .step_by(chunk)
        .map(|at| Ok(input.slice(at..(at + chunk).min(input.len()))))
        .collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut s = EventStream::<E>::from_byte_stream(futures_util::stream::iter(pieces));
        let mut n = 0;
        while let Some(e) = s.next().await {
            black_box(e.unwrap());
            n += 1;
        }
        n
    })
}

fn bench(c: &mut Criterion) {
    for name in ["cite", "classify", "pdf", "phrasal", "summarize"] {
        let (sse, payloads, events) = recorded(name);
        let bytes = Bytes::from(sse.clone());
        let mut g = c.benchmark_group(format!("{name}_stream"));
        g.sample_size(10);
        g.throughput(Throughput::Bytes(sse.len() as u64));
        eprintln!("{name}: {} bytes, {events} events", sse.len());
        g.bench_function("sse_framing_borrowed_16k_chunks", |b| {
            b.iter(|| assert_eq!(decode_raw(&bytes, 16 << 10, true), events))
        });
        g.bench_function("sse_decoder_16k_chunks", |b| {
            b.iter(|| assert_eq!(decode_raw(&bytes, 16 << 10, false), events))
        });
        g.bench_function("typed_event_stream_16k_chunks", |b| {
            b.iter(|| {
                let n = match name {
                    "cite" => decode_typed::<CitationStreamEvent>(&bytes, 16 << 10),
                    "classify" => decode_typed::<ClassifyStreamEvent>(&bytes, 16 << 10),
                    "pdf" => decode_typed::<PdfStreamEvent>(&bytes, 16 << 10),
                    "phrasal" => decode_typed::<PhrasalStreamEvent>(&bytes, 16 << 10),
                    _ => decode_typed::<SummarizeStreamEvent>(&bytes, 16 << 10),
                };
                assert_eq!(n, events)
            })
        });
        g.bench_function("serde_json_payloads_only", |b| {
            b.iter(|| {
                for p in &payloads {
                    black_box(serde_json::from_str::<serde_json::Value>(p).unwrap());
                }
            })
        });
        g.finish();
    }

    let long = Bytes::from(format!("data: {}\n\n", "x".repeat(8 << 20)));
    let mut g = c.benchmark_group("long_line");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(long.len() as u64));
    g.bench_function("8MiB_line_1KiB_chunks", |b| {
        b.iter(|| assert_eq!(decode_raw(&long, 1024, false), 1))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
