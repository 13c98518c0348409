//! Integration tests of fabrik-plan: the plan corpus, grounding and scope on temporary git
//! repositories, the renderers, and property tests of the parser.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] functions, which clippy.toml's allow-unwrap-in-tests does not cover"
)]

mod corpus;
mod extract;
mod ground;
mod props;
mod render;
mod scope;
mod support;
