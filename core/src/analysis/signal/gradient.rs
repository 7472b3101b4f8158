//! numpy.gradient for 1-D arrays with unit spacing (second-order central differences inside, first-order one-sided
//! differences at the ends), as the Derivative node and peak detection use it.

/// `numpy.gradient(x)`; arrays shorter than 2 have no gradient (numpy raises), so they give an error.
pub fn gradient(x: &[f64]) -> Result<Vec<f64>, String> {
    let n = x.len();
    if n < 2 {
        return Err(format!("the gradient needs at least 2 values, got {n}"));
    }
    let mut g = vec![0.0; n];
    g[0] = x[1] - x[0];
    g[n - 1] = x[n - 1] - x[n - 2];
    for i in 1..n - 1 {
        g[i] = (x[i + 1] - x[i - 1]) / 2.0;
    }
    Ok(g)
}
