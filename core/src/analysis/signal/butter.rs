//! Butterworth filter design (scipy.signal.butter, digital, output "ba").
