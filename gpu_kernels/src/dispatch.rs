//! Workgroup grids for kernels that number their invocations linearly (`x + y * groups_x * 256`), so any count
//! fits within the per-dimension dispatch limit.

/// Invocations per workgroup of the linearly numbered kernels.
pub(crate) const WORKGROUP: u32 = 256;

/// Workgroup grid (x, y) covering `groups` workgroups within the per-dimension limit.
pub(crate) fn grid(groups: u32, max_dim: u32) -> (u32, u32) {
    let gx = groups.clamp(1, max_dim.max(1));
    (gx, groups.div_ceil(gx).max(1))
}

/// Workgroup grid for `n` invocations of [`WORKGROUP`] each.
pub(crate) fn grid_for_invocations(n: usize, max_dim: u32) -> (u32, u32) {
    grid((n as u32).div_ceil(WORKGROUP), max_dim)
}
