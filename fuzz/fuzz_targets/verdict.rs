//! The verifier's verdict is extracted from arbitrary agent output without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = fabrik_pipeline::verdict::parse(&text);
});
