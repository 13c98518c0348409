//! The rule table and the finding type. Rule ids are stable: they are what planners,
//! CI configs and SARIF consumers key on, so an id is never reused for another meaning.
//! `P0xx` rules judge the plan text, `P07x` need the repository (grounding), `S0xx` compare
//! a diff with the plan (scope).

use serde::Serialize;

/// How bad a finding is. Error-level findings fail `plan lint`, `scope` and the planning stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth fixing; does not fail the check.
    Warning,
    /// Fails the check.
    Error,
}

impl Severity {
    /// `"error"` or `"warning"`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warning => "warning",
        }
    }
}

macro_rules! rules {
    ($( $(#[$doc:meta])* $variant:ident = $id:literal, $name:literal, $sev:ident, $summary:literal, $hint:literal; )*) => {
        /// Every rule this crate can report.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[non_exhaustive]
        pub enum Rule {
            $( $(#[$doc])* $variant, )*
        }

        impl Rule {
            /// All rules, in id order.
            pub const ALL: &'static [Rule] = &[$(Rule::$variant),*];

            /// The stable id, e.g. `"P011"`.
            #[must_use]
            pub fn id(self) -> &'static str {
                match self { $(Rule::$variant => $id,)* }
            }

            /// The stable kebab-case name, e.g. `"manifest-absolute-path"`.
            #[must_use]
            pub fn name(self) -> &'static str {
                match self { $(Rule::$variant => $name,)* }
            }

            /// The severity findings of this rule carry unless stated otherwise.
            #[must_use]
            pub fn default_severity(self) -> Severity {
                match self { $(Rule::$variant => Severity::$sev,)* }
            }

            /// One line saying what the rule checks.
            #[must_use]
            pub fn summary(self) -> &'static str {
                match self { $(Rule::$variant => $summary,)* }
            }

            /// The generic fix for a finding of this rule (findings may carry a sharper one).
            #[must_use]
            pub fn hint(self) -> &'static str {
                match self { $(Rule::$variant => $hint,)* }
            }
        }
    };
}

rules! {
    /// One of the eight contract sections has no heading.
    MissingSection = "P001", "missing-section", Error,
        "a contract section is missing",
        "add the section under its own heading; `fabrik plan template` shows all eight";
    /// A contract section has a heading but no content (or only a placeholder).
    EmptySection = "P002", "empty-section", Error,
        "a contract section is empty or holds only a placeholder",
        "fill the section with concrete content or explain in one sentence why it does not apply";
    /// The plan has none of the eight sections (empty, or prose only).
    EmptyPlan = "P003", "empty-plan", Error,
        "the plan has none of the contract sections",
        "start from `fabrik plan template` and answer every section";
    /// Lists or block quotes nested deeper than the parser limit.
    NestingTooDeep = "P004", "nesting-too-deep", Error,
        "lists or quotes are nested too deeply",
        "flatten the nesting; plans never need more than a few levels";
    /// Bidirectional-override or invisible Unicode characters.
    UnicodeControl = "P005", "unicode-control", Warning,
        "invisible or bidirectional control characters",
        "delete the control character; in commands it can hide what really runs";
    /// A fenced code block that is never closed swallows the rest of the plan.
    UnclosedFence = "P006", "unclosed-fence", Warning,
        "a code fence is never closed",
        "close the fence with the same backticks that opened it";
    /// A manifest action other than CREATE, MODIFY, DELETE or RENAME.
    ManifestUnknownAction = "P010", "manifest-unknown-action", Error,
        "a manifest row has an unknown action",
        "use exactly one of CREATE, MODIFY, DELETE, RENAME (with `old -> new` in the Path cell)";
    /// A manifest path is absolute (`/etc`, `C:\`, `~/`).
    ManifestAbsolutePath = "P011", "manifest-absolute-path", Error,
        "a manifest path is absolute",
        "write the path relative to the repository root, e.g. `src/lib.rs`";
    /// A manifest path leaves the repository after normalisation (`../..`).
    ManifestPathEscapes = "P012", "manifest-path-escapes", Error,
        "a manifest path escapes the repository",
        "remove the `..` components; every path must stay under the repository root";
    /// The same path appears in two manifest rows.
    ManifestDuplicateRow = "P013", "manifest-duplicate-row", Error,
        "a path is listed twice in the manifest",
        "merge the rows into one; each path gets exactly one action";
    /// The manifest table lacks one of the four required columns.
    ManifestMissingColumn = "P014", "manifest-missing-column", Error,
        "the manifest table lacks a required column",
        "use the header `| Path | Action | Reason | What will NOT change |`";
    /// The manifest section holds no table with a Path column, or the table has no rows.
    ManifestNoTable = "P015", "manifest-no-table", Error,
        "the manifest section has no manifest table rows",
        "add the table `| Path | Action | Reason | What will NOT change |` with one row per file";
    /// A manifest path matches the plan's own DO-NOT-TOUCH list.
    ManifestTouchesProtected = "P016", "manifest-touches-protected", Error,
        "a manifest path is on the DO-NOT-TOUCH list",
        "either drop the row or narrow the DO-NOT-TOUCH glob; the plan contradicts itself";
    /// No DO-NOT-TOUCH list, or an empty one.
    DoNotTouchMissing = "P017", "do-not-touch-missing", Warning,
        "the manifest has no DO-NOT-TOUCH list",
        "add `**DO-NOT-TOUCH:**` followed by a list of globs such as `migrations/**`";
    /// A manifest path or DO-NOT-TOUCH glob that cannot be a repository path.
    ManifestInvalidPath = "P018", "manifest-invalid-path", Error,
        "a manifest path or DO-NOT-TOUCH glob is malformed",
        "use a plain relative file path (no globs, control characters or `.git/`) in the manifest";
    /// A manifest row with an empty Reason, or a MODIFY with nothing in "What will NOT change".
    ManifestRowIncomplete = "P019", "manifest-row-incomplete", Warning,
        "a manifest row leaves a required cell empty",
        "give every row a reason, and every MODIFY the parts of the file that stay as they are";
    /// A gate with no runnable command (or a gates section with none at all).
    GateWithoutCommand = "P020", "gate-without-command", Error,
        "a gate has no runnable command",
        "write the exact command in backticks or a ```sh block, e.g. `cargo test -p my-crate`";
    /// The gates section never states what PASS and FAIL look like.
    GateMissingCondition = "P021", "gate-missing-condition", Warning,
        "the gates do not state PASS and FAIL conditions",
        "say for each gate what PASS is (e.g. `exit 0`) and what FAIL is (e.g. non-zero exit, a named error)";
    /// Fewer failure-matrix rows than required (default 5).
    FailureMatrixTooSmall = "P030", "failure-matrix-too-small", Error,
        "the failure matrix has too few rows",
        "add rows until at least five concrete failures have detection, response and rollback";
    /// A failure-matrix table without detection/response/rollback, or with empty cells there.
    FailureRowIncomplete = "P031", "failure-row-incomplete", Warning,
        "a failure-matrix row lacks detection, response or rollback",
        "use the columns `| Failure | Detection | Response | Rollback |` and fill every cell";
    /// A golden path without a command or without an exit code.
    GoldenPathIncomplete = "P040", "golden-path-incomplete", Error,
        "a golden path lacks its command or its exit code",
        "give each golden path `Command:` (in backticks), expected changed files, expected output and `Exit code: N`";
    /// Vague wording in a sentence that names nothing concrete.
    VagueLanguage = "P050", "vague-language", Error,
        "vague language in a sentence with no concrete anchor",
        "name the exact path, `command`, `symbol` or number the sentence commits to, or delete it";
    /// More manifest rows than the configured limit (default 25).
    PlanTooBig = "P060", "plan-too-big", Error,
        "the manifest lists more files than the limit",
        "split the task into smaller plans that each touch fewer files";
    /// The repo-awareness section names no path and no symbol.
    AwarenessWithoutEvidence = "P061", "awareness-without-evidence", Error,
        "the repo-awareness section names no file or symbol",
        "list the searches run, the existing files (paths) and symbols (in backticks) found, and the reuse decision for each";
    /// The step-report section does not require a separate verifier session and bounded re-verification.
    StepReportIncomplete = "P062", "step-report-incomplete", Warning,
        "the step-report section omits the verification rules",
        "state that verification runs in a separate session and that there are at most 2 re-verify cycles";
    /// A path claimed to exist (found, MODIFY, DELETE) does not.
    GroundPathMissing = "P070", "ground-path-missing", Error,
        "a path the plan claims exists is not in the repository",
        "search the repository again and cite the real path, or mark the item NOT FOUND / CREATE";
    /// A CREATE of a path that already exists.
    GroundCreateExists = "P071", "ground-create-exists", Error,
        "CREATE of a file that already exists",
        "reuse the existing file: make the row MODIFY and say what will not change, or CREATE a path that is free";
    /// A backticked symbol that appears nowhere in the repository.
    GroundSymbolMissing = "P072", "ground-symbol-missing", Error,
        "a symbol the plan claims exists is not in the repository",
        "search for the real name (e.g. `rg -n 'fn name'`), or mark the item NOT FOUND";
    /// A `path:line` reference beyond the end of the file.
    GroundLineOutOfRange = "P073", "ground-line-out-of-range", Error,
        "a `path:line` reference points past the end of the file",
        "cite a line that exists; re-read the file before citing it";
    /// A `path:line` reference far from the symbol it names.
    GroundLineFarFromSymbol = "P074", "ground-line-far-from-symbol", Error,
        "a `path:line` reference is not near the symbol it names",
        "cite the line where the symbol actually is";
    /// A path that resolves outside the repository through a symlink.
    GroundPathOutsideRepo = "P075", "ground-path-outside-repo", Error,
        "a path resolves outside the repository",
        "name a path inside the repository; symlinks out of it are not followed";
    /// A changed file that the manifest does not list.
    ScopeUnplannedChange = "S001", "scope-unplanned-change", Error,
        "a changed file is not in the manifest",
        "revert the change, or re-plan with this file in the manifest";
    /// A changed file that matches the DO-NOT-TOUCH list.
    ScopeDoNotTouch = "S002", "scope-do-not-touch", Error,
        "a DO-NOT-TOUCH path was changed",
        "revert the change to this file; the plan forbids touching it";
    /// A CREATE whose file already existed at the base, so it was modified instead.
    ScopeCreateModifiedExisting = "S003", "scope-create-modified-existing", Error,
        "a CREATE modified an existing file",
        "the file existed at the base revision: re-plan it as MODIFY, or create the new file the plan names";
    /// A MODIFY whose file did not exist at the base, so it was created.
    ScopeModifyCreated = "S004", "scope-modify-created", Error,
        "a MODIFY created a new file",
        "modify the existing file the plan names instead of creating one";
    /// A DELETE (or the old side of a RENAME) that did not happen.
    ScopeDeleteNotDone = "S005", "scope-delete-not-done", Error,
        "a planned DELETE or RENAME was not done",
        "delete (or rename) the file as planned, or re-plan";
    /// A change of another kind than planned (e.g. a MODIFY that deleted the file).
    ScopeActionMismatch = "S006", "scope-action-mismatch", Error,
        "a file was changed in a way its manifest action does not allow",
        "make the change the manifest row states, or re-plan";
    /// A planned CREATE or MODIFY that left the file untouched.
    ScopePlannedUntouched = "S007", "scope-planned-untouched", Warning,
        "a planned file was not changed",
        "either the work is unfinished or the plan listed a file it did not need";
    /// The plan has no manifest rows to compare the diff against.
    ScopeNoManifest = "S008", "scope-no-manifest", Error,
        "the plan has no manifest to check the diff against",
        "add the file-impact manifest table to the plan";
}

/// Where a finding points in the plan: a byte range and its 1-based line and column
/// (columns count Unicode scalar values, as rustc does).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Span {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// Byte offset into the plan text.
    pub offset: usize,
    /// Length in bytes (at least 1 unless the plan is empty).
    pub len: usize,
}

/// One problem found in a plan or a diff.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// Which rule.
    pub rule: Rule,
    /// How bad, usually [`Rule::default_severity`].
    pub severity: Severity,
    /// Where in the plan, when the finding has a place there.
    pub span: Option<Span>,
    /// The repository path the finding is about (scope and grounding findings).
    pub path: Option<String>,
    /// What is wrong, in one line.
    pub message: String,
    /// How to fix it, in one line.
    pub hint: String,
}

impl Finding {
    /// A finding of `rule` at its default severity with the rule's generic hint.
    #[must_use]
    pub fn new(rule: Rule, span: Option<Span>, message: impl Into<String>) -> Self {
        Self {
            rule,
            severity: rule.default_severity(),
            span,
            path: None,
            message: message.into(),
            hint: rule.hint().to_owned(),
        }
    }

    /// Replaces the hint.
    #[must_use]
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = hint.into();
        self
    }

    /// Sets the repository path the finding is about.
    #[must_use]
    pub fn with_path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// Overrides the severity.
    #[must_use]
    pub fn with_severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    /// Whether this finding fails the check.
    #[must_use]
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Sorts findings by position (findings without one last), then by rule id, and drops
/// exact duplicates, so output is deterministic.
pub fn sort_findings(findings: &mut Vec<Finding>) {
    findings.sort_by(|a, b| {
        let key = |f: &Finding| {
            (
                f.span.is_none(),
                f.span.map(|s| s.offset),
                f.rule,
                f.path.clone(),
            )
        };
        key(a).cmp(&key(b)).then_with(|| a.message.cmp(&b.message))
    });
    findings.dedup();
}

/// Whether any finding is at error level.
#[must_use]
pub fn has_errors(findings: &[Finding]) -> bool {
    findings.iter().any(Finding::is_error)
}
