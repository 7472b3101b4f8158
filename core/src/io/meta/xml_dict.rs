//! XML -> JSON in xmltodict's shape (attributes as `@name`, text as `#text`, repeated children as lists), so the
//! OME block stored under `orig_meta` looks like what the original Mesmerize stored.

use serde_json::{Map, Value};

/// Convert an element and its subtree.
pub(crate) fn to_dict(node: roxmltree::Node<'_, '_>) -> Value {
    let mut root = Map::new();
    root.insert(node.tag_name().name().to_string(), element(node));
    Value::Object(root)
}

fn element(node: roxmltree::Node<'_, '_>) -> Value {
    let mut obj = Map::new();
    for a in node.attributes() {
        obj.insert(format!("@{}", a.name()), Value::String(a.value().to_string()));
    }
    for child in node.children().filter(roxmltree::Node::is_element) {
        let name = child.tag_name().name().to_string();
        let v = element(child);
        match obj.get_mut(&name) {
            Some(Value::Array(list)) => list.push(v),
            Some(existing) => {
                let first = existing.take();
                *existing = Value::Array(vec![first, v]);
            }
            None => {
                obj.insert(name, v);
            }
        }
    }
    let text: String = node.children().filter(roxmltree::Node::is_text).filter_map(|n| n.text()).collect();
    let text = text.trim();
    if obj.is_empty() {
        return if text.is_empty() { Value::Null } else { Value::String(text.to_string()) };
    }
    if !text.is_empty() {
        obj.insert("#text".into(), Value::String(text.to_string()));
    }
    Value::Object(obj)
}
