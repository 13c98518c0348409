//! Finding the JSON a CLI printed: one object (possibly after stray log lines, possibly
//! pretty-printed), or one typed event per line of a JSONL stream with malformed lines
//! skipped. Always into typed values; never by walking `serde_json::Value`.

use serde::de::DeserializeOwned;

/// How many candidate start lines [`object`] tries before giving up (bounds the work on
/// garbage output).
const MAX_STARTS: usize = 64;

/// The first value of type `T` in `text`: the whole text, else the first line that starts
/// with `{` (or `[`) from which a `T` parses (trailing text after it is ignored).
pub(crate) fn object<T: DeserializeOwned>(text: &str) -> Option<T> {
    let trimmed = text.trim();
    if let Ok(v) = serde_json::from_str(trimmed) {
        return Some(v);
    }
    line_starts(text)
        .filter(|&i| text[i..].starts_with(['{', '[']))
        .take(MAX_STARTS)
        .find_map(|i| first_value(&text[i..]))
}

/// Each line of `text` that parses as a `T`; malformed or foreign lines are skipped.
pub(crate) fn lines<T: DeserializeOwned>(text: &str) -> impl Iterator<Item = T> + '_ {
    text.lines().filter_map(|l| {
        let l = l.trim();
        if l.starts_with('{') {
            serde_json::from_str(l).ok()
        } else {
            None
        }
    })
}

fn first_value<T: DeserializeOwned>(text: &str) -> Option<T> {
    serde_json::Deserializer::from_str(text)
        .into_iter::<T>()
        .next()?
        .ok()
}

fn line_starts(text: &str) -> impl Iterator<Item = usize> + '_ {
    std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1))
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    struct A {
        a: u32,
    }

    #[test]
    fn finds_an_object_after_log_lines() {
        assert_eq!(object::<A>("{\"a\":1}"), Some(A { a: 1 }));
        assert_eq!(
            object::<A>("Warning: x\n{\n  \"a\": 2\n}\ntrailing"),
            Some(A { a: 2 })
        );
        assert_eq!(object::<A>("no json {\"a\":3}"), None);
    }

    #[test]
    fn jsonl_skips_bad_lines() {
        let got: Vec<A> =
            lines("{\"a\":1}\nnot json\n{\"a\":\n{\"b\":1}\n  {\"a\":2}  \n").collect();
        assert_eq!(got, vec![A { a: 1 }, A { a: 2 }]);
    }
}

/// The Anthropic-shaped `usage` object claude and droid both print (input excludes cache
/// reads and cache creation).
#[derive(Debug, serde::Deserialize)]
pub(crate) struct AnthropicUsage {
    #[serde(default)]
    input_tokens: u64,
    #[serde(default)]
    output_tokens: u64,
    #[serde(default)]
    cache_read_input_tokens: u64,
    #[serde(default)]
    cache_creation_input_tokens: u64,
}

impl AnthropicUsage {
    /// As fabrik's usage, reported (not estimated), with the CLI's cost when it gives one.
    pub(crate) fn into_usage(self, cost_usd: Option<f64>) -> fabrik_core::Usage {
        fabrik_core::Usage {
            input_tokens: self.input_tokens,
            output_tokens: self.output_tokens,
            cache_read_tokens: self.cache_read_input_tokens,
            cache_write_tokens: self.cache_creation_input_tokens,
            cost_usd,
            estimated: false,
        }
    }
}
