//! GPU kernels.
