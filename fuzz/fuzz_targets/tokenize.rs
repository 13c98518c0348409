//! Every tokenizer, in every mode, on arbitrary bytes: no panic, and tokens are ordered,
//! non-empty and inside the input. The first byte picks the normalization options.
#![no_main]

use fabrik_clones::{Language, Mode, TokenizeOptions, tokenize};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, src)) = data.split_first() else { return };
    for lang in Language::ALL {
        for mode in [Mode::Strict, Mode::Mild, Mode::Weak] {
            let opts = TokenizeOptions {
                mode,
                ignore_identifiers: flags & 1 != 0,
                ignore_literals: flags & 2 != 0,
            };
            let mut end = 0;
            for token in tokenize(lang, src, &opts) {
                assert!(token.start >= end && token.start < token.end);
                assert!(token.end as usize <= src.len());
                end = token.end;
            }
        }
    }
});
