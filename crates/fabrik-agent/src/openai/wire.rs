//! The Chat Completions wire format, as typed serde values.
//!
//! Only the fields fabrik uses are modelled; everything else is ignored. A body that is
//! JSON but neither a chat completion nor an error object parses as [`Body::Unknown`] (kept
//! for the error message) instead of failing deep inside a field.

use serde::{Deserialize, Serialize};

/// `POST /chat/completions` request body.
#[derive(Debug, Serialize)]
pub(crate) struct ChatRequest<'a> {
    pub(crate) model: &'a str,
    pub(crate) messages: &'a [Message],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub(crate) tools: &'a [serde_json::Value],
    pub(crate) stream: bool,
}

/// One message of the conversation, as sent.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "role", rename_all = "lowercase")]
pub(crate) enum Message {
    System {
        content: String,
    },
    User {
        content: String,
    },
    Assistant {
        content: Option<String>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        tool_calls: Vec<OutToolCall>,
    },
    Tool {
        tool_call_id: String,
        content: String,
    },
}

/// A tool call echoed back in the assistant message that asked for it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct OutToolCall {
    pub(crate) id: String,
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) function: OutFunction,
}

/// Name and arguments (a JSON string, as the API expects) of an echoed call.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct OutFunction {
    pub(crate) name: String,
    pub(crate) arguments: String,
}

/// A response body: a completion, an error object (some gateways answer 200 with one), or
/// any other JSON.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum Body {
    Chat(ChatResponse),
    Error { error: ApiError },
    Unknown(serde_json::Value),
}

/// A chat completion.
#[derive(Debug, Deserialize)]
pub(crate) struct ChatResponse {
    pub(crate) choices: Vec<Choice>,
    #[serde(default)]
    pub(crate) usage: Option<WireUsage>,
}

/// One choice; fabrik reads the first.
#[derive(Debug, Deserialize)]
pub(crate) struct Choice {
    pub(crate) message: ResponseMessage,
    #[serde(default)]
    pub(crate) finish_reason: Option<String>,
}

/// The assistant's message.
#[derive(Debug, Deserialize)]
pub(crate) struct ResponseMessage {
    #[serde(default)]
    pub(crate) content: Option<String>,
    #[serde(default)]
    pub(crate) tool_calls: Option<Vec<ToolCall>>,
}

/// A tool call the model made.
#[derive(Debug, Deserialize)]
pub(crate) struct ToolCall {
    #[serde(default)]
    pub(crate) id: Option<String>,
    #[serde(rename = "type", default)]
    pub(crate) kind: ToolKind,
    #[serde(default)]
    pub(crate) function: Option<Function>,
}

/// The kind of a tool call; only functions exist today.
#[derive(Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ToolKind {
    #[default]
    Function,
    #[serde(other)]
    Unknown,
}

/// Name and arguments of a function call.
#[derive(Debug, Deserialize)]
pub(crate) struct Function {
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) arguments: Arguments,
}

/// Arguments: a JSON string per the API; some local servers send the object itself.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum Arguments {
    Text(String),
    Object(serde_json::Value),
}

impl Default for Arguments {
    fn default() -> Arguments {
        Arguments::Text(String::new())
    }
}

impl Arguments {
    /// The arguments as the JSON text the API uses.
    pub(crate) fn as_text(&self) -> String {
        match self {
            Arguments::Text(t) if t.trim().is_empty() => "{}".to_owned(),
            Arguments::Text(t) => t.clone(),
            Arguments::Object(v) => v.to_string(),
        }
    }
}

/// `usage` of a completion.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct WireUsage {
    #[serde(default)]
    pub(crate) prompt_tokens: u64,
    #[serde(default)]
    pub(crate) completion_tokens: u64,
    #[serde(default)]
    pub(crate) prompt_tokens_details: Option<PromptDetails>,
}

/// `usage.prompt_tokens_details`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct PromptDetails {
    #[serde(default)]
    pub(crate) cached_tokens: u64,
}

/// `{"error": {...}}`.
#[derive(Debug, Deserialize)]
pub(crate) struct ApiError {
    #[serde(default)]
    pub(crate) message: Option<String>,
}

impl Body {
    /// Parses a response body; `None` when it is not JSON at all.
    pub(crate) fn parse(raw: &str) -> Option<Body> {
        serde_json::from_str(raw).ok()
    }
}

/// The `error.message` of an error body, if `raw` is one.
pub(crate) fn error_message(raw: &str) -> Option<String> {
    match Body::parse(raw)? {
        Body::Error { error } => error.message,
        Body::Chat(_) | Body::Unknown(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_text_tool_calls_usage_and_fallbacks() {
        let raw = r#"{"id":"x","choices":[{"message":{"role":"assistant","content":null,
            "tool_calls":[{"id":"c1","type":"function","function":{"name":"read_file","arguments":"{\"path\":\"a\"}"}},
                          {"id":"c2","function":{"name":"list_dir","arguments":{"path":"."}}},
                          {"id":"c3","type":"web_search"}]},"finish_reason":"tool_calls"}],
            "usage":{"prompt_tokens":10,"completion_tokens":3,"prompt_tokens_details":{"cached_tokens":4}}}"#;
        let Some(Body::Chat(c)) = Body::parse(raw) else {
            panic!("not a chat response")
        };
        let calls = c.choices[0].message.tool_calls.as_ref().unwrap();
        assert_eq!(calls[0].kind, ToolKind::Function);
        assert_eq!(
            calls[0].function.as_ref().unwrap().arguments.as_text(),
            r#"{"path":"a"}"#
        );
        assert_eq!(
            calls[1].function.as_ref().unwrap().arguments.as_text(),
            r#"{"path":"."}"#
        );
        assert_eq!(calls[2].kind, ToolKind::Unknown);
        let u = c.usage.unwrap();
        assert_eq!(
            (u.prompt_tokens, u.completion_tokens),
            (10, 3),
            "usage fields"
        );
        assert_eq!(u.prompt_tokens_details.unwrap().cached_tokens, 4);

        assert_eq!(
            error_message(r#"{"error":{"message":"bad key"}}"#).as_deref(),
            Some("bad key")
        );
        assert!(matches!(
            Body::parse(r#"{"hello":1}"#),
            Some(Body::Unknown(_))
        ));
        assert!(Body::parse("{not json").is_none());
    }

    #[test]
    fn request_serializes_messages_by_role() {
        let messages = vec![
            Message::User {
                content: "hi".into(),
            },
            Message::Assistant {
                content: None,
                tool_calls: vec![OutToolCall {
                    id: "c1".into(),
                    kind: "function",
                    function: OutFunction {
                        name: "read_file".into(),
                        arguments: "{}".into(),
                    },
                }],
            },
            Message::Tool {
                tool_call_id: "c1".into(),
                content: "x".into(),
            },
        ];
        let body = serde_json::to_value(ChatRequest {
            model: "m",
            messages: &messages,
            tools: &[],
            stream: false,
        })
        .unwrap();
        pretty_assertions::assert_eq!(
            body,
            serde_json::json!({
                "model": "m",
                "stream": false,
                "messages": [
                    {"role": "user", "content": "hi"},
                    {"role": "assistant", "content": null, "tool_calls": [
                        {"id": "c1", "type": "function", "function": {"name": "read_file", "arguments": "{}"}}
                    ]},
                    {"role": "tool", "tool_call_id": "c1", "content": "x"}
                ]
            })
        );
    }

    proptest::proptest! {
        /// Any content, tool call and usage survive a trip through the wire format.
        #[test]
        fn response_round_trip(
            content in proptest::option::of(".{0,40}"),
            name in "[a-z_]{1,12}",
            args in ".{0,30}",
            prompt in 0u64..1 << 40,
            completion in 0u64..1 << 40,
            cached in proptest::option::of(0u64..1 << 40),
        ) {
            let mut usage = serde_json::json!({"prompt_tokens": prompt, "completion_tokens": completion});
            if let Some(c) = cached {
                usage["prompt_tokens_details"] = serde_json::json!({"cached_tokens": c});
            }
            let body = serde_json::json!({
                "choices": [{"message": {
                    "role": "assistant",
                    "content": content,
                    "tool_calls": [{"id": "x", "type": "function",
                                    "function": {"name": name, "arguments": args}}],
                }}],
                "usage": usage,
            });
            let Some(Body::Chat(c)) = Body::parse(&body.to_string()) else {
                panic!("not a chat response: {body}")
            };
            let m = &c.choices[0].message;
            proptest::prop_assert_eq!(&m.content, &content);
            let f = m.tool_calls.as_ref().unwrap()[0].function.as_ref().unwrap();
            proptest::prop_assert_eq!(&f.name, &name);
            let expected = if args.trim().is_empty() { "{}".to_owned() } else { args.clone() };
            proptest::prop_assert_eq!(f.arguments.as_text(), expected);
            let u = c.usage.unwrap();
            proptest::prop_assert_eq!(
                (u.prompt_tokens, u.completion_tokens, u.prompt_tokens_details.map(|d| d.cached_tokens)),
                (prompt, completion, cached)
            );
        }
    }
}
