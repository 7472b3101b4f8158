//! Static description of a node: name, terminals, parameters with types and defaults, and the function that runs it.

use super::{NodeCall, NodeError, Outputs, PortKind};

/// Which menu of the flowchart a node belongs to (the docs' sections).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Category {
    /// Loading, saving, merging, filtering rows, splicing arrays.
    Data,
    /// Filters, spectra, resampling, scaling, peaks.
    Signal,
    /// Element-wise maths, derivatives, statistics.
    Math,
    /// Stimulus extraction, dF/F, tuning.
    Biology,
    /// k-Shape, k-means, hierarchical clustering.
    Clustering,
    /// LDA, PCA.
    Transform,
}

/// An input or output terminal.
#[derive(Debug, Clone, Copy)]
pub struct Terminal {
    /// Terminal name as in the docs (`In`, `Out`, `Linkage`, `Derivative`...).
    pub name: &'static str,
    /// What it carries.
    pub kind: PortKind,
    /// Inputs only: may stay unconnected.
    pub optional: bool,
    /// Inputs only: accepts several connections (Merge's `In`).
    pub multi: bool,
}

/// Shorthand constructors for terminal tables.
impl Terminal {
    /// A required, single Transmission terminal.
    pub const fn trn(name: &'static str) -> Self {
        Self { name, kind: PortKind::Transmission, optional: false, multi: false }
    }
    /// A terminal of another kind.
    pub const fn of(name: &'static str, kind: PortKind) -> Self {
        Self { name, kind, optional: false, multi: false }
    }
    /// The same terminal, optional.
    pub const fn optional(self) -> Self {
        Self { optional: true, ..self }
    }
    /// The same terminal, accepting many connections.
    pub const fn multi(self) -> Self {
        Self { multi: true, ..self }
    }
}

/// The type of a parameter (what the GUI shows and what JSON values are accepted).
#[derive(Debug, Clone, Copy)]
pub enum ParamKind {
    /// A whole number within bounds.
    Int {
        /// Smallest allowed value.
        min: i64,
        /// Largest allowed value.
        max: i64,
    },
    /// A finite decimal number.
    Float,
    /// true / false.
    Bool,
    /// Free text.
    Text,
    /// One of a fixed list of strings.
    Choice(&'static [&'static str]),
    /// The name of a DataFrame column.
    Column,
    /// A list of column names.
    Columns,
}

/// The value a parameter takes when the JSON omits it.
#[derive(Debug, Clone, Copy)]
pub enum ParamDefault {
    /// The parameter must be given.
    Required,
    /// No value (an optional parameter: `null`).
    Null,
    /// A whole number.
    Int(i64),
    /// A decimal number.
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// A string (also the default of a Choice).
    Text(&'static str),
    /// A data column: the input Transmission's `last_output`.
    LastOutput,
}

/// One parameter of a node.
#[derive(Debug, Clone, Copy)]
pub struct ParamSpec {
    /// Name exactly as the docs give it (`order`, `freq_divisor`, `data_column`).
    pub name: &'static str,
    /// Accepted values.
    pub kind: ParamKind,
    /// Value when omitted.
    pub default: ParamDefault,
    /// One line for `mesmerize node --list` and the GUI's tooltips.
    pub help: &'static str,
}

impl ParamSpec {
    /// A parameter description.
    pub const fn new(name: &'static str, kind: ParamKind, default: ParamDefault, help: &'static str) -> Self {
        Self { name, kind, default, help }
    }
    /// The `data_column` parameter most nodes have (defaults to the input's last output).
    pub const fn data_column() -> Self {
        Self::new("data_column", ParamKind::Column, ParamDefault::LastOutput, "column holding the input arrays")
    }
}

/// Everything about a node type; the registry is a static table of these.
#[derive(Debug, Clone, Copy)]
pub struct NodeSpec {
    /// Name as in the docs (`Butterworth`, `LoadProjDF`).
    pub name: &'static str,
    /// Other accepted names (the original's `nodeName`s, e.g. `ButterWorth`).
    pub aliases: &'static [&'static str],
    /// Docs section.
    pub category: Category,
    /// One-line description.
    pub help: &'static str,
    /// Input terminals.
    pub inputs: &'static [Terminal],
    /// Output terminals.
    pub outputs: &'static [Terminal],
    /// Parameters.
    pub params: &'static [ParamSpec],
    /// The computation.
    pub run: fn(&NodeCall) -> Result<Outputs, NodeError>,
}

impl NodeSpec {
    /// An input terminal by name.
    pub fn input(&self, name: &str) -> Option<&Terminal> {
        self.inputs.iter().find(|t| t.name == name)
    }
    /// An output terminal by name.
    pub fn output(&self, name: &str) -> Option<&Terminal> {
        self.outputs.iter().find(|t| t.name == name)
    }
}

/// The single-In single-Out Transmission terminals of most nodes.
pub const IN: &[Terminal] = &[Terminal::trn("In")];
/// See [`IN`].
pub const OUT: &[Terminal] = &[Terminal::trn("Out")];
