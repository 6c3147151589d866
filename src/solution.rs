//! A solved network: the checked model, its derivation, and the names and
//! notation the outputs use. Every output format reads this.

use crate::derivation::{self, DOut, Derivation, EvalError};
use crate::expr::{Names, Sym};
use crate::model::Network;
use crate::notation::{NetNames, Notation};

/// A network with its derivation.
pub struct Solution<'a> {
    /// The network.
    pub net: &'a Network,
    /// Its derivation.
    pub derivation: Derivation,
    /// How pages name net inputs and outputs.
    pub notation: Notation,
}

impl<'a> Solution<'a> {
    /// Derives `net` with `opts`.
    pub fn new(
        net: &'a Network,
        opts: derivation::Options,
        notation: Notation,
    ) -> Result<Solution<'a>, EvalError> {
        Ok(Solution {
            net,
            derivation: derivation::derive(net, opts)?,
            notation,
        })
    }

    /// The title, or a default.
    pub fn title(&self) -> String {
        self.net
            .title
            .clone()
            .unwrap_or_else(|| "Backpropagation".to_string())
    }

    /// Names in the tutorial's notation (JSON, formulas).
    pub fn plain_names(&self) -> NetNames<'a> {
        NetNames::new(self.net, Notation::NetOut)
    }

    /// Names in the page's notation.
    pub fn names(&self) -> NetNames<'a> {
        NetNames::new(self.net, self.notation)
    }

    /// `\frac{\partial E_{total}}{\partial out_{o_1}}` in the page's notation.
    pub fn partial_latex(&self, of: Sym, wrt: Sym) -> String {
        let n = self.names();
        format!(
            "\\frac{{\\partial {}}}{{\\partial {}}}",
            n.latex(of),
            n.latex(wrt)
        )
    }

    /// The plain form of ∂E_total/∂out_X of a hidden neuron as a sum over the
    /// neurons it feeds: `dE_total/dnet_o1*w5 + dE_total/dnet_o2*w7`.
    pub fn sum_symbolic(&self, x: u32) -> String {
        let names = self.plain_names();
        match &self.derivation.worked().neurons[x as usize].d_out {
            DOut::Loss(f) => f.symbolic.plain(&names),
            DOut::Sum(edges) if edges.is_empty() => "0".to_string(),
            DOut::Sum(edges) => edges
                .iter()
                .map(|e| {
                    let f = e.factor.symbolic.plain(&names);
                    let f = if f.contains(' ') { format!("({f})") } else { f };
                    format!("dE_total/d{}*{}", names.plain(Sym::Net(e.to)), f)
                })
                .collect::<Vec<_>>()
                .join(" + "),
        }
    }

    /// The plain form of δ_X in a softmax layer: Σ_j ∂E_total/∂out_j · ∂out_j/∂net_X.
    pub fn softmax_symbolic(&self, x: u32) -> String {
        let names = self.plain_names();
        let layer = self.net.layer_of(x);
        layer
            .neurons
            .clone()
            .map(|j| {
                let f = crate::diff::softmax_derivative(j, x).plain(&names);
                format!("dE_total/d{}*({f})", names.plain(Sym::Out(j)))
            })
            .collect::<Vec<_>>()
            .join(" + ")
    }
}
