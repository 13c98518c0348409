//! The lexer table: one `Spec` per language family (comment syntax, string syntax,
//! identifier characters, keywords). Adding a language is adding a row here.

use crate::lang::Language;

/// How a language writes strings beyond plain quotes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Strings {
    /// Quotes only, with backslash escapes.
    Plain,
    /// Rust: `r#"..."#`, `b"..."`, `br"..."`, `'c'` versus lifetimes `'a`.
    Rust,
    /// Python: `"""..."""`, prefixes `r`, `b`, `f`, `u` and their combinations.
    Python,
    /// Triple-quoted text blocks (Kotlin, Swift, Java): `"""..."""`.
    Triple,
    /// Go: backtick raw strings without escapes.
    Go,
    /// C#: `@"..."` verbatim strings and `"""..."""` raw strings.
    CSharp,
    /// C++: `R"delim(...)delim"` raw strings.
    Cpp,
    /// JavaScript family: template literals with `${...}` holes.
    Template,
}

/// The lexer table row of one language.
#[derive(Debug)]
pub(crate) struct Spec {
    pub(crate) line_comments: &'static [&'static [u8]],
    pub(crate) block_comment: Option<(&'static [u8], &'static [u8])>,
    pub(crate) nested_comments: bool,
    /// Quote characters; a quote not listed here is punctuation.
    pub(crate) quotes: &'static [u8],
    /// Whether a plain string may span lines (else it ends at the newline).
    pub(crate) multiline_strings: bool,
    pub(crate) strings: Strings,
    /// Characters allowed in identifiers besides ASCII letters, digits, `_` and non-ASCII.
    pub(crate) ident_extra: &'static [u8],
    /// `#` starts a comment only after whitespace or at a line start (shell).
    pub(crate) hash_needs_space: bool,
    /// Keywords are matched without regard to case (SQL).
    pub(crate) case_insensitive: bool,
    /// `=begin` ... `=end` at line starts is a comment (Ruby).
    pub(crate) begin_end_comments: bool,
    /// Operators like `===` and `=>` are one token and `0x1f` is one number (JavaScript,
    /// as jscpd lexes it); in other languages every punctuation character is a token and a
    /// number is its digits (`0x1f` is `0` and `x1f`), as jscpd counts them.
    pub(crate) rich_tokens: bool,
    /// Sorted keyword list; keywords stay distinct when identifiers are ignored.
    pub(crate) keywords: &'static [&'static str],
}

const C_LIKE: &[&[u8]] = &[b"//"];
const HASH: &[&[u8]] = &[b"#"];
const BLOCK: Option<(&[u8], &[u8])> = Some((b"/*", b"*/"));

impl Spec {
    /// The table row of `lang`.
    pub(crate) fn of(lang: Language) -> &'static Spec {
        match lang {
            Language::Rust => &RUST,
            Language::Python => &PYTHON,
            Language::JavaScript | Language::Jsx | Language::TypeScript | Language::Tsx => &JS,
            Language::Go => &GO,
            Language::Java => &JAVA,
            Language::Kotlin => &KOTLIN,
            Language::C => &C,
            Language::Cpp => &CPP,
            Language::CSharp => &CSHARP,
            Language::Ruby => &RUBY,
            Language::Php => &PHP,
            Language::Swift => &SWIFT,
            Language::Shell => &SHELL,
            Language::Sql => &SQL,
            Language::Generic => &GENERIC,
        }
    }

    /// Whether `word` is a keyword of this language.
    pub(crate) fn is_keyword(&self, word: &[u8]) -> bool {
        if self.case_insensitive {
            let lower = word.to_ascii_lowercase();
            return self
                .keywords
                .binary_search_by(|k| k.as_bytes().cmp(&lower))
                .is_ok();
        }
        self.keywords
            .binary_search_by(|k| k.as_bytes().cmp(word))
            .is_ok()
    }
}

const fn c_like(
    quotes: &'static [u8],
    strings: Strings,
    keywords: &'static [&'static str],
) -> Spec {
    Spec {
        line_comments: C_LIKE,
        block_comment: BLOCK,
        nested_comments: false,
        quotes,
        multiline_strings: false,
        strings,
        ident_extra: b"",
        hash_needs_space: false,
        case_insensitive: false,
        begin_end_comments: false,
        rich_tokens: false,
        keywords,
    }
}

static RUST: Spec = Spec {
    nested_comments: true,
    multiline_strings: true,
    ..c_like(b"\"'", Strings::Rust, RUST_KW)
};
static PYTHON: Spec = Spec {
    line_comments: HASH,
    block_comment: None,
    ..c_like(b"\"'", Strings::Python, PYTHON_KW)
};
static JS: Spec = Spec {
    ident_extra: b"$",
    rich_tokens: true,
    ..c_like(b"\"'`", Strings::Template, JS_KW)
};
static GO: Spec = c_like(b"\"'`", Strings::Go, GO_KW);
static JAVA: Spec = c_like(b"\"'", Strings::Triple, JAVA_KW);
static KOTLIN: Spec = Spec {
    nested_comments: true,
    ..c_like(b"\"'", Strings::Triple, KOTLIN_KW)
};
static C: Spec = c_like(b"\"'", Strings::Plain, C_KW);
static CPP: Spec = c_like(b"\"'", Strings::Cpp, CPP_KW);
static CSHARP: Spec = c_like(b"\"'", Strings::CSharp, CSHARP_KW);
static RUBY: Spec = Spec {
    line_comments: HASH,
    block_comment: None,
    multiline_strings: true,
    ident_extra: b"?!@$",
    begin_end_comments: true,
    ..c_like(b"\"'`", Strings::Plain, RUBY_KW)
};
static PHP: Spec = Spec {
    line_comments: &[b"//", b"#"],
    multiline_strings: true,
    ident_extra: b"$",
    ..c_like(b"\"'`", Strings::Plain, PHP_KW)
};
static SWIFT: Spec = Spec {
    nested_comments: true,
    ..c_like(b"\"", Strings::Triple, SWIFT_KW)
};
static SHELL: Spec = Spec {
    line_comments: HASH,
    block_comment: None,
    multiline_strings: true,
    ident_extra: b"$",
    hash_needs_space: true,
    ..c_like(b"\"'`", Strings::Plain, SHELL_KW)
};
static SQL: Spec = Spec {
    line_comments: &[b"--"],
    multiline_strings: true,
    case_insensitive: true,
    ..c_like(b"\"'`", Strings::Plain, SQL_KW)
};
static GENERIC: Spec = Spec {
    line_comments: &[b"//", b"#"],
    ident_extra: b"$",
    hash_needs_space: true,
    ..c_like(b"\"'`", Strings::Plain, &[])
};

// Keyword lists are sorted (byte order): `is_keyword` binary-searches them.
const RUST_KW: &[&str] = &[
    "Self", "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum",
    "extern", "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move",
    "mut", "pub", "ref", "return", "self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while", "yield",
];
const PYTHON_KW: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "case", "class",
    "continue", "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if",
    "import", "in", "is", "lambda", "match", "nonlocal", "not", "or", "pass", "raise", "return",
    "self", "try", "while", "with", "yield",
];
const JS_KW: &[&str] = &[
    "abstract",
    "any",
    "as",
    "async",
    "await",
    "boolean",
    "break",
    "case",
    "catch",
    "class",
    "const",
    "continue",
    "debugger",
    "declare",
    "default",
    "delete",
    "do",
    "else",
    "enum",
    "export",
    "extends",
    "false",
    "finally",
    "for",
    "from",
    "function",
    "get",
    "if",
    "implements",
    "import",
    "in",
    "instanceof",
    "interface",
    "let",
    "new",
    "null",
    "number",
    "of",
    "private",
    "protected",
    "public",
    "readonly",
    "return",
    "set",
    "static",
    "string",
    "super",
    "switch",
    "this",
    "throw",
    "true",
    "try",
    "type",
    "typeof",
    "undefined",
    "var",
    "void",
    "while",
    "with",
    "yield",
];
const GO_KW: &[&str] = &[
    "break",
    "case",
    "chan",
    "const",
    "continue",
    "default",
    "defer",
    "else",
    "fallthrough",
    "false",
    "for",
    "func",
    "go",
    "goto",
    "if",
    "import",
    "interface",
    "map",
    "nil",
    "package",
    "range",
    "return",
    "select",
    "struct",
    "switch",
    "true",
    "type",
    "var",
];
const JAVA_KW: &[&str] = &[
    "abstract",
    "assert",
    "boolean",
    "break",
    "byte",
    "case",
    "catch",
    "char",
    "class",
    "const",
    "continue",
    "default",
    "do",
    "double",
    "else",
    "enum",
    "extends",
    "false",
    "final",
    "finally",
    "float",
    "for",
    "if",
    "implements",
    "import",
    "instanceof",
    "int",
    "interface",
    "long",
    "new",
    "null",
    "package",
    "private",
    "protected",
    "public",
    "record",
    "return",
    "short",
    "static",
    "super",
    "switch",
    "synchronized",
    "this",
    "throw",
    "throws",
    "true",
    "try",
    "var",
    "void",
    "volatile",
    "while",
    "yield",
];
const KOTLIN_KW: &[&str] = &[
    "as",
    "break",
    "class",
    "companion",
    "continue",
    "data",
    "do",
    "else",
    "false",
    "for",
    "fun",
    "if",
    "in",
    "interface",
    "is",
    "null",
    "object",
    "override",
    "package",
    "private",
    "protected",
    "public",
    "return",
    "sealed",
    "super",
    "this",
    "throw",
    "true",
    "try",
    "typealias",
    "val",
    "var",
    "when",
    "while",
];
const C_KW: &[&str] = &[
    "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else",
    "enum", "extern", "float", "for", "goto", "if", "inline", "int", "long", "register",
    "restrict", "return", "short", "signed", "sizeof", "static", "struct", "switch", "typedef",
    "union", "unsigned", "void", "volatile", "while",
];
const CPP_KW: &[&str] = &[
    "auto",
    "bool",
    "break",
    "case",
    "catch",
    "char",
    "class",
    "const",
    "constexpr",
    "continue",
    "default",
    "delete",
    "do",
    "double",
    "else",
    "enum",
    "explicit",
    "extern",
    "false",
    "float",
    "for",
    "friend",
    "goto",
    "if",
    "inline",
    "int",
    "long",
    "mutable",
    "namespace",
    "new",
    "noexcept",
    "nullptr",
    "operator",
    "override",
    "private",
    "protected",
    "public",
    "return",
    "short",
    "signed",
    "sizeof",
    "static",
    "struct",
    "switch",
    "template",
    "this",
    "throw",
    "true",
    "try",
    "typedef",
    "typename",
    "union",
    "unsigned",
    "using",
    "virtual",
    "void",
    "volatile",
    "while",
];
const CSHARP_KW: &[&str] = &[
    "abstract",
    "as",
    "async",
    "await",
    "base",
    "bool",
    "break",
    "case",
    "catch",
    "class",
    "const",
    "continue",
    "default",
    "do",
    "double",
    "else",
    "enum",
    "false",
    "finally",
    "float",
    "for",
    "foreach",
    "if",
    "in",
    "int",
    "interface",
    "internal",
    "is",
    "long",
    "namespace",
    "new",
    "null",
    "out",
    "override",
    "private",
    "protected",
    "public",
    "readonly",
    "ref",
    "return",
    "sealed",
    "static",
    "string",
    "struct",
    "switch",
    "this",
    "throw",
    "true",
    "try",
    "using",
    "var",
    "virtual",
    "void",
    "while",
];
const RUBY_KW: &[&str] = &[
    "alias", "and", "begin", "break", "case", "class", "def", "do", "else", "elsif", "end",
    "ensure", "false", "for", "if", "in", "module", "next", "nil", "not", "or", "redo", "rescue",
    "retry", "return", "self", "super", "then", "true", "undef", "unless", "until", "when",
    "while", "yield",
];
const PHP_KW: &[&str] = &[
    "abstract",
    "array",
    "as",
    "break",
    "case",
    "catch",
    "class",
    "const",
    "continue",
    "default",
    "do",
    "echo",
    "else",
    "elseif",
    "extends",
    "false",
    "final",
    "finally",
    "fn",
    "for",
    "foreach",
    "function",
    "if",
    "implements",
    "interface",
    "namespace",
    "new",
    "null",
    "private",
    "protected",
    "public",
    "return",
    "static",
    "switch",
    "throw",
    "trait",
    "true",
    "try",
    "use",
    "while",
];
const SWIFT_KW: &[&str] = &[
    "as",
    "break",
    "case",
    "catch",
    "class",
    "continue",
    "default",
    "defer",
    "do",
    "else",
    "enum",
    "extension",
    "false",
    "for",
    "func",
    "guard",
    "if",
    "import",
    "in",
    "init",
    "is",
    "let",
    "nil",
    "private",
    "protocol",
    "public",
    "return",
    "self",
    "static",
    "struct",
    "switch",
    "throw",
    "throws",
    "true",
    "try",
    "var",
    "where",
    "while",
];
const SHELL_KW: &[&str] = &[
    "case", "do", "done", "elif", "else", "esac", "export", "fi", "for", "function", "if", "in",
    "local", "return", "then", "until", "while",
];
const SQL_KW: &[&str] = &[
    "alter", "and", "as", "asc", "between", "by", "case", "create", "delete", "desc", "distinct",
    "drop", "else", "end", "exists", "from", "group", "having", "in", "index", "inner", "insert",
    "into", "is", "join", "key", "left", "like", "limit", "not", "null", "on", "or", "order",
    "outer", "primary", "right", "select", "set", "table", "then", "union", "update", "values",
    "view", "when", "where",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyword_lists_are_sorted() {
        for lang in Language::ALL {
            let kw = Spec::of(lang).keywords;
            assert!(kw.windows(2).all(|w| w[0] < w[1]), "{lang}: {kw:?}");
        }
    }

    #[test]
    fn keywords_are_found() {
        assert!(Spec::of(Language::Python).is_keyword(b"def"));
        assert!(!Spec::of(Language::Python).is_keyword(b"compute"));
        assert!(Spec::of(Language::Sql).is_keyword(b"SELECT"));
    }
}
