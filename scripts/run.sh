#!/usr/bin/env bash
# Set up, build and open the app: on FILE if given, else on a freshly simulated 1-photon demo movie.
#   bash scripts/run.sh [FILE] [--screenshot PNG]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo build --release -p mesmerize
if [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then
  exec target/release/mesmerize view "$@"
fi
exec target/release/mesmerize demo "$@"
