//! The contract reader and the rules on any JSON: a document is read into the model or is an
//! error that says why, and comparing it with the SDK's own contract (both ways) never
//! panics, however deep, recursive or malformed it is.
#![no_main]

use bookwyrm::contract::{diff, unchecked_streams, Contract};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(doc) = serde_json::from_str::<serde_json::Value>(text) else {
        return;
    };
    if let Ok(theirs) = Contract::from_value(&doc) {
        let ours = Contract::embedded();
        let _ = diff(&ours, &theirs);
        let _ = diff(&theirs, &ours);
        let _ = unchecked_streams(&ours, &theirs);
    }
});
