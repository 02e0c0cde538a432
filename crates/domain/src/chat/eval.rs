//! The labelled utterances and the harness that scores an extractor against them.
//!
//! A case is a message (or a few turns) and the order lines a careful person would
//! say it amounts to, defaults included. The harness runs each case from an empty
//! draft through extractor and draft and compares the resulting lines with the
//! labels, as a multiset of lines whose choices are sets: order never matters, every
//! quantity and choice does.

use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, Choice};
use crate::chat::draft::{Draft, OrderLine};
use crate::chat::extract::RulesExtractor;
use crate::sku::Sku;

/// One labelled case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Case {
    pub turns: Vec<String>,
    pub lines: Vec<ExpectedLine>,
}

/// A line as CONTRACTS §3 has it, without prices; `name` is for people reading the
/// file and is ignored when comparing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpectedLine {
    pub sku: Sku,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub quantity: u32,
    #[serde(default)]
    pub choices: Vec<Choice>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCase {
    text: Option<String>,
    turns: Option<Vec<String>>,
    lines: Vec<ExpectedLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct CaseError {
    pub line: usize,
    pub message: String,
}

/// Reads a JSONL file of cases; blank lines are skipped, the first bad line is an
/// error naming it.
pub fn parse_cases(jsonl: &str) -> Result<Vec<Case>, CaseError> {
    let mut cases = Vec::new();
    for (n, line) in jsonl.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let error = |message: String| CaseError { line: n + 1, message };
        let raw: RawCase = serde_json::from_str(line).map_err(|e| error(e.to_string()))?;
        let turns = match (raw.text, raw.turns) {
            (Some(text), None) => vec![text],
            (None, Some(turns)) if !turns.is_empty() => turns,
            _ => return Err(error("a case has either \"text\" or a non-empty \"turns\"".into())),
        };
        cases.push(Case { turns, lines: raw.lines });
    }
    Ok(cases)
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    pub total: usize,
    pub exact: usize,
    pub failures: Vec<Failure>,
}

impl Report {
    /// Exact matches as a share of all cases, 0.0 for no cases.
    pub fn accuracy(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.exact as f64 / self.total as f64
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// Index of the case in the input, from 0.
    pub case: usize,
    pub turns: Vec<String>,
    pub expected: Vec<ExpectedLine>,
    pub got: Vec<ExpectedLine>,
}

pub fn run(catalog: &Catalog, extractor: &RulesExtractor, cases: &[Case]) -> Report {
    run_with_progress(catalog, extractor, cases, |_, _| {})
}

/// As [`run`], calling `progress(done, total)` after each case (for a progress bar).
pub fn run_with_progress(
    catalog: &Catalog,
    extractor: &RulesExtractor,
    cases: &[Case],
    mut progress: impl FnMut(usize, usize),
) -> Report {
    let mut report = Report { total: cases.len(), ..Report::default() };
    for (index, case) in cases.iter().enumerate() {
        let got: Vec<ExpectedLine> =
            run_case(catalog, extractor, case).into_iter().map(ExpectedLine::from).collect();
        if same_lines(&case.lines, &got) {
            report.exact += 1;
        } else {
            report.failures.push(Failure {
                case: index,
                turns: case.turns.clone(),
                expected: case.lines.clone(),
                got,
            });
        }
        progress(index + 1, cases.len());
    }
    report
}

/// The order lines a case ends with: each turn is read against the draft as the
/// previous turns left it, and every command is applied whatever its outcome.
pub fn run_case(catalog: &Catalog, extractor: &RulesExtractor, case: &Case) -> Vec<OrderLine> {
    let mut draft = Draft::new();
    for turn in &case.turns {
        let extraction = extractor.extract(turn, &draft.context());
        for command in &extraction.commands {
            draft.apply(catalog, command);
        }
    }
    draft.lines(catalog)
}

impl From<OrderLine> for ExpectedLine {
    fn from(line: OrderLine) -> ExpectedLine {
        ExpectedLine {
            sku: line.sku,
            name: Some(line.name),
            quantity: line.quantity,
            choices: line.choices,
        }
    }
}

/// Lines compared as a multiset; choices within a line as a set.
pub fn same_lines(expected: &[ExpectedLine], got: &[ExpectedLine]) -> bool {
    let mut expected: Vec<_> = expected.iter().map(comparable).collect();
    let mut got: Vec<_> = got.iter().map(comparable).collect();
    expected.sort();
    got.sort();
    expected == got
}

type Comparable = (Sku, u32, Vec<(String, String, Option<String>, bool)>);

fn comparable(line: &ExpectedLine) -> Comparable {
    let mut choices: Vec<_> = line
        .choices
        .iter()
        .map(|c| (c.group.clone(), c.value.clone(), c.qualifier.clone(), c.exclude))
        .collect();
    choices.sort();
    choices.dedup();
    (line.sku.clone(), line.quantity, choices)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(sku: &str, quantity: u32, choices: &[(&str, &str)]) -> ExpectedLine {
        ExpectedLine {
            sku: Sku::parse(sku).unwrap(),
            name: None,
            quantity,
            choices: choices.iter().map(|(g, v)| Choice::new(*g, *v)).collect(),
        }
    }

    #[test]
    fn parses_single_and_multi_turn_cases() {
        let text = r#"{"text": "a coke", "lines": [{"sku": "COKE", "quantity": 1, "choices": []}]}

{"turns": ["a tee", "make it 2"], "lines": [{"sku": "TEE", "name": "tee", "quantity": 2}]}"#;
        let cases = parse_cases(text).unwrap();
        assert_eq!(cases.len(), 2);
        assert_eq!(cases[0].turns, ["a coke"]);
        assert_eq!(cases[1].turns.len(), 2);
    }

    #[test]
    fn bad_lines_are_named() {
        let error = parse_cases("{\"lines\": []}\n").unwrap_err();
        assert_eq!(error.line, 1);
        let error = parse_cases("\n{\"text\": 1, \"lines\": []}").unwrap_err();
        assert_eq!(error.line, 2);
    }

    #[test]
    fn comparison_ignores_order_and_names() {
        let a = [line("TEE", 2, &[("size", "m"), ("color", "black")]), line("COKE", 1, &[])];
        let mut b = [line("COKE", 1, &[]), line("TEE", 2, &[("color", "black"), ("size", "m")])];
        b[0].name = Some("coke".into());
        assert!(same_lines(&a, &b));
        let c = [line("COKE", 1, &[]), line("TEE", 1, &[("color", "black"), ("size", "m")])];
        assert!(!same_lines(&a, &c));
        assert!(!same_lines(&a, &a[..1]));
    }
}
