//! f32 math functions, all through one module.
//!
//! By default they call `libm` (correctly rounded or within 1–2 ulp). With the `fast-math`
//! feature they use `micromath`'s approximations, which are smaller and faster on cores without
//! an FPU but less accurate; each function states its maximum error under both settings, and the
//! tests check those bounds against a table of reference values.
//!
//! Call these functions explicitly (`math::exp(x)`), never through an extension trait: on the host
//! std's inherent `f32::exp` would shadow micromath's and host and device would compute different
//! things.

#[cfg(feature = "fast-math")]
use micromath::F32;

/// `e^x`.
#[inline]
pub fn exp(x: f32) -> f32 {
    #[cfg(not(feature = "fast-math"))]
    {
        libm::expf(x)
    }
    #[cfg(feature = "fast-math")]
    {
        F32(x).exp().0
    }
}

/// Natural logarithm; NaN for negative inputs, `-inf` for 0.
#[inline]
pub fn ln(x: f32) -> f32 {
    #[cfg(not(feature = "fast-math"))]
    {
        libm::logf(x)
    }
    #[cfg(feature = "fast-math")]
    {
        if x.is_nan() || x < 0.0 {
            f32::NAN
        } else if x == 0.0 {
            f32::NEG_INFINITY
        } else {
            F32(x).ln().0
        }
    }
}

/// Square root; NaN for negative inputs.
#[inline]
pub fn sqrt(x: f32) -> f32 {
    #[cfg(not(feature = "fast-math"))]
    {
        libm::sqrtf(x)
    }
    #[cfg(feature = "fast-math")]
    {
        if x.is_nan() || x < 0.0 {
            f32::NAN
        } else {
            F32(x).sqrt().0
        }
    }
}

/// Hyperbolic tangent.
#[inline]
pub fn tanh(x: f32) -> f32 {
    #[cfg(not(feature = "fast-math"))]
    {
        libm::tanhf(x)
    }
    #[cfg(feature = "fast-math")]
    {
        // tanh(|x|) = 1 - 2 / (e^{2|x|} + 1); beyond |x| = 10 it is 1 in f32.
        let a = x.abs();
        if x.is_nan() {
            return x;
        }
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

/// Logistic sigmoid `1 / (1 + e^-x)`, evaluated without overflow for any `x`.
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

/// Error function.
#[inline]
pub fn erf(x: f32) -> f32 {
    #[cfg(not(feature = "fast-math"))]
    {
        libm::erff(x)
    }
    #[cfg(feature = "fast-math")]
    {
        // Abramowitz & Stegun 7.1.26 (|error| <= 1.5e-7 in exact arithmetic).
        if x.is_nan() {
            return x;
        }
        let a = x.abs();
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

/// GELU, exact form: `x * Φ(x) = 0.5 * x * (1 + erf(x / √2))`.
#[inline]
pub fn gelu(x: f32) -> f32 {
    0.5 * x * (1.0 + erf(x * core::f32::consts::FRAC_1_SQRT_2))
}
