//! `fabrik prompts show STAGE [--json]`: prints the effective prompt template of a stage (the
//! repository's `.fabrik/prompts/<stage>.md`, else the embedded one; which one goes to
//! stderr) and its size in estimated tokens (bytes / 4, rounded up).

use std::io::Write as _;

use fabrik_pipeline::prompts::{self, Prompts};

use crate::Outcome;
use crate::commands::Ctx;

/// `fabrik prompts ...`.
#[derive(clap::Subcommand, Debug)]
pub(crate) enum PromptsCommand {
    /// Print the effective template of STAGE (override or embedded) and its estimated size.
    Show {
        /// The stage.
        #[arg(value_parser = clap::builder::PossibleValuesParser::new(prompts::STAGES))]
        stage: String,
    },
}

/// Runs `fabrik prompts`.
pub(crate) fn run(cmd: &PromptsCommand, ctx: &Ctx<'_>) -> Outcome {
    let PromptsCommand::Show { stage } = cmd;
    let root = ctx.root();
    let loaded = Prompts::load(&root).map_err(fabrik_pipeline::Error::from)?;
    let path = prompts::override_path(&root, stage);
    let (text, source) = match loaded.override_of(stage) {
        Some(t) => (t.to_owned(), "override"),
        None => (
            prompts::embedded(stage).unwrap_or_default().to_owned(),
            "embedded",
        ),
    };
    let bytes = text.len() as u64;
    let tokens = bytes.div_ceil(4);
    let mut out = std::io::stdout().lock();
    if ctx.global.json {
        let value = serde_json::json!({
            "stage": stage,
            "source": source,
            "path": (source == "override").then(|| path.display().to_string()),
            "template": text,
            "bytes": bytes,
            "tokens_estimated": tokens,
        });
        writeln!(out, "{value}")?;
    } else {
        let from = if source == "override" {
            format!("override {}", path.display())
        } else {
            "embedded template".to_owned()
        };
        let mut err = std::io::stderr().lock();
        writeln!(
            err,
            "{stage}: {from}, {bytes} bytes, ~{tokens} tokens (estimated: bytes / 4, rounded up)"
        )?;
        out.write_all(text.as_bytes())?;
    }
    Ok(fabrik_core::exit::SUCCESS)
}
