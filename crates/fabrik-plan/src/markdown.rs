//! A flat view of a markdown document with byte offsets: headings, text units (paragraphs,
//! list-item text, table cells, code blocks), tables and list items. Everything after this
//! module works on this view, never on markdown syntax, and the walk is a loop over
//! pulldown-cmark's events with explicit stacks, so deep nesting cannot overflow the stack.

use std::ops::Range;

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};

/// A run of inline code: its content and the source range including the backticks.
#[derive(Clone, Debug)]
pub(crate) struct CodeSpan {
    pub(crate) text: String,
    pub(crate) range: Range<usize>,
}

/// A run of prose text (not code).
#[derive(Clone, Debug)]
pub(crate) struct TextRun {
    pub(crate) text: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum UnitKind {
    Paragraph,
    Heading(u8),
    /// A table cell; `row` 0 is the header row.
    Cell {
        table: usize,
        row: usize,
        col: usize,
    },
    /// The text of a tight list item (no paragraph of its own).
    ItemText,
    Code {
        info: String,
        closed: bool,
    },
}

/// A leaf block: the smallest piece of text findings point into.
#[derive(Clone, Debug)]
pub(crate) struct Unit {
    pub(crate) kind: UnitKind,
    pub(crate) range: Range<usize>,
    /// Plain text: prose and code content, line breaks as `\n`.
    pub(crate) text: String,
    pub(crate) prose: Vec<TextRun>,
    pub(crate) codes: Vec<CodeSpan>,
    /// The innermost list item holding this unit.
    pub(crate) item: Option<usize>,
}

impl Unit {
    pub(crate) fn is_code_block(&self) -> bool {
        matches!(self.kind, UnitKind::Code { .. })
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Table {
    pub(crate) range: Range<usize>,
    /// Unit ids per row; row 0 is the header.
    pub(crate) rows: Vec<Vec<usize>>,
}

#[derive(Clone, Debug)]
pub(crate) struct Item {
    pub(crate) range: Range<usize>,
    pub(crate) parent: Option<usize>,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Doc {
    pub(crate) units: Vec<Unit>,
    pub(crate) tables: Vec<Table>,
    pub(crate) items: Vec<Item>,
    /// Offsets where nesting first went over the limit (one per excursion).
    pub(crate) too_deep: Vec<usize>,
}

impl Doc {
    /// The heading units with their levels, in order.
    pub(crate) fn headings(&self) -> impl Iterator<Item = (u8, &Unit)> {
        self.units.iter().filter_map(|u| match u.kind {
            UnitKind::Heading(level) => Some((level, u)),
            _ => None,
        })
    }

    /// Whether item `id` is `ancestor` or lies inside it.
    pub(crate) fn item_within(&self, mut id: usize, ancestor: usize) -> bool {
        loop {
            if id == ancestor {
                return true;
            }
            match self.items[id].parent {
                Some(p) => id = p,
                None => return false,
            }
        }
    }

    /// The top-most list item containing `id` whose start is at or after `from`.
    pub(crate) fn outermost_item_after(&self, mut id: usize, from: usize) -> usize {
        while let Some(p) = self.items[id].parent {
            if self.items[p].range.start < from {
                break;
            }
            id = p;
        }
        id
    }
}

/// Parses `text` into a [`Doc`]; nesting beyond `max_depth` is recorded, not followed.
pub(crate) fn parse(text: &str, max_depth: usize) -> Doc {
    let mut w = Walker {
        doc: Doc::default(),
        open: None,
        items: Vec::new(),
        depth: 0,
        max_depth,
        deep: false,
        table: None,
    };
    let opts = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_YAML_STYLE_METADATA_BLOCKS;
    for (event, range) in Parser::new_ext(text, opts).into_offset_iter() {
        w.event(event, range, text);
    }
    w.flush();
    w.doc
}

struct Walker {
    doc: Doc,
    open: Option<Unit>,
    items: Vec<usize>,
    depth: usize,
    max_depth: usize,
    deep: bool,
    /// (table id, current row, current column)
    table: Option<(usize, usize, usize)>,
}

impl Walker {
    fn event(&mut self, event: Event<'_>, range: Range<usize>, src: &str) {
        match event {
            Event::Start(tag) => self.start(tag, range, src),
            Event::End(tag) => self.end(tag, range),
            Event::Text(t) => {
                let u = self.leaf(&range);
                if !u.is_code_block() {
                    u.prose.push(TextRun {
                        text: t.to_string(),
                    });
                }
                u.text.push_str(&t);
                u.range.end = u.range.end.max(range.end);
            }
            Event::Code(t) => {
                let u = self.leaf(&range);
                u.text.push_str(&t);
                u.codes.push(CodeSpan {
                    text: t.to_string(),
                    range: range.clone(),
                });
                u.range.end = u.range.end.max(range.end);
            }
            Event::SoftBreak | Event::HardBreak => {
                if let Some(u) = self.open.as_mut() {
                    u.text.push('\n');
                }
            }
            Event::InlineHtml(_) | Event::InlineMath(_) | Event::FootnoteReference(_) => {
                let u = self.leaf(&range);
                u.range.end = u.range.end.max(range.end);
            }
            _ => {}
        }
    }

    fn start(&mut self, tag: Tag<'_>, range: Range<usize>, src: &str) {
        match tag {
            Tag::Paragraph => self.open_unit(UnitKind::Paragraph, range),
            Tag::Heading { level, .. } => self.open_unit(UnitKind::Heading(level as u8), range),
            Tag::CodeBlock(kind) => {
                let (info, closed) = match kind {
                    CodeBlockKind::Fenced(info) => {
                        (info.to_string(), fence_closed(&src[range.clone()]))
                    }
                    CodeBlockKind::Indented => (String::new(), true),
                };
                self.open_unit(UnitKind::Code { info, closed }, range);
            }
            Tag::List(_) | Tag::BlockQuote(_) => {
                self.flush();
                self.push_depth(range.start);
            }
            Tag::Item => {
                self.flush();
                self.push_depth(range.start);
                let parent = self.items.last().copied();
                self.doc.items.push(Item { range, parent });
                self.items.push(self.doc.items.len() - 1);
            }
            Tag::Table(_) => {
                self.flush();
                self.doc.tables.push(Table {
                    range,
                    rows: vec![Vec::new()],
                });
                self.table = Some((self.doc.tables.len() - 1, 0, 0));
            }
            Tag::TableRow => {
                if let Some((t, row, col)) = self.table.as_mut() {
                    self.doc.tables[*t].rows.push(Vec::new());
                    *row += 1;
                    *col = 0;
                }
            }
            Tag::TableCell => {
                if let Some((table, row, col)) = self.table {
                    // Point at the content, not the padding around it.
                    let cell = &src[range.clone()];
                    let start = range.start + (cell.len() - cell.trim_start().len());
                    let end = (range.end - (cell.len() - cell.trim_end().len())).max(start);
                    self.open_unit(UnitKind::Cell { table, row, col }, start..end);
                }
            }
            Tag::HtmlBlock | Tag::MetadataBlock(_) => self.flush(),
            Tag::Emphasis
            | Tag::Strong
            | Tag::Strikethrough
            | Tag::Link { .. }
            | Tag::Image { .. } => {
                // Inline containers: a tight item's text may start with one.
                let u = self.leaf(&range);
                u.range.end = u.range.end.max(range.end);
            }
            _ => {}
        }
    }

    fn end(&mut self, tag: TagEnd, range: Range<usize>) {
        match tag {
            TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::CodeBlock => self.flush(),
            TagEnd::TableCell => {
                self.flush();
                if let Some((_, _, col)) = self.table.as_mut() {
                    *col += 1;
                }
            }
            TagEnd::TableHead => {
                if let Some((_, _, col)) = self.table.as_mut() {
                    *col = 0;
                }
            }
            TagEnd::Table => {
                self.flush();
                self.table = None;
            }
            TagEnd::List(_) | TagEnd::BlockQuote(_) => {
                self.flush();
                self.pop_depth();
            }
            TagEnd::Item => {
                self.flush();
                self.pop_depth();
                if let Some(id) = self.items.pop() {
                    self.doc.items[id].range.end = range.end;
                }
            }
            _ => {}
        }
    }

    fn push_depth(&mut self, at: usize) {
        self.depth += 1;
        if self.depth > self.max_depth && !self.deep {
            self.deep = true;
            self.doc.too_deep.push(at);
        }
    }

    fn pop_depth(&mut self) {
        self.depth = self.depth.saturating_sub(1);
        if self.depth <= self.max_depth {
            self.deep = false;
        }
    }

    fn open_unit(&mut self, kind: UnitKind, range: Range<usize>) {
        self.flush();
        let item = self.items.last().copied();
        self.open = Some(Unit {
            kind,
            range,
            text: String::new(),
            prose: Vec::new(),
            codes: Vec::new(),
            item,
        });
    }

    /// The open leaf, opening an implicit list-item text unit when inline content arrives
    /// outside any block (tight lists).
    fn leaf(&mut self, range: &Range<usize>) -> &mut Unit {
        let item = self.items.last().copied();
        self.open.get_or_insert_with(|| Unit {
            kind: UnitKind::ItemText,
            range: range.clone(),
            text: String::new(),
            prose: Vec::new(),
            codes: Vec::new(),
            item,
        })
    }

    fn flush(&mut self) {
        if let Some(u) = self.open.take() {
            if let UnitKind::Cell { table, row, .. } = u.kind
                && let Some(r) = self.doc.tables[table].rows.get_mut(row)
            {
                r.push(self.doc.units.len());
            }
            self.doc.units.push(u);
        }
    }
}

/// Whether a fenced block's source ends with a closing fence (pulldown-cmark runs an
/// unclosed fence to the end of its container without saying so).
fn fence_closed(block: &str) -> bool {
    let open = block.trim_start();
    let ch = open.chars().next().unwrap_or('`');
    let n = open.chars().take_while(|&c| c == ch).count();
    let mut lines = block.trim_end().lines();
    let first = lines.next();
    let Some(last) = lines.next_back() else {
        return false;
    };
    let last = last.trim();
    first.is_some() && last.len() >= n && last.chars().all(|c| c == ch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tight_list_items_and_tables_become_units() {
        let text = "# T\n\n- a `x`\n  - b\n\n| P | A |\n|---|---|\n| `p` | M |\n\n```sh\nls\n```\n";
        let d = parse(text, 64);
        let kinds: Vec<_> = d.units.iter().map(|u| u.kind.clone()).collect();
        let texts: Vec<_> = d
            .units
            .iter()
            .map(|u| (u.text.clone(), u.range.clone()))
            .collect();
        assert_eq!(kinds.len(), 8, "{kinds:?} {texts:?}");
        assert_eq!(d.items.len(), 2);
        assert_eq!(d.items[1].parent, Some(0));
        assert_eq!(d.tables[0].rows.len(), 2);
        let cell = &d.units[d.tables[0].rows[1][0]];
        assert_eq!(cell.codes[0].text, "p");
        assert_eq!(&text[cell.codes[0].range.clone()], "`p`");
        assert!(matches!(
            d.units[7].kind,
            UnitKind::Code { closed: true, .. }
        ));
    }

    #[test]
    fn unclosed_fence_is_detected() {
        let d = parse("```sh\nls\nmore\n", 64);
        assert!(matches!(
            d.units[0].kind,
            UnitKind::Code { closed: false, .. }
        ));
    }

    #[test]
    fn deep_nesting_is_recorded_once() {
        let text = format!("{}x\n", "> ".repeat(200));
        let d = parse(&text, 64);
        assert_eq!(d.too_deep.len(), 1);
    }
}
