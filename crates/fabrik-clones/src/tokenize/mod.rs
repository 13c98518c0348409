//! Tokenizers: a table-driven lexer per language family (`spec`) and the one lexer that
//! reads the table (`lexer`). Tokens carry a 32-bit hash of their normalized text and their
//! byte range; nothing else is kept, so a token costs 12 bytes.

mod lexer;
mod spec;

use crate::lang::Language;
use crate::options::Mode;

/// One token: the hash of its normalized text and its byte range in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Token {
    /// Hash of the token after normalization (identifiers or literals may all hash alike).
    pub hash: u32,
    /// Byte offset of the first byte.
    pub start: u32,
    /// Byte offset one past the last byte.
    pub end: u32,
}

/// What the tokenizer keeps and how it normalizes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TokenizeOptions {
    /// Which tokens count (jscpd's modes).
    pub mode: Mode,
    /// Every identifier hashes alike (keywords stay distinct): renamed copies match.
    pub ignore_identifiers: bool,
    /// Every string and number hashes alike.
    pub ignore_literals: bool,
}

/// Tokenizes `src` as `lang`. Never fails: any bytes give some token stream.
#[must_use]
pub fn tokenize(lang: Language, src: &[u8], opts: &TokenizeOptions) -> Vec<Token> {
    lexer::lex(lang, src, *opts)
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
