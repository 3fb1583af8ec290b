#!/usr/bin/env bash
# Cargo runner for the emulated boards: `qemu-run.sh [--icount SHIFT] MACHINE ELF [ARGS...]`.
# Runs the ELF under QEMU with semihosting and decodes the defmt frames it writes to stdout.
# The exit status is the firmware's semihosting exit code (pipefail); a firmware that hangs is
# killed after QEMU_TIMEOUT seconds (default 120) and the status is 124.
#
# `--icount SHIFT` (else the QEMU_ICOUNT environment variable) runs QEMU with `-icount shift=SHIFT`:
# every guest instruction then advances the virtual clock by 2^SHIFT ns, which makes the timers
# (SysTick, minstret) deterministic instruction counters. The board's .cargo/config.toml passes
# the shift its instruction counter is written for. Arguments after ELF (from `cargo run -- ...`)
# are ignored: the firmware has no command line.
set -o pipefail
icount="${QEMU_ICOUNT:-}"
if [ "$1" = --icount ]; then
  icount="$2"
  shift 2
fi
if [ $# -lt 2 ]; then
  echo "usage: qemu-run.sh [--icount SHIFT] MACHINE ELF" >&2
  exit 2
fi
machine="$1"
elf="$2"
case "$machine" in
  mps2-*|microbit) qemu=qemu-system-arm ;;
  virt|sifive_e) qemu=qemu-system-riscv32 ;;
  *) echo "qemu-run.sh: unknown machine '$machine'" >&2; exit 2 ;;
esac
extra=()
[ "$machine" = virt ] && extra=(-bios none)
timeout "${QEMU_TIMEOUT:-120}" "$qemu" -machine "$machine" "${extra[@]}" -nographic \
  -monitor none -serial none -semihosting-config enable=on,target=native \
  ${icount:+-icount "shift=$icount"} -kernel "$elf" \
  | defmt-print -e "$elf"
