//! Changed mode in a temporary git repository: an agent pastes an existing function under
//! a new name with renamed variables.

use std::path::Path;

use fabrik_clones::{Baseline, Error, Options, TokenizeOptions, detect, detect_changed};

use crate::support::{age, function, git, other_function, write};

fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    git(root, &["init", "-q", "-b", "main"]);
    write(
        root,
        "src/config.py",
        &format!(
            "import os\n\n\n{}\n\ndef other():\n    return os.getcwd()\n",
            function("parse_pairs", "text", "pairs", "line")
        ),
    );
    write(root, "src/app.py", "def main():\n    print('hello')\n");
    git(root, &["add", "."]);
    git(root, &["commit", "-q", "-m", "init"]);
    dir
}

fn renamed() -> Options {
    let tokenize = TokenizeOptions {
        ignore_identifiers: true,
        ..TokenizeOptions::default()
    };
    Options {
        min_tokens: 30,
        min_lines: 5,
        tokenize,
        ..Options::default()
    }
}

fn paste(root: &Path) {
    let copy = function("read_settings", "raw", "found", "entry");
    write(
        root,
        "src/app.py",
        &format!("def main():\n    print('hello')\n\n\n{copy}"),
    );
}

#[test]
fn a_renamed_paste_is_found_and_names_the_original() {
    let dir = repo();
    let root = dir.path();
    paste(root);
    let report = detect_changed(root, "HEAD", &renamed()).unwrap();
    assert_eq!(report.clones.len(), 1, "{:#?}", report.clones);
    let clone = &report.clones[0];
    let (original, copy) = (&clone.second, &clone.first);
    assert_eq!(original.name, "src/config.py");
    assert_eq!((original.start.line, original.end.line), (4, 14));
    assert_eq!(copy.name, "src/app.py");
    assert_eq!((copy.start.line, copy.end.line), (5, 15));
    assert!(clone.is_new);
    assert_eq!(clone.kind.name(), "renamed");
    assert_eq!(report.statistics.total.new_clones, 1);

    // Without ignoring identifiers the renamed copy is not a clone.
    let exact = Options {
        min_tokens: 30,
        ..Options::default()
    };
    assert!(
        detect_changed(root, "HEAD", &exact)
            .unwrap()
            .clones
            .is_empty()
    );
}

#[test]
fn a_baseline_written_before_the_paste_reports_it_as_new() {
    let dir = repo();
    let root = dir.path();
    // An old clone that the baseline accepts.
    let old = other_function("Grid");
    write(root, "src/legacy.py", &old);
    write(root, "src/legacy2.py", &old);
    git(root, &["add", "."]);
    git(root, &["commit", "-q", "-m", "legacy"]);
    let before = detect(root, &[".".into()], &renamed()).unwrap();
    assert!(!before.clones.is_empty());
    let baseline_path = root.join("baseline.json");
    Baseline::from_report(&before)
        .write(&baseline_path)
        .unwrap();

    paste(root);
    // Shift the old clones by a few lines and rename one file: still in the baseline.
    write(root, "src/legacy.py", &format!("# moved\n\n{old}"));
    git(root, &["mv", "src/legacy2.py", "src/legacy_copy.py"]);
    let baseline = Baseline::load(&baseline_path).unwrap();
    let mut full = detect(root, &[".".into()], &renamed()).unwrap();
    baseline.apply(&mut full);
    let new: Vec<_> = full.clones.iter().filter(|c| c.is_new).collect();
    assert!(!new.is_empty());
    assert!(
        new.iter()
            .all(|c| [&c.first.name, &c.second.name].contains(&&"src/app.py".to_owned())),
        "{new:#?}"
    );
    assert!(
        full.clones
            .iter()
            .any(|c| !c.is_new && c.first.name.starts_with("src/legacy"))
    );

    let with_baseline = Options {
        baseline: Some(baseline),
        ..renamed()
    };
    let changed = detect_changed(root, "HEAD", &with_baseline).unwrap();
    let pasted = changed
        .clones
        .iter()
        .find(|c| c.first.name == "src/app.py" || c.second.name == "src/app.py");
    assert!(pasted.is_some_and(|c| c.is_new));
}

#[test]
fn untracked_files_count_as_added() {
    let dir = repo();
    let root = dir.path();
    write(
        root,
        "src/new_module.py",
        &function("copy_of", "s", "out", "x"),
    );
    let report = detect_changed(root, "HEAD", &renamed()).unwrap();
    assert_eq!(report.clones.len(), 1);
    assert!(report.clones[0].is_new);
}

#[test]
fn an_unknown_base_is_an_error_naming_it() {
    let dir = repo();
    let err = detect_changed(dir.path(), "no-such-rev", &renamed()).unwrap_err();
    assert!(matches!(err, Error::BadRevision { .. }), "{err:?}");
    assert!(err.to_string().contains("no-such-rev"));
    let plain = tempfile::tempdir().unwrap();
    let err = detect_changed(plain.path(), "HEAD", &renamed()).unwrap_err();
    assert!(matches!(err, Error::NotARepository(_)), "{err:?}");
}

#[test]
fn a_third_copy_of_baselined_code_is_new() {
    let dir = repo();
    let root = dir.path();
    let shape = other_function("Grid");
    write(root, "src/a.py", &shape);
    write(root, "src/b.py", &shape);
    git(root, &["add", "."]);
    git(root, &["commit", "-q", "-m", "dup"]);
    let baseline = Baseline::from_report(&detect(root, &[".".into()], &renamed()).unwrap());
    let opts = Options {
        baseline: Some(baseline),
        ..renamed()
    };
    assert!(
        detect_changed(root, "HEAD", &opts)
            .unwrap()
            .clones
            .is_empty()
    );
    write(
        root,
        "src/c.py",
        &format!(
            "import sys

{shape}"
        ),
    );
    let report = detect_changed(root, "HEAD", &opts).unwrap();
    assert_eq!(report.clones.len(), 1, "{:#?}", report.clones);
    assert!(report.clones[0].is_new);
    assert_eq!(report.clones[0].second.name, "src/c.py");
}

#[test]
fn a_warm_cache_reads_only_files_that_may_share_code_and_finds_the_same_clones() {
    let dir = repo();
    let root = dir.path();
    for i in 0..30 {
        let mut body = unique_function(i);
        if i == 17 {
            body = format!("{body}\n\n{}", other_function("Shape17"));
        }
        write(root, &format!("pkg/m{i}.py"), &body);
    }
    git(root, &["add", "."]);
    git(root, &["commit", "-q", "-m", "many"]);
    age(root);
    let cached = Options {
        min_tokens: 30,
        cache_dir: Some(root.join(".fabrik/cache")),
        ..Options::default()
    };
    assert!(
        detect_changed(root, "HEAD", &cached)
            .unwrap()
            .clones
            .is_empty()
    );

    // Paste one function of m3 and the class of m17 into new and existing files.
    let f3 = unique_function(3);
    write(root, "pkg/new.py", &format!("import os\n\n{f3}"));
    write(
        root,
        "src/app.py",
        &format!(
            "def main():\n    print('hello')\n\n\n{}",
            other_function("Shape17")
        ),
    );
    let warm = detect_changed(root, "HEAD", &cached).unwrap();
    let cold = detect_changed(
        root,
        "HEAD",
        &Options {
            cache_dir: None,
            ..cached.clone()
        },
    )
    .unwrap();
    assert_eq!(warm.clones, cold.clones);
    assert_eq!(warm.statistics, cold.statistics);
    let originals: Vec<&str> = warm
        .clones
        .iter()
        .flat_map(|c| [c.first.name.as_str(), c.second.name.as_str()])
        .collect();
    assert!(originals.contains(&"pkg/m3.py"), "{originals:?}");
    assert!(originals.contains(&"pkg/m17.py"), "{originals:?}");
    // 33 files: the two changed ones and the two originals are loaded, the rest is not
    // (no run of 21 tokens in common with the change).
    assert_eq!(warm.cache.unread, 31, "{:?}", warm.cache);
    assert!(warm.cache.not_loaded >= 25, "{:?}", warm.cache);
}

/// A function with no run of more than a few tokens in common with `unique_function(j)`
/// for `j != i`.
fn unique_function(i: usize) -> String {
    format!(
        "def f{i}(a{i}, limit{i}=10):\n    b{i} = []\n    for c{i} in a{i}.split(','):\n        c{i} = c{i}.strip()\n        if not c{i} or c{i}.startswith('#{i}'):\n            continue\n        k{i}, _, v{i} = c{i}.partition('={i}')\n        b{i}.append((k{i}.strip().lower(), v{i}.strip()))\n        if len(b{i}) >= limit{i}:\n            break\n    return dict(b{i})\n"
    )
}
