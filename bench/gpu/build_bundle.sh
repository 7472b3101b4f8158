#!/usr/bin/env bash
# Build what a lent GPU machine needs for every GPU figure (it has no Rust toolchain and no HDF5): the stripped
# `corr_pnr_device` example, the GPU parity/benchmark test binaries of mesmerize_gpu, the shared libraries they link
# (libhdf5 and its chain, glibc's own excepted) and the Vulkan loader, packed as dist/device.tar.xz (git-ignored;
# about 14 MB, carried with the device tool's `carry`), and the app with its libraries as dist/app.tar.xz for
# app_fits.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
target=${CARGO_TARGET_DIR:-target}
# The shared libraries binary $1 links (glibc's own excepted) into folder $2, plus Debian's Vulkan loader (wgpu opens
# libvulkan.so.1 at run time; the device image may have none).
bundle_libs() {
    ldd "$1" | awk '/=>/{print $3}' | grep -v -E '/(libc|libm|libgcc_s|libresolv|ld-linux)[^/]*$' | xargs -r -I{} cp -L {} "$2"/
    cp -L "$(ldconfig -p | awk '/libvulkan.so.1 /{print $NF; exit}')" "$2/libvulkan.so.1"
}
rm -rf dist/device
mkdir -p dist/device/lib
cargo build --release -p mesmerize_gpu --example corr_pnr_device
strip -o dist/device/corr_pnr_device "$target/release/examples/corr_pnr_device"
# The test binaries, by name (cargo prints their paths as JSON).
cargo test --release -p mesmerize_gpu --no-run --message-format=json 2>/dev/null |
    python3 -c '
import json, sys
for line in sys.stdin:
    try:
        m = json.loads(line)
    except ValueError:
        continue
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["kind"] == ["test"]:
        print(m["target"]["name"], m["executable"])' |
    while read -r name exe; do
        case $name in products_parity | xcorr_parity | registration_parity | ring_parity | hals_parity) strip -o "dist/device/$name" "$exe" ;; esac
    done
bundle_libs dist/device/corr_pnr_device dist/device/lib
tar -C dist -cJf dist/device.tar.xz device
# The app itself for whole fits (app_fits.sh): dist/app.tar.xz, ~16 MB.
cargo build --release -p mesmerize
rm -rf dist/app
mkdir -p dist/app/lib
strip -o dist/app/mesmerize "$target/release/mesmerize"
bundle_libs dist/app/mesmerize dist/app/lib
tar -C dist -cJf dist/app.tar.xz app
ls -la dist/device dist/device.tar.xz dist/app.tar.xz
