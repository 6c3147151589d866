//! The page's view: every struct a template reads. This is the contract of
//! `--template` (README, "Templates"): each field's doc says what it holds,
//! every equation already laid out as LaTeX lines and every number already
//! formatted, so that a template adds only prose and layout.

use serde::Serialize;

/// One update after the first (`--steps K`).
#[derive(Debug, Clone, Serialize)]
pub struct LaterStep {
    /// Its number (2, 3, …).
    pub t: u32,
    /// E_total before it, formatted.
    pub total: String,
    /// E_total after it, formatted.
    pub total_after: String,
    /// Per param: its LaTeX, its gradient at this step (formatted) and the
    /// lines of its update.
    pub params: Vec<LaterParam>,
    /// Every param's lines, one `aligned` block.
    pub lines: Vec<String>,
}

/// One param's update in a later step.
#[derive(Debug, Clone, Serialize)]
pub struct LaterParam {
    /// LaTeX of the param.
    pub latex: String,
    /// ∂E_total/∂p at this step, as text (`1.2e-10`, like the summary).
    pub gradient: String,
    /// The value before, as text.
    pub before: String,
    /// The value after, as text.
    pub after: String,
    /// Lines of an `aligned` block: the optimizer's state and the update.
    pub lines: Vec<String>,
}

/// A name and its value, for the tables.
#[derive(Debug, Clone, Serialize)]
pub struct Named {
    /// The name in the file (`w5`).
    pub name: String,
    /// Its LaTeX (`w_{5}`).
    pub latex: String,
    /// The value, formatted as LaTeX (for math: `1.5 \times 10^{-12}`).
    pub value: String,
    /// The value, full precision.
    pub raw: f64,
}

/// A layer in the network table.
#[derive(Debug, Clone, Serialize)]
pub struct LayerRow {
    /// Its name.
    pub name: String,
    /// Whether it is the last layer.
    pub output: bool,
    /// Its activation, as written in the file (`sigmoid`, `leaky_relu(0.2)`).
    pub activation: String,
    /// LaTeX of its neurons (`h_{1}`).
    pub neurons: Vec<String>,
}

/// A user function in the network table.
#[derive(Debug, Clone, Serialize)]
pub struct FunctionRow {
    /// Its name.
    pub name: String,
    /// Its definition as LaTeX (`\operatorname{swish}(x) = x \cdot \sigma(x)`).
    pub latex: String,
}

/// The network as given.
#[derive(Debug, Clone, Serialize)]
pub struct NetworkView {
    /// Inputs.
    pub inputs: Vec<Named>,
    /// Trainable params.
    pub params: Vec<Named>,
    /// Constants.
    pub consts: Vec<Named>,
    /// User functions.
    pub functions: Vec<FunctionRow>,
    /// Layers, first to last.
    pub layers: Vec<LayerRow>,
    /// Targets (as `target_o1`).
    pub targets: Vec<Named>,
    /// The loss keyword (`mse`, …, `custom`).
    pub loss: String,
    /// The loss as a formula for E_total.
    pub loss_latex: String,
    /// The learning rate, formatted.
    pub rate: String,
    /// The L2 term, `E_{reg} = \frac{\lambda}{2} (w_{1}^{2} + …)` with
    /// `\lambda = 0.01`, when the loss has one.
    pub l2: Option<String>,
    /// The number of params.
    pub param_count: usize,
}

/// The forward pass of one neuron.
#[derive(Debug, Clone, Serialize)]
pub struct NeuronView {
    /// Its name.
    pub name: String,
    /// Lines of an `aligned` block: net input, then output.
    pub lines: Vec<String>,
}

/// The forward pass of one layer.
#[derive(Debug, Clone, Serialize)]
pub struct LayerView {
    /// Its name.
    pub name: String,
    /// Whether it is the last layer.
    pub output: bool,
    /// Its activation as written.
    pub activation: String,
    /// Its neurons.
    pub neurons: Vec<NeuronView>,
}

/// The error.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorView {
    /// Lines for each E_k.
    pub outputs: Vec<NeuronView>,
    /// Lines for the L2 term E_reg, when E_total has one.
    pub penalty: Vec<String>,
    /// Lines for E_total.
    pub total: Vec<String>,
    /// Lines of every E_k, E_reg, then E_total, as one block.
    pub lines: Vec<String>,
    /// E_total, formatted.
    pub value: String,
}

/// Where a δ was derived, for a reference back to it.
#[derive(Debug, Clone, Serialize)]
pub struct DeltaRef {
    /// LaTeX of the δ (`\delta_{o_1}`).
    pub delta: String,
    /// LaTeX of the partial it is (`\frac{\partial E_{total}}{\partial net_{o_1}}`).
    pub partial: String,
    /// The same partial written inline, for prose.
    pub inline: String,
    /// Its value, formatted.
    pub value: String,
    /// Anchor of the step that derived it (`dw5`).
    pub anchor: String,
    /// LaTeX of the gradient that step is about (inline form).
    pub step: String,
}

/// One numbered factor of a chain rule.
#[derive(Debug, Clone, Serialize)]
pub struct FactorView {
    /// Its number, from 1.
    pub n: usize,
    /// Its number as the page writes it in prose (① in Markdown).
    pub label: String,
    /// LaTeX of the partial (`\frac{\partial out_{o_1}}{\partial net_{o_1}}`).
    pub partial: String,
    /// The same partial written inline (`\partial out_{o_1} / \partial net_{o_1}`), for prose.
    pub inline: String,
    /// Lines of an `aligned` block deriving it; empty for a reference.
    pub lines: Vec<String>,
    /// Set when this factor is a δ derived in an earlier step.
    pub reference: Option<DeltaRef>,
    /// δ's derived earlier that the lines use.
    pub uses: Vec<DeltaRef>,
    /// The rule's short name (`d-sigmoid`).
    pub rule: String,
}

/// A δ defined in a step.
#[derive(Debug, Clone, Serialize)]
pub struct DeltaDef {
    /// LaTeX of the δ.
    pub delta: String,
    /// Lines of an `aligned` block.
    pub lines: Vec<String>,
}

/// The derivation of one param's gradient and its update.
#[derive(Debug, Clone, Serialize)]
pub struct StepView {
    /// Anchor for links (`dw5`).
    pub anchor: String,
    /// The param's name.
    pub param: String,
    /// The param's LaTeX.
    pub param_latex: String,
    /// The layer of the neurons that use it (the deepest one).
    pub layer: String,
    /// Whether that is the last layer.
    pub output_layer: bool,
    /// LaTeX of ∂E_total/∂p.
    pub gradient: String,
    /// The same, written inline for prose.
    pub gradient_inline: String,
    /// δ's of later layers this step needs that no earlier step derived.
    pub before: Vec<DeltaDef>,
    /// Lines of the chain rule with numbered factors.
    pub chain: Vec<String>,
    /// The factors.
    pub factors: Vec<FactorView>,
    /// δ's defined here (product of the first factors).
    pub deltas: Vec<DeltaDef>,
    /// Lines of ∂E_reg/∂p = λ·p, when the L2 term covers the param.
    pub penalty: Vec<String>,
    /// Lines of the product.
    pub product: Vec<String>,
    /// Lines of the update.
    pub update: Vec<String>,
    /// Whether no net input uses the param (gradient 0).
    pub unused: bool,
}

/// A row of the summary table.
#[derive(Debug, Clone, Serialize)]
pub struct SummaryRow {
    /// The param's name.
    pub name: String,
    /// Its LaTeX.
    pub latex: String,
    /// Old value, formatted.
    pub old: String,
    /// ∂E_total/∂p, formatted.
    pub gradient: String,
    /// p⁺, formatted.
    pub new: String,
    /// The same three, full precision.
    pub raw: [f64; 3],
}

/// The summary rows of one layer.
#[derive(Debug, Clone, Serialize)]
pub struct SummaryLayer {
    /// The layer's name (empty for params no net input uses).
    pub name: String,
    /// Whether it is the last layer.
    pub output: bool,
    /// Its params.
    pub rows: Vec<SummaryRow>,
}

/// One sample of a `data` block.
#[derive(Debug, Clone, Serialize)]
pub struct SampleView {
    /// Its number, from 1.
    pub index: usize,
    /// LaTeX of its inputs (`i_{1} = 0, i_{2} = 1`).
    pub inputs: String,
    /// LaTeX of its targets.
    pub targets: String,
    /// Its forward pass.
    pub forward: Vec<LayerView>,
    /// Its error.
    pub error: ErrorView,
    /// Its E, formatted.
    pub total: String,
}

/// The rows of a `data` block.
#[derive(Debug, Clone, Serialize)]
pub struct DataTable {
    /// LaTeX of the inputs it sets.
    pub inputs: Vec<String>,
    /// LaTeX of the targets it gives.
    pub targets: Vec<String>,
    /// The rows.
    pub rows: Vec<DataRow>,
}

/// One row of a `data` block.
#[derive(Debug, Clone, Serialize)]
pub struct DataRow {
    /// Its number, from 1.
    pub n: usize,
    /// Input values, formatted.
    pub inputs: Vec<String>,
    /// Target values, formatted.
    pub targets: Vec<String>,
}

/// A param's gradient per sample.
#[derive(Debug, Clone, Serialize)]
pub struct SampleGradient {
    /// The param's LaTeX.
    pub latex: String,
    /// ∂E^(k)/∂p for each sample k, formatted.
    pub per_sample: Vec<String>,
    /// Their mean (or sum), formatted.
    pub combined: String,
    /// With an L2 term: ∂E_reg/∂p = λ·p (0 for a param it does not
    /// cover), formatted.
    pub penalty: Option<String>,
    /// ∂E_total/∂p: `combined` plus `penalty`, formatted.
    pub gradient: String,
    /// p⁺, formatted.
    pub new: String,
}

/// Everything a page shows.
#[derive(Debug, Clone, Serialize)]
pub struct Page {
    /// The title (escape it for the format: `{{esc title}}`).
    pub title: String,
    /// Fixed prose in the page's language, by key.
    pub t: serde_json::Value,
    /// The language code.
    pub lang: String,
    /// Decimals shown.
    pub decimals: usize,
    /// `--hand`: values rounded to this many decimals at each step.
    pub hand: Option<usize>,
    /// `--front-matter`.
    pub front_matter: bool,
    /// `--fragment`.
    pub fragment: bool,
    /// `--only`, if given.
    pub only: Vec<String>,
    /// The network as given.
    pub network: NetworkView,
    /// The forward pass, layer by layer.
    pub forward: Vec<LayerView>,
    /// The error.
    pub error: ErrorView,
    /// The backward pass, one step per param, output layer first.
    pub backward: Vec<StepView>,
    /// All params: old value, gradient, new value.
    pub summary: Vec<SummaryRow>,
    /// The same rows by layer (the deepest layer whose net inputs use the
    /// param), output layer first.
    pub summary_layers: Vec<SummaryLayer>,
    /// Whether the page shows the summary by layer (large networks).
    pub by_layer: bool,
    /// With a `data` block: each sample's forward pass and error.
    pub samples: Vec<SampleView>,
    /// With a `data` block: its rows.
    pub data_table: Option<DataTable>,
    /// With a `data` block: lines combining the samples' errors into E_total.
    pub combined: Vec<String>,
    /// With a `data` block: each param's gradient per sample, combined, and its update.
    pub sample_gradients: Vec<SampleGradient>,
    /// Whether samples combine by their mean (else their sum).
    pub mean: bool,
    /// Set when derivations were left out for size: the number of params.
    pub omitted: Option<usize>,
    /// The update rule when it is not plain gradient descent
    /// (`adam(0.9, 0.999, 1e-8)`, with `weight_decay 0.01`).
    pub update_rule: Option<String>,
    /// Updates after the first (`--steps K`), each with the optimizer's state.
    pub later: Vec<LaterStep>,
    /// E_total after the last update, formatted (with `--steps K`).
    pub total_final: Option<String>,
    /// E_total after the update, formatted.
    pub total_after: String,
    /// Why E_total after the update cannot be computed, when it cannot.
    pub after_problem: Option<String>,
    /// The network drawing as inline SVG (HTML pages).
    pub diagram_html: Option<String>,
    /// The path of the drawing as an image file (`--diagram`, Markdown pages).
    pub diagram_src: Option<String>,
    /// The network drawing as a LaTeX `picture` (LaTeX pages; needs the
    /// packages `color` and `graphicx`); none for networks too large to
    /// label.
    pub diagram_tex: Option<String>,
    /// With `--front-matter`: the YAML lines between the `---` lines, as the
    /// page's `--flavor` writes them.
    pub front_matter_yaml: String,
}
