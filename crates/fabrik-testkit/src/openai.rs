//! [`FakeOpenAi`]: a real HTTP/1.1 server on `127.0.0.1:0` that answers
//! `/chat/completions` from a queue of scripted [`Reply`]s and records every request.
//!
//! One connection at a time, one request per connection (`Connection: close`), which is all
//! a blocking client needs. When the queue is empty the server answers `418` with a body
//! saying so, so a test that under-scripts fails loudly instead of hanging.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::{Value, json};

/// One scripted answer.
#[derive(Clone, Debug)]
pub enum Reply {
    /// `200` with this JSON body.
    Json(Value),
    /// Any status, extra headers and a raw body (errors, 429 with `Retry-After`, garbage).
    Status {
        /// HTTP status code.
        status: u16,
        /// Extra headers.
        headers: Vec<(String, String)>,
        /// Body bytes, sent as is.
        body: String,
    },
    /// Waits, then answers with the inner reply.
    Slow {
        /// How long to wait before answering.
        delay: Duration,
        /// The answer.
        reply: Box<Reply>,
    },
}

impl Reply {
    /// A chat completion whose message is `text`, with the given usage.
    #[must_use]
    pub fn text(text: &str, prompt_tokens: u64, completion_tokens: u64) -> Reply {
        Reply::Json(completion(
            json!({"role": "assistant", "content": text}),
            "stop",
            prompt_tokens,
            completion_tokens,
        ))
    }

    /// A chat completion asking for tool calls: `(id, function name, arguments object)`.
    #[must_use]
    pub fn tool_calls(
        calls: &[(&str, &str, Value)],
        prompt_tokens: u64,
        completion_tokens: u64,
    ) -> Reply {
        let calls: Vec<Value> = calls
            .iter()
            .map(|(id, name, args)| {
                json!({
                    "id": id,
                    "type": "function",
                    "function": {"name": name, "arguments": args.to_string()},
                })
            })
            .collect();
        Reply::Json(completion(
            json!({"role": "assistant", "content": null, "tool_calls": calls}),
            "tool_calls",
            prompt_tokens,
            completion_tokens,
        ))
    }

    /// A bare status with a small JSON error body.
    #[must_use]
    pub fn status(status: u16) -> Reply {
        Reply::Status {
            status,
            headers: Vec::new(),
            body: json!({"error": {"message": format!("fake status {status}")}}).to_string(),
        }
    }

    /// `200` with a body that is not JSON.
    #[must_use]
    pub fn malformed(body: &str) -> Reply {
        Reply::Status {
            status: 200,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.to_owned(),
        }
    }

    /// Adds a header (to a `Status` reply; others are turned into one first).
    #[must_use]
    pub fn header(self, name: &str, value: &str) -> Reply {
        match self {
            Reply::Status {
                status,
                mut headers,
                body,
            } => {
                headers.push((name.to_owned(), value.to_owned()));
                Reply::Status {
                    status,
                    headers,
                    body,
                }
            }
            Reply::Json(v) => Reply::Status {
                status: 200,
                headers: vec![(name.to_owned(), value.to_owned())],
                body: v.to_string(),
            },
            Reply::Slow { delay, reply } => Reply::Slow {
                delay,
                reply: Box::new(reply.header(name, value)),
            },
        }
    }

    /// This reply after `delay`.
    #[must_use]
    pub fn after(self, delay: Duration) -> Reply {
        Reply::Slow {
            delay,
            reply: Box::new(self),
        }
    }
}

/// A chat completion body with one choice.
#[must_use]
pub fn completion(
    message: Value,
    finish_reason: &str,
    prompt_tokens: u64,
    completion_tokens: u64,
) -> Value {
    json!({
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "model": "fake",
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    })
}

/// A request the server received.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    /// `POST`.
    pub method: String,
    /// `/v1/chat/completions`.
    pub path: String,
    /// Headers as received (names lower-cased).
    pub headers: Vec<(String, String)>,
    /// The body as text.
    pub raw_body: String,
    /// The body parsed as JSON (`Null` when it is not JSON).
    pub body: Value,
}

impl RecordedRequest {
    /// The first header named `name` (case-insensitive).
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The `messages` of a chat request.
    #[must_use]
    pub fn messages(&self) -> Vec<Value> {
        self.body["messages"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

#[derive(Default)]
struct Shared {
    replies: Mutex<VecDeque<Reply>>,
    requests: Mutex<Vec<RecordedRequest>>,
    stop: AtomicBool,
}

/// The fake server. Stops when dropped.
pub struct FakeOpenAi {
    addr: SocketAddr,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl FakeOpenAi {
    /// Starts a server answering with `replies` in order.
    ///
    /// # Panics
    /// When no local port can be bound.
    #[must_use]
    pub fn start(replies: impl IntoIterator<Item = Reply>) -> FakeOpenAi {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let shared = Arc::new(Shared::default());
        shared
            .replies
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(replies);
        let s = Arc::clone(&shared);
        let thread = std::thread::spawn(move || serve(&listener, &s));
        FakeOpenAi {
            addr,
            shared,
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT/v1`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Queues another reply.
    pub fn push(&self, reply: Reply) {
        self.shared
            .replies
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push_back(reply);
    }

    /// Every request received so far.
    #[must_use]
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Replies not used yet.
    #[must_use]
    pub fn remaining(&self) -> usize {
        self.shared
            .replies
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

impl Drop for FakeOpenAi {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wakes the blocking accept.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(listener: &TcpListener, shared: &Shared) {
    for stream in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        // A client that went away mid-answer (it timed out) is not the server's problem.
        let _ = handle(stream, shared);
    }
}

fn handle(stream: TcpStream, shared: &Shared) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let path = parts.next().unwrap_or_default().to_owned();
    let mut headers = Vec::new();
    let mut length = 0usize;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 {
            break;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim().to_owned());
            if k == "content-length" {
                length = v.parse().unwrap_or(0);
            }
            headers.push((k, v));
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let raw_body = String::from_utf8_lossy(&body).into_owned();
    let parsed = serde_json::from_str(&raw_body).unwrap_or(Value::Null);
    shared
        .requests
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(RecordedRequest {
            method,
            path,
            headers,
            raw_body,
            body: parsed,
        });
    let reply = shared
        .replies
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .pop_front()
        .unwrap_or_else(|| Reply::Status {
            status: 418,
            headers: Vec::new(),
            body: json!({"error": {"message": "FakeOpenAi: no scripted reply left"}}).to_string(),
        });
    respond(stream, reply)
}

fn respond(mut stream: TcpStream, reply: Reply) -> std::io::Result<()> {
    let (status, headers, body) = match reply {
        Reply::Json(v) => (200, Vec::new(), v.to_string()),
        Reply::Status {
            status,
            headers,
            body,
        } => (status, headers, body),
        Reply::Slow { delay, reply } => {
            std::thread::sleep(delay);
            return respond(stream, *reply);
        }
    };
    let mut head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Length: {}\r\nConnection: close\r\n",
        reason(status),
        body.len()
    );
    if !headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
    {
        head.push_str("Content-Type: application/json\r\n");
    }
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body.as_bytes())?;
    stream.flush()?;
    let _ = stream.shutdown(std::net::Shutdown::Write);
    Ok(())
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        418 => "I'm a teapot",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(url: &str, body: &str) -> String {
        let addr = url.trim_start_matches("http://").trim_end_matches("/v1");
        let mut s = TcpStream::connect(addr).unwrap();
        write!(
            s,
            "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    }

    #[test]
    fn answers_in_order_and_records() {
        let fake = FakeOpenAi::start([
            Reply::status(429).header("Retry-After", "1"),
            Reply::text("hi", 1, 2),
        ]);
        let first = post(&fake.url(), r#"{"a":1}"#);
        assert!(first.starts_with("HTTP/1.1 429 "), "{first}");
        assert!(first.contains("Retry-After: 1\r\n"), "{first}");
        let second = post(&fake.url(), "not json");
        assert!(second.starts_with("HTTP/1.1 200 OK"), "{second}");
        assert!(second.contains(r#""content":"hi""#), "{second}");
        let third = post(&fake.url(), "{}");
        assert!(third.starts_with("HTTP/1.1 418 "), "{third}");
        let reqs = fake.requests();
        assert_eq!(reqs.len(), 3);
        assert_eq!(reqs[0].path, "/v1/chat/completions");
        assert_eq!(reqs[0].body, json!({"a": 1}));
        assert_eq!(reqs[0].header("HOST"), Some("x"));
        assert_eq!(reqs[1].body, Value::Null);
        assert_eq!(reqs[1].raw_body, "not json");
    }
}
