//! What a plan says, extracted: manifest rows, the DO-NOT-TOUCH list, gates, golden paths
//! and failure-matrix rows. Each item keeps the span it came from.

use serde::Serialize;

use crate::rules::Span;

/// A manifest action.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Action {
    /// A new file; it must not exist yet.
    Create,
    /// An existing file is edited.
    Modify,
    /// An existing file is removed.
    Delete,
    /// An existing file moves (`old -> new` in the Path cell).
    Rename,
}

impl Action {
    /// Parses an action cell by its first word (`CREATE`, `**Modify**`, `DELETE (dead code)`);
    /// `None` for anything else.
    #[must_use]
    pub fn parse(cell: &str) -> Option<Self> {
        let word = cell
            .split(|c: char| !c.is_ascii_alphabetic())
            .find(|w| !w.is_empty())?;
        match word.to_ascii_uppercase().as_str() {
            "CREATE" => Some(Self::Create),
            "MODIFY" => Some(Self::Modify),
            "DELETE" => Some(Self::Delete),
            "RENAME" => Some(Self::Rename),
            _ => None,
        }
    }

    /// `"CREATE"`, `"MODIFY"`, `"DELETE"` or `"RENAME"`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "CREATE",
            Self::Modify => "MODIFY",
            Self::Delete => "DELETE",
            Self::Rename => "RENAME",
        }
    }
}

/// One row of the file-impact manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ManifestRow {
    /// The path, normalised (`a/./b` -> `a/b`); for RENAME the old path. Empty when the
    /// path cell is unusable (the lint reports why).
    pub path: String,
    /// For RENAME: the new path.
    pub rename_to: Option<String>,
    /// The action, `None` when the cell holds something else.
    pub action: Option<Action>,
    /// The action cell as written.
    pub action_text: String,
    /// The Reason cell.
    pub reason: String,
    /// The "What will NOT change" cell.
    pub unchanged: String,
    /// The Path cell.
    pub span: Span,
}

/// One DO-NOT-TOUCH entry: a path or glob (a directory `d/` is stored as `d/**`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DoNotTouch {
    /// The glob.
    pub glob: String,
    /// Where it is written.
    pub span: Span,
}

/// One gate command.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Gate {
    /// The gate's label (list item, table row or sub-heading text), possibly empty.
    pub name: String,
    /// The command line.
    pub command: String,
    /// Where the command is written.
    pub span: Span,
}

/// One golden path.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GoldenPath {
    /// Its sub-heading or first line.
    pub title: String,
    /// The command, if one was found.
    pub command: Option<String>,
    /// The expected exit code, if one was stated.
    pub exit_code: Option<i32>,
    /// Where the golden path starts.
    pub span: Span,
}

/// One row of the failure matrix.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FailureRow {
    /// The cells of the row (or the text of the list item), in order.
    pub cells: Vec<String>,
    /// Where the row starts.
    pub span: Span,
}
