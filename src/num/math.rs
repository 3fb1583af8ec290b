//! f32 math functions, all through one module.
//!
//! By default they call `libm` (within 1–2 ulp). With the `fast-math` feature they use the short
//! range-reduced polynomials of the private `fast` module (written here because micromath's `exp`, `ln` and
//! `sqrt` measured far too coarse, see each function); each function states its maximum error
//! under both settings, and the tests in this module check those bounds against a table of f64
//! reference values.
//!
//! Call these functions explicitly (`math::exp(x)`), never through an extension trait: on the
//! host std's inherent `f32::exp` would shadow a no_std crate's trait method and host and device
//! would compute different things.
//!
//! Errors are stated as *relative* (`|f - ref| / |ref|`) where the function's value carries
//! the information in its leading digits (exp, ln, sqrt), and *absolute* (`|f - ref|`) for the
//! bounded, saturating functions (tanh, sigmoid, erf) whose useful resolution is fixed.

#[cfg(feature = "fast-math")]
mod fast;

/// `e^x`.
///
/// Special values: `exp(-inf) = 0`, `exp(inf) = inf`, NaN gives NaN; overflows to `inf` above
/// `88.72`, underflows (through subnormals) to 0 below `-103.9`.
///
/// Error over `[-87, 88]`, relative: at most `1.2e-7` (libm); at most `3e-7` (`fast-math`).
#[inline]
pub fn exp(x: f32) -> f32 {
    #[cfg(not(feature = "fast-math"))]
    {
        libm::expf(x)
    }
    #[cfg(feature = "fast-math")]
    {
        fast::exp(x)
    }
}

/// Natural logarithm; NaN for negative inputs and NaN, `-inf` for ±0, `inf` for `inf`.
///
/// Error over all positive finite f32 (subnormals included), relative: at most `1.2e-7`
/// (libm); at most `3e-7` (`fast-math`).
#[inline]
pub fn ln(x: f32) -> f32 {
    #[cfg(not(feature = "fast-math"))]
    {
        libm::logf(x)
    }
    #[cfg(feature = "fast-math")]
    {
        fast::ln(x)
    }
}

/// Square root; NaN for negative inputs and NaN, `±0` for `±0`, `inf` for `inf`.
///
/// Error over all non-negative finite f32, relative: at most `6e-8` (libm, correctly
/// rounded); at most `1.2e-7` (`fast-math`).
#[inline]
pub fn sqrt(x: f32) -> f32 {
    #[cfg(not(feature = "fast-math"))]
    {
        libm::sqrtf(x)
    }
    #[cfg(feature = "fast-math")]
    {
        fast::sqrt(x)
    }
}

/// Hyperbolic tangent; `±1` for `±inf` (and exactly `±1` for `|x| > 10` under `fast-math`),
/// NaN gives NaN.
///
/// Error over all f32, absolute: at most `1.2e-7` (libm); at most `2.5e-7` (`fast-math`,
/// computed as `1 - 2 / (e^{2|x|} + 1)`, whose relative error near 0 is larger: use it for
/// activations, where absolute error is what matters).
#[inline]
pub fn tanh(x: f32) -> f32 {
    #[cfg(not(feature = "fast-math"))]
    {
        libm::tanhf(x)
    }
    #[cfg(feature = "fast-math")]
    {
        if x.is_nan() {
            return x;
        }
        // tanh(|x|) = 1 - 2 / (e^{2|x|} + 1); beyond |x| = 10 it is 1 in f32.
        let a = x.abs();
        if a > 10.0 {
            return if x > 0.0 { 1.0 } else { -1.0 };
        }
        let t = 1.0 - 2.0 / (exp(2.0 * a) + 1.0);
        if x < 0.0 {
            -t
        } else {
            t
        }
    }
}

/// Logistic sigmoid `1 / (1 + e^-x)`, evaluated without overflow for any `x`: `sigmoid(inf) = 1`,
/// `sigmoid(-inf) = 0`, NaN gives NaN.
///
/// Error over all f32, absolute: at most `1.2e-7` (libm); at most `1.2e-7` (`fast-math`).
#[inline]
pub fn sigmoid(x: f32) -> f32 {
    if x >= 0.0 {
        1.0 / (1.0 + exp(-x))
    } else {
        // e^x / (1 + e^x) keeps precision for very negative x where 1 + e^-x overflows.
        let e = exp(x);
        e / (1.0 + e)
    }
}

/// Error function; `±1` for `±inf`, NaN gives NaN.
///
/// Error over all f32, absolute: at most `1.2e-7` (libm); at most `4e-7` (`fast-math`: the
/// Maclaurin series below `|x| = 0.5`, Abramowitz & Stegun 7.1.26 above, `1.5e-7` in exact
/// arithmetic, plus f32 rounding).
#[inline]
pub fn erf(x: f32) -> f32 {
    #[cfg(not(feature = "fast-math"))]
    {
        libm::erff(x)
    }
    #[cfg(feature = "fast-math")]
    {
        if x.is_nan() {
            return x;
        }
        let a = x.abs();
        if a < 0.5 {
            // Near 0 the formula below computes 1 - (a number close to 1) and loses its
            // relative precision; the Maclaurin series (to x^11, truncation < 2e-8) keeps it
            // and is odd, so erf(±0) = ±0.
            let x2 = x * x;
            let s = 1.0
                + x2 * (-1.0 / 3.0
                    + x2 * (1.0 / 10.0
                        + x2 * (-1.0 / 42.0 + x2 * (1.0 / 216.0 + x2 * (-1.0 / 1320.0)))));
            return core::f32::consts::FRAC_2_SQRT_PI * x * s;
        }
        let t = 1.0 / (1.0 + 0.327_591_1 * a);
        let poly = t
            * (0.254_829_6
                + t * (-0.284_496_74 + t * (1.421_413_7 + t * (-1.453_152_1 + t * 1.061_405_4))));
        let y = 1.0 - poly * exp(-a * a);
        if x < 0.0 {
            -y
        } else {
            y
        }
    }
}

/// Cosine (libm's `cosf` under both settings: it is only used off the hot paths, by the
/// Box–Muller normal draw and the cosine learning-rate schedule).
///
/// Error over `[-2π, 2π]`, absolute: at most `1.2e-7`.
#[inline]
pub fn cos(x: f32) -> f32 {
    libm::cosf(x)
}

/// GELU, exact form: `x * Φ(x) = 0.5 * x * (1 + erf(x / √2))`; `gelu(inf) = inf`,
/// `gelu(-inf) = -0`, NaN gives NaN.
///
/// Error over `[-10, 10]`, absolute: at most `1e-6` (libm); at most `1e-6` (`fast-math`)
/// (the erf error times `|x| / 2`, plus rounding).
#[inline]
pub fn gelu(x: f32) -> f32 {
    if x == f32::NEG_INFINITY {
        // The limit; the formula would give -inf * 0 = NaN.
        return -0.0;
    }
    0.5 * x * (1.0 + erf(x * core::f32::consts::FRAC_1_SQRT_2))
}

/// GELU, tanh approximation (as in GPT-2 and PyTorch's `approximate="tanh"`):
/// `0.5 * x * (1 + tanh(√(2/π) * (x + 0.044715 x³)))`; `gelu_tanh(inf) = inf`,
/// `gelu_tanh(-inf) = -0`, NaN gives NaN.
///
/// Error against the same formula in f64, over `[-10, 10]`, absolute: at most `1e-6` (libm);
/// at most `1e-6` (`fast-math`). (It differs from [`gelu`] by up to about `5e-4`: that is the
/// approximation, not rounding.)
#[inline]
pub fn gelu_tanh(x: f32) -> f32 {
    if x == f32::NEG_INFINITY {
        return -0.0;
    }
    if x == f32::INFINITY {
        return x;
    }
    // √(2/π)
    const K: f32 = 0.797_884_6;
    0.5 * x * (1.0 + tanh(K * (x + 0.044_715 * x * x * x)))
}

#[cfg(test)]
mod tests;
