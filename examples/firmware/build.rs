//! Puts the board's memory map where the linker finds it as `memory.x`, and
//! tells the code which board it is built for (`board = "..."`).
use std::{env, fs, path::PathBuf};

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR is set by cargo"));
    let target = env::var("TARGET").expect("TARGET is set by cargo");
    let board = match target.as_str() {
        "thumbv7em-none-eabihf" => "mps2-an386",
        "thumbv6m-none-eabi" => "microbit",
        "riscv32imac-unknown-none-elf" => "riscv-virt",
        other => panic!("no board for target {other}: see scripts/firmware.sh"),
    };
    fs::copy(format!("memory/{board}.x"), out.join("memory.x"))
        .expect("memory/ is next to build.rs");
    println!("cargo:rustc-link-search={}", out.display());
    println!(
        "cargo:rustc-check-cfg=cfg(board, values(\"mps2-an386\", \"microbit\", \"riscv-virt\"))"
    );
    println!("cargo:rustc-cfg=board=\"{board}\"");
    println!("cargo:rerun-if-changed=memory");
}
