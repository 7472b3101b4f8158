#!/usr/bin/env bash
# Set up and run the whole test suite: unit, parity (WGSL on lavapipe), end-to-end CLI, GUI smoke test under Xvfb,
# and the Python interop checks (a private venv with numpy, tifffile, h5py, scipy, pandas, pyarrow; skipped with a notice if PyPI is
# unreachable). Everything runs in the release profile against the same build.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if command -v python3 >/dev/null; then
  venv="${MESMERIZE_PYENV:-${XDG_CACHE_HOME:-$HOME/.cache}/mesmerize-pyenv}"
  if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import numpy, tifffile, h5py, scipy, pandas, pyarrow" 2>/dev/null; then
    { python3 -m venv "$venv" && "$venv/bin/pip" install -q numpy tifffile h5py scipy pandas pyarrow; } >&2 || echo "test: no Python venv; interop checks will be skipped" >&2
  fi
  "$venv/bin/python" -c "import numpy, tifffile, h5py" 2>/dev/null && export MESMERIZE_PYTHON="$venv/bin/python"
fi
cargo test --release --workspace --no-fail-fast
