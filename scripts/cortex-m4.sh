#!/usr/bin/env bash
# Builds the examples/cortex-m4 firmware (deid with default-features = false,
# thumbv7em-none-eabihf) and runs it on QEMU's mps2-an386 Cortex-M4 board:
# published vectors and docs/FORMAT.md formats (one PASS/FAIL line per suite), then
# instructions per operation (-icount shift=0: one instruction per virtual
# nanosecond, counted with SysTick), then the image's flash and RAM sizes.
# Exits with the firmware's semihosting exit status (non-zero if a suite
# failed, the firmware faulted or panicked, or the run timed out).
set -euo pipefail
cd "$(dirname "$0")/.."

fw=examples/cortex-m4
elf=$fw/target/thumbv7em-none-eabihf/release/deid-cortex-m4

loud() { printf '\n!!!! cortex-m4: %s\n\n' "$*" >&2; }

apt_install() {
    command -v apt-get >/dev/null || return 1
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null 2>&1
}

if ! command -v qemu-system-arm >/dev/null; then
    apt_install qemu-system-arm || true
    if ! command -v qemu-system-arm >/dev/null; then
        loud "qemu-system-arm is missing and could not be installed (apt-get install qemu-system-arm)"
        exit 1
    fi
fi
rustup target add thumbv7em-none-eabihf >/dev/null 2>&1 ||
    loud "rustup could not add thumbv7em-none-eabihf; the build needs it"

echo "== building $fw (release, thumbv7em-none-eabihf)"
# Built from inside the crate so its .cargo/config.toml (target, -Tlink.x) applies.
(cd "$fw" && cargo build --release --quiet)

echo "== qemu-system-arm -machine mps2-an386 -cpu cortex-m4 -icount shift=0"
status=0
timeout 120 qemu-system-arm -machine mps2-an386 -cpu cortex-m4 -nographic \
    -semihosting-config enable=on,target=native -icount shift=0 -kernel "$elf" || status=$?
if [ "$status" = 124 ]; then
    loud "the firmware did not exit within 120 s"
fi

# A size tool that reads ARM ELF: rustup's llvm-tools, then Debian's
# binutils-arm-none-eabi, then any llvm-size on PATH.
size_tool() {
    local bin
    bin="$(rustc --print sysroot)/lib/rustlib/$(rustc -vV | sed -n 's/^host: //p')/bin/llvm-size"
    [ -x "$bin" ] || rustup component add llvm-tools >/dev/null 2>&1 || true
    if [ -x "$bin" ]; then echo "$bin"; return; fi
    command -v arm-none-eabi-size >/dev/null || apt_install binutils-arm-none-eabi || true
    if command -v arm-none-eabi-size >/dev/null; then command -v arm-none-eabi-size; return; fi
    command -v llvm-size || true
}

echo "== image size"
tool=$(size_tool)
if [ -z "$tool" ]; then
    loud "no size tool for ARM ELF (tried rustup llvm-tools, binutils-arm-none-eabi, llvm-size): sizes NOT printed"
else
    # -A lists sections. Flash holds the vector table, code, read-only data
    # and the initial values of .data; RAM holds .data, .bss and .uninit
    # (the stack comes on top, from the end of RAM down).
    "$tool" -A "$elf" | awk '
        $1 == ".vector_table" || $1 == ".text" || $1 == ".rodata" { flash += $2; printf "  %-14s %8d  flash\n", $1, $2 }
        $1 == ".data" { flash += $2; ram += $2; printf "  %-14s %8d  flash (initial values) + RAM\n", $1, $2 }
        $1 == ".bss" || $1 == ".uninit" { ram += $2; printf "  %-14s %8d  RAM\n", $1, $2 }
        END {
            printf "flash (vector table + text + rodata + data): %d bytes\n", flash
            printf "RAM   (data + bss, stack not included):      %d bytes\n", ram
        }'
fi

if [ "$status" = 0 ]; then
    echo "cortex-m4: all suites passed"
else
    loud "firmware exit status $status (a suite failed, it faulted, or it timed out)"
fi
exit "$status"
