//! Synthetic calcium-imaging movies with ground truth (being written).
