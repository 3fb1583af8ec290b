//! Weight initialisation: each scheme's sample statistics match its formula, and He keeps the
//! activation scale through a deep ReLU stack where a fixed σ does not.

use tinytune::kernels::generic::dense::{dense_f32, DenseShape};
use tinytune::kernels::ActivationF32;
use tinytune::rng::{SeedableRng, SeededRng};
use tinytune::train::init::{FanMode, Fans, Init};
use tinytune::Error;

fn mean_var(x: &[f32]) -> (f64, f64) {
    let n = x.len() as f64;
    let mean = x.iter().map(|&v| v as f64).sum::<f64>() / n;
    let var = x.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n;
    (mean, var)
}

/// 200,000 draws per scheme: the sample variance is within 2 % of the formula (its standard
/// error is below 0.4 % for these distributions, so 2 % is a 5-sigma bound) and the mean is
/// within 5 standard errors of 0; uniform schemes never leave `[-a, a)`.
#[test]
fn scaled_schemes_match_their_variance_within_2_percent() {
    let fans = Fans {
        fan_in: 48,
        fan_out: 16,
    };
    let cases: [(Init, f64, Option<f64>); 8] = [
        (
            Init::XavierUniform,
            2.0 / 64.0,
            Some((6.0f64 / 64.0).sqrt()),
        ),
        (Init::XavierNormal, 2.0 / 64.0, None),
        (
            Init::HeUniform(FanMode::FanIn),
            2.0 / 48.0,
            Some((6.0f64 / 48.0).sqrt()),
        ),
        (
            Init::HeUniform(FanMode::FanOut),
            2.0 / 16.0,
            Some((6.0f64 / 16.0).sqrt()),
        ),
        (Init::HeNormal(FanMode::FanIn), 2.0 / 48.0, None),
        (Init::HeNormal(FanMode::FanOut), 2.0 / 16.0, None),
        (Init::LeCunUniform, 1.0 / 48.0, Some((3.0f64 / 48.0).sqrt())),
        (Init::LeCunNormal, 1.0 / 48.0, None),
    ];
    let mut w = vec![0.0f32; 200_000];
    for (seed, (init, var, bound)) in cases.into_iter().enumerate() {
        let mut rng = SeededRng::seed_from_u64(seed as u64);
        init.fill(&mut w, fans, &mut rng).unwrap();
        let (m, v) = mean_var(&w);
        assert!(
            (v / var - 1.0).abs() < 0.02,
            "{init:?}: variance {v} vs {var}"
        );
        let se = (var / w.len() as f64).sqrt();
        assert!(m.abs() < 5.0 * se, "{init:?}: mean {m}");
        if let Some(a) = bound {
            assert!(
                w.iter()
                    .all(|&x| (x as f64) >= -a - 1e-7 && (x as f64) < a + 1e-7),
                "{init:?} left [-{a}, {a})"
            );
        }
    }
}

#[test]
fn explicit_schemes_give_their_parameters() {
    let fans = Fans {
        fan_in: 0,
        fan_out: 0,
    };
    let mut rng = SeededRng::seed_from_u64(9);
    let mut w = vec![1.0f32; 100_000];
    Init::Zeros.fill(&mut w, fans, &mut rng).unwrap();
    assert!(w.iter().all(|&x| x == 0.0));
    Init::Constant(0.25).fill(&mut w, fans, &mut rng).unwrap();
    assert!(w.iter().all(|&x| x == 0.25));
    Init::Uniform {
        low: 2.0,
        high: 3.0,
    }
    .fill(&mut w, fans, &mut rng)
    .unwrap();
    assert!(w.iter().all(|&x| (2.0..3.0).contains(&x)));
    let (m, v) = mean_var(&w);
    // U(2,3): mean 2.5 (se 9e-4), variance 1/12.
    assert!(
        (m - 2.5).abs() < 5e-3 && (v * 12.0 - 1.0).abs() < 0.03,
        "{m} {v}"
    );
    Init::Normal {
        mean: -1.0,
        std: 0.5,
    }
    .fill(&mut w, fans, &mut rng)
    .unwrap();
    let (m, v) = mean_var(&w);
    assert!(
        (m + 1.0).abs() < 8e-3 && (v / 0.25 - 1.0).abs() < 0.03,
        "{m} {v}"
    );
}

#[test]
fn invalid_parameters_are_errors_and_write_nothing() {
    let zero = Fans {
        fan_in: 0,
        fan_out: 0,
    };
    let mut rng = SeededRng::seed_from_u64(1);
    let mut w = [7.0f32; 4];
    for init in [
        Init::XavierUniform,
        Init::HeNormal(FanMode::FanIn),
        Init::LeCunUniform,
        Init::Constant(f32::NAN),
        Init::Uniform {
            low: 1.0,
            high: 0.0,
        },
        Init::Normal {
            mean: 0.0,
            std: -1.0,
        },
        Init::Normal {
            mean: f32::INFINITY,
            std: 1.0,
        },
    ] {
        assert_eq!(
            init.fill(&mut w, zero, &mut rng),
            Err(Error::Config),
            "{init:?}"
        );
        assert_eq!(w, [7.0; 4]);
    }
}

/// Mean square of the pre-activations after each of `depth` dense+ReLU layers of width `width`,
/// for a batch of standard-normal inputs, with every weight matrix drawn from `init`.
fn pre_activation_scale(init: Init, depth: usize, width: usize, seed: u64) -> Vec<f64> {
    let batch = 256;
    let mut rng = SeededRng::seed_from_u64(seed);
    let mut x = vec![0.0f32; batch * width];
    Init::Normal {
        mean: 0.0,
        std: 1.0,
    }
    .fill(
        &mut x,
        Fans {
            fan_in: 1,
            fan_out: 1,
        },
        &mut rng,
    )
    .unwrap();
    let shape = DenseShape {
        batch,
        in_features: width,
        out_features: width,
    };
    let mut w = vec![0.0f32; width * width];
    let mut z = vec![0.0f32; batch * width];
    let mut scales = Vec::new();
    for _ in 0..depth {
        init.fill(
            &mut w,
            Fans {
                fan_in: width,
                fan_out: width,
            },
            &mut rng,
        )
        .unwrap();
        dense_f32(shape, &x, &w, None, ActivationF32::NONE, &mut z).unwrap();
        scales.push(z.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / z.len() as f64);
        for (x, &z) in x.iter_mut().zip(&z) {
            *x = z.max(0.0);
        }
    }
    scales
}

/// Through 10 dense+ReLU layers of width 64, He (fan-in) keeps the mean square of every layer's
/// pre-activations within a factor of 2 of the first layer's; a fixed σ = 0.1 normal (variance
/// factor 64·0.01/2 = 0.32 per layer) and σ = 1 (factor 32) leave that band by far.
#[test]
fn he_keeps_activation_scale_within_factor_2_over_10_relu_layers_fixed_sigma_does_not() {
    let he = pre_activation_scale(Init::HeNormal(FanMode::FanIn), 10, 64, 3);
    for (l, s) in he.iter().enumerate() {
        let ratio = s / he[0];
        assert!((0.5..=2.0).contains(&ratio), "He layer {l}: ratio {ratio}");
    }
    for std in [0.1f32, 1.0] {
        let fixed = pre_activation_scale(Init::Normal { mean: 0.0, std }, 10, 64, 3);
        let ratio = fixed[9] / fixed[0];
        assert!(
            !(0.5..=2.0).contains(&ratio),
            "fixed sigma {std}: ratio {ratio} stayed in band"
        );
        // The drift is geometric: after 9 more layers it is at least a factor 100 either way.
        assert!(
            !(0.01..=100.0).contains(&ratio),
            "fixed sigma {std}: ratio {ratio}"
        );
    }
}
