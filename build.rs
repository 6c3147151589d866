//! Compiles the built-in partials (`templates/partials/*.hbs`) with
//! handlebars and writes them to `$OUT_DIR/partials.bin` in the form that
//! `src/render/templates/compiled.rs` reads back at start-up, checking that
//! each reads back equal to what handlebars compiled.

use std::path::Path;

use handlebars::template::{HelperTemplate, Parameter, TemplateElement};
use handlebars::{PathSeg, Template};

#[path = "src/render/templates/compiled.rs"]
#[allow(dead_code, unreachable_pub)]
mod compiled;

use compiled::tag;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/render/templates/compiled.rs");
    println!("cargo:rerun-if-changed=templates/partials");
    let dir = Path::new("templates/partials");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("templates/partials")
        .map(|e| e.expect("a partial").path())
        .filter(|p| p.extension().is_some_and(|e| e == "hbs"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let name = file.file_stem().and_then(|s| s.to_str()).expect("name");
        let text = std::fs::read_to_string(&file).expect("a partial's text");
        let mut template = Template::compile_with_name(&text, name.to_string())
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let mut bytes = Vec::new();
        write_template(&mut bytes, &template);
        forget_lines(&mut template);
        let mut reader = compiled::Reader::new(&bytes);
        let read = reader.template();
        assert!(
            read.as_ref() == Some(&template) && reader.is_empty(),
            "{name} does not read back as compiled"
        );
        write_str(&mut out, name);
        write_count(&mut out, bytes.len());
        out.extend(bytes);
    }
    let dest = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("partials.bin");
    std::fs::write(dest, out).expect("write partials.bin");
}

/// `t` without its line numbers, which are not written.
fn forget_lines(t: &mut Template) {
    t.mapping.clear();
    for e in &mut t.elements {
        match e {
            TemplateElement::HtmlExpression(h)
            | TemplateElement::Expression(h)
            | TemplateElement::HelperBlock(h) => {
                for t in [&mut h.template, &mut h.inverse].into_iter().flatten() {
                    forget_lines(t);
                }
            }
            TemplateElement::DecoratorExpression(d)
            | TemplateElement::DecoratorBlock(d)
            | TemplateElement::PartialExpression(d)
            | TemplateElement::PartialBlock(d) => {
                if let Some(t) = &mut d.template {
                    forget_lines(t);
                }
            }
            _ => {}
        }
    }
}

fn write_count(out: &mut Vec<u8>, n: usize) {
    out.extend(u32::try_from(n).expect("small").to_le_bytes());
}

fn write_str(out: &mut Vec<u8>, s: &str) {
    write_count(out, s.len());
    out.extend(s.as_bytes());
}

fn write_flag(out: &mut Vec<u8>, b: bool) {
    out.push(u8::from(b));
}

fn write_optional<T>(out: &mut Vec<u8>, v: Option<&T>, write: impl FnOnce(&mut Vec<u8>, &T)) {
    write_flag(out, v.is_some());
    if let Some(v) = v {
        write(out, v);
    }
}

fn write_template(out: &mut Vec<u8>, t: &Template) {
    write_optional(out, t.name.as_ref(), |o, n| write_str(o, n));
    write_count(out, t.elements.len());
    for e in &t.elements {
        write_element(out, e);
    }
}

fn write_element(out: &mut Vec<u8>, e: &TemplateElement) {
    match e {
        TemplateElement::RawString(s) => {
            out.push(tag::RAW);
            write_str(out, s);
        }
        TemplateElement::Comment(s) => {
            out.push(tag::COMMENT);
            write_str(out, s);
        }
        TemplateElement::HtmlExpression(h) => write_helper(out, tag::HTML_EXPRESSION, h),
        TemplateElement::Expression(h) => write_helper(out, tag::EXPRESSION, h),
        TemplateElement::HelperBlock(h) => write_helper(out, tag::HELPER_BLOCK, h),
        TemplateElement::DecoratorExpression(d)
        | TemplateElement::DecoratorBlock(d)
        | TemplateElement::PartialExpression(d)
        | TemplateElement::PartialBlock(d) => {
            out.push(match e {
                TemplateElement::DecoratorExpression(_) => tag::DECORATOR_EXPRESSION,
                TemplateElement::DecoratorBlock(_) => tag::DECORATOR_BLOCK,
                TemplateElement::PartialExpression(_) => tag::PARTIAL_EXPRESSION,
                _ => tag::PARTIAL_BLOCK,
            });
            write_param(out, &d.name);
            write_params(out, &d.params, &d.hash);
            write_optional(out, d.template.as_ref(), write_template);
            write_optional(out, d.indent.as_ref(), |o, s| write_str(o, s));
            // Not readable outside handlebars but shown by `Debug`, whose
            // last field it is; the read-back check above confirms it.
            write_flag(
                out,
                format!("{d:?}").ends_with("indent_before_write: true }"),
            );
        }
        _ => panic!("an element unknown to this build script: {e:?}"),
    }
}

fn write_helper(out: &mut Vec<u8>, tag: u8, h: &HelperTemplate) {
    out.push(tag);
    write_param(out, &h.name);
    write_params(out, &h.params, &h.hash);
    write_optional(out, h.block_param.as_ref(), |o, p| match p {
        handlebars::template::BlockParam::Single(p) => {
            o.push(0);
            write_param(o, p);
        }
        handlebars::template::BlockParam::Pair((a, b)) => {
            o.push(1);
            write_param(o, a);
            write_param(o, b);
        }
        _ => panic!("a block param unknown to this build script"),
    });
    write_optional(out, h.template.as_ref(), write_template);
    write_optional(out, h.inverse.as_ref(), write_template);
    write_flag(out, h.block);
    write_flag(out, h.chain);
    write_flag(
        out,
        format!("{h:?}").ends_with("indent_before_write: true }"),
    );
}

fn write_params(
    out: &mut Vec<u8>,
    params: &[Parameter],
    hash: &std::collections::HashMap<String, Parameter>,
) {
    write_count(out, params.len());
    for p in params {
        write_param(out, p);
    }
    let mut keys: Vec<_> = hash.keys().collect();
    keys.sort();
    write_count(out, keys.len());
    for k in keys {
        write_str(out, k);
        write_param(out, &hash[k]);
    }
}

fn write_param(out: &mut Vec<u8>, p: &Parameter) {
    match p {
        Parameter::Name(n) => {
            out.push(tag::NAME);
            write_str(out, n);
        }
        Parameter::Path(handlebars::Path::Relative((segs, raw)))
            if segs.iter().all(|s| matches!(s, PathSeg::Named(_))) =>
        {
            out.push(tag::NAMED_PATH);
            write_str(out, raw);
            write_count(out, segs.len());
            for s in segs {
                if let PathSeg::Named(n) = s {
                    write_str(out, n);
                }
            }
        }
        Parameter::Path(path) => {
            out.push(tag::PATH);
            let raw = match path {
                handlebars::Path::Relative((_, raw)) | handlebars::Path::Local((_, _, raw)) => raw,
            };
            write_str(out, raw);
        }
        Parameter::Literal(v) => {
            out.push(tag::LITERAL);
            write_str(out, &v.to_string());
        }
        Parameter::Subexpression(s) => {
            out.push(tag::SUBEXPRESSION);
            write_element(out, &s.element);
        }
        _ => panic!("a parameter unknown to this build script: {p:?}"),
    }
}
