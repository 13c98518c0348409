//! Reading plan text safely (size cap, file type, UTF-8 with the failing byte offset) and
//! turning byte offsets into 1-based line and column numbers.

use std::io::Read;
use std::ops::Range;
use std::path::Path;

use crate::error::{Error, Result};
use crate::rules::Span;

/// Reads `path` as plan text: refuses non-files and files over `limit` bytes before
/// reading them whole, and reports the byte offset of the first invalid UTF-8 byte.
pub(crate) fn read_plan(path: &Path, limit: u64) -> Result<String> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_file() {
        return Err(Error::NotAFile {
            path: path.to_path_buf(),
        });
    }
    if meta.len() > limit {
        return Err(Error::TooLarge {
            path: path.to_path_buf(),
            size: meta.len(),
            limit,
        });
    }
    let file = std::fs::File::open(path).map_err(io)?;
    // The file may grow between stat and read: never read more than the cap + 1.
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io)?;
    decode(bytes, path, limit)
}

/// Checks the size and encoding of in-memory plan bytes; strips a leading BOM.
pub(crate) fn decode(bytes: Vec<u8>, path: &Path, limit: u64) -> Result<String> {
    let size = bytes.len() as u64;
    if size > limit {
        return Err(Error::TooLarge {
            path: path.to_path_buf(),
            size,
            limit,
        });
    }
    match String::from_utf8(bytes) {
        Ok(mut text) => {
            if text.starts_with('\u{feff}') {
                text.drain(..'\u{feff}'.len_utf8());
            }
            Ok(text)
        }
        Err(e) => {
            let offset = e.utf8_error().valid_up_to();
            let bytes = e.as_bytes();
            let line = 1 + bytes[..offset].iter().filter(|&&b| b == b'\n').count();
            Err(Error::NotUtf8 {
                path: path.to_path_buf(),
                offset,
                line,
            })
        }
    }
}

/// Byte offset to line/column lookup for one text.
#[derive(Clone, Debug, Default)]
pub(crate) struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub(crate) fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(memchr_newlines(text).map(|i| i + 1));
        Self { starts }
    }

    /// 1-based line of `offset`.
    pub(crate) fn line_of(&self, offset: usize) -> usize {
        match self.starts.binary_search(&offset) {
            Ok(i) => i + 1,
            Err(i) => i,
        }
    }

    /// The span of `range` in `text`, clamped to the text and to char boundaries.
    pub(crate) fn span(&self, text: &str, range: Range<usize>) -> Span {
        let mut start = range.start.min(text.len());
        while !text.is_char_boundary(start) {
            start -= 1;
        }
        let end = range.end.clamp(start, text.len());
        let line = self.line_of(start);
        let line_start = self.starts[line - 1];
        let column = text[line_start..start].chars().count() + 1;
        Span {
            line,
            column,
            offset: start,
            len: (end - start).max(usize::from(end < text.len())),
        }
    }

    /// The text of 1-based `line` without its line ending.
    pub(crate) fn line_text<'t>(&self, text: &'t str, line: usize) -> &'t str {
        let Some(&start) = self.starts.get(line.wrapping_sub(1)) else {
            return "";
        };
        let end = self
            .starts
            .get(line)
            .map_or(text.len(), |&s| s.saturating_sub(1));
        let s = &text[start..end.max(start)];
        s.strip_suffix('\r').unwrap_or(s)
    }
}

fn memchr_newlines(text: &str) -> impl Iterator<Item = usize> + '_ {
    text.bytes()
        .enumerate()
        .filter(|&(_, b)| b == b'\n')
        .map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns() {
        let text = "ab\ncé\r\nxyz";
        let idx = LineIndex::new(text);
        assert_eq!(idx.span(text, 0..1).line, 1);
        let s = idx.span(text, 4..5);
        assert_eq!((s.line, s.column), (2, 2));
        assert_eq!(idx.line_text(text, 2), "cé");
        assert_eq!(idx.line_text(text, 3), "xyz");
        let s = idx.span(text, 9..10);
        assert_eq!((s.line, s.column), (3, 2));
    }

    #[test]
    fn invalid_utf8_reports_offset_and_line() {
        let bytes = b"# Plan\nok\n\xff rest".to_vec();
        let err = decode(bytes, Path::new("p.md"), 100).unwrap_err();
        assert!(
            matches!(
                err,
                Error::NotUtf8 {
                    offset: 10,
                    line: 3,
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn bom_is_stripped_and_size_capped() {
        assert_eq!(
            decode(b"\xef\xbb\xbfhi".to_vec(), Path::new("p"), 10).unwrap(),
            "hi"
        );
        assert!(matches!(
            decode(vec![b'a'; 11], Path::new("p"), 10),
            Err(Error::TooLarge {
                size: 11,
                limit: 10,
                ..
            })
        ));
    }
}
