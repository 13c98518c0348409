//! The parsed plan: its text, sections and everything extracted from them. Parsing never
//! fails on content (problems become findings); it fails only on size or encoding.

use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::markdown::{self, Doc, Unit};
use crate::model::{DoNotTouch, FailureRow, Gate, GoldenPath, ManifestRow};
use crate::rules::{Finding, Span};
use crate::sections::{self, Section, SectionKind};
use crate::source::{self, LineIndex};
use crate::{failures, gates, golden, manifest};

/// Limits applied while reading and parsing a plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseOptions {
    /// Plans larger than this are refused (default 5 MiB).
    pub max_bytes: u64,
    /// Lists and block quotes nested deeper than this are reported (default 64).
    pub max_depth: usize,
}

impl Default for ParseOptions {
    fn default() -> Self {
        Self {
            max_bytes: 5 * 1024 * 1024,
            max_depth: 64,
        }
    }
}

/// A plan document, parsed.
#[derive(Clone, Debug)]
pub struct Plan {
    text: String,
    origin: Option<PathBuf>,
    pub(crate) lines: LineIndex,
    pub(crate) doc: Doc,
    sections: Vec<Section>,
    manifest: Vec<ManifestRow>,
    do_not_touch: Vec<DoNotTouch>,
    gates: Vec<Gate>,
    golden_paths: Vec<GoldenPath>,
    failure_rows: Vec<FailureRow>,
    /// Structural findings made while extracting (malformed manifest rows and the like).
    pub(crate) notes: Vec<Finding>,
}

impl Plan {
    /// Parses plan text.
    ///
    /// # Errors
    /// [`crate::Error::TooLarge`] when `text` is over `opts.max_bytes`.
    pub fn parse(text: &str, opts: &ParseOptions) -> Result<Self> {
        let text = source::decode(
            text.as_bytes().to_vec(),
            Path::new("<input>"),
            opts.max_bytes,
        )?;
        Ok(Self::build(text, None, opts))
    }

    /// Parses plan bytes, which must be UTF-8 (a leading BOM is dropped).
    ///
    /// # Errors
    /// [`crate::Error::TooLarge`], or [`crate::Error::NotUtf8`] with the offending byte offset.
    pub fn from_bytes(bytes: &[u8], opts: &ParseOptions) -> Result<Self> {
        let text = source::decode(bytes.to_vec(), Path::new("<input>"), opts.max_bytes)?;
        Ok(Self::build(text, None, opts))
    }

    /// Reads and parses the plan at `path`; the size is checked before the file is read.
    ///
    /// # Errors
    /// [`crate::Error::Io`], [`crate::Error::NotAFile`], [`crate::Error::TooLarge`],
    /// [`crate::Error::NotUtf8`].
    pub fn load(path: &Path, opts: &ParseOptions) -> Result<Self> {
        let text = source::read_plan(path, opts.max_bytes)?;
        Ok(Self::build(text, Some(path.to_path_buf()), opts))
    }

    fn build(text: String, origin: Option<PathBuf>, opts: &ParseOptions) -> Self {
        let lines = LineIndex::new(&text);
        let doc = markdown::parse(&text, opts.max_depth);
        let sections = sections::find_sections(&doc, text.len());
        let mut notes = Vec::new();
        let cx = Cx {
            text: &text,
            lines: &lines,
            doc: &doc,
            sections: &sections,
        };
        let m = manifest::extract(&cx, &mut notes);
        let gates = gates::extract(&cx, &mut notes);
        let golden_paths = golden::extract(&cx, &mut notes);
        let failure_rows = failures::extract(&cx, &mut notes);
        Self {
            text,
            origin,
            lines,
            doc,
            sections,
            manifest: m.rows,
            do_not_touch: m.do_not_touch,
            gates,
            golden_paths,
            failure_rows,
            notes,
        }
    }

    /// The plan text (without a BOM).
    #[must_use]
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The file the plan was loaded from, if any.
    #[must_use]
    pub fn origin(&self) -> Option<&Path> {
        self.origin.as_deref()
    }

    /// The same plan, read from `origin` (for text parsed from a copy of that file).
    #[must_use]
    pub fn with_origin(mut self, origin: PathBuf) -> Self {
        self.origin = Some(origin);
        self
    }

    /// Every heading-delimited section chunk, in document order.
    #[must_use]
    pub fn sections(&self) -> &[Section] {
        &self.sections
    }

    /// Whether a (non-folded) heading for `kind` exists.
    #[must_use]
    pub fn has_section(&self, kind: SectionKind) -> bool {
        self.sections.iter().any(|s| s.kind == kind && !s.folded)
    }

    /// The file-impact manifest rows, in order.
    #[must_use]
    pub fn manifest(&self) -> &[ManifestRow] {
        &self.manifest
    }

    /// The DO-NOT-TOUCH globs.
    #[must_use]
    pub fn do_not_touch(&self) -> &[DoNotTouch] {
        &self.do_not_touch
    }

    /// The gate commands.
    #[must_use]
    pub fn gates(&self) -> &[Gate] {
        &self.gates
    }

    /// The golden paths.
    #[must_use]
    pub fn golden_paths(&self) -> &[GoldenPath] {
        &self.golden_paths
    }

    /// The failure-matrix rows.
    #[must_use]
    pub fn failure_rows(&self) -> &[FailureRow] {
        &self.failure_rows
    }

    /// The text of 1-based `line`, without its line ending.
    #[must_use]
    pub fn line_text(&self, line: usize) -> &str {
        self.lines.line_text(&self.text, line)
    }

    /// The span of a byte range of the plan text.
    #[must_use]
    pub fn span(&self, range: Range<usize>) -> Span {
        self.lines.span(&self.text, range)
    }

    pub(crate) fn cx(&self) -> Cx<'_> {
        Cx {
            text: &self.text,
            lines: &self.lines,
            doc: &self.doc,
            sections: &self.sections,
        }
    }
}

/// Borrowed view used by the extractors, the lint and grounding.
#[derive(Clone, Copy)]
pub(crate) struct Cx<'a> {
    pub(crate) text: &'a str,
    pub(crate) lines: &'a LineIndex,
    pub(crate) doc: &'a Doc,
    pub(crate) sections: &'a [Section],
}

impl<'a> Cx<'a> {
    pub(crate) fn span(&self, range: &Range<usize>) -> Span {
        self.lines.span(self.text, range.clone())
    }

    /// Section chunks of `kind` (folded ones included).
    pub(crate) fn chunks(&self, kind: SectionKind) -> impl Iterator<Item = &'a Section> + 'a {
        self.sections.iter().filter(move |s| s.kind == kind)
    }

    /// Units (with ids) that start inside `range`.
    pub(crate) fn units_in(
        &self,
        range: &Range<usize>,
    ) -> impl Iterator<Item = (usize, &'a Unit)> + 'a {
        let r = range.clone();
        self.doc
            .units
            .iter()
            .enumerate()
            .filter(move |(_, u)| r.contains(&u.range.start))
    }

    /// Source text of `range`.
    pub(crate) fn slice(&self, range: &Range<usize>) -> &'a str {
        self.text.get(range.clone()).unwrap_or("")
    }
}
