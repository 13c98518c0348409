//! Lints a plan file and prints the text rendering (a development aid):
//! `cargo run -p fabrik-plan --example lint_file -- PLAN.md [REPO]`.

use std::io::Write;
use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args.first().ok_or("usage: lint_file PLAN.md [REPO]")?;
    let plan = fabrik_plan::Plan::load(Path::new(path), &fabrik_plan::ParseOptions::default())?;
    let mut findings = fabrik_plan::lint(&plan, &fabrik_plan::LintOptions::default());
    if let Some(repo) = args.get(1) {
        findings.extend(fabrik_plan::ground(
            &plan,
            Path::new(repo),
            &fabrik_plan::GroundOptions::default(),
        )?);
        fabrik_plan::sort_findings(&mut findings);
    }
    let text = fabrik_plan::render_text(&findings, Some(&plan), path);
    std::io::stdout().write_all(text.as_bytes())?;
    Ok(())
}
