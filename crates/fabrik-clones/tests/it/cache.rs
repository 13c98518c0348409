//! The token cache: a warm run re-tokenizes only changed files; corruption is ignored.

use std::path::PathBuf;

use fabrik_clones::{Options, detect};

use crate::support::{age, function, write};

#[test]
fn warm_runs_reuse_tokens_and_survive_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for i in 0..4 {
        write(
            root,
            &format!("m{i}.py"),
            &function(&format!("f{i}"), "a", "b", "c"),
        );
    }
    let opts = Options {
        min_tokens: 30,
        cache_dir: Some(root.join(".fabrik/cache")),
        ..Options::default()
    };
    let paths = [PathBuf::from(".")];
    let cold = detect(root, &paths, &opts).unwrap();
    assert_eq!((cold.cache.hits, cold.cache.misses), (0, 4));
    let warm = detect(root, &paths, &opts).unwrap();
    assert_eq!((warm.cache.hits, warm.cache.misses), (4, 0));
    assert_eq!(warm.clones, cold.clones);

    write(root, "m1.py", &function("changed", "x", "y", "z"));
    let edited = detect(root, &paths, &opts).unwrap();
    assert_eq!((edited.cache.hits, edited.cache.misses), (3, 1));

    for entry in std::fs::read_dir(root.join(".fabrik/cache")).unwrap() {
        std::fs::write(entry.unwrap().path(), b"\0garbage").unwrap();
    }
    let rebuilt = detect(root, &paths, &opts).unwrap();
    assert_eq!(rebuilt.cache.misses, 4);
    assert_eq!(rebuilt.clones, edited.clones);
    assert_eq!(detect(root, &paths, &opts).unwrap().cache.misses, 0);
}

#[test]
fn files_with_an_unchanged_stat_are_not_read_again() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for i in 0..4 {
        write(
            root,
            &format!("m{i}.py"),
            &function(&format!("f{i}"), "a", "b", "c"),
        );
    }
    age(root);
    let opts = Options {
        min_tokens: 30,
        cache_dir: Some(root.join(".fabrik/cache")),
        ..Options::default()
    };
    let paths = [PathBuf::from(".")];
    let cold = detect(root, &paths, &opts).unwrap();
    assert_eq!((cold.cache.hits, cold.cache.unread), (0, 0));
    let warm = detect(root, &paths, &opts).unwrap();
    assert_eq!(
        (warm.cache.hits, warm.cache.unread, warm.cache.misses),
        (4, 4, 0)
    );
    assert_eq!(warm.clones, cold.clones);
    assert_eq!(warm.statistics, cold.statistics);

    // Just edited: read again even though the cache knows the file (racy stat), and the
    // edit is seen.
    write(root, "m1.py", &function("changed", "x", "y", "z"));
    let edited = detect(root, &paths, &opts).unwrap();
    assert_eq!((edited.cache.unread, edited.cache.misses), (3, 1));
    age(root);
    let settled = detect(root, &paths, &opts).unwrap();
    assert_eq!(settled.cache.misses, 0);
    assert_eq!(settled.clones, edited.clones);

    // A different window size keeps its own cache: fingerprints depend on it.
    let other = Options {
        min_tokens: 40,
        ..opts.clone()
    };
    assert_eq!(detect(root, &paths, &other).unwrap().cache.misses, 4);
}
