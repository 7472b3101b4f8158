#!/usr/bin/env bash
# Build what a lent GPU machine needs to time corr/PNR (it has no Rust toolchain and no HDF5): the stripped
# `corr_pnr_device` example, the shared libraries it links (libhdf5 and its chain; ~20 MB, glibc's own excepted)
# and the Vulkan loader, in dist/device/ (git-ignored; carried with `carry`, 64 MiB at most).
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release -p mesmerize_gpu --example corr_pnr_device
target=${CARGO_TARGET_DIR:-target}
mkdir -p dist/device/lib
strip -o dist/device/corr_pnr_device "$target/release/examples/corr_pnr_device"
# wgpu opens libvulkan.so.1 at run time; carry Debian's loader in case the device image has none.
loader=$(ldconfig -p | awk '/libvulkan.so.1 /{print $NF; exit}')
cp -L "$loader" dist/device/lib/libvulkan.so.1
ldd dist/device/corr_pnr_device | awk '/=>/{print $3}' | grep -v -E '/(libc|libm|libgcc_s|libresolv|ld-linux)[^/]*$' |
    xargs -r -I{} cp -L {} dist/device/lib/
du -sh dist/device
ls dist/device/lib
