//! fabrik.toml parsing and validation never panics, whatever the bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = fabrik_config::from_str(text, std::path::Path::new("fabrik.toml"));
    }
});
