//! The check: the schema at the base revision against the schema of the working tree;
//! every table or column the change adds is matched against the ones that were there.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde::Serialize;

use crate::schema::model::{Location, ParseWarning, Schema, Table, same_schema};
use crate::schema::names::{Synonyms, normalise};
use crate::schema::{SchemaError, git, prisma, sql};

/// Directory names under which `.sql` files are taken for migrations or schema dumps.
const MIGRATION_DIRS: &[&str] = &[
    "migrations",
    "migration",
    "migrate",
    "db",
    "database",
    "schema",
    "schemas",
    "sql",
    "flyway",
    "prisma",
    "supabase",
    "drizzle",
];

/// Larger files (data dumps) are not read.
const MAX_FILE_BYTES: usize = 16 << 20;

/// What kind of thing a finding is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// A new table near-duplicating a table of the same schema.
    Table,
    /// A new column near-duplicating a column of the same table.
    Column,
}

/// Why two names are considered the same.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchReason {
    /// Equal after case/separator normalisation (`userId` = `user_id`).
    SameName,
    /// In one synonym group (`email` / `mail`).
    Synonym,
}

/// A table or column and where it is defined.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SchemaItem {
    /// The table, `schema.table` when qualified.
    pub table: String,
    /// The column, for column findings.
    pub column: Option<String>,
    /// Where it is defined (the existing one: at the base revision).
    pub location: Location,
}

impl SchemaItem {
    /// `table.column` or `table`.
    #[must_use]
    pub fn name(&self) -> String {
        match &self.column {
            Some(c) => format!("{}.{c}", self.table),
            None => self.table.clone(),
        }
    }
}

/// A new table or column that near-duplicates an existing one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SchemaFinding {
    /// Table or column.
    pub kind: FindingKind,
    /// Why the names match.
    pub reason: MatchReason,
    /// The synonym group, for [`MatchReason::Synonym`].
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub synonyms: Vec<String>,
    /// What the change adds.
    pub new: SchemaItem,
    /// What exists already and should be reused.
    pub existing: SchemaItem,
}

impl SchemaFinding {
    /// One line: what was added, what it duplicates, why, what to reuse.
    #[must_use]
    pub fn message(&self) -> String {
        let kind = match self.kind {
            FindingKind::Table => "table",
            FindingKind::Column => "column",
        };
        let why = match self.reason {
            MatchReason::SameName => "same name after case/separator normalisation".to_owned(),
            MatchReason::Synonym => format!("synonyms ({})", self.synonyms.join(", ")),
        };
        format!(
            "new {kind} `{}` ({}) near-duplicates existing `{}` ({}): {why}; reuse `{}`",
            self.new.name(),
            self.new.location,
            self.existing.name(),
            self.existing.location,
            self.existing.name()
        )
    }
}

/// The outcome of a check.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SchemaReport {
    /// The base commit.
    pub base: String,
    /// Every schema file read (base and working tree), relative to the top level.
    pub schema_files: Vec<String>,
    /// The schema files the change touches.
    pub changed_schema_files: Vec<String>,
    /// Near-duplicates, ordered by the new item's location.
    pub findings: Vec<SchemaFinding>,
    /// Statements or blocks of changed files that could not be read (skipped).
    pub warnings: Vec<ParseWarning>,
}

/// Which reader a file needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Sql,
    Prisma,
}

/// Whether `path` is a schema file; `.sql` files outside migration directories count only
/// when the change touches them. Down/undo migrations never count.
fn kind(path: &str, in_diff: bool) -> Option<Kind> {
    let lower = path.to_ascii_lowercase();
    let mut parts: Vec<&str> = lower.split('/').collect();
    let name = parts.pop()?;
    if name.ends_with(".prisma") {
        return Some(Kind::Prisma);
    }
    let stem = name.strip_suffix(".sql")?;
    let undo = name.starts_with('u')
        && name[1..].starts_with(|c: char| c.is_ascii_digit())
        && name.contains("__");
    if stem == "down"
        || stem.ends_with(".down")
        || stem.ends_with("_down")
        || stem.ends_with("-down")
        || undo
    {
        return None;
    }
    let in_dir = parts.iter().any(|p| MIGRATION_DIRS.contains(p));
    (in_diff || in_dir || stem == "schema" || stem == "structure").then_some(Kind::Sql)
}

/// Compares the schema of the working tree of the repository containing `repo` with the
/// schema at `base`.
///
/// # Errors
/// [`SchemaError::NotARepo`], [`SchemaError::UnknownRevision`] (naming `base`), git
/// failures, and unreadable files in the working tree.
pub fn check_schema(
    repo: &Path,
    base: &str,
    synonyms: &Synonyms,
) -> Result<SchemaReport, SchemaError> {
    let top = git::toplevel(repo)?;
    let sha = git::resolve(&top, base)?;
    let tree = git::ls_tree(&top, &sha)?;
    let changed: HashSet<String> = git::changed(&top, &sha)?.into_iter().collect();

    let base_files: Vec<(&str, &str, Kind)> = tree
        .iter()
        .filter_map(|(id, p)| Some((p.as_str(), id.as_str(), kind(p, changed.contains(p))?)))
        .collect();
    let mut changed_files: Vec<(&str, Kind)> = changed
        .iter()
        .filter_map(|p| Some((p.as_str(), kind(p, true)?)))
        .collect();
    changed_files.sort_unstable();
    let mut all: Vec<(&str, Kind)> = base_files
        .iter()
        .map(|&(p, _, k)| (p, k))
        .chain(changed_files.iter().copied())
        .collect();
    all.sort_unstable_by(|a, b| a.0.cmp(b.0));
    all.dedup_by(|a, b| a.0 == b.0);

    let mut report = SchemaReport {
        base: sha.clone(),
        schema_files: all.iter().map(|(p, _)| (*p).to_owned()).collect(),
        changed_schema_files: changed_files.iter().map(|(p, _)| (*p).to_owned()).collect(),
        ..SchemaReport::default()
    };
    if changed_files.is_empty() {
        return Ok(report);
    }

    let ids: Vec<&str> = base_files.iter().map(|&(_, id, _)| id).collect();
    let contents = git::blobs(&top, &ids)?;
    let base_text: HashMap<&str, String> = base_files
        .iter()
        .zip(contents)
        .map(|(&(p, _, _), c)| (p, String::from_utf8_lossy(&c).into_owned()))
        .collect();
    let mut work_text: HashMap<&str, String> = HashMap::new();
    for &(p, _) in &all {
        if changed.contains(p) {
            let path = top.join(p);
            if path.is_file() {
                let bytes =
                    std::fs::read(&path).map_err(|source| SchemaError::Io { path, source })?;
                work_text.insert(p, String::from_utf8_lossy(&bytes).into_owned());
            }
        } else if let Some(t) = base_text.get(p) {
            work_text.insert(p, t.clone());
        }
    }

    let mut ignored = Vec::new();
    let base_schema = build(&all, &base_text, &mut ignored);
    let mut warnings = Vec::new();
    let work_schema = build(&all, &work_text, &mut warnings);
    warnings.retain(|w| changed.contains(&w.location.file));
    report.warnings = warnings;
    report.findings = compare(&base_schema, &work_schema, synonyms);
    Ok(report)
}

/// The schema of one snapshot: SQL files in path order (migration order), then every
/// Prisma file.
fn build(
    files: &[(&str, Kind)],
    text: &HashMap<&str, String>,
    warnings: &mut Vec<ParseWarning>,
) -> Schema {
    let mut schema = Schema::default();
    let mut prisma_models = Vec::new();
    for &(path, kind) in files {
        let Some(t) = text.get(path) else { continue };
        if t.len() > MAX_FILE_BYTES {
            warnings.push(ParseWarning {
                location: Location {
                    file: path.to_owned(),
                    line: 1,
                },
                message: format!(
                    "larger than {} MiB (a dump, not a migration?); skipped",
                    MAX_FILE_BYTES >> 20
                ),
            });
            continue;
        }
        match kind {
            Kind::Sql => sql::apply_sql(&mut schema, path, t, warnings),
            Kind::Prisma => {
                prisma_models.push((path.to_owned(), prisma::parse_prisma(path, t, warnings)))
            }
        }
    }
    prisma::apply_prisma(&mut schema, &prisma_models);
    schema
}

/// Why `a` and `b` are the same name, if they are.
fn near(synonyms: &Synonyms, a: &str, b: &str) -> Option<(MatchReason, Vec<String>)> {
    let na = normalise(a);
    if !na.is_empty() && na == normalise(b) {
        return Some((MatchReason::SameName, Vec::new()));
    }
    synonyms
        .shared_group(a, b)
        .map(|g| (MatchReason::Synonym, g.to_vec()))
}

/// The near-duplicates among what `work` adds to `base`.
pub(crate) fn compare(base: &Schema, work: &Schema, synonyms: &Synonyms) -> Vec<SchemaFinding> {
    let still = |t: &Table| work.table_exact(t.schema.as_deref(), &t.name).is_some();
    let existing: Vec<&Table> = base.tables.iter().filter(|t| still(t)).collect();
    let mut out = Vec::new();
    for t in &work.tables {
        match base.table_exact(t.schema.as_deref(), &t.name) {
            None if !t.implicit => {
                for e in existing.iter().filter(|e| same_schema(e, t)) {
                    if let Some((reason, group)) = near(synonyms, &e.name, &t.name) {
                        out.push(SchemaFinding {
                            kind: FindingKind::Table,
                            reason,
                            synonyms: group,
                            new: SchemaItem {
                                table: t.display(),
                                column: None,
                                location: t.loc.clone(),
                            },
                            existing: SchemaItem {
                                table: e.display(),
                                column: None,
                                location: e.loc.clone(),
                            },
                        });
                    }
                }
            }
            None => {}
            Some(bt) => {
                let added = t.columns.iter().filter(|c| bt.column(&c.name).is_none());
                for c in added {
                    let kept = bt.columns.iter().filter(|e| t.column(&e.name).is_some());
                    for e in kept {
                        if let Some((reason, group)) = near(synonyms, &e.name, &c.name) {
                            out.push(SchemaFinding {
                                kind: FindingKind::Column,
                                reason,
                                synonyms: group,
                                new: SchemaItem {
                                    table: t.display(),
                                    column: Some(c.name.clone()),
                                    location: c.loc.clone(),
                                },
                                existing: SchemaItem {
                                    table: bt.display(),
                                    column: Some(e.name.clone()),
                                    location: e.loc.clone(),
                                },
                            });
                        }
                    }
                }
            }
        }
    }
    out.sort_by(|a, b| {
        (&a.new.location, a.new.name(), &a.existing.location).cmp(&(
            &b.new.location,
            b.new.name(),
            &b.existing.location,
        ))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(file: &str, sql_text: &str) -> Schema {
        let mut s = Schema::default();
        let mut w = Vec::new();
        sql::apply_sql(&mut s, file, sql_text, &mut w);
        assert!(w.is_empty(), "{w:?}");
        s
    }

    const BASE: &str = "CREATE TABLE users (id int, email text, user_id int, created_at timestamp);\nCREATE TABLE orders (id int);";

    #[test]
    fn added_synonym_and_renamed_columns_are_found() {
        let base = schema("001.sql", BASE);
        let work = schema(
            "001.sql",
            &format!(
                "{BASE}\nALTER TABLE users ADD COLUMN email_address text, ADD COLUMN \"userId\" int, ADD COLUMN nickname text;\nALTER TABLE orders ADD COLUMN created timestamp;"
            ),
        );
        let found: Vec<(String, String, MatchReason)> = compare(&base, &work, &Synonyms::default())
            .into_iter()
            .map(|f| (f.new.name(), f.existing.name(), f.reason))
            .collect();
        assert_eq!(
            found,
            vec![
                (
                    "users.email_address".into(),
                    "users.email".into(),
                    MatchReason::Synonym
                ),
                (
                    "users.userId".into(),
                    "users.user_id".into(),
                    MatchReason::SameName
                ),
            ]
        );
    }

    #[test]
    fn renames_and_drops_are_not_duplicates() {
        let base = schema("001.sql", BASE);
        let work = schema(
            "001.sql",
            &format!(
                "{BASE}\nALTER TABLE users RENAME COLUMN email TO mail;\nALTER TABLE users DROP COLUMN user_id;\nALTER TABLE users ADD COLUMN uid int;"
            ),
        );
        assert!(compare(&base, &work, &Synonyms::default()).is_empty());
    }

    #[test]
    fn tables_match_within_one_schema() {
        let base = schema("001.sql", BASE);
        let work = schema(
            "001.sql",
            &format!(
                "{BASE}\nCREATE TABLE \"Users\" (id int);\nCREATE TABLE audit.users (id int);\nALTER TABLE user_profiles ADD COLUMN x int;"
            ),
        );
        let found = compare(&base, &work, &Synonyms::default());
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].kind, FindingKind::Table);
        assert_eq!(found[0].existing.location.line, 1);
        assert!(
            found[0].message().contains("reuse `users`"),
            "{}",
            found[0].message()
        );
    }

    #[test]
    fn schema_file_selection() {
        assert_eq!(kind("db/migrations/001_init.sql", false), Some(Kind::Sql));
        assert_eq!(kind("prisma/schema.prisma", false), Some(Kind::Prisma));
        assert_eq!(kind("reports/q.sql", false), None);
        assert_eq!(kind("reports/q.sql", true), Some(Kind::Sql));
        assert_eq!(kind("migrations/2024/down.sql", true), None);
        assert_eq!(kind("migrations/1_init.down.sql", false), None);
        assert_eq!(kind("db/U2__undo.sql", false), None);
        assert_eq!(kind("db/V2__add.sql", false), Some(Kind::Sql));
        assert_eq!(kind("src/main.rs", true), None);
    }

    mod fuzz {
        use proptest::prelude::*;

        use crate::schema::model::Schema;
        use crate::schema::{prisma, sql};

        const WORDS: &[&str] = &[
            "CREATE",
            "TABLE",
            "ALTER",
            "ADD",
            "COLUMN",
            "DROP",
            "RENAME",
            "TO",
            "users",
            "\"Users\"",
            "(",
            ")",
            ",",
            ";",
            "int",
            "text",
            "'",
            "\"",
            "`",
            "$$",
            "$a$",
            "--",
            "/*",
            "*/",
            "\n",
            "model",
            "{",
            "}",
            "@map(\"x\")",
            "@@map(",
            "String",
            "?",
            "[]",
            "//",
            "é",
            "\u{0}",
        ];

        fn read_all(text: &str) {
            let mut schema = Schema::default();
            let mut warnings = Vec::new();
            sql::apply_sql(&mut schema, "f.sql", text, &mut warnings);
            let models = prisma::parse_prisma("f.prisma", text, &mut warnings);
            prisma::apply_prisma(&mut schema, &[("f.prisma".into(), models)]);
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]
            #[test]
            fn random_text_never_panics_the_readers(text in "\\PC{0,200}") {
                read_all(&text);
            }

            #[test]
            fn random_sql_like_tokens_never_panic_the_readers(
                words in proptest::collection::vec(proptest::sample::select(WORDS), 0..60)
            ) {
                read_all(&words.join(" "));
            }
        }
    }
}
