//! Property and bad-input tests (reliability catalogue B and C): random markdown never
//! panics the parser, the lint, the renderers or grounding; CRLF parses like LF; size,
//! encoding and nesting limits hold.

use fabrik_plan::{Error, Format, GroundOptions, ParseOptions, Plan, render};
use pretty_assertions::assert_eq;
use proptest::prelude::*;

use crate::support;

/// Markdown-ish fragments that exercise every construct the extractors look at.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("## 2. File-impact manifest\n".to_owned()),
        Just("## 5. Gates\n".to_owned()),
        Just("## 6. Golden paths\n### Path 1\n".to_owned()),
        Just("## 7. Failure matrix\n".to_owned()),
        Just("## 1. Repo grounding\n".to_owned()),
        Just("| Path | Action | Reason | What will NOT change |\n|---|---|---|---|\n".to_owned()),
        Just("| `a.rs` | CREATE | r | - |\n".to_owned()),
        Just("| `../x` -> `y` | RENAME | | |\n".to_owned()),
        Just("**DO-NOT-TOUCH:**\n- `a/**`\n".to_owned()),
        Just("```sh\ncargo test \\\n".to_owned()),
        Just("```\n".to_owned()),
        Just("- Command: `x y`\n  - Exit code: 0\n".to_owned()),
        Just("> > > - > 1. nested\n".to_owned()),
        Just("`src/lib.rs:12` `Foo::bar()` etc.\n".to_owned()),
        Just("\u{202e}\u{200b}\r\n\t".to_owned()),
        "[ -~]{0,40}\n",
        "\\PC{0,20}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn random_markdown_never_panics(parts in prop::collection::vec(fragment(), 0..25)) {
        let text: String = parts.concat();
        let plan = Plan::parse(&text, &ParseOptions::default()).unwrap();
        let findings = support::lint(&plan);
        for f in &findings {
            if let Some(s) = f.span {
                prop_assert!(s.offset <= text.len());
                prop_assert!(s.line >= 1 && s.column >= 1);
            }
        }
        for format in [Format::Text, Format::Json, Format::Sarif] {
            let _ = render(&findings, Some(&plan), "p.md", format);
        }
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        if let Ok(plan) = Plan::from_bytes(&bytes, &ParseOptions::default()) {
            let _ = support::lint(&plan);
        }
    }
}

#[test]
fn random_plans_ground_without_panicking() {
    let repo = support::repo("tally");
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 40,
        ..ProptestConfig::default()
    });
    runner
        .run(&prop::collection::vec(fragment(), 0..20), |parts| {
            let plan = Plan::parse(&parts.concat(), &ParseOptions::default()).unwrap();
            let _ = fabrik_plan::ground(&plan, repo.path(), &GroundOptions::default()).unwrap();
            Ok(())
        })
        .unwrap();
}

#[test]
fn crlf_tabs_and_missing_final_newline_lint_like_lf() {
    for name in [
        "ok-rust-remove-command.md",
        "P050-vague-language.md",
        "P013-manifest-duplicate-row.md",
    ] {
        let lf = std::fs::read_to_string(support::plans_dir().join(name)).unwrap();
        let crlf = lf.replace('\n', "\r\n");
        let key = |t: &str| -> Vec<(&'static str, usize, usize)> {
            support::lint(&support::parse(t))
                .iter()
                .map(|f| {
                    (
                        f.rule.id(),
                        f.span.map_or(0, |s| s.line),
                        f.span.map_or(0, |s| s.column),
                    )
                })
                .collect()
        };
        assert_eq!(key(&crlf), key(&lf), "{name}");
        assert_eq!(key(lf.trim_end()), key(&lf), "{name}");
    }
}

#[test]
fn oversized_plan_is_refused_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.md");
    std::fs::write(&path, vec![b'a'; 6 * 1024 * 1024]).unwrap();
    let err = Plan::load(&path, &ParseOptions::default()).unwrap_err();
    assert!(
        matches!(
            err,
            Error::TooLarge {
                limit: 5_242_880,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("over the limit"), "{err}");
    let small = ParseOptions {
        max_bytes: 10,
        ..ParseOptions::default()
    };
    assert!(matches!(
        Plan::parse("0123456789ab", &small),
        Err(Error::TooLarge { .. })
    ));
}

#[test]
fn non_utf8_plan_names_the_byte_offset() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("latin1.md");
    std::fs::write(&path, b"# Plan\n\nCaf\xe9\n").unwrap();
    let err = Plan::load(&path, &ParseOptions::default()).unwrap_err();
    assert!(
        matches!(
            err,
            Error::NotUtf8 {
                offset: 11,
                line: 3,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("offset 11"), "{err}");
}

#[test]
fn directories_and_missing_files_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        Plan::load(dir.path(), &ParseOptions::default()),
        Err(Error::NotAFile { .. })
    ));
    assert!(matches!(
        Plan::load(&dir.path().join("nope.md"), &ParseOptions::default()),
        Err(Error::Io { .. })
    ));
}

#[test]
fn empty_and_heading_only_plans_say_so() {
    assert_eq!(support::ids(&support::lint(&support::parse(""))), ["P003"]);
    let only_headings = "## 1. Repo grounding\n## 2. Manifest\n## 3. Contracts\n## 4. Invariants\n## 5. Gates\n## 6. Golden paths\n## 7. Failure matrix\n## 8. Step report\n";
    let f = support::lint(&support::parse(only_headings));
    assert_eq!(support::ids(&f), ["P002"]);
    assert_eq!(f.len(), 8);
}

#[test]
fn deep_nesting_is_reported_not_overflowed() {
    let text = format!(
        "## 4. Invariants\n\n{}x\n\n{}y\n",
        "> ".repeat(10_000),
        "- ".repeat(5_000)
    );
    let f = support::lint(&support::parse(&text));
    assert!(
        f.iter()
            .any(|f| f.rule.id() == "P004" && f.span.is_some_and(|s| s.line == 3)),
        "{f:?}"
    );
}

#[test]
fn plan_at_the_size_cap_lints_quickly() {
    let base =
        std::fs::read_to_string(support::plans_dir().join("ok-rust-remove-command.md")).unwrap();
    let mut text = base.clone();
    let filler = "- `src/store.rs` keeps its `name count` format; 1 line per item.\n";
    while text.len() + filler.len() < 5 * 1024 * 1024 - 1 {
        text.push_str(filler);
    }
    let start = std::time::Instant::now();
    let plan = support::parse(&text);
    let f = support::lint(&plan);
    let took = start.elapsed();
    assert!(f.is_empty(), "{:?}", &f[..f.len().min(3)]);
    // Linear: debug builds of the whole pipeline stay well under this on 2 cores.
    assert!(took.as_secs_f64() < 15.0, "{took:?}");
}

#[test]
fn gate_commands_with_hidden_characters_are_errors() {
    let text = std::fs::read_to_string(support::plans_dir().join("ok-rust-remove-command.md"))
        .unwrap()
        .replace("`cargo test`", "`cargo test \u{202e}--release`");
    let f = support::lint(&support::parse(&text));
    assert_eq!(support::ids(&f), ["P005"]);
    assert!(f[0].is_error(), "{f:?}");
}
