use proptest::prelude::*;

use super::*;

fn texts(lang: Language, src: &str, opts: TokenizeOptions) -> Vec<&str> {
    tokenize(lang, src.as_bytes(), &opts)
        .iter()
        .map(|t| &src[t.start as usize..t.end as usize])
        .collect()
}

fn mild(lang: Language, src: &str) -> Vec<&str> {
    texts(lang, src, TokenizeOptions::default())
}

#[test]
fn python_tokens() {
    let src = "def f(a, b):  # add\n    return a + b ** 2.5e-3 // 'x'\n";
    assert_eq!(
        mild(Language::Python, src),
        [
            "def", "f", "(", "a", ",", "b", ")", ":", "# add", "return", "a", "+", "b", "*", "*",
            "2.5", "e", "-", "3", "/", "/", "'x'"
        ]
    );
}

#[test]
fn python_strings() {
    let src = "x = r'a\\'b' + \"\"\"doc\n'q'\n\"\"\" + f\"{y}\"";
    assert_eq!(
        mild(Language::Python, src),
        [
            "x", "=", "r'a\\'b'", "+", "\"\"\"", "doc\n", "'", "q", "'", "\"\"\"", "+", "f\"{y}\""
        ]
    );
}

#[test]
fn modes_follow_jscpd() {
    let src = "a = b // c\n  d";
    let strict = TokenizeOptions {
        mode: Mode::Strict,
        ..TokenizeOptions::default()
    };
    let weak = TokenizeOptions {
        mode: Mode::Weak,
        ..TokenizeOptions::default()
    };
    assert_eq!(
        texts(Language::C, src, strict),
        ["a", " ", "=", " ", "b", " ", "// c", "  ", "d"]
    );
    assert_eq!(mild(Language::C, src), ["a", "=", "b", "// c", "d"]);
    assert_eq!(texts(Language::C, src, weak), ["a", "=", "b", "d"]);
}

#[test]
fn ignore_identifiers_keeps_keywords() {
    let opts = TokenizeOptions {
        ignore_identifiers: true,
        ..TokenizeOptions::default()
    };
    let a = tokenize(Language::Rust, b"fn foo(x: u32) -> u32 { x }", &opts);
    let b = tokenize(Language::Rust, b"fn bar(y: u64) -> u64 { y }", &opts);
    let c = tokenize(Language::Rust, b"pub bar(y: u64) -> u64 { y }", &opts);
    let hashes = |v: &[Token]| v.iter().map(|t| t.hash).collect::<Vec<_>>();
    assert_eq!(hashes(&a), hashes(&b));
    assert_ne!(hashes(&a), hashes(&c));
}

#[test]
fn ignore_literals() {
    let opts = TokenizeOptions {
        ignore_literals: true,
        ..TokenizeOptions::default()
    };
    let a = tokenize(Language::Go, b"x := f(\"a\", 1)", &opts);
    let b = tokenize(Language::Go, b"x := f(`bb`, 22)", &opts);
    assert_eq!(
        a.iter().map(|t| t.hash).collect::<Vec<_>>(),
        b.iter().map(|t| t.hash).collect::<Vec<_>>()
    );
}

#[test]
fn rust_lifetimes_chars_and_raw_strings() {
    let src = "fn f<'a>(c: char) { let s = r#\"x\"y\"#; '\\n'; 'é'; b'x'; /* a /* b */ c */ }";
    assert_eq!(
        mild(Language::Rust, src),
        [
            "fn",
            "f",
            "<",
            "'a",
            ">",
            "(",
            "c",
            ":",
            "char",
            ")",
            "{",
            "let",
            "s",
            "=",
            "r#\"x\"y\"#",
            ";",
            "'\\n'",
            ";",
            "'é'",
            ";",
            "b'x'",
            ";",
            "/* a /* b */ c */",
            "}"
        ]
    );
}

#[test]
fn javascript_templates_and_operators() {
    let src = "const s = `a${ {b: 1}.b }c` ?? x === y;";
    assert_eq!(
        mild(Language::JavaScript, src),
        [
            "const",
            "s",
            "=",
            "`a${ {b: 1}.b }c`",
            "??",
            "x",
            "===",
            "y",
            ";"
        ]
    );
}

#[test]
fn shell_hash_needs_space() {
    assert_eq!(
        mild(Language::Shell, "echo $# a#b # c"),
        ["echo", "$", "#", "a", "#", "b", "# c"]
    );
}

#[test]
fn cpp_raw_strings_and_csharp_verbatim() {
    assert_eq!(
        mild(Language::Cpp, "x = R\"d(a\")d\";"),
        ["x", "=", "R\"d(a\")d\"", ";"]
    );
    assert_eq!(
        mild(Language::CSharp, "x = @\"a\"\"b\\\";"),
        ["x", "=", "@\"a\"\"b\\\"", ";"]
    );
}

#[test]
fn ruby_and_sql_comments() {
    assert_eq!(
        mild(Language::Ruby, "=begin\nx\n=end\ny"),
        ["=begin\nx\n=end", "y"]
    );
    assert_eq!(
        mild(Language::Sql, "SELECT a -- c\nFROM t"),
        ["SELECT", "a", "-- c", "FROM", "t"]
    );
}

#[test]
fn unterminated_string_stops_at_newline() {
    assert_eq!(mild(Language::C, "a = \"x\nb"), ["a", "=", "\"x", "b"]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Every tokenizer accepts any bytes without panicking, and its tokens are in order,
    /// non-empty and inside the input.
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        for lang in Language::ALL {
            for mode in [Mode::Strict, Mode::Mild, Mode::Weak] {
                let opts = TokenizeOptions { mode, ignore_identifiers: true, ignore_literals: false };
                let tokens = tokenize(lang, &bytes, &opts);
                let mut prev_end = 0;
                for t in &tokens {
                    prop_assert!(t.start >= prev_end && t.start < t.end);
                    prop_assert!(t.end as usize <= bytes.len());
                    prev_end = t.end;
                }
            }
        }
    }

    /// Code-like random text (quotes, comment openers, braces) also lexes cleanly.
    #[test]
    fn random_code_never_panics(src in "[a-z0-9 \\n\"'`#/*{}()$@=<>rR\\\\-]{0,200}") {
        for lang in Language::ALL {
            let tokens = tokenize(lang, src.as_bytes(), &TokenizeOptions::default());
            prop_assert!(tokens.iter().all(|t| t.end as usize <= src.len()));
        }
    }
}
