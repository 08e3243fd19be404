#!/usr/bin/env bash
# Builds examples/cortex-m4 (deid with default-features = false) for
# thumbv7em-none-eabihf and runs it on QEMU's mps2-an386 Cortex-M4 board:
# published vectors and DESIGN.md formats (PASS/FAIL per suite), then
# instructions per operation (-icount shift=0: one instruction per virtual
# nanosecond) and the image's flash and RAM size. Exits non-zero on failure.
set -euo pipefail
cd "$(dirname "$0")/../examples/cortex-m4"

if ! command -v qemu-system-arm >/dev/null; then
    echo "cortex-m4: qemu-system-arm is missing (apt-get install qemu-system-arm)" >&2
    exit 1
fi
rustup target add thumbv7em-none-eabihf >/dev/null 2>&1 || true

cargo build --release --quiet
elf=target/thumbv7em-none-eabihf/release/deid-cortex-m4

echo "== image size (text = flash, data + bss = static RAM; stack not included)"
if command -v size >/dev/null && size "$elf" >/dev/null 2>&1; then
    size "$elf"
else
    echo "(no 'size' tool that reads ARM ELF; install binutils)"
fi

echo "== running on qemu-system-arm -machine mps2-an386 (Cortex-M4)"
timeout 300 qemu-system-arm -machine mps2-an386 -cpu cortex-m4 -nographic \
    -semihosting-config enable=on,target=native -icount shift=0 -kernel "$elf"
