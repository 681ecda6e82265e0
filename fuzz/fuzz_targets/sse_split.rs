//! The SSE decoder gives the same events, the same error and the same unfinished rest
//! whether its input comes whole, split at arbitrary points, or byte by byte, borrowed
//! (`next_event_ref`) or owned (`next_event`), under small limits.
#![no_main]

use bookwyrm::sse::{Decoder, Event, SseError};
use libfuzzer_sys::fuzz_target;

type Outcome = (Vec<Event>, Option<SseError>, Option<String>);

fn run(input: &[u8], cuts: &[usize], limits: (usize, usize), borrowed: bool) -> Outcome {
    let mut d = Decoder::with_limits(limits.0, limits.1);
    let mut events = Vec::new();
    let mut at = 0;
    for &cut in cuts.iter().chain(std::iter::once(&input.len())) {
        let cut = cut.clamp(at, input.len());
        d.feed(bytes::Bytes::copy_from_slice(&input[at..cut]));
        at = cut;
        loop {
            let next = if borrowed {
                d.next_event_ref().map(|e| e.map(Event::from))
            } else {
                d.next_event()
            };
            match next {
                Ok(Some(e)) => events.push(e),
                Ok(None) => break,
                Err(e) => return (events, Some(e), None),
            }
        }
    }
    (events, None, d.unfinished())
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    let (control, input) = data.split_at(3);
    let limits = (8 + control[0] as usize, 16 + 4 * control[1] as usize);
    let whole = run(input, &[], limits, true);
    // Cuts derived from the input: every `step`-th byte, and at the positions of `\n` and `\r`.
    let step = 1 + control[2] as usize % 17;
    let stepped: Vec<usize> = (step..input.len()).step_by(step).collect();
    let at_ends: Vec<usize> = input
        .iter()
        .enumerate()
        .filter(|(_, b)| matches!(b, b'\n' | b'\r'))
        .map(|(i, _)| i)
        .collect();
    let bytewise: Vec<usize> = (1..input.len()).collect();
    for cuts in [&stepped, &at_ends, &bytewise] {
        assert_eq!(whole, run(input, cuts, limits, true), "cuts {cuts:?}");
        assert_eq!(
            whole,
            run(input, cuts, limits, false),
            "owned, cuts {cuts:?}"
        );
    }
});
