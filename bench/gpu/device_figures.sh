#!/usr/bin/env bash
# Runs on a lent GPU machine (the device tool's `run`, carry ["dist/device.tar.xz"] after build_bundle.sh): finds a
# Vulkan driver for wgpu, then collects every GPU figure BENCHMARKS.md lacks: HALS products (and the sweeps' parity
# on real hardware), CNMF-E's ring fit and background subtraction, rigid registration,
# the 500-curve cross-correlation matrix, and last (the reply keeps the end of the output) corr/PNR per gSig change
# at 256x256x2000, the issue's interactive target. Logs go to $OUT.
# Usage: bash bench/gpu/device_figures.sh [WxH] [FRAMES] [REPEATS]   (corr/PNR only: ONLY_CORR_PNR=1)
set -u
cd "$(dirname "$0")/../.."
out=${OUT:-/tmp}
work=$(mktemp -d)
if [ -f dist/device.tar.xz ]; then tar -C "$work" -xJf dist/device.tar.xz; else cp -r dist/device "$work/"; fi
dist=$work/device
export LD_LIBRARY_PATH="$dist/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm --format=csv,noheader || echo "no nvidia-smi"
. bench/gpu/vulkan_icd.sh "$work"
ldd "$dist/corr_pnr_device" | grep "not found"
quiet() { grep -v XDG_RUNTIME_DIR; }
if [ -z "${ONLY_CORR_PNR:-}" ]; then
    echo "== HALS products (d 65536, T 2000, K 120)"
    PRODUCTS_BENCH=1 timeout 120 "$dist/products_parity" products_timing --nocapture 2>&1 | quiet | tee "$out/products.log" | grep -E "device|at_y|test result"
    echo "== HALS sweeps and A^T A, parity on this device"
    timeout 60 "$dist/hals_parity" --nocapture 2>&1 | quiet | tee "$out/hals.log" | grep -E "max|test result"
    echo "== CNMF-E ring fit and background subtraction (256x256x2000)"
    RING_BENCH=1 timeout 180 "$dist/ring_parity" ring_timing --nocapture 2>&1 | quiet | tee "$out/ring.log" | grep -E "ring fit|ring subtraction|test result"
    echo "== rigid registration 512x512"
    timeout 120 "$dist/registration_parity" bench_rigid_512 --ignored --nocapture 2>&1 | quiet | tee "$out/registration.log" | grep -E "512x512|test result"
    echo "== cross-correlation matrix, 500 curves x 3000 points"
    XCORR_BENCH_N=500 timeout 180 "$dist/xcorr_parity" bench_all_pairs --ignored --nocapture 2>&1 | quiet | tee "$out/xcorr.log" | tail -4
fi
echo "== corr/PNR per gSig"
timeout 300 "$dist/corr_pnr_device" "${1:-256x256}" "${2:-2000}" "${3:-7}" 2>&1 | quiet | tee "$out/corr_pnr_device.log"
