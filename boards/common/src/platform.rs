//! What the scripted demo needs from a board besides its flash.

/// A board's measurement hooks.
pub trait Platform {
    /// Guest instructions executed since some fixed point, for the cost figures of the demo.
    ///
    /// On QEMU with `-icount` this is exact: SysTick ticks converted to instructions on
    /// Cortex-M, `minstret` on RISC-V (see the board crates). A board without a counter returns 0.
    fn instructions(&mut self) -> u64;

    /// Called once at the end of the demo, right before its summary line, to print figures
    /// only the board knows (for example the stack's high-water mark). Prints nothing unless
    /// the board overrides it.
    fn report(&mut self) {}
}
