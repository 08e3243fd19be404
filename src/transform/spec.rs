//! The per-field configuration: what one `[fields.<column>]` table of a
//! policy deserializes into. Validation happens during deserialization, so a
//! TOML parser reports a bad option at its line.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use serde::{Deserialize, Serialize};

use super::generalize::Generalization;
use super::hierarchy::HierarchyRule;
use super::mask::Mask;
use super::redact::Replace;
use crate::date::Date;
use crate::detect::DetectorId;
use crate::encoding::Encoding;
use crate::normalize::Normalizer;

/// The transform names used in policies (docs/FORMAT.md, "Policy file").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum TransformKind {
    /// Keyed HMAC-SHA256 pseudonym.
    Pseudonymize,
    /// AES-GCM or AES-SIV token.
    Encrypt,
    /// FF1 over digits.
    Fpe,
    /// Coarser value.
    Generalize,
    /// First/last characters kept.
    Mask,
    /// Per-subject date offset.
    Dateshift,
    /// Column removed.
    Drop,
    /// Column unchanged.
    Keep,
    /// Identifiers inside free text replaced (src/transform/redact.rs).
    Redact,
}

impl TransformKind {
    /// The name used in policies.
    pub fn as_str(self) -> &'static str {
        match self {
            TransformKind::Pseudonymize => "pseudonymize",
            TransformKind::Encrypt => "encrypt",
            TransformKind::Fpe => "fpe",
            TransformKind::Generalize => "generalize",
            TransformKind::Mask => "mask",
            TransformKind::Dateshift => "dateshift",
            TransformKind::Drop => "drop",
            TransformKind::Keep => "keep",
            TransformKind::Redact => "redact",
        }
    }

    /// Whether the key holder can get the original value back.
    pub fn is_reversible(self) -> bool {
        matches!(self, TransformKind::Encrypt | TransformKind::Fpe)
    }
}

impl fmt::Display for TransformKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `encrypt` modes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EncryptMode {
    /// AES-SIV: equal values give equal tokens (joinable).
    Deterministic,
    /// AES-256-GCM with a random nonce: equal values give different tokens.
    Randomized,
}

/// What to do with an empty value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EmptyRule {
    /// Write it empty (an empty value reveals nothing but its absence).
    #[default]
    Keep,
    /// Transform it like any other value.
    Transform,
    /// Treat it as a bad value (`on_error` decides).
    Error,
}

/// A validated transform with its options.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum TransformSpec {
    /// `pseudonymize`.
    Pseudonymize {
        /// MAC bytes kept (8-32, default 16).
        bytes: usize,
        /// Text encoding (default hex).
        encoding: Encoding,
    },
    /// `encrypt`.
    Encrypt {
        /// Deterministic (default) or randomized.
        mode: EncryptMode,
    },
    /// `fpe`.
    Fpe,
    /// `generalize`.
    Generalize(Generalization),
    /// `mask`.
    Mask(Mask),
    /// `dateshift`.
    Dateshift {
        /// Offsets are within ±`max_days`.
        max_days: u32,
        /// The column whose value identifies the subject.
        subject: String,
    },
    /// `drop`.
    Drop,
    /// `keep`.
    Keep,
    /// `generalize` by a hierarchy at a level (`hierarchy`, `level`).
    GeneralizeHierarchy(HierarchyRule),
    /// `redact`.
    Redact {
        /// Detectors run (every one when empty).
        detect: Vec<DetectorId>,
        /// What an identifier becomes.
        replace: Replace,
        /// Pseudonym MAC bytes kept (8-32, default 16), as `pseudonymize`.
        bytes: usize,
        /// Pseudonym text encoding (default hex), as `pseudonymize`.
        encoding: Encoding,
    },
}

impl TransformSpec {
    /// The transform's name.
    pub fn kind(&self) -> TransformKind {
        match self {
            TransformSpec::Pseudonymize { .. } => TransformKind::Pseudonymize,
            TransformSpec::Encrypt { .. } => TransformKind::Encrypt,
            TransformSpec::Fpe => TransformKind::Fpe,
            TransformSpec::Generalize(_) => TransformKind::Generalize,
            TransformSpec::GeneralizeHierarchy(_) => TransformKind::Generalize,
            TransformSpec::Mask(_) => TransformKind::Mask,
            TransformSpec::Dateshift { .. } => TransformKind::Dateshift,
            TransformSpec::Drop => TransformKind::Drop,
            TransformSpec::Keep => TransformKind::Keep,
            TransformSpec::Redact { .. } => TransformKind::Redact,
        }
    }

    /// Whether the key holder can get values back: `encrypt`, `fpe`, and
    /// `redact` with `replace = "token"`.
    pub fn is_reversible(&self) -> bool {
        self.kind().is_reversible()
            || matches!(
                self,
                TransformSpec::Redact {
                    replace: Replace::Token,
                    ..
                }
            )
    }
}

/// One field's configuration (a `[fields.<name>]` table).
///
/// # Example
/// ```
/// use deid::transform::{FieldSpec, TransformSpec};
/// let spec: FieldSpec = serde_json::from_str(
///     r#"{"transform": "pseudonymize", "normalize": ["phone:KR"], "context": "customer-phone"}"#,
/// ).unwrap();
/// assert!(matches!(spec.transform, TransformSpec::Pseudonymize { bytes: 16, .. }));
/// let bad = serde_json::from_str::<FieldSpec>(r#"{"transform": "pseudonymize", "keep": 3}"#);
/// assert!(bad.unwrap_err().to_string().contains("`keep` does not apply to `pseudonymize`"));
/// ```
///
/// Serializing writes the same flat table back, every option of the
/// transform explicit (defaults included), so it reads back equal.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawFieldSpec", into = "RawFieldSpec")]
pub struct FieldSpec {
    /// Normalizers run before the transform, in order.
    pub normalize: Vec<Normalizer>,
    /// Key-derivation context; `None` means the column name.
    pub context: Option<String>,
    /// The key, by id in the keyset, that makes this field's new tokens and
    /// pseudonyms and opens its FF1 values; `None` means the keyset's
    /// primary (docs/FORMAT.md, "Keys per field").
    pub key: Option<u32>,
    /// What happens to empty values.
    pub empty: EmptyRule,
    /// The transform and its options.
    pub transform: TransformSpec,
}

impl FieldSpec {
    /// A spec with no normalizers, default context and empty rule.
    pub fn new(transform: TransformSpec) -> Self {
        FieldSpec {
            normalize: Vec::new(),
            context: None,
            key: None,
            empty: EmptyRule::Keep,
            transform,
        }
    }
}

/// Generalization targets as written in policies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum GeneralizeTo {
    Year,
    YearMonth,
    AgeBand,
    Bucket,
    Prefix,
    TopBottom,
}

/// A `[fields.<name>]` table as written: every option of every transform,
/// checked against the transform when it becomes a [`FieldSpec`].
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFieldSpec {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    normalize: Vec<Normalizer>,
    transform: TransformKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    context: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    empty: Option<EmptyRule>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bytes: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    encoding: Option<Encoding>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mode: Option<EncryptMode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    to: Option<GeneralizeTo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    keep: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    width: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    as_of: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bottom: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    keep_first: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    keep_last: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mask_char: Option<char>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_days: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    detect: Option<Vec<DetectorId>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    replace: Option<Replace>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hierarchy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    level: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hierarchy_delimiter: Option<char>,
}

impl From<FieldSpec> for RawFieldSpec {
    fn from(spec: FieldSpec) -> Self {
        let mut raw = RawFieldSpec {
            normalize: spec.normalize,
            transform: spec.transform.kind(),
            context: spec.context,
            key: spec.key,
            // Only a non-default rule is written, as a policy author would.
            empty: (spec.empty != EmptyRule::default()).then_some(spec.empty),
            bytes: None,
            encoding: None,
            mode: None,
            to: None,
            keep: None,
            width: None,
            as_of: None,
            top: None,
            bottom: None,
            keep_first: None,
            keep_last: None,
            mask_char: None,
            max_days: None,
            subject: None,
            detect: None,
            replace: None,
            hierarchy: None,
            level: None,
            hierarchy_delimiter: None,
        };
        match spec.transform {
            TransformSpec::Pseudonymize { bytes, encoding } => {
                raw.bytes = Some(bytes);
                raw.encoding = Some(encoding);
            }
            TransformSpec::Encrypt { mode } => raw.mode = Some(mode),
            TransformSpec::Generalize(g) => match g {
                Generalization::Year => raw.to = Some(GeneralizeTo::Year),
                Generalization::YearMonth => raw.to = Some(GeneralizeTo::YearMonth),
                Generalization::AgeBand { width, as_of } => {
                    raw.to = Some(GeneralizeTo::AgeBand);
                    raw.width = Some(u64::from(width));
                    raw.as_of = Some(format!(
                        "{:04}-{:02}-{:02}",
                        as_of.year(),
                        as_of.month(),
                        as_of.day()
                    ));
                }
                Generalization::Bucket { width } => {
                    raw.to = Some(GeneralizeTo::Bucket);
                    raw.width = Some(width);
                }
                Generalization::Prefix { keep } => {
                    raw.to = Some(GeneralizeTo::Prefix);
                    raw.keep = Some(keep);
                }
                Generalization::TopBottom { top, bottom } => {
                    raw.to = Some(GeneralizeTo::TopBottom);
                    raw.top = top;
                    raw.bottom = bottom;
                }
            },
            TransformSpec::Mask(m) => {
                raw.keep_first = Some(m.keep_first);
                raw.keep_last = Some(m.keep_last);
                raw.mask_char = Some(m.mask_char);
            }
            TransformSpec::Dateshift { max_days, subject } => {
                raw.max_days = Some(max_days);
                raw.subject = Some(subject);
            }
            TransformSpec::Redact {
                detect,
                replace,
                bytes,
                encoding,
            } => {
                raw.detect = (!detect.is_empty()).then_some(detect);
                raw.replace = Some(replace);
                raw.bytes = Some(bytes);
                raw.encoding = Some(encoding);
            }
            TransformSpec::GeneralizeHierarchy(h) => {
                // Empty values always go through the hierarchy: not written.
                raw.empty = None;
                raw.hierarchy = Some(h.hierarchy);
                raw.level = Some(h.level);
                raw.hierarchy_delimiter = (h.delimiter != b';').then_some(h.delimiter as char);
            }
            TransformSpec::Fpe | TransformSpec::Drop | TransformSpec::Keep => {}
        }
        raw
    }
}

impl TryFrom<RawFieldSpec> for FieldSpec {
    type Error = String;

    fn try_from(raw: RawFieldSpec) -> Result<Self, String> {
        use TransformKind as K;
        let kind = raw.transform;
        // Which options each transform takes; anything else is a mistake
        // worth reporting (a typo'd option silently ignored is a leak risk).
        let keyed: &[TransformKind] =
            &[K::Pseudonymize, K::Encrypt, K::Fpe, K::Dateshift, K::Redact];
        let given: [(&str, bool, &[TransformKind]); 21] = [
            ("hierarchy", raw.hierarchy.is_some(), &[K::Generalize]),
            ("level", raw.level.is_some(), &[K::Generalize]),
            (
                "hierarchy_delimiter",
                raw.hierarchy_delimiter.is_some(),
                &[K::Generalize],
            ),
            ("bytes", raw.bytes.is_some(), &[K::Pseudonymize, K::Redact]),
            (
                "encoding",
                raw.encoding.is_some(),
                &[K::Pseudonymize, K::Redact],
            ),
            ("detect", raw.detect.is_some(), &[K::Redact]),
            ("replace", raw.replace.is_some(), &[K::Redact]),
            ("mode", raw.mode.is_some(), &[K::Encrypt]),
            ("to", raw.to.is_some(), &[K::Generalize]),
            ("keep", raw.keep.is_some(), &[K::Generalize]),
            ("width", raw.width.is_some(), &[K::Generalize]),
            ("as_of", raw.as_of.is_some(), &[K::Generalize]),
            ("top", raw.top.is_some(), &[K::Generalize]),
            ("bottom", raw.bottom.is_some(), &[K::Generalize]),
            ("keep_first", raw.keep_first.is_some(), &[K::Mask]),
            ("keep_last", raw.keep_last.is_some(), &[K::Mask]),
            ("mask_char", raw.mask_char.is_some(), &[K::Mask]),
            ("max_days", raw.max_days.is_some(), &[K::Dateshift]),
            ("subject", raw.subject.is_some(), &[K::Dateshift]),
            ("context", raw.context.is_some(), keyed),
            ("key", raw.key.is_some(), keyed),
        ];
        for (name, present, allowed) in given {
            if present && !allowed.contains(&kind) {
                return Err(format!("option `{name}` does not apply to `{kind}`"));
            }
        }
        if matches!(kind, K::Drop | K::Keep | K::Redact) && !raw.normalize.is_empty() {
            return Err(format!("`normalize` does not apply to `{kind}`"));
        }
        let need = |opt: bool, name: &str, what: &str| {
            if opt {
                Ok(())
            } else {
                Err(format!("`{what}` needs option `{name}`"))
            }
        };
        let transform = match kind {
            K::Pseudonymize => {
                let bytes = raw.bytes.unwrap_or(super::pseudonym::DEFAULT_BYTES);
                if !(super::pseudonym::MIN_BYTES..=super::pseudonym::MAX_BYTES).contains(&bytes) {
                    return Err("`bytes` must be between 8 and 32".to_string());
                }
                TransformSpec::Pseudonymize {
                    bytes,
                    encoding: raw.encoding.unwrap_or_default(),
                }
            }
            K::Encrypt => TransformSpec::Encrypt {
                mode: raw.mode.unwrap_or(EncryptMode::Deterministic),
            },
            K::Fpe => TransformSpec::Fpe,
            K::Generalize if raw.hierarchy.is_some() || raw.level.is_some() => {
                return hierarchy_rule(raw);
            }
            K::Generalize => {
                let to = raw.to.ok_or_else(|| "`generalize` needs option `to` (year, year-month, age-band, bucket, prefix or top-bottom)".to_string())?;
                let only = |ok: &[&str]| -> Result<(), String> {
                    let opts = [
                        ("keep", raw.keep.is_some()),
                        ("width", raw.width.is_some()),
                        ("as_of", raw.as_of.is_some()),
                        ("top", raw.top.is_some()),
                        ("bottom", raw.bottom.is_some()),
                    ];
                    match opts.iter().find(|(n, p)| *p && !ok.contains(n)) {
                        Some((n, _)) => Err(format!(
                            "option `{n}` does not apply to `generalize` to this target"
                        )),
                        None => Ok(()),
                    }
                };
                let g = match to {
                    GeneralizeTo::Year => {
                        only(&[])?;
                        Generalization::Year
                    }
                    GeneralizeTo::YearMonth => {
                        only(&[])?;
                        Generalization::YearMonth
                    }
                    GeneralizeTo::AgeBand => {
                        only(&["width", "as_of"])?;
                        let as_of = raw.as_of.as_deref().ok_or_else(|| "`age-band` needs option `as_of` (the date ages are computed at, YYYY-MM-DD)".to_string())?;
                        let (as_of, _) = Date::parse(as_of.as_bytes())
                            .map_err(|_| "`as_of` must be a date YYYY-MM-DD".to_string())?;
                        let width = raw.width.unwrap_or(10);
                        if !(1..=100).contains(&width) {
                            return Err("`width` of an age band must be 1 to 100 years".to_string());
                        }
                        Generalization::AgeBand {
                            width: width as u32,
                            as_of,
                        }
                    }
                    GeneralizeTo::Bucket => {
                        only(&["width"])?;
                        need(raw.width.is_some(), "width", "bucket")?;
                        let width = raw.width.unwrap_or(1);
                        if width == 0 {
                            return Err("`width` must be at least 1".to_string());
                        }
                        Generalization::Bucket { width }
                    }
                    GeneralizeTo::Prefix => {
                        only(&["keep"])?;
                        need(raw.keep.is_some(), "keep", "prefix")?;
                        Generalization::Prefix {
                            keep: raw.keep.unwrap_or(0),
                        }
                    }
                    GeneralizeTo::TopBottom => {
                        only(&["top", "bottom"])?;
                        if raw.top.is_none() && raw.bottom.is_none() {
                            return Err("`top-bottom` needs `top`, `bottom` or both".to_string());
                        }
                        Generalization::TopBottom {
                            top: raw.top,
                            bottom: raw.bottom,
                        }
                    }
                };
                TransformSpec::Generalize(g)
            }
            K::Mask => {
                let d = Mask::default();
                TransformSpec::Mask(Mask {
                    keep_first: raw.keep_first.unwrap_or(d.keep_first),
                    keep_last: raw.keep_last.unwrap_or(d.keep_last),
                    mask_char: raw.mask_char.unwrap_or(d.mask_char),
                })
            }
            K::Dateshift => {
                let subject = raw.subject.ok_or_else(|| {
                    "`dateshift` needs option `subject` (the column that identifies the person)"
                        .to_string()
                })?;
                let max_days = raw.max_days.unwrap_or(30);
                if !(1..=super::dateshift::MAX_DAYS).contains(&max_days) {
                    return Err("`max_days` must be 1 to 10000".to_string());
                }
                TransformSpec::Dateshift { max_days, subject }
            }
            K::Drop => TransformSpec::Drop,
            K::Keep => TransformSpec::Keep,
            K::Redact => {
                let bytes = raw.bytes.unwrap_or(super::pseudonym::DEFAULT_BYTES);
                if !(super::pseudonym::MIN_BYTES..=super::pseudonym::MAX_BYTES).contains(&bytes) {
                    return Err("`bytes` must be between 8 and 32".to_string());
                }
                if raw.detect.as_ref().is_some_and(Vec::is_empty) {
                    return Err("`detect` lists no detector (leave it out for all)".to_string());
                }
                TransformSpec::Redact {
                    detect: raw.detect.unwrap_or_default(),
                    replace: raw.replace.unwrap_or_default(),
                    bytes,
                    encoding: raw.encoding.unwrap_or_default(),
                }
            }
        };
        if let Some(ctx) = &raw.context {
            if ctx.is_empty() || ctx.len() > super::encrypt::MAX_CONTEXT_LEN {
                return Err("`context` must be 1 to 255 bytes".to_string());
            }
        }
        Ok(FieldSpec {
            normalize: raw.normalize,
            context: raw.context,
            key: raw.key,
            empty: raw.empty.unwrap_or_default(),
            transform,
        })
    }
}

/// A `generalize` rule with `hierarchy` and `level`: nothing else applies,
/// and empty values go through the hierarchy as the search counts them.
fn hierarchy_rule(raw: RawFieldSpec) -> Result<FieldSpec, String> {
    let hierarchy = raw.hierarchy.ok_or_else(|| {
        "`level` needs option `hierarchy` (a hierarchy file, date, interval:W1,W2,..., prefix or mask)"
            .to_string()
    })?;
    let level = raw.level.ok_or_else(|| {
        "`generalize` with `hierarchy` needs option `level` (0 is the value as written)".to_string()
    })?;
    let others = [
        ("to", raw.to.is_some()),
        ("keep", raw.keep.is_some()),
        ("width", raw.width.is_some()),
        ("as_of", raw.as_of.is_some()),
        ("top", raw.top.is_some()),
        ("bottom", raw.bottom.is_some()),
        ("context", raw.context.is_some()),
    ];
    if let Some((n, _)) = others.iter().find(|(_, p)| *p) {
        return Err(format!(
            "option `{n}` does not apply to `generalize` with `hierarchy`"
        ));
    }
    if !raw.normalize.is_empty() {
        return Err(
            "`normalize` does not apply to `generalize` with `hierarchy`: the hierarchy maps the values as written"
                .to_string(),
        );
    }
    if raw.empty.is_some_and(|e| e != EmptyRule::Transform) {
        return Err(
            "`empty` does not apply to `generalize` with `hierarchy`: empty values go through the hierarchy"
                .to_string(),
        );
    }
    if hierarchy.is_empty() {
        return Err("`hierarchy` is empty".to_string());
    }
    let delimiter = match raw.hierarchy_delimiter {
        None => b';',
        Some(c) if c.is_ascii() => c as u8,
        Some(_) => return Err("`hierarchy_delimiter` must be one ASCII character".to_string()),
    };
    Ok(FieldSpec {
        normalize: Vec::new(),
        context: None,
        key: None,
        empty: EmptyRule::Transform,
        transform: TransformSpec::GeneralizeHierarchy(HierarchyRule::new(
            hierarchy, level, delimiter,
        )),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<FieldSpec, String> {
        serde_json::from_str::<FieldSpec>(json).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults() {
        let s = parse(r#"{"transform": "encrypt"}"#).unwrap();
        assert_eq!(
            s.transform,
            TransformSpec::Encrypt {
                mode: EncryptMode::Deterministic
            }
        );
        assert_eq!(s.empty, EmptyRule::Keep);
        let s = parse(r#"{"transform": "mask"}"#).unwrap();
        assert_eq!(s.transform, TransformSpec::Mask(Mask::default()));
        let s = parse(r#"{"transform": "generalize", "to": "prefix", "keep": 3}"#).unwrap();
        assert_eq!(
            s.transform,
            TransformSpec::Generalize(Generalization::Prefix { keep: 3 })
        );
    }

    #[test]
    fn serializing_reads_back_equal() {
        for json in [
            r#"{"transform": "pseudonymize", "normalize": ["trim", "phone:KR"], "context": "c", "empty": "error"}"#,
            r#"{"transform": "pseudonymize", "bytes": 32, "encoding": "base32"}"#,
            r#"{"transform": "encrypt", "mode": "randomized", "empty": "transform"}"#,
            r#"{"transform": "fpe", "normalize": ["digits"]}"#,
            r#"{"transform": "generalize", "to": "year"}"#,
            r#"{"transform": "generalize", "to": "year-month"}"#,
            r#"{"transform": "generalize", "to": "age-band", "as_of": "2025-01-02", "width": 5}"#,
            r#"{"transform": "generalize", "to": "bucket", "width": 1000}"#,
            r#"{"transform": "generalize", "to": "prefix", "keep": 3}"#,
            r#"{"transform": "generalize", "to": "top-bottom", "top": 90}"#,
            r#"{"transform": "generalize", "to": "top-bottom", "top": 90, "bottom": -3}"#,
            r#"{"transform": "mask", "keep_first": 1, "mask_char": "○"}"#,
            r#"{"transform": "dateshift", "subject": "id", "max_days": 7}"#,
            r#"{"transform": "drop"}"#,
            r#"{"transform": "keep"}"#,
            r#"{"transform": "redact"}"#,
            r#"{"transform": "redact", "detect": ["phone:KR", "e164:US", "email"], "replace": "token", "context": "c"}"#,
            r#"{"transform": "redact", "replace": "tag"}"#,
            r#"{"transform": "generalize", "hierarchy": "age.csv", "level": 2}"#,
            r#"{"transform": "generalize", "hierarchy": "interval:5,10", "level": 0, "hierarchy_delimiter": ","}"#,
        ] {
            let spec = parse(json).unwrap();
            let text = serde_json::to_string(&spec).unwrap();
            assert_eq!(parse(&text), Ok(spec), "{json} -> {text}");
        }
        // Defaults are written out; an empty normalizer list and the
        // default empty rule are not.
        let text = serde_json::to_string(&parse(r#"{"transform": "encrypt"}"#).unwrap()).unwrap();
        assert_eq!(text, r#"{"transform":"encrypt","mode":"deterministic"}"#);
    }

    #[test]
    fn errors_name_the_option() {
        for (json, msg) in [
            (
                r#"{"transform": "drop", "bytes": 4}"#,
                "`bytes` does not apply to `drop`",
            ),
            (
                r#"{"transform": "pseudonymize", "bytes": 4}"#,
                "between 8 and 32",
            ),
            (r#"{"transform": "generalize"}"#, "needs option `to`"),
            (
                r#"{"transform": "generalize", "to": "year", "keep": 2}"#,
                "`keep` does not apply",
            ),
            (
                r#"{"transform": "generalize", "to": "age-band"}"#,
                "`as_of`",
            ),
            (
                r#"{"transform": "generalize", "to": "bucket"}"#,
                "needs option `width`",
            ),
            (r#"{"transform": "dateshift"}"#, "needs option `subject`"),
            (
                r#"{"transform": "keep", "normalize": ["trim"]}"#,
                "`normalize` does not apply",
            ),
            (
                r#"{"transform": "pseudonymize", "bytse": 16}"#,
                "unknown field `bytse`",
            ),
            (r#"{"transform": "hash"}"#, "unknown variant `hash`"),
            (
                r#"{"transform": "redact", "detect": ["fax"]}"#,
                "detector (phone:KR",
            ),
            (
                r#"{"transform": "redact", "normalize": ["trim"]}"#,
                "`normalize` does not apply to `redact`",
            ),
            (
                r#"{"transform": "pseudonymize", "replace": "tag"}"#,
                "`replace` does not apply",
            ),
            (
                r#"{"transform": "pseudonymize", "normalize": ["phone:XX"]}"#,
                "phone:",
            ),
            (
                r#"{"transform": "generalize", "hierarchy": "age.csv"}"#,
                "needs option `level`",
            ),
            (
                r#"{"transform": "generalize", "level": 1}"#,
                "`level` needs option `hierarchy`",
            ),
            (
                r#"{"transform": "generalize", "hierarchy": "h.csv", "level": 1, "to": "year"}"#,
                "`to` does not apply to `generalize` with `hierarchy`",
            ),
            (
                r#"{"transform": "generalize", "hierarchy": "h.csv", "level": 1, "normalize": ["trim"]}"#,
                "`normalize` does not apply",
            ),
            (
                r#"{"transform": "mask", "level": 1}"#,
                "`level` does not apply to `mask`",
            ),
        ] {
            let err = parse(json).unwrap_err();
            assert!(err.contains(msg), "{json}: {err}");
        }
    }
}
