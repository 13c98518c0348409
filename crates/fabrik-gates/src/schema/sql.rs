//! SQL migrations: split into statements (quotes, comments and `$tag$` bodies respected),
//! each parsed with sqlparser's generic dialect, then PostgreSQL, MySQL and SQLite; the
//! table DDL (CREATE / ALTER / DROP / RENAME TABLE) is applied to the [`Schema`]. A statement
//! no dialect reads becomes a [`ParseWarning`] and is skipped.

use sqlparser::ast::{
    AlterTableOperation, Ident, ObjectName, ObjectType, RenameTableNameKind, Statement,
};
use sqlparser::dialect::{Dialect, GenericDialect, MySqlDialect, PostgreSqlDialect, SQLiteDialect};
use sqlparser::parser::Parser;

use crate::schema::model::{Location, ParseWarning, Schema};

/// Nesting sqlparser may recurse into; DDL needs little, and random input must not
/// overflow the stack.
const RECURSION_LIMIT: usize = 32;

/// One statement of a file.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Chunk<'a> {
    /// The statement's text, without the `;`.
    pub(crate) text: &'a str,
    /// Line (1-based) where `text` starts.
    pub(crate) first_line: u32,
    /// Line of its first character that is not blank or comment.
    pub(crate) stmt_line: u32,
}

/// Splits SQL text at top-level `;`. Never fails: an unterminated quote or comment runs
/// to the end of the text.
pub(crate) fn split_statements(text: &str) -> Vec<Chunk<'_>> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let (mut start, mut line, mut start_line) = (0usize, 1u32, 1u32);
    let mut significant: Option<u32> = None;
    let mut i = 0usize;
    // Advances over b[from..to], counting newlines.
    let count = |from: usize, to: usize| -> u32 {
        u32::try_from(b[from..to].iter().filter(|&&c| c == b'\n').count()).unwrap_or(u32::MAX)
    };
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        let end = match c {
            b'\n' => {
                line = line.saturating_add(1);
                i += 1;
                continue;
            }
            b';' => {
                if let Some(stmt_line) = significant.take() {
                    out.push(Chunk {
                        text: &text[start..i],
                        first_line: start_line,
                        stmt_line,
                    });
                }
                i += 1;
                start = i;
                start_line = line;
                continue;
            }
            _ if c.is_ascii_whitespace() => {
                i += 1;
                continue;
            }
            b'-' if next == Some(b'-') => {
                let e = memchr_from(b, i, b'\n');
                i = e;
                continue;
            }
            b'/' if next == Some(b'*') => {
                let e = find_from(b, i + 2, b"*/").map_or(b.len(), |p| p + 2);
                line = line.saturating_add(count(i, e));
                i = e;
                continue;
            }
            b'\'' | b'"' | b'`' => close_quote(b, i, c),
            b'[' => close_quote(b, i, b']'),
            b'$' => dollar_body(b, i).unwrap_or(i + 1),
            _ => i + 1,
        };
        significant.get_or_insert(line);
        line = line.saturating_add(count(i, end));
        i = end;
    }
    if let Some(stmt_line) = significant {
        out.push(Chunk {
            text: &text[start..],
            first_line: start_line,
            stmt_line,
        });
    }
    out
}

fn memchr_from(b: &[u8], from: usize, c: u8) -> usize {
    b[from..]
        .iter()
        .position(|&x| x == c)
        .map_or(b.len(), |p| from + p)
}

fn find_from(b: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    b.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}

/// End (exclusive) of a quoted token opened at `i`; a doubled closing quote is an escape.
fn close_quote(b: &[u8], i: usize, close: u8) -> usize {
    let mut j = i + 1;
    while j < b.len() {
        if b[j] == close {
            if b.get(j + 1) == Some(&close) && close != b']' {
                j += 2;
                continue;
            }
            return j + 1;
        }
        j += 1;
    }
    b.len()
}

/// End (exclusive) of a PostgreSQL `$tag$ ... $tag$` body opened at `i`, if one opens there.
fn dollar_body(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
        j += 1;
    }
    if b.get(j) != Some(&b'$') || b.get(i + 1).is_some_and(u8::is_ascii_digit) {
        return None;
    }
    let tag = &b[i..=j];
    Some(find_from(b, j + 1, tag).map_or(b.len(), |p| p + tag.len()))
}

/// Reads `text` (the file `file`) into `schema`.
pub(crate) fn apply_sql(
    schema: &mut Schema,
    file: &str,
    text: &str,
    warnings: &mut Vec<ParseWarning>,
) {
    let dialects: [(&str, &dyn Dialect); 4] = [
        ("generic", &GenericDialect {}),
        ("postgres", &PostgreSqlDialect {}),
        ("mysql", &MySqlDialect {}),
        ("sqlite", &SQLiteDialect {}),
    ];
    for chunk in split_statements(text) {
        let mut first_error = None;
        let mut parsed = None;
        for (_, d) in dialects {
            let result = Parser::new(d)
                .with_recursion_limit(RECURSION_LIMIT)
                .try_with_sql(chunk.text)
                .and_then(|mut p| p.parse_statements());
            match result {
                Ok(stmts) => {
                    parsed = Some(stmts);
                    break;
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        let at = |line: u32| Location {
            file: file.to_owned(),
            line,
        };
        match parsed {
            Some(stmts) => {
                let mut cx = Apply {
                    schema,
                    file,
                    first_line: chunk.first_line,
                    stmt_line: chunk.stmt_line,
                };
                for s in &stmts {
                    cx.statement(s);
                }
            }
            None => warnings.push(ParseWarning {
                location: at(chunk.stmt_line),
                message: format!(
                    "could not parse SQL statement (tried generic, postgres, mysql, sqlite): {}; skipped",
                    first_error.map_or_else(String::new, |e| relocate(&e.to_string(), chunk.first_line))
                ),
            }),
        }
    }
}

struct Apply<'s> {
    schema: &'s mut Schema,
    file: &'s str,
    first_line: u32,
    stmt_line: u32,
}

impl Apply<'_> {
    fn loc(&self, ident: Option<&Ident>) -> Location {
        let line = ident
            .map(|i| i.span.start.line)
            .filter(|&l| l > 0)
            .and_then(|l| u32::try_from(l).ok())
            .map_or(self.stmt_line, |l| self.first_line.saturating_add(l - 1));
        Location {
            file: self.file.to_owned(),
            line,
        }
    }

    fn statement(&mut self, s: &Statement) {
        match s {
            Statement::CreateTable(ct) => {
                let Some((schema, name)) = split_name(&ct.name) else {
                    return;
                };
                let loc = self.loc(Some(name));
                let t =
                    self.schema
                        .create_table(schema.map(|s| s.value.as_str()), &name.value, loc);
                for col in &ct.columns {
                    let loc = self.loc(Some(&col.name));
                    self.schema.add_column(t, &col.name.value, loc);
                }
            }
            Statement::AlterTable(at) => {
                let Some((schema, name)) = split_name(&at.name) else {
                    return;
                };
                let schema = schema.map(|s| s.value.clone());
                let mut name = name.value.clone();
                let loc = self.loc(split_name(&at.name).map(|(_, n)| n));
                let t = self.schema.refer(schema.as_deref(), &name, loc);
                for op in &at.operations {
                    match op {
                        AlterTableOperation::AddColumn { column_def, .. } => {
                            let loc = self.loc(Some(&column_def.name));
                            self.schema.add_column(t, &column_def.name.value, loc);
                        }
                        AlterTableOperation::DropColumn { column_names, .. } => {
                            for c in column_names {
                                self.schema.drop_column(t, &c.value);
                            }
                        }
                        AlterTableOperation::RenameColumn {
                            old_column_name,
                            new_column_name,
                        } => {
                            let loc = self.loc(Some(new_column_name));
                            self.schema.rename_column(
                                t,
                                &old_column_name.value,
                                &new_column_name.value,
                                loc,
                            );
                        }
                        AlterTableOperation::ChangeColumn {
                            old_name, new_name, ..
                        } if old_name.value != new_name.value => {
                            let loc = self.loc(Some(new_name));
                            self.schema
                                .rename_column(t, &old_name.value, &new_name.value, loc);
                        }
                        AlterTableOperation::RenameTable { table_name } => {
                            let (RenameTableNameKind::As(n) | RenameTableNameKind::To(n)) =
                                table_name;
                            if let Some((new_schema, new_name)) = split_name(n) {
                                let loc = self.loc(Some(new_name));
                                self.schema.rename_table(
                                    schema.as_deref(),
                                    &name,
                                    new_schema.map(|s| s.value.as_str()),
                                    &new_name.value,
                                    loc,
                                );
                                name.clone_from(&new_name.value);
                            }
                        }
                        _ => {}
                    }
                }
            }
            Statement::Drop {
                object_type: ObjectType::Table,
                names,
                ..
            } => {
                for n in names {
                    if let Some((schema, name)) = split_name(n) {
                        self.schema
                            .drop_table(schema.map(|s| s.value.as_str()), &name.value);
                    }
                }
            }
            Statement::RenameTable(renames) => {
                for r in renames {
                    if let (Some((os, on)), Some((ns, nn))) =
                        (split_name(&r.old_name), split_name(&r.new_name))
                    {
                        let loc = self.loc(Some(nn));
                        self.schema.rename_table(
                            os.map(|s| s.value.as_str()),
                            &on.value,
                            ns.map(|s| s.value.as_str()),
                            &nn.value,
                            loc,
                        );
                    }
                }
            }
            _ => {}
        }
    }
}

/// sqlparser's `at Line: N, Column: M` counts from the statement; make it the file's line.
fn relocate(message: &str, first_line: u32) -> String {
    const MARK: &str = " at Line: ";
    let Some(at) = message.find(MARK) else {
        return message.to_owned();
    };
    let rest = &message[at + MARK.len()..];
    let digits = rest.chars().take_while(char::is_ascii_digit).count();
    match rest[..digits].parse::<u32>() {
        Ok(n) if n > 0 => format!(
            "{}{MARK}{}{}",
            &message[..at],
            first_line.saturating_add(n - 1),
            &rest[digits..]
        ),
        _ => message.to_owned(),
    }
}

/// `(schema, table)` of a possibly qualified name.
fn split_name(n: &ObjectName) -> Option<(Option<&Ident>, &Ident)> {
    let parts: Vec<&Ident> = n.0.iter().filter_map(|p| p.as_ident()).collect();
    let (&table, rest) = parts.split_last()?;
    Some((rest.last().copied(), table))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> (Schema, Vec<ParseWarning>) {
        let mut s = Schema::default();
        let mut w = Vec::new();
        apply_sql(&mut s, "m.sql", text, &mut w);
        (s, w)
    }

    fn cols(s: &Schema, table: &str) -> Vec<(String, u32)> {
        s.table_exact(None, table)
            .map(|t| {
                t.columns
                    .iter()
                    .map(|c| (c.name.clone(), c.loc.line))
                    .collect()
            })
            .unwrap_or_default()
    }

    #[test]
    fn splitter_respects_quotes_comments_and_dollar_bodies() {
        let text = "-- a; comment\nCREATE TABLE \"a;b\" (x text DEFAULT ';');\n/* ; */\nCREATE FUNCTION f() RETURNS int AS $fn$ SELECT 1; $fn$ LANGUAGE sql;\n  \n;SELECT $1";
        let chunks = split_statements(text);
        assert_eq!(chunks.len(), 3, "{chunks:#?}");
        assert_eq!(chunks[0].stmt_line, 2);
        assert!(chunks[1].text.contains("SELECT 1; $fn$"));
        assert_eq!(chunks[1].stmt_line, 4);
        assert_eq!(chunks[2].text, "SELECT $1");
    }

    #[test]
    fn ddl_builds_tables_with_lines() {
        let (s, w) = read(
            "CREATE TABLE users (\n  id serial PRIMARY KEY,\n  email text NOT NULL\n);\n\nALTER TABLE users ADD COLUMN phone text;\nALTER TABLE users RENAME COLUMN phone TO mobile;\nCREATE TABLE `tmp` (a int);\nDROP TABLE tmp;\nALTER TABLE public.users ADD COLUMN \"createdAt\" timestamp;\n",
        );
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(
            cols(&s, "users"),
            vec![
                ("id".into(), 2),
                ("email".into(), 3),
                ("mobile".into(), 7),
                ("createdAt".into(), 10)
            ]
        );
        assert!(s.table_exact(None, "tmp").is_none());
        assert_eq!(s.table_exact(None, "users").map(|t| t.loc.line), Some(1));
    }

    #[test]
    fn dialect_specific_statements_are_read() {
        // MySQL's CHANGE COLUMN and RENAME TABLE, SQLite's AUTOINCREMENT.
        let (s, w) = read(
            "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, a int);\nALTER TABLE t CHANGE COLUMN a b int;\nRENAME TABLE t TO u;\n",
        );
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(cols(&s, "u"), vec![("id".into(), 1), ("b".into(), 2)]);
    }

    #[test]
    fn deep_nesting_is_refused_not_a_stack_overflow() {
        let depth = 20_000;
        for text in [
            format!(
                "CREATE TABLE t (a int DEFAULT {}1{});",
                "(".repeat(depth),
                ")".repeat(depth)
            ),
            format!(
                "CREATE TABLE t (a {}int{});",
                "ARRAY<".repeat(depth),
                ">".repeat(depth)
            ),
            format!(
                "CREATE TABLE t (a int CHECK ({}));",
                "NOT ".repeat(depth) + "true"
            ),
            format!(
                "ALTER TABLE t ADD COLUMN b int DEFAULT {}1;",
                "-".repeat(depth)
            ),
            format!(
                "SELECT {}1{};",
                "CASE WHEN 1 THEN ".repeat(depth),
                " END".repeat(depth)
            ),
        ] {
            let (_, w) = read(&text);
            assert!(w.len() <= 1);
        }
    }

    #[test]
    fn malformed_statements_are_warnings_and_the_rest_is_read() {
        let (s, w) = read("CREATE TABLE a (id int,, ;\nCREATE TABLE b (id int);\n");
        assert_eq!(w.len(), 1, "{w:?}");
        assert_eq!(w[0].location.line, 1);
        assert!(w[0].message.contains("could not parse"));
        let (_, w) = read("CREATE TABLE a (id int);\n\n\nCREATE TABLE ((;");
        assert!(w[0].message.contains("Line: 4,"), "{}", w[0].message);
        assert_eq!(
            relocate("x at Line: 2, Column: 3", 10),
            "x at Line: 11, Column: 3"
        );
        assert_eq!(relocate("x at Line: ", 10), "x at Line: ");
        assert_eq!(cols(&s, "b"), vec![("id".into(), 2)]);
    }
}
