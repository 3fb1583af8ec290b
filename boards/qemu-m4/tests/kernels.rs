//! On-target tests of the kernels on the emulated Cortex-M4F.
#![no_std]
#![no_main]

use cortex_m_rt as _;
use tinytune_qemu_m4 as _;

#[defmt_test::tests]
mod tests {
    use defmt::assert_eq;
    use tinytune::num::quant::Requantizer;

    #[test]
    fn requantizer_half() {
        let r = Requantizer::from_real(0.5).unwrap();
        assert_eq!(r.multiplier, 1 << 30);
        assert_eq!(r.shift, 0);
        assert_eq!(r.apply(3), 2);
    }
}
