//! Arbitrary bytes through the whole plan pipeline: decode, parse, lint, render.
//! Run with `cargo +nightly fuzz run lint` from `crates/fabrik-plan/`.
#![no_main]

use fabrik_plan::{Format, LintOptions, ParseOptions, Plan, lint, render};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let opts = ParseOptions {
        max_bytes: 1 << 20,
        ..ParseOptions::default()
    };
    if let Ok(plan) = Plan::from_bytes(data, &opts) {
        let findings = lint(&plan, &LintOptions::default());
        for f in &findings {
            if let Some(s) = f.span {
                assert!(s.offset <= plan.text().len());
            }
        }
        for format in [Format::Text, Format::Json, Format::Sarif] {
            let _ = render(&findings, Some(&plan), "fuzz.md", format);
        }
    }
});
