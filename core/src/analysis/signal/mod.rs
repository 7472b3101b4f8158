//! scipy.signal / scipy.fftpack subset with scipy's exact semantics, for the Signal nodes.

pub mod butter;
pub mod fftpack;
pub mod gradient;
pub mod filtfilt;
pub mod savgol;
pub mod spectral;
pub mod tvdiff;
