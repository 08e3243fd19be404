//! Where `deid bench` ran: CPU model, cores, features, the code path each
//! primitive takes, and whether the timings can be trusted (emulation).

use deid::audit::hashes::{Algorithm, kernel};
use serde::{Deserialize, Serialize};

/// Where the benchmark ran.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Machine {
    /// Target architecture of this build (`x86_64`, `aarch64`, ...).
    pub arch: String,
    /// CPU model from /proc/cpuinfo, or `unknown`.
    pub cpu: String,
    /// Logical cores available to this process.
    pub cores: usize,
    /// CPU features relevant to the primitives, detected at run time.
    pub features: Vec<String>,
    /// The code path each primitive takes: (primitive, path).
    pub paths: Vec<(String, String)>,
    /// Whether the binary appears to run under emulation (qemu-user).
    pub emulated: bool,
    /// deid version.
    pub version: String,
}

fn cpuinfo() -> String {
    std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default()
}

fn cpu_model(info: &str) -> String {
    for key in ["model name", "Model", "Hardware", "cpu model"] {
        if let Some(v) = info
            .lines()
            .find(|l| l.split(':').next().is_some_and(|k| k.trim() == key))
            .and_then(|l| l.split_once(':'))
        {
            return v.1.trim().to_string();
        }
    }
    if info.contains("CPU implementer") {
        let part = info
            .lines()
            .find(|l| l.starts_with("CPU part"))
            .and_then(|l| l.split_once(':'))
            .map_or("", |p| p.1.trim());
        return format!("ARM CPU part {part}");
    }
    "unknown".into()
}

/// Whether this process looks emulated: `DEID_EMULATED=1` says so; an
/// aarch64 build reading an x86 /proc/cpuinfo (qemu-user passes the host's
/// through) or the reverse does too.
fn emulated(info: &str) -> bool {
    if std::env::var("DEID_EMULATED").is_ok_and(|v| v == "1") {
        return true;
    }
    let x86_host = info.contains("GenuineIntel") || info.contains("AuthenticAMD");
    let arm_host = info.contains("CPU implementer");
    (cfg!(target_arch = "aarch64") && x86_host) || (cfg!(target_arch = "x86_64") && arm_host)
}

/// CPU features relevant to the primitives, as the CPU reports them: a
/// description of the machine. Which of them the code uses is [`paths`].
fn features() -> Vec<String> {
    #[cfg(target_arch = "x86_64")]
    let found = [
        (std::is_x86_feature_detected!("sha"), "SHA-NI"),
        (std::is_x86_feature_detected!("aes"), "AES-NI"),
        (std::is_x86_feature_detected!("pclmulqdq"), "PCLMULQDQ"),
        (std::is_x86_feature_detected!("avx2"), "AVX2"),
        (std::is_x86_feature_detected!("avx512f"), "AVX-512F"),
    ];
    #[cfg(target_arch = "aarch64")]
    let found = [
        (std::arch::is_aarch64_feature_detected!("aes"), "AES"),
        (std::arch::is_aarch64_feature_detected!("sha2"), "SHA2"),
        (std::arch::is_aarch64_feature_detected!("pmull"), "PMULL"),
        (std::arch::is_aarch64_feature_detected!("neon"), "NEON"),
    ];
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    let found: [(bool, &str); 0] = [];
    found
        .into_iter()
        .filter(|&(on, _)| on)
        .map(|(_, name)| name.to_string())
        .collect()
}

/// The code path each primitive takes on this machine.
///
/// deid's hash-reversal kernel and the `aes` crate (AES-GCM and AES-SIV run
/// on it) are asked: [`deid::audit::hashes::kernel`] and
/// [`aes::hardware_accelerated`]. `sha2`, `sha1` and `polyval` (GHASH in
/// AES-GCM) keep their `cpufeatures` tokens private and cannot be asked, so
/// for them this repeats the feature sets they test: sha2 0.11 and sha1 0.11
/// need sha, sse2, ssse3 and sse4.1 on x86-64 and sha2 on aarch64; polyval
/// 0.7 needs avx and pclmulqdq on x86-64 and aes (PMULL) on aarch64. Check
/// them again when those crates are upgraded. A backend forced at build time
/// (`--cfg sha2_backend="soft"` and the like) is not seen here.
fn paths() -> Vec<(String, String)> {
    #[cfg(target_arch = "x86_64")]
    let (sha, ghash, hw) = (
        std::is_x86_feature_detected!("sha")
            && std::is_x86_feature_detected!("sse2")
            && std::is_x86_feature_detected!("ssse3")
            && std::is_x86_feature_detected!("sse4.1"),
        std::is_x86_feature_detected!("avx") && std::is_x86_feature_detected!("pclmulqdq"),
        ["SHA-NI", "SHA-NI", "AES-NI", "PCLMULQDQ"],
    );
    #[cfg(target_arch = "aarch64")]
    let (sha, ghash, hw) = (
        std::arch::is_aarch64_feature_detected!("sha2"),
        std::arch::is_aarch64_feature_detected!("aes"),
        ["ARMv8 SHA2", "ARMv8 SHA1", "ARMv8 AES", "PMULL"],
    );
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    let (sha, ghash, hw) = (false, false, [""; 4]);
    let pick = |on: bool, hw: &str, sw: &str| if on { hw } else { sw }.to_string();
    vec![
        ("sha256 (rustcrypto)".into(), pick(sha, hw[0], "software")),
        (
            "sha256 hash reversal (deid)".into(),
            kernel(Algorithm::Sha256).into(),
        ),
        ("pseudonymize batch (deid)".into(), batch_path()),
        ("sha1 (rustcrypto)".into(), pick(sha, hw[1], "software")),
        (
            "sha1 hash reversal (deid)".into(),
            kernel(Algorithm::Sha1).into(),
        ),
        (
            "aes (rustcrypto)".into(),
            pick(aes::hardware_accelerated(), hw[2], "software (fixsliced)"),
        ),
        ("ghash (rustcrypto)".into(), pick(ghash, hw[3], "software")),
        ("md5 (rustcrypto)".into(), "software".into()),
        (
            "md5 hash reversal (deid)".into(),
            kernel(Algorithm::Md5).into(),
        ),
        // ring dispatches on its own CPU probe and does not say which path.
        (
            "hmac-sha256, aes-gcm (ring)".into(),
            "ring assembly, dispatched on the same CPU features".into(),
        ),
    ]
}

/// The path of `Pseudonymizer::pseudonymize_batch` (and of
/// `sha256/2-blocks-4-way`) on this machine, asked of a pseudonymizer.
fn batch_path() -> String {
    let key = deid::MasterKey::from_bytes(1, [7; 32]);
    deid::Pseudonymizer::new(&key, "bench", 16, deid::Encoding::Hex)
        .map_or_else(|_| "unknown".into(), |p| p.batch_path().into())
}

pub fn machine() -> Machine {
    let info = cpuinfo();
    Machine {
        arch: std::env::consts::ARCH.to_string(),
        cpu: cpu_model(&info),
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        features: features(),
        paths: paths(),
        emulated: emulated(&info),
        version: env!("CARGO_PKG_VERSION").to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emulation_detection() {
        let intel = "vendor_id\t: GenuineIntel\nmodel name\t: Intel Xeon\n";
        let arm = "processor\t: 0\nCPU implementer\t: 0x41\nCPU part\t: 0xd08\n";
        assert_eq!(emulated(intel), cfg!(target_arch = "aarch64"));
        assert_eq!(emulated(arm), cfg!(target_arch = "x86_64"));
        assert_eq!(cpu_model(intel), "Intel Xeon");
        assert_eq!(cpu_model(arm), "ARM CPU part 0xd08");
    }
}
