//! The shop's return policy as data (DESIGN "Returns": policy is data, not code).
//!
//! A shop edits its policy as a JSON file or a table row, without a release, so the
//! file is the only thing between a typo and a customer being told the wrong thing.
//! [`ReturnPolicy::from_json`] therefore refuses unknown fields (a misspelt
//! `auto_aprove_ceiling` must not silently fall back to a default) and reports every
//! problem at once, each with the field it is about, the way the catalog importer does.

use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::catalog::{Problem, MAX_RETURN_DAYS};
use crate::money::Money;

pub const MAX_REASON_CODE_CHARS: usize = 40;
pub const MAX_REASON_LABEL_CHARS: usize = 120;
/// More than this many returns in the limit's period is no longer a limit.
pub const MAX_CUSTOMER_LIMIT_RETURNS: u32 = 1000;

/// The rules the decision engine ([`super::decide`]) applies to every return request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReturnPolicy {
    /// Days a customer has to ask for a return, counted from delivery, or from
    /// confirmation when no delivery date is known. A product's catalog `return_days`
    /// replaces it for that product.
    pub window_days: u32,
    /// The reasons a customer may choose from, in the order the portal shows them.
    pub reasons: Vec<ReturnReason>,
    /// When the items of one request are together worth more than this (minor units,
    /// the catalog's currency), a person looks at them before they are approved.
    pub auto_approve_ceiling: Money,
    pub customer_limit: CustomerLimit,
    /// What the shop offers in exchange for returned goods.
    pub resolutions: Vec<Resolution>,
}

/// One reason from the shop's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReturnReason {
    pub code: ReasonCode,
    /// What the customer reads, e.g. "Too small".
    pub label: String,
    /// Returns for this reason always go to staff review (e.g. `damaged`, where the
    /// shop may want photos or a claim against the carrier).
    pub review: bool,
    /// Kept back from the item's value when it is returned for this reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restocking_fee_percent: Option<u8>,
    /// Whether items returned for this reason go back on sale when they arrive, unless
    /// staff choose otherwise at receipt (`false` for e.g. `damaged`). Default `true`.
    pub restock: bool,
}

/// A customer asking for more than `returns` returns within `days` days goes to
/// review: a handful of returns is normal, a stream of them is worth a look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CustomerLimit {
    pub returns: u32,
    pub days: u32,
}

impl CustomerLimit {
    /// The start of the period to count a customer's earlier returns in: the store
    /// counts the returns requested at or after this instant (not rejected, not
    /// cancelled, not the one being decided) and passes the count to
    /// [`super::decide`].
    pub fn counted_since(&self, now: time::OffsetDateTime) -> time::OffsetDateTime {
        now.checked_sub(time::Duration::days(i64::from(self.days))).unwrap_or(now)
    }
}

/// What the customer gets for returned goods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Resolution {
    Refund,
    Exchange,
    StoreCredit,
}

impl Resolution {
    pub const ALL: [Resolution; 3] =
        [Resolution::Refund, Resolution::Exchange, Resolution::StoreCredit];

    pub fn as_str(self) -> &'static str {
        match self {
            Resolution::Refund => "refund",
            Resolution::Exchange => "exchange",
            Resolution::StoreCredit => "store_credit",
        }
    }

    /// For sentences such as "This shop does not offer an exchange".
    pub fn words(self) -> &'static str {
        match self {
            Resolution::Refund => "a refund",
            Resolution::Exchange => "an exchange",
            Resolution::StoreCredit => "store credit",
        }
    }

    pub fn parse(input: &str) -> Option<Resolution> {
        let wanted = input.trim().to_ascii_lowercase();
        Resolution::ALL.into_iter().find(|resolution| resolution.as_str() == wanted)
    }
}

impl fmt::Display for Resolution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A reason code such as `too_small`: what the API sends and the store keeps, so one
/// spelling per reason (lowercase ASCII letters, digits and `_`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReasonCode(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReasonCodeError {
    #[error("a reason code must not be empty")]
    Empty,
    #[error("a reason code has at most {MAX_REASON_CODE_CHARS} characters, this one has {0}")]
    TooLong(usize),
    #[error(
        "a reason code may contain only letters a-z, digits and '_' (like too_small), not {0:?}"
    )]
    InvalidChar(char),
}

impl ReasonCode {
    /// Trims and lowercases, so `Too_Small ` from a hand-edited file is `too_small`.
    pub fn parse(input: &str) -> Result<ReasonCode, ReasonCodeError> {
        let code = input.trim().to_ascii_lowercase();
        if code.is_empty() {
            return Err(ReasonCodeError::Empty);
        }
        if let Some(bad) =
            code.chars().find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_'))
        {
            return Err(ReasonCodeError::InvalidChar(bad));
        }
        // Only ASCII is left, so bytes are characters.
        if code.len() > MAX_REASON_CODE_CHARS {
            return Err(ReasonCodeError::TooLong(code.len()));
        }
        Ok(ReasonCode(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for ReasonCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ReasonCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        ReasonCode::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A reason as the lookup answer lists it (CONTRACTS §4): `{ "code", "label" }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReasonChoice {
    pub code: ReasonCode,
    pub label: String,
}

/// Why a policy was not loaded: every problem found, each naming its field
/// (`reasons[2].restocking_fee_percent`), so the shop fixes them in one pass.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{}", lines(.problems))]
pub struct PolicyError {
    pub problems: Vec<Problem>,
}

fn lines(problems: &[Problem]) -> String {
    problems.iter().map(Problem::to_string).collect::<Vec<_>>().join("\n")
}

impl ReturnPolicy {
    /// Parses and checks a policy file; nothing partial ever comes out.
    pub fn from_json(text: &str) -> Result<ReturnPolicy, PolicyError> {
        match serde_json::from_str::<RawPolicy>(text) {
            Ok(raw) => check_policy(raw),
            Err(error) => Err(PolicyError { problems: json_problems(text, &error) }),
        }
    }

    /// The policy as a file that [`ReturnPolicy::from_json`] reads back to an equal value.
    pub fn to_json_pretty(&self) -> String {
        // Only strings, integers, booleans and sequences: serialization cannot fail.
        serde_json::to_string_pretty(self).expect("a return policy always serializes to JSON")
    }

    pub fn reason(&self, code: &ReasonCode) -> Option<&ReturnReason> {
        self.reasons.iter().find(|reason| &reason.code == code)
    }

    /// The reasons for the lookup answer and the portal's drop-down, in file order.
    pub fn reason_choices(&self) -> Vec<ReasonChoice> {
        self.reasons
            .iter()
            .map(|reason| ReasonChoice { code: reason.code.clone(), label: reason.label.clone() })
            .collect()
    }

    /// What happens at receipt to an item returned for `reason`, unless staff choose.
    pub fn default_disposition(&self, reason: &ReasonCode) -> super::Disposition {
        match self.reason(reason) {
            Some(reason) if !reason.restock => super::Disposition::Discard,
            _ => super::Disposition::Restock,
        }
    }

    pub fn allows(&self, resolution: Resolution) -> bool {
        self.resolutions.contains(&resolution)
    }
}

/// Runs the same checks as [`ReturnPolicy::from_json`], so a policy stored as JSON (in
/// a database, say) cannot come back in a state the loader would have refused.
impl<'de> Deserialize<'de> for ReturnPolicy {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = RawPolicy::deserialize(deserializer)?;
        check_policy(raw).map_err(serde::de::Error::custom)
    }
}

// Loose mirrors of the file: integers as i64 and codes as strings, so that a negative
// window or a bad code is reported with its field by the checks below instead of as
// serde's first (and only) error. Generic over the children so that, when serde does
// fail, each reason can be re-read on its own to say which one it was.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, bound(deserialize = "R: Deserialize<'de>, L: Deserialize<'de>"))]
struct RawPolicy<R = RawReason, L = RawLimit> {
    window_days: i64,
    // Missing and empty get the same, clearer, message from the checks.
    #[serde(default)]
    reasons: Vec<R>,
    auto_approve_ceiling: i64,
    customer_limit: L,
    #[serde(default)]
    resolutions: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReason {
    code: String,
    label: String,
    #[serde(default)]
    review: bool,
    restocking_fee_percent: Option<i64>,
    #[serde(default = "restock_by_default")]
    restock: bool,
}

fn restock_by_default() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimit {
    returns: i64,
    days: i64,
}

#[derive(Default)]
struct Problems(Vec<Problem>);

impl Problems {
    fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem {
            path: path.into(),
            line: None,
            column: None,
            message: message.into(),
        });
    }
}

/// `value` if it lies in `range`, else a problem at `path` that says the range.
fn bounded(
    value: i64,
    range: std::ops::RangeInclusive<i64>,
    path: &str,
    why: &str,
    problems: &mut Problems,
) -> Option<u32> {
    if range.contains(&value) {
        u32::try_from(value).ok()
    } else {
        // The path goes before the message already; the field's own name reads better.
        let field = path.rsplit('.').next().unwrap_or(path);
        problems.add(
            path,
            format!(
                "{field} must be between {} and {}{why}, not {value}",
                range.start(),
                range.end()
            ),
        );
        None
    }
}

fn check_policy(raw: RawPolicy) -> Result<ReturnPolicy, PolicyError> {
    let mut problems = Problems::default();
    let window_days = bounded(
        raw.window_days,
        1..=i64::from(MAX_RETURN_DAYS),
        "window_days",
        " days",
        &mut problems,
    );

    if raw.reasons.is_empty() {
        problems.add("reasons", "the policy has no reasons; a customer must be able to pick one");
    }
    let mut codes: HashMap<ReasonCode, usize> = HashMap::new();
    let mut reasons = Vec::with_capacity(raw.reasons.len());
    for (i, raw_reason) in raw.reasons.into_iter().enumerate() {
        let at = reason_label(i, &raw_reason.code);
        let code = match ReasonCode::parse(&raw_reason.code) {
            Ok(code) => match codes.get(&code) {
                Some(first) => {
                    problems.add(
                        format!("{at}.code"),
                        format!("{code} is already the code of reasons[{first}]"),
                    );
                    None
                }
                None => {
                    codes.insert(code.clone(), i);
                    Some(code)
                }
            },
            Err(error) => {
                problems.add(format!("{at}.code"), error.to_string());
                None
            }
        };
        let label = raw_reason.label.trim();
        let label_chars = label.chars().count();
        if label.is_empty() {
            problems.add(format!("{at}.label"), "the label must not be empty");
        } else if label_chars > MAX_REASON_LABEL_CHARS {
            problems.add(
                format!("{at}.label"),
                format!(
                    "the label has {label_chars} characters; at most {MAX_REASON_LABEL_CHARS} are allowed"
                ),
            );
        }
        let fee = match raw_reason.restocking_fee_percent {
            None => Some(None),
            Some(percent) => bounded(
                percent,
                0..=100,
                &format!("{at}.restocking_fee_percent"),
                " percent",
                &mut problems,
            )
            .and_then(|percent| u8::try_from(percent).ok())
            .map(Some),
        };
        if let (Some(code), Some(restocking_fee_percent)) = (code, fee) {
            reasons.push(ReturnReason {
                code,
                label: label.to_owned(),
                review: raw_reason.review,
                restocking_fee_percent,
                restock: raw_reason.restock,
            });
        }
    }

    if raw.auto_approve_ceiling < 0 {
        problems.add(
            "auto_approve_ceiling",
            format!(
                "auto_approve_ceiling is in minor units and must not be negative, not {}",
                raw.auto_approve_ceiling
            ),
        );
    }

    let limit_returns = bounded(
        raw.customer_limit.returns,
        1..=i64::from(MAX_CUSTOMER_LIMIT_RETURNS),
        "customer_limit.returns",
        " returns",
        &mut problems,
    );
    let limit_days = bounded(
        raw.customer_limit.days,
        1..=i64::from(MAX_RETURN_DAYS),
        "customer_limit.days",
        " days",
        &mut problems,
    );

    if raw.resolutions.is_empty() {
        problems.add(
            "resolutions",
            "the policy offers no resolution; list at least one of refund, exchange, store_credit",
        );
    }
    let mut resolutions: Vec<Resolution> = Vec::with_capacity(raw.resolutions.len());
    for (i, text) in raw.resolutions.iter().enumerate() {
        match Resolution::parse(text) {
            Some(resolution) if resolutions.contains(&resolution) => {
                problems.add(format!("resolutions[{i}]"), format!("{resolution} is listed twice"))
            }
            Some(resolution) => resolutions.push(resolution),
            None => problems.add(
                format!("resolutions[{i}]"),
                format!("{text:?} is not a resolution: use refund, exchange or store_credit"),
            ),
        }
    }

    match (window_days, limit_returns, limit_days) {
        (Some(window_days), Some(returns), Some(days)) if problems.0.is_empty() => {
            Ok(ReturnPolicy {
                window_days,
                reasons,
                auto_approve_ceiling: Money(raw.auto_approve_ceiling),
                customer_limit: CustomerLimit { returns, days },
                resolutions,
            })
        }
        _ => Err(PolicyError { problems: problems.0 }),
    }
}

/// `reasons[3] (damaged)`: the index finds it in the file, the code in the shop's head.
fn reason_label(index: usize, raw_code: &str) -> String {
    match raw_code.trim() {
        "" => format!("reasons[{index}]"),
        code => format!("reasons[{index}] ({code})"),
    }
}

/// serde stops at the first error and knows only its line and column; re-reading the
/// file as a tree, one reason at a time, says which reason it was.
fn json_problems(text: &str, error: &serde_json::Error) -> Vec<Problem> {
    let line = (error.line() > 0).then_some(error.line());
    let column = (error.line() > 0).then_some(error.column());
    let full = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    let message = full.strip_suffix(&suffix).unwrap_or(&full).to_owned();
    let whole_file = Problem { path: String::new(), line, column, message: message.clone() };
    if error.classify() != serde_json::error::Category::Data {
        return vec![whole_file];
    }
    let Ok(tree) = serde_json::from_str::<Value>(text) else {
        return vec![whole_file];
    };
    let mut located = Problems::default();
    match RawPolicy::<Value, Value>::deserialize(&tree) {
        Err(error) => located.add("", error.to_string()),
        Ok(top) => {
            for (i, reason) in top.reasons.iter().enumerate() {
                if let Err(error) = RawReason::deserialize(reason) {
                    let code = reason.get("code").and_then(Value::as_str).unwrap_or("");
                    located.add(reason_label(i, code), error.to_string());
                }
            }
            if let Err(error) = RawLimit::deserialize(&top.customer_limit) {
                located.add("customer_limit", error.to_string());
            }
        }
    }
    let mut located = located.0;
    match located.iter_mut().find(|problem| problem.message == message) {
        Some(problem) => {
            problem.line = line;
            problem.column = column;
        }
        // Something only the streaming parse sees, such as a field given twice.
        None => located.insert(0, whole_file),
    }
    located
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;

    const DEMO: &str = include_str!("../../../../demo/return-policy.json");

    fn base() -> Value {
        json!({
            "window_days": 30,
            "reasons": [
                { "code": "too_small", "label": "Too small" },
                { "code": "damaged", "label": "Arrived damaged", "review": true },
                { "code": "changed_mind", "label": "Changed my mind",
                  "restocking_fee_percent": 10 }
            ],
            "auto_approve_ceiling": 20000,
            "customer_limit": { "returns": 3, "days": 30 },
            "resolutions": ["refund", "store_credit"]
        })
    }

    fn with(mut tree: Value, pointer: &str, new: Value) -> Value {
        *tree.pointer_mut(pointer).expect(pointer) = new;
        tree
    }

    fn problems(tree: &Value) -> Vec<(String, String)> {
        match ReturnPolicy::from_json(&tree.to_string()) {
            Ok(policy) => panic!("expected problems, got {policy:?}"),
            Err(error) => error.problems.into_iter().map(|p| (p.path, p.message)).collect(),
        }
    }

    fn paths(tree: &Value) -> Vec<String> {
        problems(tree).into_iter().map(|(path, _)| path).collect()
    }

    #[test]
    fn a_good_policy_loads_with_defaults_filled_in() {
        let policy = ReturnPolicy::from_json(&base().to_string()).unwrap();
        assert_eq!(policy.window_days, 30);
        assert_eq!(policy.auto_approve_ceiling, Money(20000));
        assert_eq!(policy.customer_limit, CustomerLimit { returns: 3, days: 30 });
        assert_eq!(policy.resolutions, vec![Resolution::Refund, Resolution::StoreCredit]);
        let too_small = policy.reason(&ReasonCode::parse("too_small").unwrap()).unwrap();
        assert!(!too_small.review, "review defaults to false");
        assert_eq!(too_small.restocking_fee_percent, None);
        let damaged = policy.reason(&ReasonCode::parse("damaged").unwrap()).unwrap();
        assert!(damaged.review);
        assert!(policy.allows(Resolution::Refund));
        assert!(!policy.allows(Resolution::Exchange));
        assert_eq!(
            serde_json::to_value(policy.reason_choices()).unwrap()[0],
            json!({ "code": "too_small", "label": "Too small" })
        );
    }

    #[test]
    fn the_demo_policy_is_what_the_demo_shop_promises() {
        let policy = ReturnPolicy::from_json(DEMO).unwrap();
        assert_eq!(policy.window_days, 30);
        assert_eq!(policy.auto_approve_ceiling, Money(20000));
        assert_eq!(policy.customer_limit, CustomerLimit { returns: 3, days: 30 });
        assert_eq!(policy.resolutions, Resolution::ALL.to_vec());
        let codes: Vec<&str> = policy.reasons.iter().map(|r| r.code.as_str()).collect();
        assert_eq!(
            codes,
            ["too_small", "too_large", "changed_mind", "not_as_described", "damaged", "wrong_item"]
        );
        let reviewed: Vec<&str> =
            policy.reasons.iter().filter(|r| r.review).map(|r| r.code.as_str()).collect();
        assert_eq!(reviewed, ["damaged"]);
        let fees: Vec<(&str, u8)> = policy
            .reasons
            .iter()
            .filter_map(|r| r.restocking_fee_percent.map(|fee| (r.code.as_str(), fee)))
            .collect();
        assert_eq!(fees, [("changed_mind", 10)]);
    }

    #[test]
    fn round_trips_through_json_and_serde() {
        let policy = ReturnPolicy::from_json(DEMO).unwrap();
        assert_eq!(ReturnPolicy::from_json(&policy.to_json_pretty()).unwrap(), policy);
        let value = serde_json::to_value(&policy).unwrap();
        assert_eq!(serde_json::from_value::<ReturnPolicy>(value).unwrap(), policy);
    }

    #[test]
    fn serde_runs_the_same_checks() {
        let bad = with(base(), "/window_days", json!(0));
        assert!(serde_json::from_value::<ReturnPolicy>(bad).is_err());
    }

    #[test]
    fn each_bad_field_is_named() {
        let cases: Vec<(&str, Value, &str, &str)> = vec![
            (
                "/window_days",
                json!(0),
                "window_days",
                "window_days must be between 1 and 3650 days, not 0",
            ),
            ("/window_days", json!(-5), "window_days", "not -5"),
            ("/window_days", json!(4000), "window_days", "not 4000"),
            ("/reasons", json!([]), "reasons", "no reasons"),
            ("/reasons/0/code", json!("too small"), "reasons[0] (too small).code", "not ' '"),
            ("/reasons/0/code", json!(""), "reasons[0].code", "must not be empty"),
            ("/reasons/1/code", json!("Too_Small"), "reasons[1] (Too_Small).code", "already"),
            ("/reasons/0/label", json!("  "), "reasons[0] (too_small).label", "not be empty"),
            (
                "/reasons/0/label",
                json!("x".repeat(121)),
                "reasons[0] (too_small).label",
                "121 characters",
            ),
            (
                "/reasons/2/restocking_fee_percent",
                json!(101),
                "reasons[2] (changed_mind).restocking_fee_percent",
                "restocking_fee_percent must be between 0 and 100 percent, not 101",
            ),
            (
                "/reasons/2/restocking_fee_percent",
                json!(-1),
                "reasons[2] (changed_mind).restocking_fee_percent",
                "not -1",
            ),
            ("/auto_approve_ceiling", json!(-1), "auto_approve_ceiling", "must not be negative"),
            (
                "/customer_limit/returns",
                json!(0),
                "customer_limit.returns",
                "returns must be between 1 and 1000",
            ),
            ("/customer_limit/days", json!(0), "customer_limit.days", "between 1 and 3650"),
            ("/resolutions", json!([]), "resolutions", "no resolution"),
            ("/resolutions/1", json!("cash"), "resolutions[1]", "\"cash\" is not a resolution"),
            ("/resolutions/1", json!("refund"), "resolutions[1]", "refund is listed twice"),
        ];
        for (pointer, value, path, message) in cases {
            let found = problems(&with(base(), pointer, value.clone()));
            assert_eq!(found.len(), 1, "{pointer} = {value}: {found:?}");
            assert_eq!(found[0].0, path, "{pointer} = {value}");
            assert!(found[0].1.contains(message), "{pointer} = {value}: {:?}", found[0].1);
        }
    }

    #[test]
    fn a_problem_reads_as_path_then_message() {
        let tree = with(base(), "/customer_limit/days", json!(0));
        let error = ReturnPolicy::from_json(&tree.to_string()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "customer_limit.days: days must be between 1 and 3650 days, not 0"
        );
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let mut tree = with(base(), "/window_days", json!(0));
        tree = with(tree, "/reasons/0/label", json!(""));
        tree = with(tree, "/reasons/2/restocking_fee_percent", json!(150));
        tree = with(tree, "/customer_limit/days", json!(-1));
        tree = with(tree, "/resolutions/0", json!("cash"));
        assert_eq!(
            paths(&tree),
            [
                "window_days",
                "reasons[0] (too_small).label",
                "reasons[2] (changed_mind).restocking_fee_percent",
                "customer_limit.days",
                "resolutions[0]",
            ]
        );
    }

    #[test]
    fn unknown_and_missing_fields_are_refused_with_where_they_are() {
        let mut misspelt = base();
        let top = misspelt.as_object_mut().unwrap();
        let ceiling = top.remove("auto_approve_ceiling").unwrap();
        top.insert("auto_aprove_ceiling".into(), ceiling);
        let error = ReturnPolicy::from_json(&misspelt.to_string()).unwrap_err();
        assert_eq!(error.problems.len(), 1, "{error}");
        assert!(error.problems[0].message.contains("unknown field `auto_aprove_ceiling`"));
        assert!(error.problems[0].line.is_some());

        let mut extra = base();
        extra["reasons"][1]["photo"] = json!(true);
        let error = ReturnPolicy::from_json(&extra.to_string()).unwrap_err();
        assert_eq!(error.problems[0].path, "reasons[1] (damaged)");
        assert!(error.problems[0].message.contains("unknown field `photo`"));
        assert!(error.problems[0].line.is_some(), "{error}");

        let mut limit = base();
        limit["customer_limit"]["weeks"] = json!(2);
        let error = ReturnPolicy::from_json(&limit.to_string()).unwrap_err();
        assert_eq!(error.problems[0].path, "customer_limit");

        let mut missing = base();
        missing.as_object_mut().unwrap().remove("window_days");
        let error = ReturnPolicy::from_json(&missing.to_string()).unwrap_err();
        assert!(error.to_string().contains("missing field `window_days`"), "{error}");

        let error = ReturnPolicy::from_json("{ \"window_days\": 30, ").unwrap_err();
        assert_eq!(error.problems[0].path, "");
        assert!(error.problems[0].line.is_some());
    }

    #[test]
    fn reason_codes_have_one_spelling() {
        assert_eq!(ReasonCode::parse(" Too_Small ").unwrap().as_str(), "too_small");
        assert_eq!(ReasonCode::parse(""), Err(ReasonCodeError::Empty));
        assert_eq!(ReasonCode::parse("too-small"), Err(ReasonCodeError::InvalidChar('-')));
        assert_eq!(ReasonCode::parse(&"a".repeat(41)), Err(ReasonCodeError::TooLong(41)));
        assert!(serde_json::from_str::<ReasonCode>("\"é\"").is_err());
    }

    #[test]
    fn resolutions_use_the_contract_spelling() {
        for resolution in Resolution::ALL {
            let text = serde_json::to_value(resolution).unwrap();
            assert_eq!(text, json!(resolution.as_str()));
            assert_eq!(Resolution::parse(resolution.as_str()), Some(resolution));
        }
        assert_eq!(Resolution::parse("Store_Credit"), Some(Resolution::StoreCredit));
        assert_eq!(Resolution::parse("cash"), None);
    }

    #[test]
    fn the_limit_counts_back_from_now() {
        let limit = CustomerLimit { returns: 3, days: 30 };
        let now = time::macros::datetime!(2025-03-31 12:00 UTC);
        assert_eq!(limit.counted_since(now), time::macros::datetime!(2025-03-01 12:00 UTC));
    }
}
