//! The standalone HTML page in headless Chromium, Korean pages, and user
//! strings escaped in every format.

use std::path::Path;
use std::process::Command;

use crate::pages::tempdir;
use crate::support::Test;

const HOSTILE: &str = "<script>alert(1)</script> & 100% #1 $x$ {a_b} ~^";

fn hostile_network() -> String {
    let text = std::fs::read_to_string("examples/mazur.nn").unwrap();
    text.replace(
        "network \"Mazur 2-2-2\"",
        &format!("network \"{}\"", HOSTILE),
    )
}

/// Runs headless Chromium on `page`; `what` is `--dump-dom` or `--print-to-pdf=…`.
pub fn chromium(dir: &Path, page: &Path, what: &str) -> String {
    let profile = dir.join(format!("profile-{}", what.len()));
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-pdf-header-footer",
            &format!("--user-data-dir={}", profile.display()),
            what,
        ])
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs (scripts/test installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn pdftotext(pdf: &Path) -> String {
    let out = Command::new("pdftotext")
        .args(["-layout", pdf.to_str().unwrap(), "-"])
        .output()
        .expect("pdftotext runs (poppler-utils)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn solve_html(args: &[&str], stdin: Option<&str>) -> String {
    let mut all = vec!["solve"];
    all.push(if stdin.is_some() {
        "-"
    } else {
        "examples/mazur.nn"
    });
    all.extend_from_slice(&["-f", "html"]);
    all.extend_from_slice(args);
    let t = Test::new().args(all);
    let t = match stdin {
        Some(s) => t.stdin(s),
        None => t,
    };
    t.status(0).stdout
}

#[test]
fn html_is_self_contained_and_lays_out_math_and_drawing() {
    let html = solve_html(&[], None);
    assert!(!html.contains("<script"), "no JavaScript");
    for needle in ["<link", " src=", "@import", "url(http", "href=\"http"] {
        assert!(!html.contains(needle), "loads nothing: found {needle}");
    }
    assert!(html.contains("<svg") && html.contains("class=\"network\""));
    assert!(html.matches("<math").count() > 100);
    assert!(html.contains("<annotation encoding=\"application/x-tex\">"));
    assert!(html.contains("\"Latin Modern Math\", \"DejaVu Math TeX Gyre\", math"));
    assert!(html.contains("math-style: normal"));

    let dir = tempdir("html");
    let page = dir.join("mazur.html");
    std::fs::write(&page, &html).unwrap();
    // The DOM after loading: MathML elements, the SVG with its nodes.
    if !crate::support::external("chromium") {
        return;
    }
    let dom = chromium(&dir, &page, "--dump-dom");
    assert!(dom.contains("<mfrac>") && dom.contains("<mtable"));
    assert_eq!(
        dom.matches("<circle").count(),
        8,
        "4 neurons, 2 inputs, 2 bias nodes"
    );
    // Printed, the page shows laid-out maths, never the TeX source, and the
    // drawing's labels.
    let pdf = dir.join("mazur.pdf");
    chromium(&dir, &page, &format!("--print-to-pdf={}", pdf.display()));
    let text = pdftotext(&pdf);
    assert!(!text.contains("\\frac") && !text.contains("\\begin{aligned}") && !text.contains("$$"));
    assert!(text.contains("0.593269992"), "forward pass values");
    assert!(text.contains("0.5933"), "node values in the drawing");
    assert!(text.contains("0.15"), "edge labels");
}

#[test]
fn korean_pages_in_every_format() {
    let md = Test::new()
        .args(["solve", "examples/mazur.nn", "--lang", "ko"])
        .status(0)
        .stdout;
    for word in [
        "순전파",
        "역전파",
        "오차",
        "가중치",
        "편향",
        "학습률",
        "연쇄 법칙",
        "편미분",
    ] {
        assert!(md.contains(word), "{word}");
    }
    assert!(!md.contains("Forward pass") && !md.contains("By the chain rule"));
    let tex = Test::new()
        .args(["solve", "examples/mazur.nn", "--lang", "ko", "-f", "tex"])
        .status(0)
        .stdout;
    assert!(tex.contains("\\usepackage{kotex}"));
    let dir = tempdir("ko");
    std::fs::write(dir.join("ko.tex"), &tex).unwrap();
    let out = if !crate::support::external("pdflatex") {
        None
    } else {
        Some(
            Command::new("pdflatex")
                .args(["-halt-on-error", "-interaction=nonstopmode", "ko.tex"])
                .current_dir(&dir)
                .output()
                .expect("pdflatex runs (scripts/test installs texlive-lang-korean)"),
        )
    };
    if let Some(out) = out {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    let html = solve_html(&["--lang", "ko"], None);
    assert!(html.contains("<html lang=\"ko\">") && html.contains("순전파"));
    let r = Test::new()
        .args(["solve", "examples/mazur.nn", "--lang", "fr"])
        .status(2);
    assert!(
        r.stderr
            .contains("no language `fr`; the languages are en, ko"),
        "{}",
        r.stderr
    );
}

#[test]
fn hostile_title_shows_literally_in_markdown() {
    let src = hostile_network();
    let md = Test::new()
        .args(["solve", "-"])
        .stdin(&src)
        .status(0)
        .stdout;
    let heading = md.lines().find(|l| l.starts_with("# ")).unwrap();
    // Rendered as CommonMark, the heading's text is the title itself.
    let html = chainrule::render::html::body(heading).unwrap();
    let text = html
        .trim()
        .trim_start_matches("<h1>")
        .trim_end_matches("</h1>")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&");
    assert_eq!(text, HOSTILE);
    assert!(!html.contains("<math"), "`$x$` is not math");
    // Front matter: a YAML string.
    let md = Test::new()
        .args(["solve", "-", "--front-matter"])
        .stdin(&src)
        .status(0)
        .stdout;
    assert!(
        md.starts_with(&format!("---\ntitle: \"{HOSTILE}\"\n")),
        "{}",
        &md[..80]
    );
}

#[test]
fn hostile_title_shows_literally_in_latex_and_html() {
    let src = hostile_network();
    let dir = tempdir("hostile");
    let tex = Test::new()
        .args(["solve", "-", "-f", "tex"])
        .stdin(&src)
        .status(0)
        .stdout;
    std::fs::write(dir.join("t.tex"), &tex).unwrap();
    let html = solve_html(&[], Some(&src));
    assert_eq!(html.matches("<script").count(), 0);
    assert!(html.contains(
        "<title>&lt;script&gt;alert(1)&lt;/script&gt; &amp; 100% #1 $x$ {a_b} ~^</title>"
    ));
    if !crate::support::external("pdflatex, pdftotext and chromium") {
        return;
    }
    let out = Command::new("pdflatex")
        .args(["-halt-on-error", "-interaction=nonstopmode", "t.tex"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let text = pdftotext(&dir.join("t.pdf"));
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap().trim();
    assert_eq!(first, HOSTILE);

    let page = dir.join("t.html");
    std::fs::write(&page, &html).unwrap();
    let dom = chromium(&dir, &page, "--dump-dom");
    assert!(!dom.contains("<script>"));
    assert!(dom.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; 100% #1 $x$ {a_b} ~^"));
}

#[test]
fn markdown_diagram_file() {
    let dir = tempdir("diagram");
    let svg = dir.join("net.svg");
    let md = Test::new()
        .args([
            "solve",
            "examples/mazur.nn",
            "--diagram",
            svg.to_str().unwrap(),
        ])
        .status(0)
        .stdout;
    let drawing = std::fs::read_to_string(&svg).unwrap();
    assert!(drawing.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(drawing.contains(">0.5933</text>"));
    assert!(md.contains(&format!("](<{}>)", svg.display())));
}
