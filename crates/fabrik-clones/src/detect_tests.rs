use crate::{ClonePair, Language, Options, Report, detect_sources};

fn opts(min_tokens: usize, min_lines: usize) -> Options {
    Options {
        min_tokens,
        min_lines,
        ..Options::default()
    }
}

fn run(files: &[(&str, &str)], opts: &Options) -> Report {
    let sources = files
        .iter()
        .map(|(n, s)| ((*n).to_owned(), Language::Python, s.as_bytes().to_vec()))
        .collect();
    detect_sources(sources, opts).unwrap()
}

fn sides(c: &ClonePair) -> (&str, u32, u32, &str, u32, u32) {
    (
        &c.first.name,
        c.first.start.line,
        c.first.end.line,
        &c.second.name,
        c.second.start.line,
        c.second.end.line,
    )
}

const BODY: &str = "    total = 0\n    for item in range(alpha):\n        total += item * beta\n        if total > 100:\n            total -= 7\n    result = [total, alpha, beta]\n    return result\n";

#[test]
fn matches_jscpd_on_the_calibration_pair() {
    let a = format!("import os\n\ndef compute(alpha, beta):\n    # sum things up\n{BODY}");
    let b = format!("x = 1\ndef other(alpha, beta):\n    # sum things up\n{BODY}");
    let report = run(&[("a.py", &a), ("b.py", &b)], &opts(20, 3));
    assert_eq!(report.clones.len(), 1);
    let c = &report.clones[0];
    // jscpd 5.3.3 reports a.py 3-11 (col 11, pos 22) and b.py 2-10 (col 9), 9 lines.
    assert_eq!(sides(c), ("a.py", 3, 11, "b.py", 2, 10));
    assert_eq!(
        (
            c.first.start.column,
            c.first.start.position,
            c.second.start.column
        ),
        (11, 22, 9)
    );
    assert_eq!((c.first.end.line, c.first.end.column), (11, 17));
    assert_eq!(c.lines, 9);
    assert!(c.fragment.starts_with("def compute(alpha, beta):"));
    let t = &report.statistics.total;
    assert_eq!(
        (t.clones, t.duplicated_lines, t.lines, t.sources),
        (1, 9, 21, 2)
    );
}

#[test]
fn later_copies_pair_with_the_first() {
    let three = "a = b\nc = d\ne = f\n";
    let k = format!("q = 1\n{three}{three}");
    let report = run(
        &[
            ("z.py", three),
            ("m.py", three),
            ("a.py", three),
            ("k.py", &k),
        ],
        &opts(3, 1),
    );
    let got: Vec<_> = report.clones.iter().map(sides).collect();
    assert_eq!(
        got,
        [
            ("a.py", 1, 3, "k.py", 2, 4),
            ("a.py", 1, 3, "k.py", 5, 7),
            ("a.py", 1, 3, "m.py", 1, 3),
            ("a.py", 1, 3, "z.py", 1, 3),
        ]
    );
    assert_eq!(report.statistics.total.duplicated_lines, 12);
    assert_eq!(report.classes.len(), 1);
    assert_eq!(report.classes[0].fragments.len(), 5);
}

#[test]
fn repeated_lines_do_not_clone_into_themselves() {
    let src = "x = y + 1\n".repeat(40);
    let report = run(&[("r.py", &src)], &opts(20, 2));
    assert!(!report.clones.is_empty());
    for c in &report.clones {
        assert!(!c.first.overlaps(&c.second), "{:?}", sides(c));
    }
}

#[test]
fn short_and_few_line_matches_are_dropped() {
    let report = run(&[("a.py", BODY), ("b.py", BODY)], &opts(200, 1));
    assert!(report.clones.is_empty());
    let report = run(&[("a.py", BODY), ("b.py", BODY)], &opts(10, 8));
    assert!(report.clones.is_empty());
}

#[test]
fn languages_of_different_families_never_clone() {
    let sources = vec![
        (
            "a.py".to_owned(),
            Language::Python,
            BODY.as_bytes().to_vec(),
        ),
        ("b.rb".to_owned(), Language::Ruby, BODY.as_bytes().to_vec()),
    ];
    let report = detect_sources(sources, &opts(10, 2)).unwrap();
    assert!(report.clones.is_empty());
}

/// Regression: a minified periodic line once cost one full extension per position.
#[test]
fn minified_and_periodic_files_stay_fast() {
    let minified = "var a=1;".repeat(20_000);
    let periodic: String = (0..6_000)
        .map(|i| format!("x{} = f({});\n", i % 7, i % 3))
        .collect();
    let sources = vec![
        (
            "a.min.js".to_owned(),
            Language::JavaScript,
            minified.into_bytes(),
        ),
        (
            "c.js".to_owned(),
            Language::JavaScript,
            periodic.into_bytes(),
        ),
    ];
    let started = std::time::Instant::now();
    let report = detect_sources(sources, &opts(50, 5)).unwrap();
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    assert!(report.clones.iter().all(|c| c.first.name == "c.js"));
    assert!(report.clones.len() < 20, "{}", report.clones.len());
}

mod winnowing {
    use proptest::prelude::*;

    use super::super::{fingerprints, window_hashes, winnow_window};
    use crate::{Language, Token};

    fn tokens(hashes: &[u32]) -> Vec<Token> {
        hashes
            .iter()
            .enumerate()
            .map(|(i, &hash)| Token {
                hash,
                start: i as u32,
                end: i as u32 + 1,
            })
            .collect()
    }

    proptest! {
        /// What changed mode relies on to skip files: any window of `k` tokens equal in two
        /// files selects, in both, a fingerprint at the same offset with the same hash.
        #[test]
        fn equal_windows_select_a_common_fingerprint(
            a in proptest::collection::vec(0u32..6, 70..300),
            b_prefix in proptest::collection::vec(0u32..6, 0..80),
            k in 2usize..70,
            from in 0usize..300,
        ) {
            let from = from % (a.len() - k + 1);
            let mut b = b_prefix.clone();
            b.extend_from_slice(&a[from..from + k]);
            b.extend_from_slice(&b_prefix);
            let (ta, tb) = (tokens(&a), tokens(&b));
            let lang = Language::Python;
            let w = winnow_window(k);
            let (fa, fb) = (fingerprints(&ta, k, lang), fingerprints(&tb, k, lang));
            let in_window = |fps: &[(u32, u64)], p: usize| -> Vec<(usize, u64)> {
                fps.iter()
                    .filter(|(q, _)| (p..p + w).contains(&(*q as usize)))
                    .map(|&(q, h)| (q as usize - p, h))
                    .collect()
            };
            let (sa, sb) = (in_window(&fa, from), in_window(&fb, b_prefix.len()));
            prop_assert!(sa.iter().any(|x| sb.contains(x)), "{sa:?} / {sb:?}");
            let ha = window_hashes(&ta, k, lang).nth(from).map(|(_, h)| h);
            let hb = window_hashes(&tb, k, lang).nth(b_prefix.len()).map(|(_, h)| h);
            prop_assert_eq!(ha, hb);
        }
    }
}
