#!/usr/bin/env bash
# Cargo runner for the emulated boards: `qemu-run.sh MACHINE ELF`.
# Runs the ELF under QEMU with semihosting and decodes the defmt frames it writes to stdout.
# The exit status is the firmware's semihosting exit code (pipefail); a firmware that hangs is
# killed after QEMU_TIMEOUT seconds (default 120) and the status is 124.
set -o pipefail
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
  ${QEMU_ICOUNT:+-icount "shift=$QEMU_ICOUNT"} -kernel "$elf" \
  | defmt-print -e "$elf"
