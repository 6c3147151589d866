//! The built-in partials, compiled when chainrule is built (`build.rs`)
//! and read back here: compiling them at start-up took two thirds of the
//! instructions of a small page, since handlebars compiles a template in a
//! time that grows with the square of its length.
//!
//! The compiled form is a list of `(name, template)`, each template written
//! as its elements, depth first: strings and counts are a little-endian
//! `u32` (a string's byte length, then its bytes), an absent value is `0`,
//! a present one `1` and the value, a flag is one byte. `build.rs` checks
//! that every template reads back equal to the one handlebars compiled.
//! Read-back templates carry no line numbers (`mapping`), which handlebars
//! only writes into the message of a failed render.

use std::collections::HashMap;

use handlebars::template::{
    BlockParam, DecoratorTemplate, ExpressionSpec, ExpressionSpecBuilder, HelperTemplate,
    Parameter, Subexpression, TemplateElement,
};
use handlebars::{Path, PathSeg, Template};

/// Tags of the elements of a template.
pub(crate) mod tag {
    pub(crate) const RAW: u8 = 0;
    pub(crate) const HTML_EXPRESSION: u8 = 1;
    pub(crate) const EXPRESSION: u8 = 2;
    pub(crate) const HELPER_BLOCK: u8 = 3;
    pub(crate) const DECORATOR_EXPRESSION: u8 = 4;
    pub(crate) const DECORATOR_BLOCK: u8 = 5;
    pub(crate) const PARTIAL_EXPRESSION: u8 = 6;
    pub(crate) const PARTIAL_BLOCK: u8 = 7;
    pub(crate) const COMMENT: u8 = 8;
    /// Parameters.
    pub(crate) const NAME: u8 = 0;
    /// A path of plain names, read back without parsing.
    pub(crate) const NAMED_PATH: u8 = 1;
    /// Any other path (`@root.…`, `../…`, `@index`), parsed when read.
    pub(crate) const PATH: u8 = 2;
    pub(crate) const LITERAL: u8 = 3;
    pub(crate) const SUBEXPRESSION: u8 = 4;
}

/// A reader of the compiled form; `None` on a malformed one.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes }
    }

    /// Whether everything has been read.
    pub(crate) fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.bytes.split_first()?;
        self.bytes = rest;
        Some(b)
    }

    fn flag(&mut self) -> Option<bool> {
        Some(self.byte()? != 0)
    }

    fn count(&mut self) -> Option<usize> {
        let (n, rest) = self.bytes.split_first_chunk::<4>()?;
        self.bytes = rest;
        Some(u32::from_le_bytes(*n) as usize)
    }

    pub(crate) fn str(&mut self) -> Option<&'a str> {
        std::str::from_utf8(self.bytes()?).ok()
    }

    /// The next `count` bytes, after their count.
    pub(crate) fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = self.count()?;
        if n > self.bytes.len() {
            return None;
        }
        let (s, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Some(s)
    }

    fn string(&mut self) -> Option<String> {
        self.str().map(str::to_string)
    }

    fn optional<T>(&mut self, read: impl FnOnce(&mut Self) -> Option<T>) -> Option<Option<T>> {
        match self.flag()? {
            false => Some(None),
            true => read(self).map(Some),
        }
    }

    /// A template: its name, then its elements.
    pub(crate) fn template(&mut self) -> Option<Template> {
        let mut t = Template::new();
        t.name = self.optional(Self::string)?;
        let n = self.count()?;
        t.elements = Vec::with_capacity(n);
        for _ in 0..n {
            t.elements.push(self.element()?);
        }
        Some(t)
    }

    fn element(&mut self) -> Option<TemplateElement> {
        Some(match self.byte()? {
            tag::RAW => TemplateElement::RawString(self.string()?),
            tag::HTML_EXPRESSION => TemplateElement::HtmlExpression(self.helper()?),
            tag::EXPRESSION => TemplateElement::Expression(self.helper()?),
            tag::HELPER_BLOCK => TemplateElement::HelperBlock(self.helper()?),
            tag::DECORATOR_EXPRESSION => TemplateElement::DecoratorExpression(self.decorator()?),
            tag::DECORATOR_BLOCK => TemplateElement::DecoratorBlock(self.decorator()?),
            tag::PARTIAL_EXPRESSION => TemplateElement::PartialExpression(self.decorator()?),
            tag::PARTIAL_BLOCK => TemplateElement::PartialBlock(self.decorator()?),
            tag::COMMENT => TemplateElement::Comment(self.string()?),
            _ => return None,
        })
    }

    fn params(&mut self) -> Option<Vec<Parameter>> {
        let n = self.count()?;
        (0..n).map(|_| self.param()).collect()
    }

    fn hash(&mut self) -> Option<HashMap<String, Parameter>> {
        let n = self.count()?;
        (0..n)
            .map(|_| Some((self.string()?, self.param()?)))
            .collect()
    }

    fn helper(&mut self) -> Option<Box<HelperTemplate>> {
        let (name, params, hash) = (self.param()?, self.params()?, self.hash()?);
        let block_param = self.optional(|r| match r.byte()? {
            0 => Some(BlockParam::Single(r.param()?)),
            _ => Some(BlockParam::Pair((r.param()?, r.param()?))),
        })?;
        let template = self.optional(Self::template)?;
        let inverse = self.optional(Self::template)?;
        let (block, chain, indent) = (self.flag()?, self.flag()?, self.flag()?);
        // `indent_before_write` is set only through a constructor, which
        // takes the rest empty (a builder would copy every field).
        let mut h = HelperTemplate::new(empty_spec()?, block, indent);
        h.name = name;
        h.params = params;
        h.hash = hash;
        h.block_param = block_param;
        h.template = template;
        h.inverse = inverse;
        h.chain = chain;
        Some(Box::new(h))
    }

    fn decorator(&mut self) -> Option<Box<DecoratorTemplate>> {
        let (name, params, hash) = (self.param()?, self.params()?, self.hash()?);
        let template = self.optional(Self::template)?;
        let indent = self.optional(Self::string)?;
        let mut d = DecoratorTemplate::new(empty_spec()?, self.flag()?);
        d.name = name;
        d.params = params;
        d.hash = hash;
        d.template = template;
        d.indent = indent;
        Some(Box::new(d))
    }

    fn param(&mut self) -> Option<Parameter> {
        Some(match self.byte()? {
            tag::NAME => Parameter::Name(self.string()?),
            tag::NAMED_PATH => {
                let raw = self.string()?;
                let n = self.count()?;
                let segs = (0..n)
                    .map(|_| self.string().map(PathSeg::Named))
                    .collect::<Option<_>>()?;
                Parameter::Path(Path::Relative((segs, raw)))
            }
            tag::PATH => Parameter::Path(Path::parse(self.str()?).ok()?),
            tag::LITERAL => Parameter::Literal(serde_json::from_str(self.str()?).ok()?),
            tag::SUBEXPRESSION => {
                let e = self.element()?;
                let mut s =
                    Subexpression::new(Parameter::Name(String::new()), vec![], HashMap::new());
                s.element = Box::new(e);
                Parameter::Subexpression(s)
            }
            _ => return None,
        })
    }
}

/// An expression with no name, parameters or hash, filled in afterwards.
fn empty_spec() -> Option<ExpressionSpec> {
    ExpressionSpecBuilder::default()
        .name(Parameter::Name(String::new()))
        .params(Vec::new())
        .hash(HashMap::new())
        .omit_pre_ws(false)
        .omit_pro_ws(false)
        .build()
        .ok()
}
