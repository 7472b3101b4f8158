#!/usr/bin/env bash
# Runs on a lent GPU machine (the device tool's `run`, with carry ["dist/device"] after build_bundle.sh): finds a
# Vulkan driver for wgpu, then times corr/PNR per gSig change at 256x256x2000 (the issue's interactive target).
# Usage: bash bench/gpu/corr_pnr_device.sh [WxH] [FRAMES] [REPEATS]
set -u
cd "$(dirname "$0")/../.."
dist=dist/device
out=${OUT:-/tmp}
export LD_LIBRARY_PATH="$PWD/$dist/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm --format=csv,noheader || echo "no nvidia-smi"
# The NVIDIA Vulkan driver: its ICD file, or one written for libGLX_nvidia.so.0 when the image has the library only.
icd=""
for f in /usr/share/vulkan/icd.d/nvidia_icd*.json /etc/vulkan/icd.d/nvidia_icd*.json; do
    if [ -f "$f" ]; then icd=$f; break; fi
done
if [ -z "$icd" ]; then
    lib=$(ldconfig -p | awk '/libGLX_nvidia.so.0/{print $NF; exit}')
    if [ -z "$lib" ]; then lib=$(find / -xdev -name 'libGLX_nvidia.so.0*' 2>/dev/null | head -1); fi
    if [ -n "$lib" ]; then
        icd=$out/nvidia_icd.json
        printf '{"file_format_version":"1.0.0","ICD":{"library_path":"%s","api_version":"1.3.0"}}\n' "$lib" >"$icd"
    fi
fi
echo "Vulkan ICD: ${icd:-none found (no NVIDIA Vulkan driver in this image)}"
if [ -n "$icd" ]; then export VK_ICD_FILENAMES=$icd; fi
ls /usr/share/vulkan/icd.d /etc/vulkan/icd.d 2>/dev/null
"$dist/corr_pnr_device" "${1:-256x256}" "${2:-2000}" "${3:-7}" 2>&1 | grep -v XDG_RUNTIME_DIR | tee "$out/corr_pnr_device.log"
