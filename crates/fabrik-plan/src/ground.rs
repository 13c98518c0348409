//! Grounding: the plan's claims about the repository, checked against it.
//!
//! - manifest MODIFY / DELETE / RENAME-from paths exist; CREATE / RENAME-to paths do not;
//! - paths and backticked symbols named in the repo-awareness section (and in "must
//!   reuse" invariants) exist, unless their row or item says NOT FOUND / CREATE;
//! - every `path:line` (or `path#L42`) reference is inside the file and within
//!   `line_tolerance` lines of the symbol named next to it;
//! - no path resolves outside the repository through a symlink.

use std::collections::HashSet;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;

use crate::error::{Error, Result};
use crate::index::{self, RepoIndex};
use crate::markdown::{CodeSpan, Unit, UnitKind};
use crate::model::Action;
use crate::paths;
use crate::plan::{Cx, Plan};
use crate::rules::{Finding, Rule, sort_findings};
use crate::sections::SectionKind;
use crate::text;

/// Limits applied by [`ground`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroundOptions {
    /// A `path:line` reference must be within this many lines of its symbol (default 10).
    pub line_tolerance: usize,
    /// Files larger than this are not read for line checks (default 8 MiB).
    pub max_file_bytes: u64,
}

impl Default for GroundOptions {
    fn default() -> Self {
        Self {
            line_tolerance: 10,
            max_file_bytes: 8 * 1024 * 1024,
        }
    }
}

static NOT_FOUND: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(not\s+found|does\s*n[o']?t\s+exist|no\s+such\s+file|to\s+be\s+created|will\s+be\s+created|create\s+required|new\s+file|(?-i:CREATE))\b")
        .unwrap_or_else(|e| unreachable!("static regex: {e}"))
});
static LINE_REF: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"([@~]?[A-Za-z0-9_./\-]*[A-Za-z0-9_\-]\.[A-Za-z][A-Za-z0-9]{0,7})(?::(\d+)|#L(\d+))",
    )
    .unwrap_or_else(|e| unreachable!("static regex: {e}"))
});
static SYMBOL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[A-Za-z_][A-Za-z0-9_]*(?:(?:::|\.)[A-Za-z_][A-Za-z0-9_]*)*(?:\(\))?$")
        .unwrap_or_else(|e| unreachable!("static regex: {e}"))
});

/// Checks the plan's claims against the repository at `repo`.
///
/// # Errors
/// [`Error::NotADirectory`] or [`Error::Io`] when `repo` cannot be used.
pub fn ground(plan: &Plan, repo: &Path, opts: &GroundOptions) -> Result<Vec<Finding>> {
    if !repo.is_dir() {
        return Err(Error::NotADirectory {
            path: repo.to_path_buf(),
        });
    }
    let root = repo.canonicalize().map_err(|source| Error::Io {
        path: repo.to_path_buf(),
        source,
    })?;
    let mut g = Grounder {
        cx: plan.cx(),
        root: &root,
        index: RepoIndex::build(&root),
        opts,
        out: Vec::new(),
        new_symbols: HashSet::new(),
    };
    g.manifest(plan);
    let creates: HashSet<String> = plan
        .manifest()
        .iter()
        .filter(|r| r.action == Some(Action::Create))
        .filter_map(|r| paths::normalize(&r.path, false).ok())
        .chain(
            plan.manifest()
                .iter()
                .filter_map(|r| r.rename_to.as_deref())
                .filter_map(|p| paths::normalize(p, false).ok()),
        )
        .collect();
    let groups = groups(&g.cx);
    let (new_symbols, declared_new) = declared_new(&g.cx, &groups, &creates);
    g.new_symbols = new_symbols;
    if groups.iter().any(|grp| {
        grp.claims
            && grp
                .units
                .iter()
                .any(|u| u.codes.iter().any(|c| symbol_of(&c.text).is_some()))
    }) {
        g.index.index_identifiers();
    }
    for grp in &groups {
        g.group(grp, &creates, &declared_new);
    }
    sort_findings(&mut g.out);
    Ok(g.out)
}

/// Symbols and paths that a NOT FOUND / CREATE row declares new (plus the manifest's
/// CREATE targets): naming them elsewhere is not a claim that they exist.
fn declared_new(
    cx: &Cx<'_>,
    groups: &[Group<'_>],
    creates: &HashSet<String>,
) -> (HashSet<String>, HashSet<String>) {
    let mut symbols = HashSet::new();
    let mut new_paths = creates.clone();
    for grp in groups.iter().filter(|grp| grp.claims && grp.negated()) {
        for u in &grp.units {
            symbols.extend(
                u.codes
                    .iter()
                    .filter_map(|c| symbol_of(&c.text))
                    .map(str::to_owned),
            );
            let named = u
                .codes
                .iter()
                .map(|c| c.text.trim())
                .chain(text::path_tokens(cx.slice(&u.range)).map(|t| t.1));
            new_paths.extend(
                named
                    .filter(|p| text::is_path_like(p))
                    .filter_map(|p| paths::normalize(p, false).ok()),
            );
        }
    }
    (symbols, new_paths)
}

/// What a path resolves to.
enum Resolved {
    Missing,
    File(PathBuf),
    Dir,
    Outside,
}

/// Units read together: a table row, or one paragraph / list-item text.
struct Group<'a> {
    units: Vec<&'a Unit>,
    /// Whether paths and symbols here are claims of existence (repo-awareness, reuse).
    claims: bool,
}

impl Group<'_> {
    /// Whether the group says its items do not exist yet (NOT FOUND, CREATE).
    fn negated(&self) -> bool {
        self.units.iter().any(|u| NOT_FOUND.is_match(&u.text))
    }
}

/// The plan's units grouped for claim checking (code blocks excluded).
fn groups<'a>(cx: &Cx<'a>) -> Vec<Group<'a>> {
    let claim_ranges: Vec<Range<usize>> = cx
        .sections
        .iter()
        .filter(|s| {
            s.kind == SectionKind::RepoAwareness || (s.kind == SectionKind::Invariants && s.folded)
        })
        .map(|s| s.body.clone())
        .collect();
    let reuse_ranges: Vec<Range<usize>> = cx
        .chunks(SectionKind::Invariants)
        .filter(|s| !s.folded)
        .map(|s| s.body.clone())
        .collect();
    let mut out: Vec<Group<'a>> = Vec::new();
    let mut row_of: Option<(usize, usize)> = None;
    for u in &cx.doc.units {
        if matches!(u.kind, UnitKind::Code { .. } | UnitKind::Heading(_)) {
            continue;
        }
        let in_claims = claim_ranges.iter().any(|r| r.contains(&u.range.start))
            || (reuse_ranges.iter().any(|r| r.contains(&u.range.start))
                && u.text.to_lowercase().contains("reuse"));
        if let UnitKind::Cell { table, row, .. } = u.kind {
            if row == 0 {
                continue;
            }
            if row_of == Some((table, row))
                && let Some(last) = out.last_mut()
            {
                last.units.push(u);
                continue;
            }
            row_of = Some((table, row));
        } else {
            row_of = None;
        }
        out.push(Group {
            units: vec![u],
            claims: in_claims,
        });
    }
    out
}

/// The identifier a backticked span names, if it is symbol-shaped: `f()`, `a::B`,
/// `obj.method()`, `snake_case`, `CamelCase`, `SCREAMING_CASE` (plain lowercase words
/// like `pytest` are tools, not symbols).
fn symbol_of(code: &str) -> Option<&str> {
    let c = code.trim();
    if !SYMBOL.is_match(c) || text::is_path_like(c) {
        return None;
    }
    let bare = c.strip_suffix("()").unwrap_or(c);
    let last = bare.rsplit([':', '.']).next().unwrap_or(bare);
    let call = c.ends_with("()");
    let qualified = bare.contains("::") || bare.contains('.');
    let snake = last.contains('_') && last.chars().any(|ch| ch.is_ascii_alphabetic());
    let camel = last.chars().any(|ch| ch.is_ascii_uppercase())
        && last.chars().any(|ch| ch.is_ascii_lowercase());
    (call || qualified || snake || camel)
        .then_some(last)
        .filter(|l| l.len() >= 2)
}

struct Grounder<'a, 'p> {
    cx: Cx<'p>,
    root: &'a Path,
    index: RepoIndex,
    opts: &'a GroundOptions,
    out: Vec<Finding>,
    new_symbols: HashSet<String>,
}

impl Grounder<'_, '_> {
    fn resolve(&self, rel: &str) -> Resolved {
        let full = self.root.join(rel.trim_end_matches('/'));
        let Some(existing) = full.ancestors().find(|a| a.symlink_metadata().is_ok()) else {
            return Resolved::Missing;
        };
        match existing.canonicalize() {
            Ok(c) if !c.starts_with(self.root) => Resolved::Outside,
            Ok(c) if existing == full => {
                if c.is_dir() {
                    Resolved::Dir
                } else {
                    Resolved::File(c)
                }
            }
            _ => Resolved::Missing,
        }
    }

    fn manifest(&mut self, plan: &Plan) {
        for row in plan.manifest() {
            let Some(action) = row.action else { continue };
            let targets: Vec<(&str, bool)> = match action {
                Action::Create => vec![(row.path.as_str(), false)],
                Action::Modify | Action::Delete => vec![(row.path.as_str(), true)],
                Action::Rename => std::iter::once((row.path.as_str(), true))
                    .chain(row.rename_to.as_deref().map(|p| (p, false)))
                    .collect(),
            };
            for (p, must_exist) in targets {
                let Ok(norm) = paths::normalize(p, false) else {
                    continue;
                };
                let at = Some(row.span);
                match (self.resolve(&norm), must_exist) {
                    (Resolved::Outside, _) => self.out.push(outside(at, &norm)),
                    (Resolved::Missing, true) => self.out.push(
                        Finding::new(
                            Rule::GroundPathMissing,
                            at,
                            format!("{} of `{norm}`, which does not exist", action.as_str()),
                        )
                        .with_path(norm.clone()),
                    ),
                    (Resolved::File(_) | Resolved::Dir, false) => self.out.push(
                        Finding::new(
                            Rule::GroundCreateExists,
                            at,
                            format!(
                                "CREATE of an existing file - reuse it: `{norm}` already exists"
                            ),
                        )
                        .with_path(norm.clone()),
                    ),
                    _ => {}
                }
            }
        }
    }

    fn group(
        &mut self,
        grp: &Group<'_>,
        creates: &HashSet<String>,
        declared_new: &HashSet<String>,
    ) {
        let negated = grp.negated();
        let mut refs: Vec<(String, usize, Range<usize>)> = Vec::new();
        for u in &grp.units {
            let src = self.cx.slice(&u.range);
            for c in LINE_REF.captures_iter(src) {
                let (Some(p), Some(n)) = (c.get(1), c.get(2).or_else(|| c.get(3))) else {
                    continue;
                };
                let Ok(line) = n.as_str().parse::<usize>() else {
                    continue;
                };
                let whole = c.get(0).map_or(p.range(), |m| m.range());
                refs.push((
                    p.as_str().to_owned(),
                    line,
                    u.range.start + whole.start..u.range.start + whole.end,
                ));
            }
        }
        let symbols: Vec<&CodeSpan> = grp
            .units
            .iter()
            .flat_map(|u| &u.codes)
            .filter(|c| symbol_of(&c.text).is_some())
            .collect();
        if grp.claims && !negated {
            self.path_claims(grp, &refs, declared_new);
            for c in &symbols {
                let Some(sym) = symbol_of(&c.text) else {
                    continue;
                };
                if !self.index.has_identifier(sym) && !self.new_symbols.contains(sym) {
                    self.out.push(Finding::new(
                        Rule::GroundSymbolMissing,
                        Some(self.cx.span(&c.range)),
                        format!(
                            "`{}` is not an identifier anywhere in the repository",
                            c.text.trim()
                        ),
                    ));
                }
            }
        }
        if negated && grp.claims {
            return;
        }
        for (p, line, range) in refs {
            self.line_ref(&p, line, &range, &symbols, creates);
        }
    }

    /// Paths named in a claim group (backticked or in prose) must exist.
    fn path_claims(
        &mut self,
        grp: &Group<'_>,
        refs: &[(String, usize, Range<usize>)],
        declared_new: &HashSet<String>,
    ) {
        let mut seen = HashSet::new();
        for u in &grp.units {
            let mut cands: Vec<(String, Range<usize>)> = Vec::new();
            for c in u.codes.iter().filter(|c| text::is_path_like(c.text.trim())) {
                cands.push((c.text.trim().to_owned(), c.range.clone()));
            }
            // Prose paths from the source with code spans blanked out, so offsets are exact
            // and `a/__init__.py` is not split by emphasis.
            let mut src = self.cx.slice(&u.range).to_owned();
            for c in &u.codes {
                let (a, b) = (c.range.start - u.range.start, c.range.end - u.range.start);
                if let Some(part) = src.get(a..b) {
                    let blank = " ".repeat(part.len());
                    src.replace_range(a..b, &blank);
                }
            }
            for (at, tok) in text::path_tokens(&src) {
                let start = u.range.start + at;
                cands.push((tok.to_owned(), start..start + tok.len()));
            }
            for (p, range) in cands {
                // Covered by its `path:line` reference.
                if refs
                    .iter()
                    .any(|(rp, _, rr)| rp == &p && rr.start <= range.start && range.start < rr.end)
                {
                    continue;
                }
                let is_new = paths::normalize(&p, false).is_ok_and(|n| declared_new.contains(&n));
                if seen.insert(p.clone()) && !is_new {
                    self.path_exists(&p, &range);
                }
            }
        }
    }

    /// Resolves a path written in the plan: relative, repo-absolute, or a bare file name.
    fn locate(&self, raw: &str) -> std::result::Result<Vec<String>, String> {
        let p = raw.trim_start_matches('@');
        let root = self.root.to_string_lossy();
        let rel = match p.strip_prefix(root.as_ref()) {
            Some(r) => r.trim_start_matches('/'),
            None if paths::is_absolute(p) => {
                return Err(format!("`{p}` is outside the repository"));
            }
            None => p,
        };
        let norm = match paths::normalize(rel, false) {
            Ok(n) => n,
            Err(_) => return Err(format!("`{p}` is not a path inside the repository")),
        };
        if !norm.contains('/') && !self.index.has_file(&norm) {
            let named = self.index.by_name(&norm);
            if !named.is_empty() {
                return Ok(named.to_vec());
            }
        }
        Ok(vec![norm])
    }

    fn path_exists(&mut self, raw: &str, range: &Range<usize>) {
        let at = Some(self.cx.span(range));
        let found = match self.locate(raw) {
            Err(why) => {
                self.out
                    .push(Finding::new(Rule::GroundPathMissing, at, why));
                return;
            }
            Ok(c) => c,
        };
        let mut any = false;
        for rel in &found {
            match self.resolve(rel) {
                Resolved::Outside => {
                    self.out.push(outside(at, rel));
                    return;
                }
                Resolved::File(_) | Resolved::Dir => any = true,
                Resolved::Missing => {}
            }
        }
        if !any {
            self.out.push(
                Finding::new(
                    Rule::GroundPathMissing,
                    at,
                    format!("`{raw}` is claimed to exist but is not in the repository"),
                )
                .with_path(found.first().cloned().unwrap_or_default()),
            );
        }
    }

    /// A `path:line` reference: the file exists, has that line, and the nearest named symbol
    /// occurs within the tolerance.
    fn line_ref(
        &mut self,
        raw: &str,
        line: usize,
        range: &Range<usize>,
        symbols: &[&CodeSpan],
        creates: &HashSet<String>,
    ) {
        let at = Some(self.cx.span(range));
        let Ok(cands) = self.locate(raw) else { return };
        if cands.iter().any(|c| creates.contains(c)) {
            return;
        }
        let files: Vec<(String, PathBuf)> = cands
            .iter()
            .filter_map(|c| match self.resolve(c) {
                Resolved::File(p) => Some((c.clone(), p)),
                _ => None,
            })
            .collect();
        if files.is_empty() {
            self.out.push(Finding::new(
                Rule::GroundPathMissing,
                at,
                format!("`{raw}:{line}` names a file that is not in the repository"),
            ));
            return;
        }
        let sym = symbols
            .iter()
            .min_by_key(|c| c.range.start.abs_diff(range.start))
            .and_then(|c| symbol_of(&c.text));
        let mut problems = Vec::new();
        for (rel, path) in &files {
            let Some(content) = index::read_text(path, self.opts.max_file_bytes) else {
                return;
            };
            let count = content.lines().count();
            if line == 0 || line > count {
                problems.push(Finding::new(
                    Rule::GroundLineOutOfRange,
                    at,
                    format!("`{rel}:{line}` is past the end of the file ({count} lines)"),
                ));
                continue;
            }
            let Some(sym) = sym else { return };
            match nearest(&content, sym, line) {
                Some(found) if found.abs_diff(line) <= self.opts.line_tolerance => return,
                Some(found) => problems.push(
                    Finding::new(
                        Rule::GroundLineFarFromSymbol,
                        at,
                        format!(
                            "`{rel}:{line}` is {} lines from `{sym}`, which is at line {found}",
                            found.abs_diff(line)
                        ),
                    )
                    .with_hint(format!("cite `{rel}:{found}`, where `{sym}` is")),
                ),
                None => problems.push(Finding::new(
                    Rule::GroundLineFarFromSymbol,
                    at,
                    format!("`{rel}:{line}` is cited for `{sym}`, which does not occur in `{rel}`"),
                )),
            }
        }
        self.out.extend(problems.into_iter().take(1));
    }
}

fn outside(at: Option<crate::rules::Span>, rel: &str) -> Finding {
    Finding::new(
        Rule::GroundPathOutsideRepo,
        at,
        format!("`{rel}` resolves outside the repository (symlink)"),
    )
    .with_path(rel)
}

/// The 1-based line nearest to `line` on which identifier `sym` occurs.
fn nearest(content: &str, sym: &str, line: usize) -> Option<usize> {
    content
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains(sym) && index::identifiers(l).any(|id| id == sym))
        .map(|(i, _)| i + 1)
        .min_by_key(|n| n.abs_diff(line))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbol_shapes() {
        assert_eq!(symbol_of("run_droid_exec()"), Some("run_droid_exec"));
        assert_eq!(symbol_of("UserService"), Some("UserService"));
        assert_eq!(symbol_of("fabrik_core::exit::SUCCESS"), Some("SUCCESS"));
        assert_eq!(symbol_of("TOOL_CONFIGS"), Some("TOOL_CONFIGS"));
        assert_eq!(symbol_of("pytest"), None);
        assert_eq!(symbol_of("src/lib.rs"), None);
        assert_eq!(symbol_of("config.yaml"), None);
        assert_eq!(symbol_of("cargo test"), None);
        assert_eq!(symbol_of("CREATE"), None);
    }
}
