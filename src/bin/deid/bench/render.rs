//! `deid bench` reports as text: the machine header, the table of cases,
//! and two reports side by side.

use super::Report;
use super::probe::Machine;

fn human(x: f64) -> String {
    if x >= 1e9 {
        format!("{:.2}G", x / 1e9)
    } else if x >= 1e6 {
        format!("{:.2}M", x / 1e6)
    } else if x >= 1e3 {
        format!("{:.1}k", x / 1e3)
    } else {
        format!("{x:.0}")
    }
}

/// The machine header of a report, one fact a line.
fn machine(m: &Machine) -> String {
    let mut s = format!(
        "deid {} on {} ({}), {} cores\nCPU features: {}\n",
        m.version,
        m.cpu,
        m.arch,
        m.cores,
        if m.features.is_empty() {
            "none detected".to_string()
        } else {
            m.features.join(", ")
        }
    );
    for (p, path) in &m.paths {
        s.push_str(&format!("  {p:<30} {path}\n"));
    }
    if m.emulated {
        s.push_str(
            "NOTE: running under emulation (qemu-user): these timings are NOT performance figures.\n",
        );
    }
    s
}

/// The report as a text table (machine header, then one line per case).
pub fn table(r: &Report) -> String {
    let mut s = machine(&r.machine);
    s.push_str(&format!(
        "\n{:<28} {:<10} {:>5} {:>7} {:>10} {:>10} {:>10}\n",
        "case", "backend", "bytes", "threads", "ops/s", "ns/op", "MB/s"
    ));
    for c in &r.results {
        s.push_str(&format!(
            "{:<28} {:<10} {:>5} {:>7} {:>10} {:>10.1} {:>10.1}\n",
            c.name,
            c.backend,
            c.size,
            c.threads,
            human(c.ops_per_s),
            c.ns_per_op,
            c.mb_per_s
        ));
    }
    s
}

/// Two reports side by side: cases present in both (matched by name,
/// backend, size and whether they ran on one thread), with `b / a` ratios
/// of ops/s.
pub fn compare(a: &Report, b: &Report) -> String {
    let mut s = String::from("A: ");
    s.push_str(&machine(&a.machine));
    s.push_str("B: ");
    s.push_str(&machine(&b.machine));
    s.push_str(&format!(
        "\n{:<28} {:<10} {:>5} {:>7} {:>10} {:>10} {:>8}\n",
        "case", "backend", "bytes", "threads", "A ops/s", "B ops/s", "B/A"
    ));
    for x in &a.results {
        let single = x.threads == 1;
        if let Some(y) = b.results.iter().find(|y| {
            y.name == x.name
                && y.backend == x.backend
                && y.size == x.size
                && (y.threads == 1) == single
        }) {
            let ratio = if x.ops_per_s > 0.0 {
                y.ops_per_s / x.ops_per_s
            } else {
                0.0
            };
            let threads = if single {
                "1".to_string()
            } else {
                "all".to_string()
            };
            s.push_str(&format!(
                "{:<28} {:<10} {:>5} {:>7} {:>10} {:>10} {:>7.2}x\n",
                x.name,
                x.backend,
                x.size,
                threads,
                human(x.ops_per_s),
                human(y.ops_per_s),
                ratio
            ));
        }
    }
    s
}
