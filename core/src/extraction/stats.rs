//! Scalar statistics the evaluation needs: robust mode, log of the normal tail, inverse normal CDF.

/// Half-sample mode (Bickel & Frühwirth): the centre of the densest half of the data, recursively; robust to
/// the one-sided calcium transients that bias the mean and the median of a trace.
pub fn half_sample_mode(x: &[f32]) -> f32 {
    let mut v: Vec<f32> = x.iter().copied().filter(|v| v.is_finite()).collect();
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f32::total_cmp);
    let mut s = &v[..];
    while s.len() > 3 {
        let h = s.len().div_ceil(2);
        let mut best = 0;
        let mut width = f32::INFINITY;
        for i in 0..=s.len() - h {
            let w = s[i + h - 1] - s[i];
            if w < width {
                width = w;
                best = i;
            }
        }
        s = &s[best..best + h];
    }
    match s.len() {
        3 => {
            if s[1] - s[0] < s[2] - s[1] {
                0.5 * (s[0] + s[1])
            } else if s[1] - s[0] > s[2] - s[1] {
                0.5 * (s[1] + s[2])
            } else {
                s[1]
            }
        }
        2 => 0.5 * (s[0] + s[1]),
        _ => s[0],
    }
}

/// `ln(1 - Phi(z))`, accurate far into the tail (where `1 - Phi` underflows).
pub fn ln_normal_sf(z: f64) -> f64 {
    // 1 - Phi(z) = erfc(z / sqrt 2) / 2; erfc from Numerical Recipes' Chebyshev fit (relative error < 1.2e-7),
    // evaluated in log space.
    let x = z / std::f64::consts::SQRT_2;
    let ax = x.abs();
    let t = 1.0 / (1.0 + 0.5 * ax);
    let poly = -ax * ax - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98 + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let ln_erfc_abs = t.ln() + poly;
    if x >= 0.0 {
        ln_erfc_abs - std::f64::consts::LN_2
    } else {
        // erfc(-a) = 2 - erfc(a)
        (1.0 - 0.5 * ln_erfc_abs.exp()).ln()
    }
}

/// Inverse of the standard normal CDF given `ln p` (so tiny probabilities stay exact); Acklam's rational
/// approximation (relative error < 1.2e-9).
pub fn normal_ppf_ln(ln_p: f64) -> f64 {
    const A: [f64; 6] = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.383_577_518_672_69e2, -3.066479806614716e1, 2.506_628_277_459_239];
    const B: [f64; 5] = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
    const C: [f64; 6] = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
    const D: [f64; 4] = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
    let p = ln_p.exp();
    let lower = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5]) / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < 0.02425 {
        let q = (-2.0 * ln_p).sqrt();
        lower(q)
    } else if p <= 1.0 - 0.02425 {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        let q = (-2.0 * (1.0 - p).max(f64::MIN_POSITIVE).ln()).sqrt();
        -lower(q)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_and_ppf_match_known_values() {
        // 1 - Phi(3) = 1.3498980316e-3; 1 - Phi(10) = 7.6198530242e-24.
        assert!((ln_normal_sf(3.0) - 1.3498980316e-3f64.ln()).abs() < 1e-6);
        assert!((ln_normal_sf(10.0) - 7.6198530242e-24f64.ln()).abs() < 1e-5);
        assert!((ln_normal_sf(-1.0) - 0.8413447461f64.ln()).abs() < 1e-6);
        assert!((normal_ppf_ln(0.975f64.ln()) - 1.959963985).abs() < 1e-7);
        assert!((normal_ppf_ln(1e-30f64.ln()) + 11.46403).abs() < 1e-4);
        assert!((half_sample_mode(&[1.0, 1.1, 1.2, 1.15, 5.0, 9.0, 1.12]) - 1.135).abs() < 0.03);
    }
}
