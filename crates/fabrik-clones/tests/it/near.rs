//! Near-miss clones: a function copied with a statement added and one changed.

use fabrik_clones::{CloneKind, Language, Options, detect_sources};

const ORIGINAL: &str = "def summarize(rows, key):\n    totals = {}\n    for row in rows:\n        name = row[key]\n        totals.setdefault(name, 0)\n        totals[name] += row['amount']\n        if totals[name] > 1000:\n            print('large', name)\n    ordered = sorted(totals.items(), key=lambda kv: kv[1])\n    return ordered[:10]\n";
const EDITED: &str = "def summarize(rows, key):\n    totals = {}\n    for row in rows:\n        name = row[key]\n        totals.setdefault(name, 0)\n        totals[name] += row['amount']\n        log.debug('row %s', name)\n        if totals[name] > 1000:\n            print('large', name)\n    ordered = sorted(totals.items(), key=lambda kv: kv[1])\n    return ordered[:20]\n";

#[test]
fn an_edited_copy_is_a_near_clone() {
    let sources = vec![
        (
            "a.py".to_owned(),
            Language::Python,
            ORIGINAL.as_bytes().to_vec(),
        ),
        (
            "b.py".to_owned(),
            Language::Python,
            format!("import log\n\n{EDITED}").into_bytes(),
        ),
    ];
    let plain = Options {
        min_tokens: 40,
        ..Options::default()
    };
    assert!(
        detect_sources(sources.clone(), &plain)
            .unwrap()
            .clones
            .iter()
            .all(|c| c.kind != CloneKind::Near)
    );
    let near = Options {
        near: true,
        ..plain
    };
    let report = detect_sources(sources, &near).unwrap();
    let near: Vec<_> = report
        .clones
        .iter()
        .filter(|c| c.kind == CloneKind::Near)
        .collect();
    assert_eq!(near.len(), 1, "{:#?}", report.clones);
    assert_eq!(
        (near[0].first.start.line, near[0].second.start.line),
        (1, 3)
    );
    assert!(
        near[0].similarity >= 0.8 && near[0].similarity < 1.0,
        "{}",
        near[0].similarity
    );
}
