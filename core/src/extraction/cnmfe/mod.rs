//! CNMF-E specifics (Zhou et al. 2018): the ring-model background and the correlation / PNR initialisation.
//! 2D only; volumes go through 3D CNMF.

pub mod blocks;
pub mod cholesky;
pub mod extract;
pub mod frames;
pub mod init;
pub mod lagcov;
pub mod ring;
pub mod round;
pub mod seeds;
pub mod subtracted;

pub use init::{CnmfeInit, init_corr_pnr, init_corr_pnr_with};
pub use ring::{RingShape, background_frame, fit_ring, fit_ring_with, subtract_background};
