//! glibc malloc settings for movie-sized work. By default glibc serves blocks above a moving threshold with fresh
//! mappings and hands freed memory back quickly, so work that allocates and frees tens of megabytes over and over
//! (CNMF's patches: each patch's movie, its centred copy and its blurred copies, ~25 MB each at 512x512x1000) keeps
//! faulting in fresh zeroed pages; with two threads each fault can also flush the other core's TLB. Measured on
//! that run: patch phase 7 s on a good run, 12 s on a bad one, system time 4 s vs 13 s, varying with allocation
//! order. Keeping blocks up to 32 MB in the heap and up to 64 MB of free heap top before trimming made every run
//! the good one (12.2-12.5 s wall, system 3.8 s), with the same peak memory (CNMF 2p and CNMF-E 1p benchmarks).

/// Apply the settings, unless the user set glibc malloc tunables themselves (`GLIBC_TUNABLES`).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)] // two calls to glibc's mallopt, integers only, before any other thread exists
pub fn tune() {
    if std::env::var("GLIBC_TUNABLES").is_ok_and(|v| v.contains("glibc.malloc.")) {
        return;
    }
    // SAFETY: mallopt only changes allocator parameters; it takes no pointers and is called before threads start.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 64 << 20);
    }
}

/// Other platforms keep their allocator's defaults.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn tune() {}
