//! Butterworth filter design (scipy.signal.butter, digital, output "ba").
//!
//! Follows scipy's route: analog prototype poles on the unit circle, frequency pre-warping with fs = 2,
//! the lowpass/highpass/bandpass/bandstop transform in zero-pole-gain form, the bilinear transform, and
//! finally expansion of the roots into polynomials (real parts kept, as scipy does for conjugate pairs).

use std::ops::{Add, Div, Mul, Neg, Sub};

/// Band type of the designed filter (scipy's `btype`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BType {
    /// Pass frequencies below `wn[0]`.
    Lowpass,
    /// Pass frequencies above `wn[0]`.
    Highpass,
    /// Pass frequencies between `wn[0]` and `wn[1]`.
    Bandpass,
    /// Reject frequencies between `wn[0]` and `wn[1]`.
    Bandstop,
}

/// Minimal complex number for the zero-pole-gain arithmetic.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Cx {
    re: f64,
    im: f64,
}

impl Cx {
    const fn new(re: f64, im: f64) -> Self {
        Self { re, im }
    }

    const fn real(re: f64) -> Self {
        Self { re, im: 0.0 }
    }

    fn scale(self, s: f64) -> Self {
        Self::new(self.re * s, self.im * s)
    }

    fn abs(self) -> f64 {
        self.re.hypot(self.im)
    }

    /// Principal square root (branch cut on the negative real axis, sign of the imaginary part kept).
    fn sqrt(self) -> Self {
        if self.re == 0.0 && self.im == 0.0 {
            return Self::new(0.0, self.im);
        }
        let m = self.abs();
        if self.re >= 0.0 {
            let t = ((m + self.re) * 0.5).sqrt();
            Self::new(t, self.im / (2.0 * t))
        } else {
            let t = ((m - self.re) * 0.5).sqrt();
            Self::new(self.im.abs() / (2.0 * t), t.copysign(self.im))
        }
    }
}

impl Add for Cx {
    type Output = Cx;
    fn add(self, o: Cx) -> Cx {
        Cx::new(self.re + o.re, self.im + o.im)
    }
}

impl Sub for Cx {
    type Output = Cx;
    fn sub(self, o: Cx) -> Cx {
        Cx::new(self.re - o.re, self.im - o.im)
    }
}

impl Mul for Cx {
    type Output = Cx;
    fn mul(self, o: Cx) -> Cx {
        Cx::new(self.re * o.re - self.im * o.im, self.re * o.im + self.im * o.re)
    }
}

impl Div for Cx {
    type Output = Cx;
    /// Smith's scaled division (avoids overflow in the denominator).
    fn div(self, o: Cx) -> Cx {
        if o.re.abs() >= o.im.abs() {
            let r = o.im / o.re;
            let d = o.re + o.im * r;
            Cx::new((self.re + self.im * r) / d, (self.im - self.re * r) / d)
        } else {
            let r = o.re / o.im;
            let d = o.re * r + o.im;
            Cx::new((self.re * r + self.im) / d, (self.im * r - self.re) / d)
        }
    }
}

impl Neg for Cx {
    type Output = Cx;
    fn neg(self) -> Cx {
        Cx::new(-self.re, -self.im)
    }
}

/// Zero-pole-gain representation used during the design.
struct Zpk {
    z: Vec<Cx>,
    p: Vec<Cx>,
    k: f64,
}

impl Zpk {
    /// Number of poles in excess of zeros (zeros "at infinity").
    fn degree(&self) -> usize {
        self.p.len().saturating_sub(self.z.len())
    }
}

fn prod(v: &[Cx]) -> Cx {
    v.iter().fold(Cx::real(1.0), |acc, &x| acc * x)
}

/// Product of `(c - r)` over all roots `r`.
fn prod_shift(c: f64, v: &[Cx]) -> Cx {
    v.iter().fold(Cx::real(1.0), |acc, &r| acc * (Cx::real(c) - r))
}

/// Analog Butterworth prototype: no zeros, poles `-exp(i*pi*m/(2N))` for m = -N+1, -N+3, ..., N-1, gain 1.
fn buttap(order: usize) -> Zpk {
    let n = order as f64;
    let p = (0..order)
        .map(|j| {
            let m = -n + 1.0 + 2.0 * j as f64;
            let theta = std::f64::consts::PI * m / (2.0 * n);
            -Cx::new(theta.cos(), theta.sin())
        })
        .collect();
    Zpk { z: Vec::new(), p, k: 1.0 }
}

fn lp2lp(f: Zpk, wo: f64) -> Zpk {
    let degree = f.degree();
    Zpk {
        z: f.z.iter().map(|&z| z.scale(wo)).collect(),
        p: f.p.iter().map(|&p| p.scale(wo)).collect(),
        k: f.k * wo.powi(degree as i32),
    }
}

fn lp2hp(f: Zpk, wo: f64) -> Zpk {
    let degree = f.degree();
    let w = Cx::real(wo);
    let mut z: Vec<Cx> = f.z.iter().map(|&z| w / z).collect();
    z.extend(std::iter::repeat_n(Cx::real(0.0), degree));
    let p = f.p.iter().map(|&p| w / p).collect();
    let neg_z: Vec<Cx> = f.z.iter().map(|&z| -z).collect();
    let neg_p: Vec<Cx> = f.p.iter().map(|&p| -p).collect();
    let k = f.k * (prod(&neg_z) / prod(&neg_p)).re;
    Zpk { z, p, k }
}

/// Splits every root `r` into `r + sqrt(r^2 - wo^2)` (first half) and `r - sqrt(r^2 - wo^2)` (second half).
fn split_roots(roots: &[Cx], wo: f64) -> Vec<Cx> {
    let w2 = Cx::real(wo * wo);
    let s: Vec<Cx> = roots.iter().map(|&r| (r * r - w2).sqrt()).collect();
    let mut out: Vec<Cx> = roots.iter().zip(&s).map(|(&r, &q)| r + q).collect();
    out.extend(roots.iter().zip(&s).map(|(&r, &q)| r - q));
    out
}

fn lp2bp(f: Zpk, wo: f64, bw: f64) -> Zpk {
    let degree = f.degree();
    let half = |v: &[Cx]| -> Vec<Cx> { v.iter().map(|&r| r.scale(bw) / Cx::real(2.0)).collect() };
    let mut z = split_roots(&half(&f.z), wo);
    z.extend(std::iter::repeat_n(Cx::real(0.0), degree));
    let p = split_roots(&half(&f.p), wo);
    Zpk { z, p, k: f.k * bw.powi(degree as i32) }
}

fn lp2bs(f: Zpk, wo: f64, bw: f64) -> Zpk {
    let degree = f.degree();
    let inv = |v: &[Cx]| -> Vec<Cx> { v.iter().map(|&r| Cx::real(bw / 2.0) / r).collect() };
    let mut z = split_roots(&inv(&f.z), wo);
    z.extend(std::iter::repeat_n(Cx::new(0.0, wo), degree));
    z.extend(std::iter::repeat_n(Cx::new(0.0, -wo), degree));
    let p = split_roots(&inv(&f.p), wo);
    let neg_z: Vec<Cx> = f.z.iter().map(|&z| -z).collect();
    let neg_p: Vec<Cx> = f.p.iter().map(|&p| -p).collect();
    let k = f.k * (prod(&neg_z) / prod(&neg_p)).re;
    Zpk { z, p, k }
}

fn bilinear(f: Zpk, fs: f64) -> Zpk {
    let degree = f.degree();
    let fs2 = Cx::real(2.0 * fs);
    let mut z: Vec<Cx> = f.z.iter().map(|&z| (fs2 + z) / (fs2 - z)).collect();
    z.extend(std::iter::repeat_n(Cx::real(-1.0), degree));
    let p = f.p.iter().map(|&p| (fs2 + p) / (fs2 - p)).collect();
    let k = f.k * (prod_shift(2.0 * fs, &f.z) / prod_shift(2.0 * fs, &f.p)).re;
    Zpk { z, p, k }
}

/// Monic polynomial with the given roots, highest power first; real parts only (roots come in conjugate pairs).
fn poly(roots: &[Cx]) -> Vec<f64> {
    let mut c = vec![Cx::real(1.0)];
    for &r in roots {
        let nr = -r;
        let mut next = Vec::with_capacity(c.len() + 1);
        next.push(c[0]);
        for i in 1..c.len() {
            next.push(c[i] + c[i - 1] * nr);
        }
        if let Some(&last) = c.last() {
            next.push(last * nr);
        }
        c = next;
    }
    c.into_iter().map(|v| v.re).collect()
}

/// Designs a digital Butterworth filter like `scipy.signal.butter(order, wn, btype, output="ba")`, returning `(b, a)`.
pub fn butter(order: usize, wn: &[f64], btype: BType) -> Result<(Vec<f64>, Vec<f64>), String> {
    if order < 1 {
        return Err("Filter order must be at least 1".to_string());
    }
    if order > 500 {
        return Err(format!("Filter order {order} is too large (at most 500)"));
    }
    let need = match btype {
        BType::Lowpass | BType::Highpass => 1,
        BType::Bandpass | BType::Bandstop => 2,
    };
    if wn.len() != need {
        return Err(match need {
            1 => "Must specify a single critical frequency Wn for lowpass or highpass filter".to_string(),
            _ => "Wn must specify start and stop frequencies for bandpass or bandstop filter".to_string(),
        });
    }
    if wn.iter().any(|&w| !(w > 0.0 && w < 1.0)) {
        return Err("Digital filter critical frequencies must be 0 < Wn < 1".to_string());
    }
    if need == 2 && wn[0] >= wn[1] {
        return Err("Wn[0] must be less than Wn[1]".to_string());
    }
    let fs = 2.0;
    let warped: Vec<f64> = wn.iter().map(|&w| 2.0 * fs * (std::f64::consts::PI * w / fs).tan()).collect();
    let proto = buttap(order);
    let analog = match btype {
        BType::Lowpass => lp2lp(proto, warped[0]),
        BType::Highpass => lp2hp(proto, warped[0]),
        BType::Bandpass | BType::Bandstop => {
            let bw = warped[1] - warped[0];
            let wo = (warped[0] * warped[1]).sqrt();
            if btype == BType::Bandpass { lp2bp(proto, wo, bw) } else { lp2bs(proto, wo, bw) }
        }
    };
    let digital = bilinear(analog, fs);
    let b = poly(&digital.z).into_iter().map(|v| digital.k * v).collect();
    let a = poly(&digital.p);
    Ok((b, a))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complex_sqrt_branches() {
        let s = Cx::new(-4.0, 0.0).sqrt();
        assert_eq!(s, Cx::new(0.0, 2.0));
        let s = Cx::new(-4.0, -0.0).sqrt();
        assert_eq!(s, Cx::new(0.0, -2.0));
        let s = Cx::new(3.0, 4.0).sqrt();
        assert!((s.re - 2.0).abs() < 1e-15 && (s.im - 1.0).abs() < 1e-15);
    }

    #[test]
    fn first_order_lowpass_half_band() {
        let (b, a) = butter(1, &[0.5], BType::Lowpass).expect("design");
        assert!((b[0] - 0.5).abs() < 1e-15 && (b[1] - 0.5).abs() < 1e-15);
        assert!((a[0] - 1.0).abs() < 1e-15 && a[1].abs() < 1e-15);
    }
}
