//! How lines are read.

use super::parse_answers;
use crate::expr::Sym;
use crate::model::claim::{Given, Quantity};

fn mazur() -> crate::model::Network {
    let src = include_str!("../../../examples/mazur.nn");
    crate::parse::parse_network("mazur.nn", src).expect("parses")
}

/// The quantity and the value of the one claim of `line`.
fn one(line: &str) -> (Quantity, f64) {
    let net = mazur();
    let a = parse_answers(&net, "a.txt", line).expect("text");
    assert!(a.unreadable.is_empty(), "{line}: {:?}", a.unreadable);
    assert_eq!(a.claims.len(), 1, "{line}: {:?}", a.claims);
    let c = &a.claims[0];
    let v = match &c.given {
        Given::Number { value, .. } | Given::Arithmetic { value, .. } => *value,
        Given::Formula(_) => f64::NAN,
    };
    (c.quantity, v)
}

fn grad(p: u32) -> Quantity {
    Quantity::Partial {
        of: Sym::ErrTotal,
        wrt: Sym::Param(p),
    }
}

#[test]
fn lines_as_students_write_them() {
    let net_h1 = Quantity::Value(Sym::Net(0));
    let close = |a: f64, b: f64| assert!((a - b).abs() < 1e-12, "{a} vs {b}");
    let (q, v) = one("h1의 총 입력: net_h1 = 0,3775");
    assert_eq!(q, net_h1);
    close(v, 0.3775);
    let (q, v) = one("3) ∂E_total/∂w1 = 4,38568×10⁻⁴ (rounded)");
    assert_eq!(q, grad(0));
    close(v, 4.38568e-4);
    let (q, v) =
        one("$\\frac{\\partial E_{total}}{\\partial w_5} = 0.74137 \\times 0.18682 = 0.1385$");
    assert_eq!(q, grad(4));
    close(v, 0.1385);
    let (q, _) = one("w₅⁺ = 0.3589");
    assert_eq!(q, Quantity::Updated(4));
    let (q, _) = one("w7(new) = 0.5113");
    assert_eq!(q, Quantity::Updated(6));
    let (q, _) = one("w1 := 0.1498");
    assert_eq!(q, Quantity::Updated(0));
    let (q, _) = one("σ'(net_o1) = 0.1868");
    assert_eq!(
        q,
        Quantity::Partial {
            of: Sym::Out(2),
            wrt: Sym::Net(2)
        }
    );
    let (q, v) = one("- E_o1 = ½(0.01 − 0.75136507)² ✓");
    assert_eq!(q, Quantity::Value(Sym::Err(2)));
    close(v, 0.5 * (0.01f64 - 0.75136507).powi(2));
    let (_, v) = one("out_h1 = 1/(1+e^-0.3775)");
    close(v, 1.0 / (1.0 + (-0.3775f64).exp()));
    let (_, v) = one("dout_o1/dnet_o1 = 0.75(1−0.75)");
    close(v, 0.1875);
}

#[test]
fn ambiguous_names_say_how_they_were_read() {
    let net = mazur();
    let a = parse_answers(&net, "a.txt", "δ1 = 0.1385\n").expect("text");
    let c = &a.claims[0];
    assert_eq!(
        c.quantity,
        Quantity::Partial {
            of: Sym::ErrTotal,
            wrt: Sym::Net(2)
        }
    );
    assert!(c.note.as_deref().unwrap().contains("δ_o1"), "{:?}", c.note);
}

#[test]
fn several_claims_on_a_line_and_text_around() {
    let net = mazur();
    let a = parse_answers(
        &net,
        "a.txt",
        "Inputs: i1 = 0.05, i2 = 0.10\nForward pass:\n\nnet_h1 = 0.3775; out_h1 = 0.5933 // ok\n",
    )
    .expect("text");
    let lines: Vec<usize> = a.claims.iter().map(|c| c.line).collect();
    assert_eq!(lines, [1, 1, 4, 4]);
    assert!(a.unreadable.is_empty());
}

#[test]
fn unreadable_lines_are_located() {
    let net = mazur();
    let a =
        parse_answers(&net, "a.txt", "net_h1 = 0.3775\ndE_total/dw5 = (0.7*0.2\n").expect("text");
    assert_eq!(a.claims.len(), 1);
    let u = &a.unreadable[0];
    assert_eq!((u.line, u.col), (2, 16));
    assert!(u.why.contains("not closed"), "{}", u.why);
    assert!(parse_answers(&net, "a.txt", "a\0b").is_err());
}
