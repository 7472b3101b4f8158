//! The project browser's filters: text entered under a column, with the original's modifiers, applied to a
//! DataFrame one column after another. Each step also reads as the pandas command it corresponds to, which is what
//! a tab's filter history shows (and what `spawn_transmission` records).
//!
//! Syntax: `a|b` (or) of partial, case-sensitive matches; modifiers at the start apply to every alternative:
//! `$NOT:` (no partial match), `$STR:` (partial match), `$STR=:` (exact), `$STR!=:` (not exact), and for number
//! columns `$>:`, `$<:`, `$>=:`, `$<=:`. List columns (stimulus types) match when any element matches. Missing
//! values never match, so the negating modifiers keep them.

use polars::prelude::*;

use super::ProjectError;

/// How the values of a filter are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Modifier {
    /// Substring match (the default, and `$STR:`).
    Partial,
    /// No substring match (`$NOT:`).
    Not,
    /// Exact text match (`$STR=:`).
    Exact,
    /// No exact text match (`$STR!=:`).
    NotExact,
    /// Greater than (`$>:`).
    Gt,
    /// Less than (`$<:`).
    Lt,
    /// Greater than or equal (`$>=:`).
    Ge,
    /// Less than or equal (`$<=:`).
    Le,
}

const PREFIXES: &[(&str, Modifier)] = &[
    ("$NOT:", Modifier::Not),
    ("$STR=:", Modifier::Exact),
    ("$STR!=:", Modifier::NotExact),
    ("$STR:", Modifier::Partial),
    ("$>=:", Modifier::Ge),
    ("$<=:", Modifier::Le),
    ("$>:", Modifier::Gt),
    ("$<:", Modifier::Lt),
];

/// A parsed filter entry.
#[derive(Debug, Clone, PartialEq)]
pub struct FilterExpr {
    /// Comparison.
    pub modifier: Modifier,
    /// Alternatives (`|`-separated); empty means "keep every row".
    pub values: Vec<String>,
}

impl FilterExpr {
    /// Parse an entry as typed in the browser.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (modifier, rest) = PREFIXES
            .iter()
            .find_map(|(p, m)| text.strip_prefix(p).map(|r| (*m, r)))
            .unwrap_or((Modifier::Partial, text));
        if rest.starts_with('$') && rest.contains(':') {
            return Err(format!("unknown modifier in '{text}': use $NOT:, $STR:, $STR=:, $STR!=:, $>:, $<:, $>=: or $<=:"));
        }
        let values: Vec<String> = if rest.is_empty() { vec![] } else { rest.split('|').map(str::to_string).collect() };
        let numeric = matches!(modifier, Modifier::Gt | Modifier::Lt | Modifier::Ge | Modifier::Le);
        if numeric {
            if values.is_empty() {
                return Err(format!("'{text}' compares with nothing"));
            }
            for v in &values {
                v.trim().parse::<f64>().map_err(|_| format!("'{v}' is not a number (in '{text}')"))?;
            }
        }
        Ok(Self { modifier, values })
    }
}

/// One filter of a tab: an entry under one column.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FilterStep {
    /// Column filtered.
    pub column: String,
    /// Entry as typed (with modifier).
    pub expr: String,
}

impl FilterStep {
    /// Parse `COLUMN=EXPR` (the CLI's `--filter`).
    pub fn parse_cli(s: &str) -> Result<Self, ProjectError> {
        let (column, expr) = s
            .split_once('=')
            .ok_or_else(|| ProjectError::Filter { column: s.into(), msg: "expected COLUMN=EXPR".into() })?;
        let step = Self { column: column.to_string(), expr: expr.to_string() };
        step.parsed()?;
        Ok(step)
    }

    fn parsed(&self) -> Result<FilterExpr, ProjectError> {
        FilterExpr::parse(&self.expr).map_err(|msg| ProjectError::Filter { column: self.column.clone(), msg })
    }

    /// The rows of `df` this filter keeps.
    pub fn apply(&self, df: &DataFrame) -> Result<DataFrame, ProjectError> {
        let f = self.parsed()?;
        if f.values.is_empty() {
            return Ok(df.clone());
        }
        let err = |msg: String| ProjectError::Filter { column: self.column.clone(), msg };
        let col = df.column(&self.column).map_err(|_| {
            let names: Vec<String> = df.get_column_names().iter().map(|s| s.to_string()).collect();
            err(format!("no such column (columns: {})", names.join(", ")))
        })?;
        let s = col.as_materialized_series();
        let mask: Vec<bool> = match f.modifier {
            Modifier::Gt | Modifier::Lt | Modifier::Ge | Modifier::Le => {
                if !s.dtype().is_primitive_numeric() {
                    return Err(err(format!("number comparisons need a number column; this one holds {}", s.dtype())));
                }
                let nums: Vec<f64> = f.values.iter().filter_map(|v| v.trim().parse().ok()).collect();
                let x = s.cast(&DataType::Float64)?;
                x.f64()?
                    .iter()
                    .map(|v| {
                        v.is_some_and(|v| {
                            nums.iter().any(|&n| match f.modifier {
                                Modifier::Gt => v > n,
                                Modifier::Lt => v < n,
                                Modifier::Ge => v >= n,
                                _ => v <= n,
                            })
                        })
                    })
                    .collect()
            }
            m => {
                let texts = cell_texts(s).map_err(err)?;
                let hit = |cell: &Option<Vec<String>>| {
                    cell.as_ref().is_some_and(|items| {
                        items.iter().any(|item| match m {
                            Modifier::Partial | Modifier::Not => f.values.iter().any(|v| item.contains(v.as_str())),
                            _ => f.values.iter().any(|v| item == v),
                        })
                    })
                };
                let negate = matches!(m, Modifier::Not | Modifier::NotExact);
                texts.iter().map(|c| hit(c) != negate).collect()
            }
        };
        let mask = BooleanChunked::from_slice("mask".into(), &mask);
        Ok(df.filter(&mask)?)
    }

    /// The pandas command this filter corresponds to, for a tab's readable filter history.
    pub fn describe(&self) -> String {
        let Ok(f) = FilterExpr::parse(&self.expr) else { return format!("invalid filter {:?}", self.expr) };
        let c = format!("df[{:?}]", self.column);
        if f.values.is_empty() {
            return "df".into();
        }
        let list = f.values.iter().map(|v| format!("{v:?}")).collect::<Vec<_>>().join(", ");
        let any = |op: &str| f.values.iter().map(|v| format!("({c} {op} {})", v.trim())).collect::<Vec<_>>().join(" | ");
        let contains = f.values.iter().map(|v| format!("{c}.str.contains({v:?}, regex=False)")).collect::<Vec<_>>();
        let contains = if contains.len() == 1 { contains[0].clone() } else { format!("({})", contains.join(" | ")) };
        match f.modifier {
            Modifier::Partial => format!("df[{contains}]"),
            Modifier::Not => format!("df[~{contains}]"),
            Modifier::Exact => format!("df[{c}.isin([{list}])]"),
            Modifier::NotExact => format!("df[~{c}.isin([{list}])]"),
            Modifier::Gt => format!("df[{}]", any(">")),
            Modifier::Lt => format!("df[{}]", any("<")),
            Modifier::Ge => format!("df[{}]", any(">=")),
            Modifier::Le => format!("df[{}]", any("<=")),
        }
    }
}

/// Apply filters one after another.
pub fn apply_all(df: &DataFrame, steps: &[FilterStep]) -> Result<DataFrame, ProjectError> {
    steps.iter().try_fold(df.clone(), |d, s| s.apply(&d))
}

/// Each cell as the texts a match looks at: one for scalar columns, the elements for list columns; `None` if
/// missing.
fn cell_texts(s: &Series) -> Result<Vec<Option<Vec<String>>>, String> {
    match s.dtype() {
        DataType::String => Ok(s.str().map_err(|e| e.to_string())?.iter().map(|v| v.map(|v| vec![v.to_string()])).collect()),
        DataType::List(inner) if matches!(**inner, DataType::String) => {
            let l = s.list().map_err(|e| e.to_string())?;
            Ok((0..l.len())
                .map(|i| l.get_as_series(i).and_then(|r| r.str().ok().map(|r| r.iter().flatten().map(str::to_string).collect())))
                .collect())
        }
        dt if dt.is_primitive_numeric() || matches!(dt, DataType::Boolean) => {
            let t = s.cast(&DataType::String).map_err(|e| e.to_string())?;
            Ok(t.str().map_err(|e| e.to_string())?.iter().map(|v| v.map(|v| vec![v.to_string()])).collect())
        }
        other => Err(format!("text filters do not apply to a column of {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn df() -> DataFrame {
        let cell = Column::new("cell_name".into(), ["atena", "atenp", "mn", "palp", "pr"]);
        let stage = Column::new("stage".into(), [Some(48i64), Some(50), None, Some(72), Some(60)]);
        DataFrame::new(5, vec![cell, stage]).expect("df")
    }

    fn names(df: &DataFrame) -> Vec<String> {
        df.column("cell_name").expect("c").str().expect("s").iter().flatten().map(str::to_string).collect()
    }

    fn run(col: &str, expr: &str) -> Vec<String> {
        names(&FilterStep { column: col.into(), expr: expr.into() }.apply(&df()).expect("filter"))
    }

    #[test]
    fn every_modifier() {
        assert_eq!(run("cell_name", "aten"), ["atena", "atenp"]);
        assert_eq!(run("cell_name", "mn|palp|pr"), ["mn", "palp", "pr"]);
        assert_eq!(run("cell_name", "$STR:ten"), ["atena", "atenp"]);
        assert_eq!(run("cell_name", "$NOT:aten"), ["mn", "palp", "pr"]);
        assert_eq!(run("cell_name", "$STR=:aten|mn"), ["mn"]);
        assert_eq!(run("cell_name", "$STR!=:mn|pr"), ["atena", "atenp", "palp"]);
        assert_eq!(run("stage", "$>:50"), ["palp", "pr"]);
        assert_eq!(run("stage", "$>=:50"), ["atenp", "palp", "pr"]);
        assert_eq!(run("stage", "$<:50"), ["atena"]);
        assert_eq!(run("stage", "$<=:50"), ["atena", "atenp"]);
        assert_eq!(run("stage", "48|72"), ["atena", "palp"]);
        assert_eq!(run("cell_name", ""), ["atena", "atenp", "mn", "palp", "pr"]);
    }

    #[test]
    fn errors_name_the_problem() {
        let e = FilterStep { column: "cell_name".into(), expr: "$>:3".into() }.apply(&df()).expect_err("text column");
        assert!(e.to_string().contains("number column"), "{e}");
        assert!(FilterStep::parse_cli("stage=$>:abc").is_err());
        assert!(FilterStep::parse_cli("stage").is_err());
        let e = FilterStep { column: "nope".into(), expr: "x".into() }.apply(&df()).expect_err("no column");
        assert!(e.to_string().contains("no such column"), "{e}");
        assert!(FilterExpr::parse("$FOO:x").is_err());
    }

    #[test]
    fn descriptions_read_as_pandas() {
        let d = |c: &str, e: &str| FilterStep { column: c.into(), expr: e.into() }.describe();
        assert_eq!(d("promoter", "$STR!=:cesa|hnk1"), r#"df[~df["promoter"].isin(["cesa", "hnk1"])]"#);
        assert_eq!(d("cell_name", "aten"), r#"df[df["cell_name"].str.contains("aten", regex=False)]"#);
        assert_eq!(d("stage", "$>=:48"), r#"df[(df["stage"] >= 48)]"#);
    }
}
