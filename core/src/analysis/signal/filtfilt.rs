//! lfilter, lfilter_zi and filtfilt with scipy's default odd padding.
