//! Event logs (JSON Lines) with torn, glued or binary lines are read without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = fabrik_core::durable::parse_jsonl::<serde_json::Value>(data);
    let _ = fabrik_core::durable::parse_jsonl::<fabrik_core::contract::Event>(data);
});
