#!/usr/bin/env python3
"""Peer for `mesmerize bench projection`: what a Python user does (tifffile.imread, then numpy mean/max/std over
time), timed as a whole process by the caller.

    python3 bench/numpy_projection.py movie.tiff
"""
import sys

import numpy as np
import tifffile

movie = tifffile.imread(sys.argv[1])
mean = movie.mean(axis=0, dtype=np.float64)
mx = movie.max(axis=0)
std = movie.std(axis=0, dtype=np.float64)
print(float(mean.sum()), float(mx.sum()), float(std.sum()))
