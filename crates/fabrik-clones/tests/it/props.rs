//! Properties of detection over random sources.

use proptest::prelude::*;

use fabrik_clones::{
    ClonePair, Fragment, Language, Mode, Options, Report, TokenizeOptions, detect_sources,
};

/// A random line of Python-like code over a large vocabulary (so random lines rarely
/// repeat), as (identifiers, literals) pieces that can be rendered with any names.
#[derive(Clone, Debug)]
struct Line {
    indent: usize,
    idents: Vec<u16>,
    number: u16,
    shape: u8,
}

fn line() -> impl Strategy<Value = Line> {
    (
        0..3usize,
        proptest::collection::vec(0..2000u16, 3),
        any::<u16>(),
        0..4u8,
    )
        .prop_map(|(indent, idents, number, shape)| Line {
            indent,
            idents,
            number,
            shape,
        })
}

/// Renders a line; `rename` and `relit` change every identifier and literal.
fn render(l: &Line, rename: u16, relit: u16) -> String {
    let id = |i: usize| format!("v{}", l.idents[i].wrapping_add(rename));
    let n = l.number.wrapping_add(relit);
    let pad = "    ".repeat(l.indent);
    match l.shape {
        0 => format!("{pad}{} = {}({}, {n})\n", id(0), id(1), id(2)),
        1 => format!(
            "{pad}if {} > {n}:\n{pad}    {} += {}\n",
            id(0),
            id(1),
            id(2)
        ),
        2 => format!("{pad}{}.{}[{n}] = '{}'\n", id(0), id(1), id(2)),
        _ => format!("{pad}return {} * {} - {n}  # {}\n", id(0), id(1), id(2)),
    }
}

fn text(lines: &[Line], rename: u16, relit: u16) -> String {
    lines.iter().map(|l| render(l, rename, relit)).collect()
}

fn opts(mode: Mode, renamed: bool) -> Options {
    let tokenize = TokenizeOptions {
        mode,
        ignore_identifiers: renamed,
        ignore_literals: renamed,
    };
    Options {
        min_tokens: 50,
        min_lines: 5,
        tokenize,
        ..Options::default()
    }
}

fn run(files: Vec<(String, String)>, opts: &Options) -> Report {
    let sources = files
        .into_iter()
        .map(|(n, t)| (n, Language::Python, t.into_bytes()))
        .collect();
    detect_sources(sources, opts).unwrap()
}

/// The lines `[first, last]` the fragment occupies when inserted after `before` lines.
fn place(name: &str, before: &str, fragment: &str) -> (String, u32, u32) {
    let first = before.matches('\n').count() as u32 + 1;
    (
        name.to_owned(),
        first,
        first + fragment.matches('\n').count() as u32 - 1,
    )
}

fn covers(f: &Fragment, (name, first, last): &(String, u32, u32)) -> bool {
    &f.name == name && f.start.line <= *last && *first <= f.end.line
}

fn found(report: &Report, a: &(String, u32, u32), b: &(String, u32, u32)) -> bool {
    report.clones.iter().any(|c: &ClonePair| {
        (covers(&c.first, a) && covers(&c.second, b))
            || (covers(&c.first, b) && covers(&c.second, a))
    })
}

fn lines(n: std::ops::Range<usize>) -> impl Strategy<Value = Vec<Line>> {
    proptest::collection::vec(line(), n)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// A fragment copied anywhere (another file, or later in the same file) is found, in
    /// strict and mild mode.
    #[test]
    fn a_copied_fragment_is_always_found(
        host_a in lines(0..20), host_b in lines(0..20), tail in lines(0..10),
        fragment in lines(12..20), same_file in any::<bool>(), strict in any::<bool>(),
        cut in 0usize..20,
    ) {
        let mode = if strict { Mode::Strict } else { Mode::Mild };
        let frag = text(&fragment, 0, 0);
        let (a_before, b_before) = (text(&host_a, 0, 0), text(&host_b[..cut.min(host_b.len())], 7, 7));
        let b_after = text(&host_b[cut.min(host_b.len())..], 7, 7);
        let a_text = format!("{a_before}{frag}{}", text(&tail, 3, 3));
        let (files, b_place) = if same_file {
            let pre = format!("{a_text}{b_before}");
            let b = place("a.py", &pre, &frag);
            (vec![("a.py".to_owned(), format!("{pre}{frag}{b_after}"))], b)
        } else {
            let b = place("b.py", &b_before, &frag);
            (vec![("a.py".to_owned(), a_text), ("b.py".to_owned(), format!("{b_before}{frag}{b_after}"))], b)
        };
        let report = run(files, &opts(mode, false));
        prop_assert!(found(&report, &place("a.py", &a_before, &frag), &b_place), "{:#?}", report.clones);
    }

    /// A copy with every identifier and literal renamed is found when identifiers and
    /// literals are ignored.
    #[test]
    fn a_renamed_copy_is_found(host in lines(0..15), fragment in lines(12..20), rename in 1u16..500) {
        let (frag, copy) = (text(&fragment, 0, 0), text(&fragment, rename, rename));
        let before = text(&host, 11, 11);
        let files = vec![("a.py".to_owned(), frag.clone()), ("b.py".to_owned(), format!("{before}{copy}"))];
        // Weak: comments hold identifiers too, and comments are not renamed.
        let report = run(files, &opts(Mode::Weak, true));
        prop_assert!(found(&report, &place("a.py", "", &frag), &place("b.py", &before, &copy)));
    }

    /// Results depend neither on the order of the files nor on the number of threads.
    #[test]
    fn results_do_not_depend_on_order_or_threads(
        files in proptest::collection::vec(lines(5..30), 2..6), shared in lines(12..16),
    ) {
        let shared = text(&shared, 0, 0);
        let named: Vec<(String, String)> = files
            .iter()
            .enumerate()
            .map(|(i, l)| (format!("f{i}.py"), format!("{}{shared}{}", text(&l[..2], 0, 0), text(&l[2..], 0, 0))))
            .collect();
        let mut reversed = named.clone();
        reversed.reverse();
        let pool = |n| rayon::ThreadPoolBuilder::new().num_threads(n).build().unwrap();
        let one = pool(1).install(|| run(named.clone(), &opts(Mode::Mild, false)));
        let four = pool(4).install(|| run(reversed, &opts(Mode::Mild, false)));
        prop_assert!(!one.clones.is_empty());
        prop_assert_eq!(&one.clones, &four.clones);
        prop_assert_eq!(&one.classes, &four.classes);
        prop_assert_eq!(&one.statistics, &four.statistics);
    }

    /// The two sides of a clone never overlap, even in highly repetitive files.
    #[test]
    fn sides_never_overlap(pattern in lines(1..4), repeats in 5usize..60, noise in lines(0..5)) {
        let body = text(&pattern, 0, 0).repeat(repeats) + &text(&noise, 0, 0);
        let twice = format!("{body}{}", text(&pattern, 0, 0).repeat(repeats / 2));
        let files = vec![("a.py".to_owned(), body), ("b.py".to_owned(), twice)];
        for mode in [Mode::Strict, Mode::Mild] {
            let report = run(files.clone(), &Options { min_tokens: 10, min_lines: 1, ..opts(mode, false) });
            for c in &report.clones {
                let disjoint = c.first.name != c.second.name || c.first.end.position <= c.second.start.position;
                prop_assert!(disjoint, "{:?}", c);
            }
        }
    }
}
