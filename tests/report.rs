//! The reconciliation report of the demo: its sections in report.json, and the HTML page
//! opened in a real headless browser (Chromium): no script error, every in-page link
//! lands on an element, the work-list filter works, and the page loads in under a second.

use crate::util::*;
use std::path::{Path, PathBuf};

fn demo_report(d: &Dir) -> PathBuf {
    let mut c = d.cmd();
    c.arg("run")
        .arg(root().join("samples/demo/incident.toml"))
        .args(["--out", "out", "--quiet"]);
    ok(c);
    d.join("out")
}

#[test]
fn the_report_reconciles_money_and_says_what_changed() {
    let d = Dir::new();
    let out = demo_report(&d);
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    // Money: every business with payments, each with its totals per currency.
    let money = &r["money"];
    let businesses = money["businesses"].as_array().unwrap();
    assert_eq!(
        businesses.len(),
        11,
        "the demo's 11 businesses with payments"
    );
    let reconciled = money["businesses_reconciled"].as_u64().unwrap();
    assert!(reconciled >= 10, "{reconciled} of 11 reconcile");
    // The businesses that do not reconcile come first.
    let flags: Vec<bool> = businesses
        .iter()
        .map(|b| b["reconciled"].as_bool().unwrap())
        .collect();
    assert!(flags.windows(2).all(|w| w[0] <= w[1]), "{flags:?}");
    // Stripe's net equals the rebuilt net plus the difference, in every cell.
    let mut stripe_total = 0;
    for b in businesses {
        for c in b["cells"].as_array().unwrap() {
            let (s, rb, diff) = (
                c["stripe"]["net"].as_i64().unwrap(),
                c["rebuilt"]["net"].as_i64().unwrap(),
                c["difference"].as_i64().unwrap(),
            );
            assert_eq!(rb - s, diff);
            stripe_total += s;
        }
    }
    assert!(stripe_total > 0);
    // What changed: new rows by source, cancellations, and the gap estimate.
    let changes = r["since_backup"]["changes"].as_array().unwrap();
    let rows = |table: &str, kind: &str| {
        changes
            .iter()
            .find(|c| c["table"] == table && c["kind"] == kind)
            .map(|c| c["rows"].as_u64().unwrap())
            .unwrap_or(0)
    };
    assert!(rows("reservations", "new") > 400);
    assert!(rows("reservations", "cancelled") >= 1);
    assert!(rows("payments", "disputed") >= 1);
    let gaps = &r["since_backup"]["gaps"];
    assert!(gaps["found_after"].as_u64().unwrap() > 400);
    assert!(gaps["estimated_missing"].as_u64().unwrap() > 0);
    // The work list holds every review item, grouped: each group's items together.
    let items = r["worklist"]["items"].as_array().unwrap();
    assert_eq!(items.len() as u64, r["review"]["total"].as_u64().unwrap());
    let reasons: Vec<&str> = items
        .iter()
        .map(|i| i["reason"].as_str().unwrap())
        .collect();
    let mut seen = Vec::new();
    for w in reasons.iter() {
        if seen.last() != Some(w) {
            assert!(!seen.contains(w), "reason {w} is split in the work list");
            seen.push(w);
        }
    }
    assert!(items
        .iter()
        .all(|i| !i["decision"].as_str().unwrap().is_empty()));
    assert!(r["timeline"].as_array().unwrap().len() > 100);
    // Money reads as money in the page.
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("Money against Stripe") && html.contains('€'));
    assert!(!html.contains(" eur<"), "money in minor units with a code");
}

/// A Chromium-family browser, if one is installed (`.ci/run` installs chromium).
fn browser() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome", "chrome"]
        .iter()
        .find_map(|b| {
            std::env::var_os("PATH").and_then(|p| {
                std::env::split_paths(&p)
                    .map(|d| d.join(b))
                    .find(|f| f.is_file())
            })
        })
}

/// The page with a probe around it: errors are caught from the first script on; after
/// load, the probe checks links and the filter and writes its findings into the page.
fn probed(html: &str) -> String {
    let head = "<script>window.__errors=[];window.addEventListener('error',function(e){__errors.push(String(e.message))});\
var __ce=console.error;console.error=function(){__errors.push(Array.from(arguments).join(' '));__ce.apply(console,arguments)};</script>";
    let tail = "<script>window.addEventListener('load',function(){\
var bad=[];document.querySelectorAll('a[href^=\"#\"]').forEach(function(a){var id=decodeURIComponent(a.getAttribute('href').slice(1));if(!document.getElementById(id))bad.push(id)});\
var rows=document.querySelectorAll('tr[data-reason]');var sel=document.getElementById('f-reason');var shown=-1;\
if(sel&&sel.options.length>1){sel.value=sel.options[1].value;sel.dispatchEvent(new Event('change'));\
shown=Array.from(rows).filter(function(t){return t.style.display!=='none'}).length;}\
var p=document.createElement('pre');p.id='probe';p.textContent=JSON.stringify({errors:__errors,bad_links:bad,links:document.querySelectorAll('a[href^=\"#\"]').length,\
rows:rows.length,shown_after_filter:shown,svgs:document.querySelectorAll('svg').length,load_ms:performance.now()});document.body.appendChild(p);});</script>";
    let html = html.replacen("<head>", &format!("<head>{head}"), 1);
    html.replacen("</body>", &format!("{tail}</body>"), 1)
}

fn open_in_browser(browser: &Path, page: &Path) -> serde_json::Value {
    let out = std::process::Command::new(browser)
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--virtual-time-budget=5000",
            "--dump-dom",
        ])
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run the browser");
    let dom = String::from_utf8_lossy(&out.stdout);
    let start = dom.find("<pre id=\"probe\">").unwrap_or_else(|| {
        panic!(
            "no probe in the page the browser rendered:\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    }) + "<pre id=\"probe\">".len();
    let end = start + dom[start..].find("</pre>").unwrap();
    let json = dom[start..end]
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    serde_json::from_str(&json).unwrap()
}

#[test]
fn the_html_report_works_in_a_real_browser() {
    let Some(browser) = browser() else {
        eprintln!("skipped: no Chromium installed (.ci/run installs it)");
        return;
    };
    let d = Dir::new();
    let out = demo_report(&d);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let page = d.join("probed.html");
    std::fs::write(&page, probed(&html)).unwrap();
    let p = open_in_browser(&browser, &page);
    eprintln!("browser probe: {p}");
    assert_eq!(
        p["errors"],
        serde_json::json!([]),
        "script errors in the page"
    );
    assert_eq!(p["bad_links"], serde_json::json!([]), "links to nothing");
    assert!(p["links"].as_u64().unwrap() >= 5);
    let rows = p["rows"].as_u64().unwrap();
    let shown = p["shown_after_filter"].as_u64().unwrap();
    assert!(
        rows > 0 && shown > 0 && shown < rows,
        "the reason filter hides other reasons ({shown} of {rows})"
    );
    assert!(p["svgs"].as_u64().unwrap() >= 6, "pictures drawn");
    let ms = p["load_ms"].as_f64().unwrap();
    assert!(ms < 1000.0, "the page took {ms} ms to load");
}
