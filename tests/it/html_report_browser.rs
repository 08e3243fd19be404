//! The HTML report opened in a real headless browser (Chromium): it
//! renders, its charts are there, and the page asks for nothing over the
//! network. Without Chromium the test says so loudly and skips, except
//! under `CI=true`, where it fails (`.ci/run` installs it).
#![cfg(feature = "cli")]

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{Workdir, run};

/// Chromium's own service endpoints, which the browser contacts whatever
/// the page (updates, time, accounts); anything else is the page's.
const BROWSER_OWN: &[&str] = &[
    "://update.googleapis.com",
    "://clients2.google.com",
    "://accounts.google.com",
    "://google.com",
    "://www.google.com",
    "://redirector.gvt1.com",
    "://safebrowsingohttpgateway.googleapis.com",
    "://optimizationguide-pa.googleapis.com",
    "://content-autofill.googleapis.com",
];

fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("DEID_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser", "google-chrome", "chrome"] {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// Loads `page` headless; returns the DOM after load and every http(s)
/// URL the page requested.
fn load(browser: &Path, page: &Path, work: &Workdir, tag: &str) -> (String, Vec<String>) {
    let netlog = work.join(&format!("{tag}-net.json"));
    let profile = work.join(&format!("{tag}-profile"));
    let out = Command::new(browser)
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-default-apps",
            "--virtual-time-budget=3000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--log-net-log={}", netlog.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let log = std::fs::read_to_string(&netlog).unwrap_or_default();
    let mut urls = Vec::new();
    let mut rest = log.as_str();
    while let Some(i) = rest.find("\"url\":\"") {
        rest = &rest[i + 7..];
        let end = rest.find('"').unwrap_or(rest.len());
        let url = &rest[..end];
        if (url.starts_with("http://") || url.starts_with("https://"))
            && !BROWSER_OWN.iter().any(|h| {
                url.split_once(h).is_some_and(|(scheme, tail)| {
                    scheme.starts_with("http")
                        && !scheme.contains('/')
                        && (tail.is_empty()
                            || tail.starts_with('/')
                            || tail.starts_with('?')
                            || tail.starts_with(':'))
                })
            })
        {
            urls.push(url.to_string());
        }
    }
    (String::from_utf8_lossy(&out.stdout).into_owned(), urls)
}

#[test]
fn the_html_report_renders_offline_with_its_charts() {
    let Some(browser) = chromium() else {
        let msg = "Chromium not found (set DEID_CHROMIUM or install chromium): the HTML report was NOT opened in a browser";
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{msg}");
        }
        eprintln!("\n!!!! SKIPPED: {msg}\n");
        return;
    };
    let dir = Workdir::new();
    let data = dir.gen_csv("customers.csv", 400, &["--naive-hash"]);
    let claims = dir.write(
        "claims.toml",
        "irreversible = [\"email_sha256\"]\nk_anonymity = { qi = [\"birth_date\", \"sex\", \"postal_code\"], k = 5 }\nhash_spaces = []\ndictionaries = { email_sha256 = \"customers.csv:email\" }\n",
    );
    let page = dir.join("report.html");
    let o = run(&[
        "audit",
        "report",
        &data,
        "--claims",
        &claims,
        "--format",
        "html",
        "-o",
        &page.display().to_string(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );

    let (dom, requests) = load(&browser, &page, &dir, "report");
    assert!(dom.contains("<h1>Re-identification audit</h1>"), "{dom}");
    // Charts: reversal shares, records by class size, by risk.
    assert!(dom.matches("<svg").count() >= 3, "{dom}");
    assert!(dom.contains("Records by equivalence-class size"));
    assert!(dom.contains("<rect"));
    assert!(
        dom.contains("Whose perspective") && dom.contains("Criteria") && dom.contains("Remedies")
    );
    assert!(
        requests.is_empty(),
        "the report made requests: {requests:?}"
    );

    // The check can fail: the same page with one remote image is caught.
    let html = std::fs::read_to_string(&page).unwrap();
    let bad = dir.join("bad.html");
    std::fs::write(
        &bad,
        html.replace(
            "<body>",
            "<body><img src=\"http://deid-test.invalid/x.png\">",
        ),
    )
    .unwrap();
    let (_, requests) = load(&browser, &bad, &dir, "bad");
    assert!(
        requests.iter().any(|u| u.contains("deid-test.invalid")),
        "{requests:?}"
    );
}
