//! Prisma schemas: `model X { field Type ... }` blocks read line by line. `@map("...")`
//! names a field's column, `@@map("...")` the model's table, `@@schema("...")` its schema.
//! Fields whose type is another model are relations, not columns.

use std::collections::HashSet;

use crate::schema::model::{Location, ParseWarning, Schema};

/// A field of a model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Field {
    pub(crate) name: String,
    pub(crate) column: String,
    pub(crate) ty: String,
    pub(crate) line: u32,
}

/// A `model` block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Model {
    pub(crate) name: String,
    pub(crate) table: String,
    pub(crate) schema: Option<String>,
    pub(crate) line: u32,
    pub(crate) fields: Vec<Field>,
}

/// Reads the models of one file. Unclosed blocks become warnings (the fields read so far
/// are kept).
pub(crate) fn parse_prisma(file: &str, text: &str, warnings: &mut Vec<ParseWarning>) -> Vec<Model> {
    let mut models = Vec::new();
    // The open block: (keyword, model being read).
    let mut open: Option<(String, Option<Model>)> = None;
    for (n, raw) in text.lines().enumerate() {
        let line_no = u32::try_from(n + 1).unwrap_or(u32::MAX);
        let line = strip_comment(raw).trim();
        if line.is_empty() {
            continue;
        }
        match &mut open {
            None => {
                let mut words = line.split_whitespace();
                let (Some(kw), Some(name)) = (words.next(), words.next()) else {
                    continue;
                };
                let name = name.trim_end_matches('{');
                if !line.ends_with('{') || !is_ident(name) {
                    continue;
                }
                let model = (kw == "model").then(|| Model {
                    name: name.to_owned(),
                    table: name.to_owned(),
                    schema: None,
                    line: line_no,
                    fields: Vec::new(),
                });
                open = Some((kw.to_owned(), model));
            }
            Some((_, model)) => {
                if line.starts_with('}') {
                    if let Some(m) = model.take() {
                        models.push(m);
                    }
                    open = None;
                    continue;
                }
                let Some(m) = model.as_mut() else { continue };
                if let Some(rest) = line.strip_prefix("@@") {
                    if let Some(v) = attribute_arg(rest, "map") {
                        m.table = v;
                    } else if let Some(v) = attribute_arg(rest, "schema") {
                        m.schema = Some(v);
                    }
                    continue;
                }
                let mut words = line.split_whitespace();
                let (Some(name), Some(ty)) = (words.next(), words.next()) else {
                    continue;
                };
                if !is_ident(name) {
                    continue;
                }
                let base_ty = ty
                    .split(['?', '[', '(', '@'])
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                // `line` is trimmed: the name starts it and the type follows the blanks.
                let after_type = line[name.len()..]
                    .trim_start()
                    .get(ty.len()..)
                    .unwrap_or_default();
                let column = after_type
                    .match_indices('@')
                    .filter(|(i, _)| !after_type[..*i].ends_with('@'))
                    .find_map(|(i, _)| attribute_arg(&after_type[i + 1..], "map"))
                    .unwrap_or_else(|| name.to_owned());
                m.fields.push(Field {
                    name: name.to_owned(),
                    column,
                    ty: base_ty,
                    line: line_no,
                });
            }
        }
    }
    if let Some((kw, model)) = open {
        let line = model.as_ref().map_or(1, |m| m.line);
        warnings.push(ParseWarning {
            location: Location {
                file: file.to_owned(),
                line,
            },
            message: format!("unclosed Prisma `{kw}` block; read up to the end of the file"),
        });
        if let Some(m) = model {
            models.push(m);
        }
    }
    models
}

/// Applies the models of every Prisma file (read together: relations may point across
/// files) to `schema`.
pub(crate) fn apply_prisma(schema: &mut Schema, files: &[(String, Vec<Model>)]) {
    let model_names: HashSet<&str> = files
        .iter()
        .flat_map(|(_, ms)| ms.iter().map(|m| m.name.as_str()))
        .collect();
    for (file, models) in files {
        let at = |line| Location {
            file: file.clone(),
            line,
        };
        for m in models {
            let t = schema.create_table(m.schema.as_deref(), &m.table, at(m.line));
            for f in &m.fields {
                if !model_names.contains(f.ty.as_str()) {
                    schema.add_column(t, &f.column, at(f.line));
                }
            }
        }
    }
}

fn is_ident(s: &str) -> bool {
    let mut c = s.chars();
    c.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && c.all(|c| c.is_alphanumeric() || c == '_')
}

/// The line without a `//` comment (outside string literals).
fn strip_comment(line: &str) -> &str {
    let mut in_str = false;
    let mut prev = '\0';
    for (i, c) in line.char_indices() {
        match c {
            '"' if prev != '\\' => in_str = !in_str,
            '/' if !in_str && prev == '/' => return &line[..i - 1],
            _ => {}
        }
        prev = c;
    }
    line
}

/// `name("value")` or `name(name: "value")` at the start of `s` -> `value`.
fn attribute_arg(s: &str, name: &str) -> Option<String> {
    let rest = s.strip_prefix(name)?.trim_start().strip_prefix('(')?;
    let rest = rest.trim_start();
    let rest = rest
        .strip_prefix("name")
        .and_then(|r| r.trim_start().strip_prefix(':'))
        .unwrap_or(rest)
        .trim_start()
        .strip_prefix('"')?;
    let end = rest.find('"')?;
    Some(rest[..end].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEMA: &str = r#"
datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}

/// A user.
model User {
  id        Int      @id @default(autoincrement())
  email     String   @unique @map("email_address") // comment @map("no")
  createdAt DateTime @default(now()) @map(name: "created_at")
  posts     Post[]
  role      Role     @default(USER)

  @@map("users")
  @@schema("auth")
}

enum Role {
  USER
  ADMIN
}

model Post {
  id       Int   @id
  author   User  @relation(fields: [authorId], references: [id])
  authorId Int
  title    String?
}
"#;

    #[test]
    fn models_fields_and_maps() {
        let mut w = Vec::new();
        let models = parse_prisma("schema.prisma", SCHEMA, &mut w);
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(models.len(), 2);
        let user = &models[0];
        assert_eq!(
            (user.table.as_str(), user.schema.as_deref(), user.line),
            ("users", Some("auth"), 8)
        );
        let cols: Vec<(&str, &str, u32)> = user
            .fields
            .iter()
            .map(|f| (f.column.as_str(), f.ty.as_str(), f.line))
            .collect();
        assert_eq!(
            cols,
            vec![
                ("id", "Int", 9),
                ("email_address", "String", 10),
                ("created_at", "DateTime", 11),
                ("posts", "Post", 12),
                ("role", "Role", 13)
            ]
        );
        let mut s = Schema::default();
        apply_prisma(&mut s, &[("schema.prisma".into(), models)]);
        let post = s
            .table_exact(None, "Post")
            .map(|t| t.columns.iter().map(|c| c.name.clone()).collect::<Vec<_>>());
        assert_eq!(
            post,
            Some(vec!["id".into(), "authorId".into(), "title".into()])
        );
        let users = s
            .table_exact(Some("auth"), "users")
            .map(|t| t.columns.len());
        assert_eq!(users, Some(4), "relation field `posts` is not a column");
    }

    #[test]
    fn unclosed_block_is_a_warning() {
        let mut w = Vec::new();
        let models = parse_prisma("s.prisma", "model A {\n  id Int\n", &mut w);
        assert_eq!(models.len(), 1);
        assert_eq!(w.len(), 1);
        assert!(w[0].message.contains("unclosed"));
    }
}
