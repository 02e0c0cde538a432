//! How one product reads in the prompt: shared by the prompt that lists it and the
//! selection that counts its characters against the budget.

use std::fmt::Write;

use crate::catalog::{GroupKind, OptionGroup, Product};
use crate::chat::text::fold_char;

/// One product's line in the prompt.
pub(super) fn product_line(product: &Product) -> String {
    let mut line = format!("- {}", product.name);
    let aliases = telling(&product.name, &product.aliases);
    if !aliases.is_empty() {
        let _ = write!(line, " ({})", aliases.join(", "));
    }
    for group in &product.options {
        let _ = write!(line, "; {}", group_summary(group));
    }
    line
}

/// "size, one, required: s (small), m", "topping, any, extra/light: cheese, olives".
fn group_summary(group: &OptionGroup) -> String {
    let mut text = group.name.clone();
    text.push_str(match group.kind {
        GroupKind::Single => ", one",
        GroupKind::Multi => ", any",
    });
    if group.required {
        text.push_str(", required");
    }
    if let Some(default) = &group.default {
        let _ = write!(text, ", default {default}");
    }
    if !group.qualifiers.is_empty() {
        let _ = write!(text, ", {}", group.qualifiers.join("/"));
    }
    text.push(':');
    for (index, value) in group.values.iter().enumerate() {
        let _ = write!(text, "{} {}", if index == 0 { "" } else { "," }, value.name);
        let aliases = telling(&value.name, &value.aliases);
        if !aliases.is_empty() {
            let _ = write!(text, " ({})", aliases.join("/"));
        }
    }
    text
}

/// The aliases that are more than another spelling of the name or of an alias before
/// them: "t shirt" after "t-shirt", "olive" for olives and "jalapeños" for jalapenos
/// tell a reader nothing and cost every call their tokens. Words run together stay
/// ("tshirt", "500ml"): a reader that splits on spaces would not find them.
fn telling<'a>(name: &str, aliases: &'a [String]) -> Vec<&'a str> {
    let mut seen = vec![skeleton(name)];
    let mut kept = Vec::new();
    for alias in aliases {
        let key = skeleton(alias);
        if !seen.contains(&key) {
            seen.push(key);
            kept.push(alias.as_str());
        }
    }
    kept
}

/// A name as a reader compares spellings: accents folded, the words it has, each
/// without a plural "s".
fn skeleton(name: &str) -> Vec<String> {
    let folded: String = name.chars().filter_map(fold_char).collect();
    folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(|word| match word.strip_suffix('s') {
            Some(stem) if stem.len() > 2 => stem.to_owned(),
            _ => word.to_owned(),
        })
        .collect()
}
