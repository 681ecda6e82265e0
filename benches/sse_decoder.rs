//! Decoder throughput: a large citation stream and a large phrasal stream (about 24 MB each)
//! through the SSE decoder alone, through the typed `EventStream`, and, as a baseline, plain
//! `serde_json` parsing of the same data payloads. Also an 8 MiB line in 1 KiB chunks.
//!
//! `cargo bench --bench sse_decoder`

use std::hint::black_box;

use bookwyrm::sse::Decoder;
use bookwyrm::{CitationStreamEvent, EventStream, PhrasalStreamEvent, StreamEvent};
use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const TARGET: usize = 24 << 20;

/// (SSE bytes, the data payloads, number of events)
fn citation_stream() -> (Vec<u8>, Vec<String>, usize) {
    let mut sse = Vec::with_capacity(TARGET + 4096);
    let mut payloads = Vec::new();
    let mut i = 0usize;
    while sse.len() < TARGET {
        let data = if i % 10 == 9 {
            format!(
                r#"{{"type":"progress","chunks_processed":{i},"total_chunks":100000,"citations_found":{},"message":"Processed chunks {i}-{}"}}"#,
                i / 2,
                i + 10
            )
        } else {
            format!(
                r#"{{"type":"citation","citation":{{"start_chunk":{i},"end_chunk":{},"text":"In the wildest wastes of Ecuador's Andes, there lies that mysterious mountain valley, cut off from all the world of men, the Country of the Blind. Núñez fell {i} times.","reasoning":"The passage names the valley and its isolation, which answers the question about where the protagonist is in danger.","quality":{},"question_index":1}}}}"#,
                i + 1,
                i % 5
            )
        };
        let name = if i % 10 == 9 { "progress" } else { "citation" };
        sse.extend_from_slice(format!("event: {name}\ndata: {data}\n\n").as_bytes());
        payloads.push(data);
        i += 1;
    }
    (sse, payloads, i)
}

fn phrasal_stream() -> (Vec<u8>, Vec<String>, usize) {
    let story = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/country-of-the-blind.txt"
    ))
    .unwrap();
    let sentences: Vec<&str> = story.split(". ").filter(|s| !s.trim().is_empty()).collect();
    let mut sse = Vec::with_capacity(TARGET + 4096);
    let mut payloads = Vec::new();
    let mut offset = 0usize;
    let mut i = 0usize;
    while sse.len() < TARGET {
        let s = sentences[i % sentences.len()];
        let len = s.chars().count();
        let data = serde_json::json!({"start_char": offset, "end_char": offset + len, "text": s})
            .to_string();
        offset += len + 2;
        sse.extend_from_slice(b"event: text_span\ndata: ");
        sse.extend_from_slice(data.as_bytes());
        sse.extend_from_slice(b"\n\n");
        payloads.push(data);
        i += 1;
    }
    (sse, payloads, i)
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
    for (name, (sse, payloads, events)) in [
        ("citation", citation_stream()),
        ("phrasal", phrasal_stream()),
    ] {
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
                let n = if name == "citation" {
                    decode_typed::<CitationStreamEvent>(&bytes, 16 << 10)
                } else {
                    decode_typed::<PhrasalStreamEvent>(&bytes, 16 << 10)
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
