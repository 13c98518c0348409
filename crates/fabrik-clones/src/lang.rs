//! Languages: which files are scanned, under which name they are reported, and which
//! languages may clone each other (a C header and a C++ file, JavaScript and TypeScript).

use std::fmt;
use std::path::Path;

/// A language (jscpd calls it a "format") the tokenizer knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Language {
    /// `.rs`
    Rust,
    /// `.py`, `.pyi`, `.pyw`
    Python,
    /// `.js`, `.mjs`, `.cjs`
    JavaScript,
    /// `.jsx`
    Jsx,
    /// `.ts`, `.mts`, `.cts`
    TypeScript,
    /// `.tsx`
    Tsx,
    /// `.go`
    Go,
    /// `.java`
    Java,
    /// `.kt`, `.kts`
    Kotlin,
    /// `.c`, `.h`
    C,
    /// `.cc`, `.cpp`, `.cxx`, `.hpp`, `.hh`, `.hxx`, `.ipp`, `.inl`
    Cpp,
    /// `.cs`
    CSharp,
    /// `.rb`, `.rake`, `.gemspec`, `Rakefile`, `Gemfile`
    Ruby,
    /// `.php`, `.phtml`
    Php,
    /// `.swift`
    Swift,
    /// `.sh`, `.bash`, `.zsh`, `.ksh`
    Shell,
    /// `.sql`
    Sql,
    /// Other code-like files (Scala, Dart, Lua, Perl, CSS, ...) with a generic C-like lexer.
    Generic,
}

impl Language {
    /// Every language, in a fixed order.
    pub const ALL: [Language; 18] = [
        Language::Rust,
        Language::Python,
        Language::JavaScript,
        Language::Jsx,
        Language::TypeScript,
        Language::Tsx,
        Language::Go,
        Language::Java,
        Language::Kotlin,
        Language::C,
        Language::Cpp,
        Language::CSharp,
        Language::Ruby,
        Language::Php,
        Language::Swift,
        Language::Shell,
        Language::Sql,
        Language::Generic,
    ];

    /// The name used in reports (jscpd's format names where they exist).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Language::Rust => "rust",
            Language::Python => "python",
            Language::JavaScript => "javascript",
            Language::Jsx => "jsx",
            Language::TypeScript => "typescript",
            Language::Tsx => "tsx",
            Language::Go => "go",
            Language::Java => "java",
            Language::Kotlin => "kotlin",
            Language::C => "c",
            Language::Cpp => "cpp",
            Language::CSharp => "csharp",
            Language::Ruby => "ruby",
            Language::Php => "php",
            Language::Swift => "swift",
            Language::Shell => "bash",
            Language::Sql => "sql",
            Language::Generic => "generic",
        }
    }

    /// Parses a language name or a common alias (`js`, `ts`, `py`, `rs`, `sh`, `c++`, ...).
    #[must_use]
    pub fn from_name(name: &str) -> Option<Language> {
        let lower = name.trim().to_ascii_lowercase();
        let lang = match lower.as_str() {
            "rust" | "rs" => Language::Rust,
            "python" | "py" => Language::Python,
            "javascript" | "js" => Language::JavaScript,
            "jsx" => Language::Jsx,
            "typescript" | "ts" => Language::TypeScript,
            "tsx" => Language::Tsx,
            "go" | "golang" => Language::Go,
            "java" => Language::Java,
            "kotlin" | "kt" => Language::Kotlin,
            "c" => Language::C,
            "cpp" | "c++" | "cxx" => Language::Cpp,
            "csharp" | "c#" | "cs" => Language::CSharp,
            "ruby" | "rb" => Language::Ruby,
            "php" => Language::Php,
            "swift" => Language::Swift,
            "bash" | "shell" | "sh" | "zsh" => Language::Shell,
            "sql" => Language::Sql,
            "generic" => Language::Generic,
            _ => return None,
        };
        Some(lang)
    }

    /// The language of a file, from its extension or well-known name; `None` for files
    /// that are not scanned (text, data, lock files, images).
    #[must_use]
    pub fn from_path(path: &Path) -> Option<Language> {
        let file_name = path.file_name()?.to_str()?;
        match file_name {
            "Rakefile" | "Gemfile" | "Guardfile" | "Vagrantfile" => return Some(Language::Ruby),
            _ => {}
        }
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        Language::from_extension(&ext)
    }

    fn from_extension(ext: &str) -> Option<Language> {
        let lang = match ext {
            "rs" => Language::Rust,
            "py" | "pyi" | "pyw" => Language::Python,
            "js" | "mjs" | "cjs" => Language::JavaScript,
            "jsx" => Language::Jsx,
            "ts" | "mts" | "cts" => Language::TypeScript,
            "tsx" => Language::Tsx,
            "go" => Language::Go,
            "java" => Language::Java,
            "kt" | "kts" => Language::Kotlin,
            "c" | "h" => Language::C,
            "cc" | "cpp" | "cxx" | "c++" | "hpp" | "hh" | "hxx" | "h++" | "ipp" | "inl" => {
                Language::Cpp
            }
            "cs" => Language::CSharp,
            "rb" | "rake" | "gemspec" => Language::Ruby,
            "php" | "phtml" => Language::Php,
            "swift" => Language::Swift,
            "sh" | "bash" | "zsh" | "ksh" => Language::Shell,
            "sql" => Language::Sql,
            "scala" | "sc" | "dart" | "lua" | "pl" | "pm" | "r" | "vue" | "svelte" | "astro"
            | "groovy" | "gradle" | "zig" | "nim" | "jl" | "ex" | "exs" | "erl" | "hs" | "ml"
            | "fs" | "fsx" | "clj" | "cljs" | "m" | "mm" | "ps1" | "proto" | "graphql" | "css"
            | "scss" | "less" | "tf" | "hcl" | "sol" | "v" | "sv" | "vhd" | "pas" | "f90" => {
                Language::Generic
            }
            _ => return None,
        };
        Some(lang)
    }

    /// Languages that are compared with each other: C with C++, the JavaScript family.
    /// Two files of different families never form a clone.
    #[must_use]
    pub fn family(self) -> u8 {
        match self {
            Language::C | Language::Cpp => 1,
            Language::JavaScript | Language::Jsx | Language::TypeScript | Language::Tsx => 2,
            // Each other language is its own family; the discriminant keeps them apart.
            other => 16 + other as u8,
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for lang in Language::ALL {
            assert_eq!(Language::from_name(lang.name()), Some(lang));
        }
    }

    #[test]
    fn paths_map_to_languages() {
        assert_eq!(
            Language::from_path(Path::new("a/b.RS")),
            Some(Language::Rust)
        );
        assert_eq!(Language::from_path(Path::new("x.tsx")), Some(Language::Tsx));
        assert_eq!(
            Language::from_path(Path::new("Rakefile")),
            Some(Language::Ruby)
        );
        assert_eq!(Language::from_path(Path::new("README.md")), None);
        assert_eq!(Language::from_path(Path::new("noext")), None);
    }
}
