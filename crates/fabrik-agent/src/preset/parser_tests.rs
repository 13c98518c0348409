//! Property tests: no parser panics, whatever the CLI prints.

use proptest::prelude::*;

use super::agent::{Cli, Output};
use super::{aider, claude, codex, droid, gemini, opencode};

fn clis() -> [&'static dyn Cli; 6] {
    [
        &droid::Droid,
        &claude::Claude,
        &codex::Codex,
        &gemini::Gemini,
        &aider::Aider,
        &opencode::Opencode,
    ]
}

/// Text that is sometimes JSON-shaped, so the parsers get past their first checks.
fn jsonish() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("{".to_owned()),
        Just("}".to_owned()),
        Just("\n".to_owned()),
        Just("[".to_owned()),
        Just("\"type\":\"result\",".to_owned()),
        Just("\"type\":\"turn.completed\",\"usage\":{\"input_tokens\":1}".to_owned()),
        Just("\"type\":\"step_finish\",\"part\":{\"tokens\":{\"input\":18446744073709551615,\"output\":18446744073709551615}}".to_owned()),
        Just("\"event\":\"message_send\",\"properties\":{\"cost\":1e308}".to_owned()),
        Just("\"error\":{\"message\":\"x\",\"code\":401}".to_owned()),
        Just("litellm.AuthenticationError: x\n".to_owned()),
        Just("Tokens: 1 sent\n".to_owned()),
        Just("é".to_owned()),
        "[ -~]{0,12}",
    ];
    prop::collection::vec(piece, 0..40).prop_map(|v| v.concat())
}

fn run_all(stdout: &str, stderr: &str, code: Option<i32>) {
    for cli in clis() {
        for resumed in [false, true] {
            let out = Output {
                code,
                stdout,
                stderr,
                side: stdout,
                resumed,
            };
            let _ = cli.parse(&out);
        }
    }
}

proptest! {
    #[test]
    fn parsers_never_panic_on_random_bytes(
        out in prop::collection::vec(any::<u8>(), 0..2048),
        err in prop::collection::vec(any::<u8>(), 0..512),
        code in prop::option::of(any::<i32>()),
    ) {
        run_all(&String::from_utf8_lossy(&out), &String::from_utf8_lossy(&err), code);
    }

    #[test]
    fn parsers_never_panic_on_json_like_text(out in jsonish(), err in jsonish(), code in prop::option::of(-1i32..300)) {
        run_all(&out, &err, code);
    }
}
