#!/usr/bin/env bash
# Installs what building and testing Mesmerize-RS needs on Debian beyond the Rust toolchain: HDF5 headers,
# lavapipe (Mesa's Vulkan on the CPU, so WGSL kernels run without a GPU), Xvfb and the X libraries the GUI loads.
# Skips apt entirely when everything is present. Needs root or sudo.
set -euo pipefail
pkgs=(pkg-config libhdf5-dev mesa-vulkan-drivers libvulkan1 xvfb xauth libxkbcommon-x11-0 libx11-xcb1
      libxcursor1 libxrandr2 libxi6 fonts-dejavu-core)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
