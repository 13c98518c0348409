//! Test fixtures (placeholder).
