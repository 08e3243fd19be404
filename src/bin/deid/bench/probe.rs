//! Where `deid bench` ran: CPU model, cores, features, the code path each
//! primitive takes, and whether the timings can be trusted (emulation).

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
    /// The code path each primitive takes with these features.
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

/// Detected features and the code path each primitive takes.
fn features() -> (Vec<String>, Vec<(String, String)>) {
    let mut f = Vec::new();
    let mut paths = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        let sha = std::is_x86_feature_detected!("sha")
            && std::is_x86_feature_detected!("sse4.1")
            && std::is_x86_feature_detected!("ssse3");
        let aes = std::is_x86_feature_detected!("aes");
        let clmul = std::is_x86_feature_detected!("pclmulqdq");
        let avx2 = std::is_x86_feature_detected!("avx2");
        for (on, n) in [
            (sha, "SHA-NI"),
            (aes, "AES-NI"),
            (clmul, "PCLMULQDQ"),
            (avx2, "AVX2"),
        ] {
            if on {
                f.push(n.to_string());
            }
        }
        let pick = |on: bool, hw: &str, sw: &str| if on { hw } else { sw }.to_string();
        paths.push((
            "sha256 (rustcrypto)".into(),
            pick(sha, "SHA-NI", "software (SSE2/AVX2 message schedule)"),
        ));
        paths.push((
            "sha256 hash reversal (deid)".into(),
            pick(
                sha,
                "SHA-NI, 4 blocks interleaved",
                "rustcrypto, one block at a time",
            ),
        ));
        paths.push(("sha1 (rustcrypto)".into(), pick(sha, "SHA-NI", "software")));
        paths.push((
            "aes (rustcrypto)".into(),
            pick(aes, "AES-NI", "software (fixsliced)"),
        ));
        paths.push((
            "ghash (rustcrypto)".into(),
            pick(clmul, "PCLMULQDQ", "software (soft64)"),
        ));
    }
    #[cfg(target_arch = "aarch64")]
    {
        let aes = std::arch::is_aarch64_feature_detected!("aes");
        let sha2 = std::arch::is_aarch64_feature_detected!("sha2");
        let pmull = aes; // PMULL is part of the AES extension.
        let neon = std::arch::is_aarch64_feature_detected!("neon");
        for (on, n) in [
            (aes, "AES"),
            (sha2, "SHA2"),
            (pmull, "PMULL"),
            (neon, "NEON"),
        ] {
            if on {
                f.push(n.to_string());
            }
        }
        let pick = |on: bool, hw: &str, sw: &str| if on { hw } else { sw }.to_string();
        paths.push((
            "sha256 (rustcrypto)".into(),
            pick(sha2, "ARMv8 SHA2", "software"),
        ));
        paths.push((
            "sha256 hash reversal (deid)".into(),
            "rustcrypto, one block at a time".into(),
        ));
        paths.push((
            "sha1 (rustcrypto)".into(),
            pick(sha2, "ARMv8 SHA1", "software"),
        ));
        paths.push((
            "aes (rustcrypto)".into(),
            pick(aes, "ARMv8 AES", "software (fixsliced)"),
        ));
        paths.push((
            "ghash (rustcrypto)".into(),
            pick(pmull, "PMULL", "software (soft64)"),
        ));
    }
    paths.push(("md5".into(), "software".into()));
    #[cfg(feature = "ring")]
    paths.push((
        "hmac-sha256, aes-gcm (ring)".into(),
        "ring assembly, dispatched on the same CPU features".into(),
    ));
    (f, paths)
}

pub fn machine() -> Machine {
    let info = cpuinfo();
    let (features, paths) = features();
    Machine {
        arch: std::env::consts::ARCH.to_string(),
        cpu: cpu_model(&info),
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        features,
        paths,
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
