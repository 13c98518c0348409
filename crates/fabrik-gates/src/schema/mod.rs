//! The built-in `schema` gate and `fabrik schema-check`: did the change add a database table
//! or column that near-duplicates one that already exists?
//!
//! The schema at the base revision (SQL migrations read with `sqlparser`, Prisma models read
//! by hand) is compared with the schema of the working tree; every table or column the change
//! adds is matched against the ones that existed before (same schema for tables, same table
//! for columns) by normalised name and synonym groups.

mod check;
mod error;
mod gate;
mod git;
mod model;
mod names;
mod prisma;
mod sql;

pub use check::{FindingKind, MatchReason, SchemaFinding, SchemaItem, SchemaReport, check_schema};
pub use error::SchemaError;
pub use gate::{SYNONYMS_FILE, run_schema_gate};
pub use model::{Location, ParseWarning};
pub use names::{DEFAULT_SYNONYMS, Synonyms, normalise};
