//! The table-driven lexer: one pass over the bytes, no allocation besides the output.
//!
//! It never fails and never panics: any byte sequence lexes to some token stream (a stray
//! quote runs to the end of its line, an unterminated comment to the end of the file).
//! Invalid UTF-8 is lexed as bytes; bytes >= 0x80 count as identifier characters.

use memchr::{memchr, memchr3};
use xxhash_rust::xxh3::xxh3_64_with_seed;

use super::spec::{Spec, Strings};
use super::{Token, TokenizeOptions};
use crate::lang::Language;
use crate::options::Mode;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Ident,
    Str,
    Num,
    Comment,
    Punct,
    Space,
}

/// The hash every identifier gets when identifiers are ignored.
const ANY_IDENT: u32 = 0x1D1D_1D1D;
/// The hash every string or number gets when literals are ignored.
const ANY_LITERAL: u32 = 0x7171_7171;

const OPS3: &[&[u8; 3]] = &[
    b"===", b"!==", b"**=", b"//=", b">>=", b"<<=", b"...", b"..=", b"<=>", b"&&=", b"||=", b"??=",
    b">>>",
];
const OPS2: &[&[u8; 2]] = &[
    b"==", b"!=", b"<=", b">=", b"&&", b"||", b"++", b"--", b"+=", b"-=", b"*=", b"/=", b"%=",
    b"&=", b"|=", b"^=", b"->", b"=>", b"::", b"<<", b">>", b"**", b"//", b"..", b"?.", b"??",
    b":=", b"<-",
];

/// Lexes `src` as `lang`; see [`crate::tokenize()`].
pub(crate) fn lex(lang: Language, src: &[u8], opts: TokenizeOptions) -> Vec<Token> {
    // Offsets are u32: a file over 4 GiB is lexed up to that size (files over --max-size
    // never get here).
    let src = &src[..src.len().min(u32::MAX as usize)];
    let spec = Spec::of(lang);
    let mut class = [0u8; 256];
    for (b, c) in class.iter_mut().enumerate() {
        let b = b as u8;
        if b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80 || spec.ident_extra.contains(&b) {
            *c |= IDENT;
        }
        if spec.quotes.contains(&b) {
            *c |= QUOTE;
        }
        let opens_comment = spec.line_comments.iter().any(|lc| lc[0] == b)
            || spec.block_comment.is_some_and(|(open, _)| open[0] == b)
            || (spec.begin_end_comments && b == b'=');
        if opens_comment {
            *c |= COMMENT;
        }
    }
    let mut lexer = Lexer {
        s: src,
        i: 0,
        class,
        spec,
        opts,
        line_start: true,
        out: Vec::with_capacity(src.len() / 5),
    };
    lexer.run();
    lexer.out
}

/// Byte classes of the lexer table.
const IDENT: u8 = 1;
const QUOTE: u8 = 2;
const COMMENT: u8 = 4;

struct Lexer<'a> {
    s: &'a [u8],
    i: usize,
    /// `IDENT | QUOTE | COMMENT` flags per byte value, from the spec.
    class: [u8; 256],
    spec: &'static Spec,
    opts: TokenizeOptions,
    line_start: bool,
    out: Vec<Token>,
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | 0x0b | 0x0c)
}

impl Lexer<'_> {
    fn at(&self, i: usize) -> u8 {
        self.s.get(i).copied().unwrap_or(0)
    }

    fn is_ident(&self, b: u8) -> bool {
        self.class[b as usize] & IDENT != 0
    }

    fn is_quote(&self, b: u8) -> bool {
        self.class[b as usize] & QUOTE != 0
    }

    fn is_ident_start(&self, b: u8) -> bool {
        self.is_ident(b) && !b.is_ascii_digit()
    }

    fn run(&mut self) {
        while self.i < self.s.len() {
            let start = self.i;
            let b = self.s[start];
            if b == b'\n' {
                self.i += 1;
                self.line_start = true;
                continue;
            }
            if is_space(b) {
                while self.i < self.s.len() && is_space(self.s[self.i]) {
                    self.i += 1;
                }
                self.emit(Kind::Space, start);
                continue;
            }
            let kind = self.lex_one(start);
            self.line_start = false;
            if kind == Kind::Str
                && self.spec.strings == Strings::Python
                && memchr(b'\n', &self.s[start..self.i]).is_some()
            {
                self.emit_docstring(start);
            } else {
                self.emit(kind, start);
            }
        }
    }

    fn lex_one(&mut self, start: usize) -> Kind {
        let b = self.s[start];
        if self.class[b as usize] & COMMENT != 0
            && let Some(kind) = self.comment(start)
        {
            return kind;
        }
        if self.is_quote(b) {
            return self.quoted(start);
        }
        if self.is_ident_start(b) {
            return self.word(start);
        }
        if b.is_ascii_digit() || (b == b'.' && self.at(start + 1).is_ascii_digit()) {
            self.number(start);
            return Kind::Num;
        }
        if b == b'@' && self.spec.strings == Strings::CSharp && self.at(start + 1) == b'"' {
            self.verbatim(start + 2);
            return Kind::Str;
        }
        self.operator(start);
        Kind::Punct
    }

    fn emit(&mut self, kind: Kind, start: usize) {
        let mut end = self.i;
        let bytes = &self.s[start..end];
        let hash = match kind {
            Kind::Space if self.opts.mode != Mode::Strict => return,
            Kind::Comment if self.opts.mode == Mode::Weak => return,
            Kind::Comment => {
                // A CRLF file's comments end before the `\r`, so line endings do not matter.
                if bytes.last() == Some(&b'\r') {
                    end -= 1;
                }
                hash(Kind::Comment, &self.s[start..end])
            }
            Kind::Ident if self.opts.ignore_identifiers && !self.spec.is_keyword(bytes) => {
                ANY_IDENT
            }
            Kind::Str | Kind::Num if self.opts.ignore_literals => ANY_LITERAL,
            other => hash(other, bytes),
        };
        // Offsets fit: `lex` truncates the input to u32::MAX bytes.
        let (start, end) = (start as u32, end as u32);
        self.out.push(Token { hash, start, end });
    }

    /// A multi-line Python string is lexed as jscpd does: the quotes are tokens, its first
    /// line is one token, and later lines are words and punctuation, so docstrings match
    /// whatever their indentation.
    fn emit_docstring(&mut self, start: usize) {
        let end = self.i;
        let text = &self.s[start..end];
        let open = text
            .iter()
            .position(|b| *b == b'"' || *b == b'\'')
            .unwrap_or(0);
        let quote = text[open];
        let open_len = open
            + text[open..]
                .iter()
                .take_while(|b| **b == quote)
                .count()
                .min(3);
        let close_len = text
            .iter()
            .rev()
            .take_while(|b| **b == quote)
            .count()
            .min(3);
        let body_end = end - close_len;
        self.piece(start, start + open_len);
        let first_end = memchr(b'\n', &self.s[start..end]).map_or(end, |p| start + p + 1);
        self.piece(
            start + open_len,
            first_end.min(body_end).max(start + open_len),
        );
        let mut i = first_end;
        while i < body_end {
            if self.s[i].is_ascii_whitespace() {
                i += 1;
                continue;
            }
            let word = i;
            if self.is_ident(self.s[i]) {
                while i < body_end && self.is_ident(self.s[i]) {
                    i += 1;
                }
            } else {
                i += utf8_len(self.s[i]).min(body_end - i);
            }
            self.piece(word, i);
        }
        self.piece(body_end.max(first_end), end);
        self.i = end;
    }

    /// Emits `[from, to)` as a string token if it is not empty.
    fn piece(&mut self, from: usize, to: usize) {
        if from < to {
            self.i = to;
            self.emit(Kind::Str, from);
        }
    }

    fn comment(&mut self, start: usize) -> Option<Kind> {
        let rest = &self.s[start..];
        for lc in self.spec.line_comments {
            if !rest.starts_with(lc) {
                continue;
            }
            if *lc == b"#" && self.spec.hash_needs_space && !self.after_space(start) {
                continue;
            }
            self.i = memchr(b'\n', rest).map_or(self.s.len(), |p| start + p);
            return Some(Kind::Comment);
        }
        if let Some((open, close)) = self.spec.block_comment
            && rest.starts_with(open)
        {
            self.block_comment(start + open.len(), open, close);
            return Some(Kind::Comment);
        }
        if self.spec.begin_end_comments && self.line_start && rest.starts_with(b"=begin") {
            self.i = find(self.s, start, b"\n=end").map_or(self.s.len(), |p| {
                memchr(b'\n', &self.s[p + 1..]).map_or(self.s.len(), |q| p + 1 + q)
            });
            return Some(Kind::Comment);
        }
        None
    }

    fn after_space(&self, pos: usize) -> bool {
        pos == 0 || matches!(self.s[pos - 1], b' ' | b'\t' | b'\n' | b'\r' | b';')
    }

    fn block_comment(&mut self, mut i: usize, open: &[u8], close: &[u8]) {
        let mut depth = 1usize;
        while i < self.s.len() {
            if self.s[i..].starts_with(close) {
                i += close.len();
                depth -= 1;
                if depth == 0 {
                    break;
                }
            } else if self.spec.nested_comments && self.s[i..].starts_with(open) {
                i += open.len();
                depth += 1;
            } else {
                i += 1;
            }
        }
        self.i = i.min(self.s.len());
    }

    fn quoted(&mut self, start: usize) -> Kind {
        let q = self.s[start];
        match self.spec.strings {
            Strings::Rust if q == b'\'' => return self.rust_quote(start),
            Strings::Python | Strings::Triple | Strings::CSharp if self.triple_at(start) => {
                self.triple(start);
            }
            Strings::Go if q == b'`' => self.raw_until(start + 1, b"`"),
            Strings::Template if q == b'`' => self.template(start + 1),
            _ => self.scan_quoted(start + 1, q, self.spec.multiline_strings || q == b'`'),
        }
        Kind::Str
    }

    fn triple_at(&self, start: usize) -> bool {
        let q = self.s[start];
        self.at(start + 1) == q && self.at(start + 2) == q
    }

    fn triple(&mut self, start: usize) {
        let q = self.s[start];
        let mut i = start + 3;
        while i < self.s.len() {
            match self.s[i] {
                b'\\' => i += 2,
                b if b == q && self.at(i + 1) == q && self.at(i + 2) == q => {
                    self.i = i + 3;
                    return;
                }
                _ => i += 1,
            }
        }
        self.i = self.s.len();
    }

    /// Scans past the closing `q` from `i`, honouring backslash escapes. Without
    /// `multiline`, an unterminated string stops before the newline.
    fn scan_quoted(&mut self, mut i: usize, q: u8, multiline: bool) {
        while let Some(p) = memchr3(q, b'\\', b'\n', &self.s[i.min(self.s.len())..]) {
            let at = i + p;
            match self.s[at] {
                b'\\' => i = at + 2,
                b'\n' if !multiline => {
                    self.i = at;
                    return;
                }
                b'\n' => i = at + 1,
                _ => {
                    self.i = at + 1;
                    return;
                }
            }
        }
        self.i = self.s.len();
    }

    fn raw_until(&mut self, i: usize, close: &[u8]) {
        self.i = find(self.s, i, close).map_or(self.s.len(), |p| p + close.len());
    }

    fn verbatim(&mut self, mut i: usize) {
        // C# @"...": `""` is an escaped quote, backslashes are literal.
        while let Some(p) = memchr(b'"', &self.s[i.min(self.s.len())..]) {
            let at = i + p;
            if self.at(at + 1) == b'"' {
                i = at + 2;
            } else {
                self.i = at + 1;
                return;
            }
        }
        self.i = self.s.len();
    }

    /// A JavaScript template literal: `${ ... }` holes may hold braces.
    fn template(&mut self, mut i: usize) {
        let mut depth = 0usize;
        while i < self.s.len() {
            match self.s[i] {
                b'\\' => i += 1,
                b'`' if depth == 0 => {
                    self.i = i + 1;
                    return;
                }
                b'$' if self.at(i + 1) == b'{' => {
                    depth += 1;
                    i += 1;
                }
                b'{' if depth > 0 => depth += 1,
                b'}' if depth > 0 => depth -= 1,
                _ => {}
            }
            i += 1;
        }
        self.i = self.s.len();
    }

    /// Rust `'`: a char literal (`'a'`, `'\n'`, `'é'`) or a lifetime / label (`'a`).
    fn rust_quote(&mut self, start: usize) -> Kind {
        let next = self.at(start + 1);
        if next == b'\\' {
            self.scan_quoted(start + 1, b'\'', false);
            return Kind::Str;
        }
        let len = utf8_len(next);
        if next != 0 && next != b'\n' && self.at(start + 1 + len) == b'\'' {
            self.i = start + 2 + len;
            return Kind::Str;
        }
        let mut i = start + 1;
        while i < self.s.len() && self.is_ident(self.s[i]) {
            i += 1;
        }
        self.i = i;
        if i == start + 1 {
            Kind::Punct
        } else {
            Kind::Ident
        }
    }

    fn word(&mut self, start: usize) -> Kind {
        let mut i = start;
        while i < self.s.len() && self.is_ident(self.s[i]) {
            i += 1;
        }
        self.i = i;
        let next = self.at(i);
        if self.is_quote(next) || next == b'#' {
            self.string_prefix(start, i).unwrap_or(Kind::Ident)
        } else {
            Kind::Ident
        }
    }

    /// A word directly followed by a quote may be a string prefix (`r"`, `f'`, `R"(`).
    fn string_prefix(&mut self, start: usize, quote: usize) -> Option<Kind> {
        let word = &self.s[start..quote];
        let q = self.s[quote];
        match self.spec.strings {
            Strings::Python if is_python_prefix(word) && q != b'#' => {
                self.quoted(quote);
            }
            Strings::Rust if matches!(word, b"r" | b"br" | b"cr") && (q == b'#' || q == b'"') => {
                self.rust_raw(quote);
            }
            Strings::Rust if matches!(word, b"b" | b"c") && q != b'#' => {
                self.quoted(quote);
            }
            Strings::Cpp if word.ends_with(b"R") && q == b'"' => self.cpp_raw(quote + 1),
            Strings::Cpp | Strings::Plain if matches!(word, b"u8" | b"u" | b"U" | b"L") => {
                if q == b'#' {
                    return None;
                }
                self.quoted(quote);
            }
            _ => return None,
        }
        Some(Kind::Str)
    }

    fn rust_raw(&mut self, mut i: usize) {
        let hashes_start = i;
        while self.at(i) == b'#' {
            i += 1;
        }
        if self.at(i) != b'"' {
            // `r#ident` (a raw identifier): lex the hashes as punctuation.
            self.i = hashes_start;
            return;
        }
        let mut close = vec![b'"'];
        close.extend(std::iter::repeat_n(b'#', i - hashes_start));
        self.raw_until(i + 1, &close);
    }

    fn cpp_raw(&mut self, i: usize) {
        let delim_end = memchr(b'(', self.s.get(i..).unwrap_or_default()).map(|p| i + p);
        let Some(delim_end) = delim_end.filter(|end| end - i <= 16) else {
            self.scan_quoted(i, b'"', false);
            return;
        };
        let mut close = vec![b')'];
        close.extend_from_slice(&self.s[i..delim_end]);
        close.push(b'"');
        self.raw_until(delim_end, &close);
    }

    fn number(&mut self, start: usize) {
        if !self.spec.rich_tokens {
            let mut i = start + 1;
            while i < self.s.len()
                && (self.s[i].is_ascii_digit()
                    || (self.s[i] == b'.' && self.at(i + 1).is_ascii_digit()))
            {
                i += 1;
            }
            self.i = i;
            return;
        }
        let hex = self.s[start] == b'0' && matches!(self.at(start + 1), b'x' | b'X');
        let mut i = start + 1;
        while i < self.s.len() {
            let b = self.s[i];
            let exponent_sign = matches!(b, b'+' | b'-')
                && !hex
                && matches!(self.s[i - 1], b'e' | b'E')
                && self.at(i + 1).is_ascii_digit();
            let decimal = b == b'.' && self.at(i + 1).is_ascii_digit();
            if b.is_ascii_alphanumeric() || b == b'_' || exponent_sign || decimal {
                i += 1;
            } else {
                break;
            }
        }
        self.i = i;
    }

    fn operator(&mut self, start: usize) {
        let rest = &self.s[start..];
        let multi = self.spec.rich_tokens;
        let len = if multi && rest.len() >= 3 && OPS3.iter().any(|op| rest.starts_with(*op)) {
            3
        } else if multi && rest.len() >= 2 && OPS2.iter().any(|op| rest.starts_with(*op)) {
            2
        } else {
            utf8_len(rest[0]).min(rest.len())
        };
        self.i = start + len;
    }
}

#[inline]
fn hash(kind: Kind, bytes: &[u8]) -> u32 {
    // Most tokens are short: pack them into a word and mix it, instead of a full xxh3.
    // Truncation to 32 bits is intended; windows are compared token by token anyway.
    if bytes.len() < 8 {
        // Injective: up to seven bytes, then length and kind in the high byte.
        let mut x = ((bytes.len() as u64) << 59) | ((kind as u64) << 56);
        for (i, &b) in bytes.iter().enumerate() {
            x |= u64::from(b) << (8 * i);
        }
        return (mix(x.wrapping_mul(0x9E37_79B9_7F4A_7C15)) >> 32) as u32;
    }
    xxh3_64_with_seed(bytes, kind as u64) as u32
}

fn mix(mut x: u64) -> u64 {
    x ^= x >> 29;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^ (x >> 32)
}

fn is_python_prefix(word: &[u8]) -> bool {
    word.len() <= 2 && word.iter().all(|b| b"rRbBfFuU".contains(b))
}

fn utf8_len(b: u8) -> usize {
    match b {
        0xF0..=0xF7 => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

/// The first occurrence of `needle` in `s` at or after `from`.
fn find(s: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(s.get(from..)?, needle).map(|p| from + p)
}
