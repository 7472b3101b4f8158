//! Prefetching frame cache: background threads read planes from an [`ImgData`] ahead of the viewer's position
//! (in the direction of travel) into a bounded LRU, so the UI never waits on disk for a cached frame.
//!
//! The UI calls [`FrameCache::get`] (never blocks on I/O) and, on a miss, [`FrameCache::request`] with a callback
//! that fires once the frame is loaded. Only the newest request keeps its callback: scrubbing past frames drops the
//! stale ones, and the workers always load the newest target first.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

use mesmerize_core::{ImgData, StackShape};

/// What the viewer shows at one position: a plane, or the maximum over z of a volume.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Slice {
    /// Plane `z` (0 for 2D movies).
    Plane(usize),
    /// Maximum projection over all planes of the volume.
    MaxZ,
}

/// Identifies one displayable frame of a stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FrameKey {
    /// Time point.
    pub t: usize,
    /// Plane or projection.
    pub slice: Slice,
}

impl FrameKey {
    /// Plane `z` of time point `t`.
    pub fn plane(t: usize, z: usize) -> Self {
        Self { t, slice: Slice::Plane(z) }
    }
}

/// Direction in which the viewer moves, so the cache reads ahead on the right side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Travel {
    /// Standing still: prefetch a little on both sides in time.
    #[default]
    Still,
    /// Moving forward in time (playback, scrubbing right).
    Forward,
    /// Moving backward in time.
    Backward,
    /// Moving through z at a fixed time point: prefetch the neighbouring planes.
    AlongZ,
}

/// A loaded frame: row-major `height x width` f32 samples with a process-unique serial number.
pub struct Frame {
    /// Which frame this is.
    pub key: FrameKey,
    /// Columns.
    pub width: usize,
    /// Rows.
    pub height: usize,
    /// Samples, `height * width`, row-major.
    pub data: Vec<f32>,
    /// Unique per load, so GPU code can tell whether it already uploaded this frame.
    pub serial: u64,
}

impl std::fmt::Debug for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Frame")
            .field("key", &self.key)
            .field("width", &self.width)
            .field("height", &self.height)
            .field("serial", &self.serial)
            .finish_non_exhaustive()
    }
}

static NEXT_SERIAL: AtomicU64 = AtomicU64::new(1);

impl Frame {
    /// Wrap samples into a frame with a fresh serial number.
    pub fn new(key: FrameKey, width: usize, height: usize, data: Vec<f32>) -> Self {
        Self { key, width, height, data, serial: NEXT_SERIAL.fetch_add(1, Ordering::Relaxed) }
    }
    /// Smallest and largest finite sample, if any.
    pub fn min_max(&self) -> Option<(f32, f32)> {
        let mut it = self.data.iter().copied().filter(|v| v.is_finite());
        let first = it.next()?;
        Some(it.fold((first, first), |(lo, hi), v| (lo.min(v), hi.max(v))))
    }
    /// Sample values at quantiles `lo` and `hi` (in 0..=1) over finite samples (subsampled for large frames).
    pub fn percentiles(&self, lo: f64, hi: f64) -> Option<(f32, f32)> {
        let step = (self.data.len() / 262_144).max(1);
        let mut v: Vec<f32> = self.data.iter().step_by(step).copied().filter(|v| v.is_finite()).collect();
        if v.is_empty() {
            return None;
        }
        v.sort_unstable_by(f32::total_cmp);
        let at = |q: f64| v[((q.clamp(0.0, 1.0) * (v.len() - 1) as f64).round() as usize).min(v.len() - 1)];
        Some((at(lo), at(hi)))
    }
}

/// Errors of the frame cache.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CacheError {
    /// The frame lies outside the stack.
    #[error("frame {key:?} is outside a stack of shape {dims:?}")]
    OutOfRange {
        /// The requested frame.
        key: FrameKey,
        /// The stack's (t, z, y, x).
        dims: [usize; 4],
    },
    /// Reading the file failed.
    #[error("reading frame t={t}: {message}")]
    Read {
        /// Time point.
        t: usize,
        /// The reader's error.
        message: String,
    },
    /// The cache shut down before the frame arrived.
    #[error("the frame cache was shut down")]
    Closed,
}

/// Called once with the requested frame (or why it could not be read).
pub type Callback = Box<dyn FnOnce(Result<Arc<Frame>, CacheError>) + Send>;

/// Sizing of a [`FrameCache`].
#[derive(Debug, Clone, Copy)]
pub struct CacheConfig {
    /// Memory budget for cached frames, bytes.
    pub budget_bytes: usize,
    /// Frames to read ahead in the direction of travel.
    pub ahead: usize,
    /// Frames to keep read behind the position.
    pub behind: usize,
    /// Reader threads.
    pub workers: usize,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self { budget_bytes: 768 << 20, ahead: 48, behind: 8, workers: 2 }
    }
}

/// Least-recently-used map of frames with a capacity in frames.
struct Lru {
    map: HashMap<FrameKey, (Arc<Frame>, u64)>,
    order: BTreeMap<u64, FrameKey>,
    clock: u64,
    capacity: usize,
}

impl Lru {
    fn new(capacity: usize) -> Self {
        Self { map: HashMap::new(), order: BTreeMap::new(), clock: 0, capacity: capacity.max(1) }
    }
    fn get(&mut self, key: &FrameKey) -> Option<Arc<Frame>> {
        self.clock += 1;
        let clock = self.clock;
        let (frame, stamp) = self.map.get_mut(key)?;
        self.order.remove(stamp);
        *stamp = clock;
        self.order.insert(clock, *key);
        Some(frame.clone())
    }
    fn contains(&self, key: &FrameKey) -> bool {
        self.map.contains_key(key)
    }
    fn insert(&mut self, frame: Arc<Frame>) {
        self.clock += 1;
        if let Some((_, stamp)) = self.map.remove(&frame.key) {
            self.order.remove(&stamp);
        }
        while self.map.len() >= self.capacity {
            let Some((_, old)) = self.order.pop_first() else { break };
            self.map.remove(&old);
        }
        self.order.insert(self.clock, frame.key);
        self.map.insert(frame.key, (frame, self.clock));
    }
}

struct State {
    lru: Lru,
    target: Option<(FrameKey, Travel)>,
    waiter: Option<(FrameKey, Callback)>,
    in_flight: HashSet<FrameKey>,
    failed: HashMap<FrameKey, CacheError>,
    shutdown: bool,
}

struct Shared {
    img: ImgData,
    config: CacheConfig,
    state: Mutex<State>,
    wake: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking reader thread must not take the UI down with it: keep using the data.
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Frames to hold around the target, most urgent first.
    fn plan(&self, key: FrameKey, travel: Travel) -> Vec<FrameKey> {
        let s = self.img.shape();
        let (ahead, behind) = (self.config.ahead, self.config.behind);
        let mut plan = vec![key];
        let at_t = |t: usize| FrameKey { t, slice: key.slice };
        match travel {
            Travel::Forward => {
                plan.extend((1..=ahead).filter_map(|d| key.t.checked_add(d)).filter(|&t| t < s.t).map(at_t));
                plan.extend((1..=behind).filter_map(|d| key.t.checked_sub(d)).map(at_t));
            }
            Travel::Backward => {
                plan.extend((1..=ahead).filter_map(|d| key.t.checked_sub(d)).map(at_t));
                plan.extend((1..=behind).filter_map(|d| key.t.checked_add(d)).filter(|&t| t < s.t).map(at_t));
            }
            Travel::Still => {
                let r = behind.max(4);
                for d in 1..=r {
                    if key.t + d < s.t {
                        plan.push(at_t(key.t + d));
                    }
                    if let Some(t) = key.t.checked_sub(d) {
                        plan.push(at_t(t));
                    }
                }
            }
            Travel::AlongZ => {
                if let Slice::Plane(z) = key.slice {
                    for d in 1..=s.z {
                        if z + d < s.z {
                            plan.push(FrameKey::plane(key.t, z + d));
                        }
                        if let Some(zz) = z.checked_sub(d) {
                            plan.push(FrameKey::plane(key.t, zz));
                        }
                    }
                }
            }
        }
        // Never plan more than the cache holds, or prefetching would evict its own work.
        plan.truncate(self.lru_capacity().saturating_sub(1).max(1));
        plan
    }

    fn lru_capacity(&self) -> usize {
        capacity_for(self.img.shape(), &self.config)
    }

    /// Next frame a worker should load, marked in flight.
    fn next_job(&self, st: &mut State) -> Option<FrameKey> {
        let (key, travel) = st.target?;
        let job = self
            .plan(key, travel)
            .into_iter()
            .find(|k| !st.lru.contains(k) && !st.in_flight.contains(k) && !st.failed.contains_key(k))?;
        st.in_flight.insert(job);
        Some(job)
    }
}

fn capacity_for(shape: StackShape, config: &CacheConfig) -> usize {
    let bytes = shape.plane_len().max(1) * 4;
    (config.budget_bytes / bytes).clamp(8, 65_536)
}

/// Read one displayable frame straight from the stack (the workers' and the benchmark's code path).
pub fn load_frame(img: &ImgData, key: FrameKey) -> Result<Frame, CacheError> {
    let s = img.shape();
    let out_of_range = || CacheError::OutOfRange { key, dims: [s.t, s.z, s.y, s.x] };
    if key.t >= s.t {
        return Err(out_of_range());
    }
    let read_err = |e: mesmerize_core::imaging::ImagingError| CacheError::Read { t: key.t, message: e.to_string() };
    let data = match key.slice {
        Slice::Plane(z) => {
            if z >= s.z {
                return Err(out_of_range());
            }
            img.plane(key.t, z).map_err(read_err)?
        }
        Slice::MaxZ => {
            let mut acc = img.plane(key.t, 0).map_err(read_err)?;
            let mut buf = vec![0.0f32; s.plane_len()];
            for z in 1..s.z {
                img.read_plane(key.t, z, &mut buf).map_err(read_err)?;
                for (a, &b) in acc.iter_mut().zip(&buf) {
                    if b > *a || b.is_nan() {
                        *a = b;
                    }
                }
            }
            acc
        }
    };
    Ok(Frame::new(key, s.x, s.y, data))
}

fn worker(shared: Arc<Shared>) {
    loop {
        let key = {
            let mut st = shared.lock();
            loop {
                if st.shutdown {
                    return;
                }
                if let Some(k) = shared.next_job(&mut st) {
                    break k;
                }
                st = shared.wake.wait(st).unwrap_or_else(std::sync::PoisonError::into_inner);
            }
        };
        let result = load_frame(&shared.img, key).map(Arc::new);
        let callback = {
            let mut st = shared.lock();
            st.in_flight.remove(&key);
            match &result {
                Ok(frame) => st.lru.insert(frame.clone()),
                Err(e) => {
                    st.failed.insert(key, e.clone());
                }
            }
            match st.waiter.take() {
                Some((k, cb)) if k == key => Some(cb),
                other => {
                    st.waiter = other;
                    None
                }
            }
        };
        if let Some(cb) = callback {
            cb(result);
        }
    }
}

/// The prefetching cache; dropping it stops its threads.
pub struct FrameCache {
    shared: Arc<Shared>,
    workers: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for FrameCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameCache").field("config", &self.shared.config).finish_non_exhaustive()
    }
}

impl FrameCache {
    /// Start a cache with its reader threads over `img`.
    pub fn new(img: ImgData, config: CacheConfig) -> Self {
        let capacity = capacity_for(img.shape(), &config);
        let shared = Arc::new(Shared {
            img,
            config,
            state: Mutex::new(State {
                lru: Lru::new(capacity),
                target: None,
                waiter: None,
                in_flight: HashSet::new(),
                failed: HashMap::new(),
                shutdown: false,
            }),
            wake: Condvar::new(),
        });
        let workers = (0..config.workers.max(1))
            .filter_map(|i| {
                let shared = shared.clone();
                std::thread::Builder::new()
                    .name(format!("frame-cache-{i}"))
                    .spawn(move || worker(shared))
                    .ok()
            })
            .collect();
        Self { shared, workers }
    }

    /// How many frames the cache holds at most.
    pub fn capacity(&self) -> usize {
        self.shared.lru_capacity()
    }

    /// The frame if it is cached (never touches the disk).
    pub fn get(&self, key: FrameKey) -> Option<Arc<Frame>> {
        self.shared.lock().lru.get(&key)
    }

    /// Move the prefetch target to `key`; return the frame at once if cached, otherwise call `on_ready` when it is
    /// loaded (a newer request drops an older request's callback without calling it).
    pub fn request(&self, key: FrameKey, travel: Travel, on_ready: Option<Callback>) -> Option<Arc<Frame>> {
        let mut st = self.shared.lock();
        st.target = Some((key, travel));
        let hit = st.lru.get(&key);
        if hit.is_none() {
            if let Some(err) = st.failed.get(&key).cloned() {
                drop(st);
                if let Some(cb) = on_ready {
                    cb(Err(err));
                }
                return None;
            }
            st.waiter = on_ready.map(|cb| (key, cb));
        } else {
            st.waiter = None;
        }
        drop(st);
        self.shared.wake.notify_all();
        hit
    }

    /// Request `key` and block until it is loaded (tests, benchmarks, the first frame at start-up).
    pub fn get_blocking(&self, key: FrameKey, travel: Travel) -> Result<Arc<Frame>, CacheError> {
        let (tx, rx) = std::sync::mpsc::channel();
        let cb: Callback = Box::new(move |r| {
            let _ = tx.send(r);
        });
        if let Some(frame) = self.request(key, travel, Some(cb)) {
            return Ok(frame);
        }
        rx.recv().unwrap_or(Err(CacheError::Closed))
    }

    /// Number of frames held now.
    pub fn cached(&self) -> usize {
        self.shared.lock().lru.map.len()
    }
}

impl Drop for FrameCache {
    fn drop(&mut self) {
        self.shared.lock().shutdown = true;
        self.shared.wake.notify_all();
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesmerize_core::Metadata;
    use std::time::{Duration, Instant};

    /// A movie whose pixel (t, z, y, x) holds t*1000 + z*100 + y*10 + x.
    fn stack(t: usize, z: usize, y: usize, x: usize) -> ImgData {
        let mut data = Vec::with_capacity(t * z * y * x);
        for tt in 0..t {
            for zz in 0..z {
                for yy in 0..y {
                    for xx in 0..x {
                        data.push((tt * 1000 + zz * 100 + yy * 10 + xx) as f32);
                    }
                }
            }
        }
        let shape = if z > 1 { StackShape::volume(t, z, y, x) } else { StackShape::movie(t, y, x) };
        ImgData::from_f32(data, shape, Metadata::unknown()).expect("valid stack")
    }

    fn wait_until(mut f: impl FnMut() -> bool) -> bool {
        let end = Instant::now() + Duration::from_secs(5);
        while Instant::now() < end {
            if f() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        false
    }

    #[test]
    fn blocking_get_returns_the_right_plane() {
        let cache = FrameCache::new(stack(20, 1, 4, 5), CacheConfig::default());
        let f = cache.get_blocking(FrameKey::plane(7, 0), Travel::Still).expect("frame");
        assert_eq!((f.width, f.height), (5, 4));
        assert_eq!(f.data[0], 7000.0);
        assert_eq!(f.data[3 * 5 + 2], 7032.0);
    }

    #[test]
    fn prefetches_ahead_in_the_direction_of_travel() {
        let cfg = CacheConfig { ahead: 6, behind: 2, ..CacheConfig::default() };
        let cache = FrameCache::new(stack(50, 1, 3, 3), cfg);
        cache.get_blocking(FrameKey::plane(10, 0), Travel::Forward).expect("frame");
        assert!(wait_until(|| (11..=16).all(|t| cache.get(FrameKey::plane(t, 0)).is_some())));
        assert!(cache.get(FrameKey::plane(8, 0)).is_some() || wait_until(|| cache.get(FrameKey::plane(8, 0)).is_some()));
        assert!(cache.get(FrameKey::plane(20, 0)).is_none(), "read further than asked");
        cache.get_blocking(FrameKey::plane(30, 0), Travel::Backward).expect("frame");
        assert!(wait_until(|| (24..30).all(|t| cache.get(FrameKey::plane(t, 0)).is_some())));
    }

    #[test]
    fn memory_stays_bounded() {
        // 16x16 f32 planes = 1 KiB; budget of 10 planes.
        let cfg = CacheConfig { budget_bytes: 10 * 1024, ahead: 4, behind: 1, workers: 2 };
        let cache = FrameCache::new(stack(200, 1, 16, 16), cfg);
        assert_eq!(cache.capacity(), 10);
        for t in (0..200).step_by(7) {
            cache.get_blocking(FrameKey::plane(t, 0), Travel::Forward).expect("frame");
            assert!(cache.cached() <= 10);
        }
    }

    #[test]
    fn callback_fires_for_the_newest_request_only() {
        let cache = FrameCache::new(stack(100, 1, 8, 8), CacheConfig { workers: 1, ..CacheConfig::default() });
        let (tx, rx) = std::sync::mpsc::channel();
        for t in [5usize, 60, 90] {
            let tx = tx.clone();
            let cb: Callback = Box::new(move |r| {
                let _ = tx.send((t, r.map(|f| f.key.t)));
            });
            let _ = cache.request(FrameKey::plane(t, 0), Travel::Forward, Some(cb));
        }
        drop(tx);
        let got: Vec<_> = rx.iter().collect();
        assert!(got.iter().any(|(t, r)| *t == 90 && matches!(r, Ok(90))), "{got:?}");
        assert!(got.iter().all(|(t, r)| matches!(r, Ok(x) if x == t)));
    }

    #[test]
    fn max_projection_over_z_and_z_prefetch() {
        let cache = FrameCache::new(stack(3, 5, 2, 2), CacheConfig::default());
        let f = cache.get_blocking(FrameKey { t: 1, slice: Slice::MaxZ }, Travel::Still).expect("frame");
        assert_eq!(f.data, vec![1400.0, 1401.0, 1410.0, 1411.0]);
        cache.get_blocking(FrameKey::plane(2, 2), Travel::AlongZ).expect("frame");
        assert!(wait_until(|| (0..5).all(|z| cache.get(FrameKey::plane(2, z)).is_some())));
    }

    #[test]
    fn out_of_range_is_an_error_not_a_hang() {
        let cache = FrameCache::new(stack(4, 1, 2, 2), CacheConfig::default());
        let err = cache.get_blocking(FrameKey::plane(9, 0), Travel::Still).expect_err("out of range");
        assert!(matches!(err, CacheError::OutOfRange { .. }));
        // Asking again answers from the failure record at once.
        let err = cache.get_blocking(FrameKey::plane(9, 0), Travel::Still).expect_err("out of range");
        assert!(err.to_string().contains("outside"));
    }

    #[test]
    fn percentiles_and_min_max() {
        let f = Frame::new(FrameKey::plane(0, 0), 10, 10, (0..100).map(|v| v as f32).collect());
        assert_eq!(f.min_max(), Some((0.0, 99.0)));
        let (lo, hi) = f.percentiles(0.01, 0.99).expect("finite");
        assert!((lo - 1.0).abs() <= 1.0 && (hi - 98.0).abs() <= 1.0);
    }
}
