//! Bad input: binary files, huge minified files, invalid UTF-8.

use std::path::PathBuf;

use fabrik_clones::{Options, SkipReason, detect};

use crate::support::{function, write};

#[test]
fn binary_and_oversized_files_are_skipped_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "a.py", &function("f", "a", "b", "c"));
    write(root, "b.py", &function("f", "a", "b", "c"));
    std::fs::write(root.join("bin.py"), b"x = 1\0\0\x01binary").unwrap();
    let minified = "var a=1;".repeat(200_000);
    write(root, "huge.min.js", &minified);
    let mut invalid = function("g", "q", "r", "s").into_bytes();
    invalid.splice(3..3, [0xff, 0xfe, 0xc3]);
    std::fs::write(root.join("bad_utf8.py"), &invalid).unwrap();

    let report = detect(
        root,
        &[PathBuf::from(".")],
        &Options {
            min_tokens: 30,
            ..Options::default()
        },
    )
    .unwrap();
    let reasons: Vec<_> = report
        .skipped
        .iter()
        .map(|s| (s.path.as_str(), &s.reason))
        .collect();
    assert_eq!(
        reasons,
        [
            ("bin.py", &SkipReason::Binary),
            ("huge.min.js", &SkipReason::TooLarge(1_600_000))
        ]
    );
    assert_eq!(report.statistics.total.sources, 3);
    assert!(
        report
            .clones
            .iter()
            .any(|c| c.first.name == "a.py" && c.second.name == "b.py")
    );
}
