#!/usr/bin/env bash
# Builds the examples/firmware crate (deid with default-features = false) for
# each small core and runs it under QEMU with semihosting:
#
#   cortex-m4  thumbv7em-none-eabihf         qemu-system-arm -machine mps2-an386
#   cortex-m0  thumbv6m-none-eabi            qemu-system-arm -machine microbit
#   riscv32    riscv32imac-unknown-none-elf  qemu-system-riscv32 -machine virt
#
# Usage: scripts/firmware.sh [all | cortex-m4 | cortex-m0 | riscv32]...
#
# Two images per core. The full image runs every suite (published vectors and
# docs/FORMAT.md formats, one PASS/FAIL line each), then instructions and
# peak stack per operation. The pseudonymize-only image (feature
# pseudonymize-only, SHA-256 built compact with --cfg sha2_backend_soft="compact")
# runs the HMAC vectors and the pseudonym format and measures the same way;
# its flash size is the footprint figure of the README. -icount shift=0 makes
# QEMU's clock advance 1 ns per instruction (see examples/firmware/src/main.rs).
# Exits non-zero if any run failed: a suite failed, the firmware faulted or
# panicked, or a run timed out.
set -euo pipefail
cd "$(dirname "$0")/.."

fw=examples/firmware
# Separate target directories: the two images differ in rustflags.
target_dir="${FIRMWARE_TARGET_DIR:-$PWD/$fw/target}"

loud() { printf '\n!!!! firmware: %s\n\n' "$*" >&2; }

# $1 as a TOML basic string: a checkout path may hold a quote or a backslash.
toml_string() {
    local s=${1//\\/\\\\}
    s=${s//\"/\\\"}
    printf '"%s"' "$s"
}

apt_install() {
    command -v apt-get >/dev/null || return 1
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null 2>&1
}

# A size tool that reads Arm and RISC-V ELF: rustup's llvm-tools, then any llvm-size.
size_tool() {
    local bin
    bin="$(rustc --print sysroot)/lib/rustlib/$(rustc -vV | sed -n 's/^host: //p')/bin/llvm-size"
    [ -x "$bin" ] || rustup component add llvm-tools >/dev/null 2>&1 || true
    if [ -x "$bin" ]; then echo "$bin"; return; fi
    command -v llvm-size || true
}

# Flash holds the vector table, code, read-only data and the initial values
# of .data; RAM holds .data, .bss and .uninit (the stack comes on top).
sizes() {
    local tool
    tool=$(size_tool)
    if [ -z "$tool" ]; then
        loud "no llvm-size (rustup component add llvm-tools): sizes NOT printed"
        return
    fi
    "$tool" -A "$1" | awk -v what="$2" '
        $1 == ".vector_table" || $1 == ".text" || $1 == ".rodata" { flash += $2; detail = detail sprintf(" %s %d", $1, $2) }
        $1 == ".data" { flash += $2; ram += $2; detail = detail sprintf(" .data %d", $2) }
        $1 == ".bss" || $1 == ".uninit" { ram += $2 }
        END { printf "%s: flash %d bytes (%.1f KiB:%s), static RAM %d bytes (stack not included)\n", what, flash, flash / 1024, detail, ram }'
}

run_one() {
    local core=$1 target=$2 qemu=$3
    shift 3
    local -a machine=("$@")
    local status=0 image

    if ! command -v "$qemu" >/dev/null; then
        loud "$qemu is missing (apt-get install qemu-system-arm qemu-system-misc): $core NOT run"
        return 1
    fi
    rustup target add "$target" >/dev/null 2>&1 ||
        loud "rustup could not add $target; the build needs it"

    for image in full pseudonymize-only; do
        # Panic locations carry source paths: the checkout's is written as
        # `deid` and cargo's registry as `crates`, so the image holds no
        # path of the build machine and its size does not change with where
        # the tree is checked out. (Flags given with --config join the
        # crate's own target rustflags.)
        local registry="${CARGO_HOME:-$HOME/.cargo}/registry/src"
        local flags
        flags="$(toml_string "--remap-path-prefix=$PWD=deid"), $(toml_string "--remap-path-prefix=$registry=crates")"
        local -a extra=(--config "target.$target.rustflags=[$flags]")
        if [ "$image" = pseudonymize-only ]; then
            extra+=(--features pseudonymize-only
                --config "target.$target.rustflags=[$(toml_string --cfg), $(toml_string 'sha2_backend_soft="compact"')]")
        fi
        echo
        echo "== $core: $image image (release, $target)"
        # Built from inside the crate so its .cargo/config.toml (linker scripts) applies.
        # Checked here: `set -e` does not stop a function called as `run_one || ...`,
        # and a failed build must not run the image an earlier build left.
        if ! (cd "$fw" && cargo build --release --quiet --target "$target" \
            --target-dir "$target_dir/$image" "${extra[@]}"); then
            loud "$core $image: the build failed"
            status=1
            continue
        fi
        local elf="$target_dir/$image/$target/release/deid-firmware"
        echo "== $qemu ${machine[*]} -icount shift=0"
        local rc=0
        timeout 120 "$qemu" "${machine[@]}" -nographic \
            -semihosting-config enable=on,target=native -icount shift=0 -kernel "$elf" || rc=$?
        [ "$rc" = 124 ] && loud "$core $image: the firmware did not exit within 120 s"
        [ "$rc" = 0 ] || { loud "$core $image: exit status $rc"; status=1; }
        sizes "$elf" "$core $image image"
    done
    return "$status"
}

boards=("$@")
[ ${#boards[@]} -gt 0 ] || boards=(all)
[ "${boards[0]}" = all ] && boards=(cortex-m4 cortex-m0 riscv32)

command -v qemu-system-arm >/dev/null || apt_install qemu-system-arm || true
command -v qemu-system-riscv32 >/dev/null || apt_install qemu-system-misc || true

failed=()
for b in "${boards[@]}"; do
    case "$b" in
        cortex-m4) run_one cortex-m4 thumbv7em-none-eabihf qemu-system-arm -machine mps2-an386 -cpu cortex-m4 || failed+=("$b") ;;
        cortex-m0) run_one cortex-m0 thumbv6m-none-eabi qemu-system-arm -machine microbit || failed+=("$b") ;;
        riscv32) run_one riscv32 riscv32imac-unknown-none-elf qemu-system-riscv32 -machine virt -bios none || failed+=("$b") ;;
        *) loud "unknown core $b (cortex-m4, cortex-m0, riscv32 or all)"; failed+=("$b") ;;
    esac
done

if [ ${#failed[@]} -eq 0 ]; then
    echo
    echo "firmware: all suites passed on ${boards[*]}"
else
    loud "FAILED on: ${failed[*]}"
    exit 1
fi
