//! Savitzky-Golay coefficients and filter (scipy.signal.savgol_coeffs / savgol_filter, mode "interp").
