//! Clone detection (placeholder until the clones work lands).
