//! The schema check and the `schema` gate on temporary git repositories.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use fabrik_config::GatesConfig;
use fabrik_core::contract::{GateResult, GateStatus};
use fabrik_core::process::CancelToken;
use fabrik_core::redact::Redactor;
use fabrik_gates::{
    FindingKind, GateContext, MatchReason, SchemaError, SchemaReport, Synonyms, check_schema,
    run_all,
};

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn write(dir: &Path, path: &str, text: &str) {
    let p = dir.join(path);
    std::fs::create_dir_all(p.parent().expect("has a parent")).expect("mkdir");
    std::fs::write(p, text).expect("write");
}

/// A repository with one commit holding `files`.
fn repo(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    git(dir.path(), &["init", "-q", "-b", "main"]);
    for (p, t) in files {
        write(dir.path(), p, t);
    }
    write(dir.path(), "README.md", "x\n");
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "base"]);
    dir
}

fn check(dir: &Path) -> SchemaReport {
    check_schema(dir, "HEAD", &Synonyms::default()).expect("check runs")
}

const USERS: &str =
    "CREATE TABLE users (\n  id serial PRIMARY KEY,\n  email text NOT NULL,\n  user_id int\n);\n";

#[test]
fn migration_adding_email_address_beside_email_is_flagged() {
    let dir = repo(&[("db/migrations/001_users.sql", USERS)]);
    write(
        dir.path(),
        "db/migrations/002_more.sql",
        "-- more fields\nALTER TABLE users\n  ADD COLUMN email_address text;\n",
    );
    let report = check(dir.path());
    assert_eq!(report.findings.len(), 1, "{report:#?}");
    let f = &report.findings[0];
    assert_eq!(f.kind, FindingKind::Column);
    assert_eq!(f.reason, MatchReason::Synonym);
    assert_eq!(f.existing.name(), "users.email");
    assert_eq!(
        f.existing.location.to_string(),
        "db/migrations/001_users.sql:3"
    );
    assert_eq!(f.new.name(), "users.email_address");
    assert_eq!(f.new.location.to_string(), "db/migrations/002_more.sql:3");
    assert!(
        f.message().contains("reuse `users.email`"),
        "{}",
        f.message()
    );
}

#[test]
fn prisma_field_user_id_in_camel_case_is_flagged() {
    let base = "model Post {\n  id      Int @id\n  user_id Int\n  title   String\n}\n";
    let dir = repo(&[("prisma/schema.prisma", base)]);
    write(
        dir.path(),
        "prisma/schema.prisma",
        "model Post {\n  id      Int @id\n  user_id Int\n  title   String\n  userId  Int\n}\n",
    );
    let report = check(dir.path());
    assert_eq!(report.findings.len(), 1, "{report:#?}");
    let f = &report.findings[0];
    assert_eq!(f.reason, MatchReason::SameName);
    assert_eq!(f.existing.name(), "Post.user_id");
    assert_eq!(f.existing.location.to_string(), "prisma/schema.prisma:3");
    assert_eq!(f.new.location.to_string(), "prisma/schema.prisma:5");
}

#[test]
fn unrelated_new_column_is_not_flagged() {
    let dir = repo(&[("db/migrations/001_users.sql", USERS)]);
    // Staged, not committed: the diff includes the index too.
    write(
        dir.path(),
        "db/migrations/002_nick.sql",
        "ALTER TABLE users ADD COLUMN nickname text;\n",
    );
    git(dir.path(), &["add", "-A"]);
    let report = check(dir.path());
    assert!(report.findings.is_empty(), "{report:#?}");
    assert_eq!(
        report.changed_schema_files,
        vec!["db/migrations/002_nick.sql"]
    );
    assert!(report.warnings.is_empty());
}

#[test]
fn new_table_users_in_another_case_is_flagged() {
    let dir = repo(&[("db/migrations/001_users.sql", USERS)]);
    write(
        dir.path(),
        "db/migrations/002_users_again.sql",
        "CREATE TABLE \"Users\" (id int, email text);\n",
    );
    let report = check(dir.path());
    assert_eq!(report.findings.len(), 1, "{report:#?}");
    let f = &report.findings[0];
    assert_eq!(f.kind, FindingKind::Table);
    assert_eq!(f.existing.name(), "users");
    assert_eq!(f.new.name(), "Users");
    assert_eq!(
        f.existing.location.to_string(),
        "db/migrations/001_users.sql:1"
    );
}

#[test]
fn committed_changes_since_an_older_base_count() {
    let dir = repo(&[("migrations/001.sql", USERS)]);
    write(
        dir.path(),
        "migrations/002.sql",
        "ALTER TABLE users ADD COLUMN mail text;\n",
    );
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "second"]);
    assert!(
        check(dir.path()).findings.is_empty(),
        "nothing changed since HEAD"
    );
    let report = check_schema(dir.path(), "HEAD~1", &Synonyms::default()).expect("runs");
    assert_eq!(report.findings.len(), 1, "{report:#?}");
    assert_eq!(report.findings[0].existing.name(), "users.email");
}

#[test]
fn bad_base_revision_is_a_typed_error_naming_it() {
    let dir = repo(&[("db/migrations/001_users.sql", USERS)]);
    let err = check_schema(dir.path(), "no-such-rev", &Synonyms::default())
        .expect_err("unknown revision");
    assert!(
        matches!(&err, SchemaError::UnknownRevision { rev, .. } if rev == "no-such-rev"),
        "{err:?}"
    );
    assert!(err.to_string().contains("no-such-rev"), "{err}");
    let outside = tempfile::tempdir().expect("tempdir");
    let err = check_schema(outside.path(), "HEAD", &Synonyms::default()).expect_err("no repo");
    assert!(matches!(err, SchemaError::NotARepo { .. }), "{err:?}");
}

#[test]
fn malformed_sql_is_a_parse_warning_not_a_panic() {
    let dir = repo(&[("db/migrations/001_users.sql", USERS)]);
    write(
        dir.path(),
        "db/migrations/002_broken.sql",
        "ALTER TABLE users ADD COLUMN mail text;\nCREATE TABLE (((( oops ,, ;\nthis is not sql at all\n",
    );
    let report = check(dir.path());
    assert_eq!(report.warnings.len(), 2, "{report:#?}");
    assert_eq!(
        report.warnings[0].location.to_string(),
        "db/migrations/002_broken.sql:2"
    );
    assert!(report.warnings[0].message.contains("skipped"));
    // The readable statement before it still counts.
    assert_eq!(report.findings.len(), 1, "{report:#?}");
    assert_eq!(report.findings[0].new.name(), "users.mail");
}

#[test]
fn configured_synonyms_extend_the_defaults() {
    let dir = repo(&[(
        "db/migrations/001.sql",
        "CREATE TABLE items (id int, sku text);\n",
    )]);
    write(
        dir.path(),
        "db/migrations/002.sql",
        "ALTER TABLE items ADD COLUMN article_number text;\n",
    );
    assert!(check(dir.path()).findings.is_empty());
    let mut synonyms = Synonyms::default();
    synonyms.extend_from_str("sku, article_number\n");
    let report = check_schema(dir.path(), "HEAD", &synonyms).expect("runs");
    assert_eq!(report.findings.len(), 1, "{report:#?}");
}

fn gates(dir: &Path, base: Option<&str>, state_dir: Option<&Path>) -> Vec<GateResult> {
    let cancel = CancelToken::new();
    let redactor = Redactor::default();
    let cx = GateContext {
        workspace: dir,
        changed_files: &[],
        cancel: &cancel,
        grace: Duration::from_millis(100),
        redactor: &redactor,
        base,
        state_dir,
    };
    let config = GatesConfig {
        before_execution: false,
        builtin: vec!["schema".into()],
        command: Vec::new(),
    };
    run_all(&config, &cx).expect("not interrupted")
}

#[test]
fn the_gate_fails_on_findings_and_skips_without_base_or_schema_files() {
    let dir = repo(&[("db/migrations/001_users.sql", USERS)]);
    let head = git(dir.path(), &["rev-parse", "HEAD"]);

    let r = gates(dir.path(), Some(&head), None);
    assert_eq!(r.len(), 1);
    assert_eq!(
        (r[0].name.as_str(), r[0].status),
        ("schema", GateStatus::Pass)
    );
    assert!(
        r[0].output_tail.contains("no schema file changed"),
        "{}",
        r[0].output_tail
    );

    write(
        dir.path(),
        "db/migrations/002.sql",
        "ALTER TABLE users ADD COLUMN \"userId\" int;\n",
    );
    let r = gates(dir.path(), Some(&head), None);
    assert_eq!(r[0].status, GateStatus::Fail, "{}", r[0].output_tail);
    assert_eq!(r[0].exit_code, Some(1));
    assert!(
        r[0].output_tail.contains("reuse `users.user_id`"),
        "{}",
        r[0].output_tail
    );

    let r = gates(dir.path(), None, None);
    assert_eq!(r[0].status, GateStatus::Skip);

    let empty = repo(&[]);
    let r = gates(empty.path(), Some("HEAD"), None);
    assert_eq!(r[0].status, GateStatus::Skip, "{}", r[0].output_tail);
    assert!(r[0].output_tail.contains("no schema files"));

    let r = gates(dir.path(), Some("nope"), None);
    assert_eq!(r[0].status, GateStatus::Fail);
    assert!(
        r[0].output_tail.contains("unknown base revision `nope`"),
        "{}",
        r[0].output_tail
    );
}

#[test]
fn the_gate_reads_synonyms_from_the_state_dir() {
    let dir = repo(&[(
        "db/migrations/001.sql",
        "CREATE TABLE items (id int, sku text);\n",
    )]);
    write(
        dir.path(),
        "db/migrations/002.sql",
        "ALTER TABLE items ADD COLUMN item_no text;\n",
    );
    let state = tempfile::tempdir().expect("tempdir");
    let status = |s: &Path| gates(dir.path(), Some("HEAD"), Some(s))[0].status;
    assert_eq!(status(state.path()), GateStatus::Pass);
    write(
        state.path(),
        fabrik_gates::SYNONYMS_FILE,
        "# ours\nsku, item_no\n",
    );
    assert_eq!(status(state.path()), GateStatus::Fail);
}
