//! The schema model both readers fill: tables (optionally schema-qualified) with their
//! columns, each remembering the file and line that defined it.

use serde::Serialize;

/// A place in a schema file.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Location {
    /// Path relative to the repository's top level.
    pub file: String,
    /// 1-based line.
    pub line: u32,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// A statement or block that could not be read; it was skipped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ParseWarning {
    /// Where the unreadable part starts.
    pub location: Location,
    /// What went wrong.
    pub message: String,
}

/// A column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Column {
    pub(crate) name: String,
    pub(crate) loc: Location,
}

/// A table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Table {
    pub(crate) schema: Option<String>,
    pub(crate) name: String,
    pub(crate) loc: Location,
    /// Only known from `ALTER TABLE`: created outside the files read.
    pub(crate) implicit: bool,
    pub(crate) columns: Vec<Column>,
}

impl Table {
    /// `schema.name` or `name`.
    pub(crate) fn display(&self) -> String {
        match &self.schema {
            Some(s) => format!("{s}.{}", self.name),
            None => self.name.clone(),
        }
    }

    /// The column named exactly `name`.
    pub(crate) fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Exact match first, then case-insensitive (unquoted identifiers).
    fn column_index(&self, name: &str) -> Option<usize> {
        self.columns
            .iter()
            .position(|c| c.name == name)
            .or_else(|| {
                self.columns
                    .iter()
                    .position(|c| c.name.eq_ignore_ascii_case(name))
            })
    }
}

/// Schema names that mean "the default schema".
fn schema_key(s: Option<&str>) -> String {
    match s.map(str::to_ascii_lowercase) {
        None => String::new(),
        Some(s) if matches!(s.as_str(), "public" | "main" | "dbo") => String::new(),
        Some(s) => s,
    }
}

/// Whether two tables live in the same schema.
pub(crate) fn same_schema(a: &Table, b: &Table) -> bool {
    schema_key(a.schema.as_deref()) == schema_key(b.schema.as_deref())
}

/// Every table known so far, in definition order.
#[derive(Clone, Debug, Default)]
pub(crate) struct Schema {
    pub(crate) tables: Vec<Table>,
}

impl Schema {
    /// The table with exactly this schema key and name (identity across two snapshots).
    pub(crate) fn table_exact(&self, schema: Option<&str>, name: &str) -> Option<&Table> {
        let key = schema_key(schema);
        self.tables
            .iter()
            .find(|t| t.name == name && schema_key(t.schema.as_deref()) == key)
    }

    /// Lookup for statements that refer to a table: exact, then any schema, then
    /// case-insensitively.
    fn find(&self, schema: Option<&str>, name: &str) -> Option<usize> {
        let key = schema_key(schema);
        let compatible = |t: &Table| {
            let k = schema_key(t.schema.as_deref());
            k == key || k.is_empty() || key.is_empty()
        };
        self.tables
            .iter()
            .position(|t| t.name == name && schema_key(t.schema.as_deref()) == key)
            .or_else(|| {
                self.tables
                    .iter()
                    .position(|t| t.name == name && compatible(t))
            })
            .or_else(|| {
                self.tables
                    .iter()
                    .position(|t| t.name.eq_ignore_ascii_case(name) && compatible(t))
            })
    }

    /// `CREATE TABLE` (or a Prisma model): a table with this exact name, created if new.
    pub(crate) fn create_table(
        &mut self,
        schema: Option<&str>,
        name: &str,
        loc: Location,
    ) -> usize {
        let key = schema_key(schema);
        if let Some(i) = self
            .tables
            .iter()
            .position(|t| t.name == name && schema_key(t.schema.as_deref()) == key)
        {
            let t = &mut self.tables[i];
            if t.implicit {
                t.implicit = false;
                t.loc = loc;
            }
            return i;
        }
        self.tables.push(Table {
            schema: schema.map(str::to_owned),
            name: name.to_owned(),
            loc,
            implicit: false,
            columns: Vec::new(),
        });
        self.tables.len() - 1
    }

    /// A table a statement refers to; remembered as implicit when never created.
    pub(crate) fn refer(&mut self, schema: Option<&str>, name: &str, loc: Location) -> usize {
        if let Some(i) = self.find(schema, name) {
            return i;
        }
        let i = self.create_table(schema, name, loc);
        self.tables[i].implicit = true;
        i
    }

    /// Adds a column unless the table has one with exactly this name.
    pub(crate) fn add_column(&mut self, table: usize, name: &str, loc: Location) {
        let t = &mut self.tables[table];
        if t.column(name).is_none() {
            t.columns.push(Column {
                name: name.to_owned(),
                loc,
            });
        }
    }

    pub(crate) fn drop_column(&mut self, table: usize, name: &str) {
        let t = &mut self.tables[table];
        if let Some(i) = t.column_index(name) {
            t.columns.remove(i);
        }
    }

    pub(crate) fn rename_column(&mut self, table: usize, old: &str, new: &str, loc: Location) {
        let t = &mut self.tables[table];
        match t.column_index(old) {
            Some(i) => {
                t.columns[i].name = new.to_owned();
                t.columns[i].loc = loc;
            }
            None => self.add_column(table, new, loc),
        }
    }

    pub(crate) fn drop_table(&mut self, schema: Option<&str>, name: &str) {
        if let Some(i) = self.find(schema, name) {
            self.tables.remove(i);
        }
    }

    pub(crate) fn rename_table(
        &mut self,
        schema: Option<&str>,
        name: &str,
        new_schema: Option<&str>,
        new_name: &str,
        loc: Location,
    ) {
        let i = self.refer(schema, name, loc.clone());
        let t = &mut self.tables[i];
        if new_schema.is_some() {
            t.schema = new_schema.map(str::to_owned);
        }
        t.name = new_name.to_owned();
        t.loc = loc;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line: u32) -> Location {
        Location {
            file: "m.sql".into(),
            line,
        }
    }

    #[test]
    fn lookups_fall_back_to_case_insensitive_and_any_schema() {
        let mut s = Schema::default();
        let users = s.create_table(None, "users", at(1));
        assert_eq!(s.refer(Some("public"), "users", at(2)), users);
        assert_eq!(s.refer(None, "USERS", at(3)), users);
        // CREATE is exact: a quoted `Users` is another table.
        assert_ne!(s.create_table(None, "Users", at(4)), users);
        s.add_column(users, "email", at(5));
        s.rename_column(users, "EMAIL", "mail", at(6));
        assert_eq!(s.tables[users].columns[0].name, "mail");
        s.drop_column(users, "mail");
        assert!(s.tables[users].columns.is_empty());
        s.rename_table(None, "users", None, "accounts", at(7));
        assert!(s.table_exact(None, "accounts").is_some());
        s.drop_table(None, "accounts");
        assert!(s.table_exact(None, "accounts").is_none());
    }

    #[test]
    fn alter_of_an_unknown_table_is_implicit_until_created() {
        let mut s = Schema::default();
        let t = s.refer(None, "legacy", at(1));
        assert!(s.tables[t].implicit);
        assert_eq!(s.create_table(None, "legacy", at(9)), t);
        assert!(!s.tables[t].implicit);
        assert_eq!(s.tables[t].loc.line, 9);
    }
}
