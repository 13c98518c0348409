//! One file per subcommand, each exposing `run(args, &Ctx) -> Outcome`.

pub(crate) mod agents;
pub(crate) mod demo;
pub(crate) mod dupes;
pub(crate) mod init;
pub(crate) mod plan;
pub(crate) mod prompts;
pub(crate) mod resume;
pub(crate) mod run;
pub(crate) mod schema_check;
pub(crate) mod scope;
pub(crate) mod stage;
pub(crate) mod status;

use std::path::{Path, PathBuf};

use fabrik_core::process::CancelToken;

use crate::cli::GlobalArgs;
use crate::output::Printer;

/// What every command gets.
pub(crate) struct Ctx<'a> {
    pub(crate) global: &'a GlobalArgs,
    pub(crate) cwd: PathBuf,
    pub(crate) printer: &'a Printer,
    pub(crate) cancel: &'a CancelToken,
}

impl Ctx<'_> {
    /// The repository root (or the directory outside git).
    pub(crate) fn root(&self) -> PathBuf {
        fabrik_pipeline::git::toplevel(&self.cwd).unwrap_or_else(|| self.cwd.clone())
    }

    /// Loads the configuration for `root`.
    pub(crate) fn config(
        &self,
        root: &Path,
    ) -> Result<fabrik_config::Config, fabrik_config::Error> {
        let explicit = self.global.config.as_ref().map(|p| {
            if p.is_absolute() {
                p.clone()
            } else {
                self.cwd.join(p)
            }
        });
        fabrik_config::load(root, explicit.as_deref())
    }
}
