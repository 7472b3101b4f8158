//! Summary images (local correlation, CNMF-E correlation and PNR).
