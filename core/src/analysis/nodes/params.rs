//! A node's parameters: the user's JSON object checked against the node's [`ParamSpec`]s, defaults filled in.

use serde_json::{Map, Value};

use super::{NodeError, ParamDefault, ParamKind, ParamSpec};

/// Validated parameters. Getters cannot fail on type: validation already checked every value.
#[derive(Debug, Clone)]
pub struct Params {
    values: Map<String, Value>,
}

fn perr(param: &str, message: impl Into<String>) -> NodeError {
    NodeError::Param { param: param.to_string(), message: message.into() }
}

impl Params {
    /// Check `given` (a JSON object or null) against `specs`: unknown names are refused with the list of valid ones,
    /// values must have the parameter's type, omitted ones take their default; `LastOutput` defaults stay null here
    /// and are resolved against the input Transmission by [`super::NodeCall::data_column`].
    pub fn validate(node: &str, specs: &[ParamSpec], given: &Value) -> Result<Self, NodeError> {
        let empty = Map::new();
        let obj = match given {
            Value::Null => &empty,
            Value::Object(m) => m,
            other => return Err(perr("*", format!("parameters of {node} must be a JSON object, got {other}"))),
        };
        for k in obj.keys() {
            if !specs.iter().any(|s| s.name == k) {
                let valid: Vec<&str> = specs.iter().map(|s| s.name).collect();
                let valid = if valid.is_empty() { "none".to_string() } else { valid.join(", ") };
                return Err(perr(k, format!("{node} has no such parameter (valid: {valid})")));
            }
        }
        let mut values = Map::new();
        for s in specs {
            let v = match obj.get(s.name) {
                Some(v) if !v.is_null() => check(s, v)?,
                _ => match s.default {
                    ParamDefault::Required => return Err(perr(s.name, format!("{node} needs this parameter ({})", s.help))),
                    ParamDefault::Null | ParamDefault::LastOutput => Value::Null,
                    ParamDefault::Int(i) => Value::from(i),
                    ParamDefault::Float(f) => Value::from(f),
                    ParamDefault::Bool(b) => Value::from(b),
                    ParamDefault::Text(t) => Value::from(t),
                },
            };
            values.insert(s.name.to_string(), v);
        }
        Ok(Self { values })
    }

    /// The raw value (null when an optional parameter is absent).
    pub fn value(&self, name: &str) -> &Value {
        self.values.get(name).unwrap_or(&Value::Null)
    }

    /// A whole-number parameter.
    pub fn int(&self, name: &str) -> i64 {
        self.value(name).as_i64().unwrap_or(0)
    }

    /// A decimal parameter (whole numbers are accepted for decimals).
    pub fn float(&self, name: &str) -> f64 {
        self.value(name).as_f64().unwrap_or(f64::NAN)
    }

    /// An optional decimal parameter.
    pub fn opt_float(&self, name: &str) -> Option<f64> {
        self.value(name).as_f64()
    }

    /// A boolean parameter.
    pub fn bool(&self, name: &str) -> bool {
        self.value(name).as_bool().unwrap_or(false)
    }

    /// A text, choice or column parameter ("" when absent).
    pub fn text(&self, name: &str) -> &str {
        self.value(name).as_str().unwrap_or("")
    }

    /// An optional text parameter (absent or empty -> None).
    pub fn opt_text(&self, name: &str) -> Option<&str> {
        self.value(name).as_str().filter(|s| !s.is_empty())
    }

    /// A list-of-columns parameter.
    pub fn columns(&self, name: &str) -> Vec<String> {
        match self.value(name) {
            Value::Array(a) => a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect(),
            Value::String(s) => vec![s.clone()],
            _ => Vec::new(),
        }
    }

    /// All parameters as a JSON object (for `.fc` files and logs).
    pub fn to_json(&self) -> Value {
        Value::Object(self.values.clone())
    }
}

fn check(s: &ParamSpec, v: &Value) -> Result<Value, NodeError> {
    let bad = |want: &str| perr(s.name, format!("expected {want}, got {v}"));
    Ok(match s.kind {
        ParamKind::Int { min, max } => {
            let i = match v {
                Value::Number(n) if n.is_i64() => n.as_i64().unwrap_or(0),
                Value::Number(n) if n.as_f64().is_some_and(|f| f.fract() == 0.0 && f.abs() < 9e15) => {
                    n.as_f64().unwrap_or(0.0) as i64
                }
                _ => return Err(bad("a whole number")),
            };
            if i < min || i > max {
                return Err(perr(s.name, format!("{i} is outside {min}..={max}")));
            }
            Value::from(i)
        }
        ParamKind::Float => match v.as_f64() {
            Some(f) if f.is_finite() => Value::from(f),
            _ => return Err(bad("a finite number")),
        },
        ParamKind::Bool => match v {
            Value::Bool(_) => v.clone(),
            _ => return Err(bad("true or false")),
        },
        ParamKind::Text | ParamKind::Column => match v {
            Value::String(_) => v.clone(),
            _ => return Err(bad("a string")),
        },
        ParamKind::Choice(options) => match v.as_str() {
            Some(t) if options.contains(&t) => v.clone(),
            _ => return Err(perr(s.name, format!("{v} is not one of {}", options.join(", ")))),
        },
        ParamKind::Columns => match v {
            Value::Array(a) if a.iter().all(Value::is_string) => v.clone(),
            Value::String(t) => Value::Array(vec![Value::from(t.as_str())]),
            _ => return Err(bad("a list of column names")),
        },
    })
}
