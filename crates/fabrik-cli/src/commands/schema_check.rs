//! `fabrik schema-check [--base REV]`: new SQL/Prisma tables or columns (working tree
//! against REV, uncommitted and untracked files included) that near-duplicate existing
//! ones. Exit 0 clean, 1 findings; errors (no repository, unknown REV) go to the caller,
//! which maps them to exit 3.

use std::io::Write;
use std::path::Path;

use fabrik_gates::{SYNONYMS_FILE, SchemaError, SchemaReport, Synonyms};

/// Output formats of `fabrik schema-check`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum SchemaFormat {
    /// One line per finding, then the parse warnings.
    #[default]
    Text,
    /// The report as JSON (base, files, findings, warnings).
    Json,
}

/// Arguments of `fabrik schema-check`.
#[derive(clap::Args, Debug)]
pub(crate) struct SchemaCheckArgs {
    /// The revision whose schema the working tree's is compared with.
    #[arg(long, value_name = "REV", default_value = "HEAD")]
    pub(crate) base: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = SchemaFormat::Text)]
    pub(crate) format: SchemaFormat,
    /// Another synonym group, comma-separated (repeatable), added to the defaults and to
    /// .fabrik/schema-synonyms.txt; e.g. --synonyms sku,article_number.
    #[arg(long, value_name = "A,B,...")]
    pub(crate) synonyms: Vec<String>,
}

/// Runs `fabrik schema-check` in the repository containing `cwd`, writing to `out`.
pub(crate) fn run(
    args: &SchemaCheckArgs,
    cwd: &Path,
    out: &mut dyn Write,
) -> Result<u8, SchemaError> {
    let mut synonyms = Synonyms::default();
    if let Some(top) = fabrik_pipeline::git::toplevel(cwd) {
        synonyms.extend_from_file(&top.join(".fabrik").join(SYNONYMS_FILE))?;
    }
    for group in &args.synonyms {
        synonyms.extend_from_str(group);
    }
    let report = fabrik_gates::check_schema(cwd, &args.base, &synonyms)?;
    write_report(out, &report, args.format).map_err(SchemaError::Write)?;
    Ok(u8::from(!report.findings.is_empty()))
}

fn write_report(
    out: &mut dyn Write,
    report: &SchemaReport,
    format: SchemaFormat,
) -> std::io::Result<()> {
    match format {
        SchemaFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, report)?;
            writeln!(out)
        }
        SchemaFormat::Text => {
            for f in &report.findings {
                writeln!(out, "error[schema]: {}", f.message())?;
            }
            for w in &report.warnings {
                writeln!(out, "warning: {}: {}", w.location, w.message)?;
            }
            let short = report.base.get(..12).unwrap_or(&report.base);
            if report.schema_files.is_empty() {
                writeln!(
                    out,
                    "no schema files (SQL migrations, *.prisma) in the repository"
                )
            } else if report.findings.is_empty() {
                writeln!(
                    out,
                    "no duplicate tables or columns: {} changed of {} schema file(s), against {short}",
                    report.changed_schema_files.len(),
                    report.schema_files.len()
                )
            } else {
                writeln!(
                    out,
                    "{} near-duplicate(s) against {short}: reuse the existing table or column",
                    report.findings.len()
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::process::Command;

    use super::*;

    fn git(dir: &Path, args: &[&str]) {
        let ok = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(dir)
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(ok, "git {args:?}");
    }

    fn args(base: &str, format: SchemaFormat) -> SchemaCheckArgs {
        SchemaCheckArgs {
            base: base.into(),
            format,
            synonyms: vec!["sku,item_no".into()],
        }
    }

    #[test]
    fn exit_codes_and_formats() {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        git(d, &["init", "-q", "-b", "main"]);
        std::fs::create_dir_all(d.join("migrations")).expect("mkdir");
        std::fs::write(
            d.join("migrations/001.sql"),
            "CREATE TABLE items (id int, sku text);\n",
        )
        .expect("write");
        git(d, &["add", "-A"]);
        git(d, &["commit", "-q", "-m", "base"]);

        let mut out = Vec::new();
        assert_eq!(
            run(&args("HEAD", SchemaFormat::Text), d, &mut out).ok(),
            Some(0)
        );

        std::fs::write(
            d.join("migrations/002.sql"),
            "ALTER TABLE items ADD COLUMN item_no text;\n",
        )
        .expect("write");
        let mut out = Vec::new();
        assert_eq!(
            run(&args("HEAD", SchemaFormat::Text), d, &mut out).ok(),
            Some(1)
        );
        let text = String::from_utf8_lossy(&out);
        assert!(text.contains("reuse `items.sku`"), "{text}");

        let mut out = Vec::new();
        assert_eq!(
            run(&args("HEAD", SchemaFormat::Json), d, &mut out).ok(),
            Some(1)
        );
        let json: serde_json::Value = serde_json::from_slice(&out).expect("json");
        assert_eq!(json["findings"][0]["existing"]["column"], "sku");

        let err = run(&args("nope", SchemaFormat::Text), d, &mut Vec::new());
        assert!(
            matches!(err, Err(SchemaError::UnknownRevision { ref rev, .. }) if rev == "nope"),
            "{err:?}"
        );
    }
}
