#!/usr/bin/env bash
# Runs on a lent GPU machine: whole CNMF-E and CNMF fits with --device gpu and --device cpu on the benchmark movies
# (simulated there with the same seeds), results and truths copied to $OUT for scoring here with
# bench/caiman/score_h5.py. Needs dist/app.tar.xz carried: the stripped `mesmerize` binary with its shared libraries
# in app/lib (made by build_bundle.sh). FITS=3d runs 3D CNMF instead.
# The Vulkan driver is found as device_figures.sh finds it (vulkan_icd.sh).
set -u; R=$PWD; w=$(mktemp -d); tar -C $w -xJf dist/app.tar.xz; M=$w/app/mesmerize; export LD_LIBRARY_PATH=$w/app/lib:${LD_LIBRARY_PATH:-}
. bench/gpu/vulkan_icd.sh "$w"
T=""; [ -x /usr/bin/time ] && T="/usr/bin/time -f %e_s_%M_KB"
cd $w
if [ "${FITS:-}" = 3d ]; then
    $M simulate --kind 3d --seed 1 --out m3 >/dev/null 2>&1; cp m3/truth.h5 $OUT/t3.h5
    for dev in gpu cpu; do echo "== cnmf 3d $dev"; $T $M -v cnmf m3/movie.tiff --params $R/bench/caiman/params_3d.json --out $OUT/v_$dev.hdf5 --device $dev --json 2>&1 | grep -v -E "WARN|XDG" | tail -5; done
    exit 0
fi
$M simulate --kind 1p --size 256x256 --frames 2000 --seed 1 --out m1 >/dev/null 2>&1; $M simulate --kind 2p --size 512x512 --frames 1000 --seed 1 --out m2 >/dev/null 2>&1; cp m1/truth.h5 $OUT/t1.h5; cp m2/truth.h5 $OUT/t2.h5
for dev in gpu cpu; do echo "== cnmfe $dev"; $T $M -v cnmfe m1/movie.tiff --params $R/bench/caiman/params_1p.json --out $OUT/e_$dev.hdf5 --device $dev --json 2>&1 | grep -v -E "WARN|XDG" | tail -5; done
for dev in gpu cpu; do echo "== cnmf $dev"; $T $M -v cnmf m2/movie.tiff --params $R/bench/caiman/params_2p.json --out $OUT/c_$dev.hdf5 --device $dev --json 2>&1 | grep -v -E "WARN|XDG" | tail -5; done
