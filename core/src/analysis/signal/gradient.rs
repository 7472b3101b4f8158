//! numpy.gradient for 1-D arrays with unit spacing (second-order central differences inside, first-order one-sided
//! differences at the ends), as the Derivative node and peak detection use it.

/// `numpy.gradient(x)`; arrays shorter than 2 have no gradient (numpy raises), so they give an error.
pub fn gradient(x: &[f64]) -> Result<Vec<f64>, String> {
    let mut g = vec![0.0; x.len()];
    gradient_into(x, &mut g)?;
    Ok(g)
}

/// `numpy.gradient(x)` written into `g` (same length as `x`), so callers with one output buffer need no Vec per row.
pub fn gradient_into(x: &[f64], g: &mut [f64]) -> Result<(), String> {
    let n = x.len();
    if n < 2 {
        return Err(format!("the gradient needs at least 2 values, got {n}"));
    }
    if g.len() != n {
        return Err(format!("the gradient of {n} values needs an output of {n}, got {}", g.len()));
    }
    g[0] = x[1] - x[0];
    g[n - 1] = x[n - 1] - x[n - 2];
    for i in 1..n - 1 {
        g[i] = (x[i + 1] - x[i - 1]) / 2.0;
    }
    Ok(())
}
