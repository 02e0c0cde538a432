//! The draft order that chat commands edit, before anyone has priced or reserved it.
//!
//! The draft holds what the shopper asked for in the catalog's own terms: products,
//! quantities and option choices. Stock, customer checks and prices belong to the
//! validator that wraps it; the draft only keeps its lines consistent with the
//! catalog (known values, one value per single group, sane quantities) and says, in
//! words a shopper can read, why a command could not be applied.
//!
//! A line that still lacks a required choice ("a tee" without a size) is kept, and
//! the command that made it answers with a follow-up question: the shopper's next
//! message ("M, black") completes that line instead of starting over. Confirming
//! is refused while any line is incomplete.

use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, Choice, GroupKind, OptionGroup, Product};
use crate::chat::command::{Command, ItemMention, ItemRef, ProductRef};
use crate::chat::extract::{ContextLine, DraftContext};
use crate::orders::{UncheckedAddress, MAX_QUANTITY, MIN_QUANTITY};
use crate::sku::Sku;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    lines: Vec<DraftLine>,
    pub customer: CustomerDetails,
    pub shipping_address: Option<UncheckedAddress>,
    /// The line the conversation last touched: what "that" and "it" mean.
    last: Option<usize>,
}

/// One line as the shopper built it: only the choices they made, defaults are added
/// when the line is shown or compared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftLine {
    pub sku: Sku,
    pub quantity: u32,
    pub choices: Vec<Choice>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerDetails {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// An order line as CONTRACTS §3 shows it, without the prices the validator adds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    pub sku: Sku,
    pub name: String,
    pub quantity: u32,
    pub choices: Vec<Choice>,
}

/// What applying one command did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Applied {
    /// The draft changed; `follow_up` asks for what the changed line still lacks.
    Changed {
        follow_up: Option<Clarification>,
    },
    /// Nothing to change in the draft (a confirmation that may proceed, a question
    /// about another order): the caller acts on it.
    Unchanged,
    /// Nothing changed; the shopper must answer first.
    NeedsClarification(Clarification),
    Rejected(Rejection),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clarification {
    pub code: IssueCode,
    pub question: String,
    /// The answers to choose from: product names or option values.
    pub options: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    pub code: IssueCode,
    pub reason: String,
}

/// The codes of CONTRACTS §2 `messages`, plus two of the draft's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IssueCode {
    AmbiguousProduct,
    UnknownProduct,
    Missing,
    Invalid,
    QuantityExceeded,
    /// An edit names a product the draft does not have.
    NotInOrder,
    EmptyOrder,
}

impl Applied {
    fn changed() -> Applied {
        Applied::Changed { follow_up: None }
    }

    fn rejected(code: IssueCode, reason: impl Into<String>) -> Applied {
        Applied::Rejected(Rejection { code, reason: reason.into() })
    }

    pub fn is_changed(&self) -> bool {
        matches!(self, Applied::Changed { .. })
    }
}

impl Draft {
    pub fn new() -> Draft {
        Draft::default()
    }

    /// A draft holding these lines, e.g. an order's lines carried over from an earlier
    /// chat turn, with `last` the line "that" and "it" mean.
    pub fn from_lines(lines: Vec<DraftLine>, last: Option<usize>) -> Draft {
        let last = last.filter(|&at| at < lines.len());
        Draft { lines, last, ..Draft::default() }
    }

    pub fn raw_lines(&self) -> &[DraftLine] {
        &self.lines
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// What the extractor needs to know about this draft.
    pub fn context(&self) -> DraftContext {
        DraftContext {
            lines: self
                .lines
                .iter()
                .map(|line| ContextLine {
                    sku: line.sku.clone(),
                    quantity: line.quantity,
                    choices: line.choices.clone(),
                })
                .collect(),
            last: self.last,
        }
    }

    /// The lines as CONTRACTS §3 lists them: chosen or defaulted single values, added
    /// multi values, then exclusions, each in catalog order. Lines whose product left
    /// the catalog are shown without choices rather than dropped.
    pub fn lines(&self, catalog: &Catalog) -> Vec<OrderLine> {
        self.lines
            .iter()
            .map(|line| match catalog.product(&line.sku) {
                Some(product) => OrderLine {
                    sku: line.sku.clone(),
                    name: product.name.clone(),
                    quantity: line.quantity,
                    choices: effective_choices(product, &line.choices),
                },
                None => OrderLine {
                    sku: line.sku.clone(),
                    name: line.sku.to_string(),
                    quantity: line.quantity,
                    choices: line.choices.clone(),
                },
            })
            .collect()
    }

    /// The first question still open about a line, if any.
    pub fn missing(&self, catalog: &Catalog) -> Option<Clarification> {
        self.lines.iter().find_map(|line| {
            let product = catalog.product(&line.sku)?;
            missing_question(product, &line.choices)
        })
    }

    pub fn apply(&mut self, catalog: &Catalog, command: &Command) -> Applied {
        match command {
            Command::AddItem(mention) => self.add(catalog, mention),
            Command::ChangeQuantity { target, quantity, .. } => {
                self.change_quantity(catalog, target, *quantity)
            }
            Command::SetChoices { target, choices, .. } => {
                self.set_choices(catalog, target, choices)
            }
            Command::RemoveItem { target, .. } => self.remove(catalog, target),
            Command::IdentifyCustomer { name, email, phone } => self.identify(name, email, phone),
            Command::SetShippingAddress(address) => self.set_address(address),
            Command::Confirm => self.check_confirmable(catalog),
            Command::Cancel => {
                // A draft that is called off has nothing left to keep; the customer's
                // details stay for the next try.
                let had_lines = !self.lines.is_empty();
                self.lines.clear();
                self.last = None;
                if had_lines {
                    Applied::changed()
                } else {
                    Applied::Unchanged
                }
            }
            Command::OrderStatus { .. }
            | Command::PaymentStatus { .. }
            | Command::StartReturn { .. }
            | Command::Handoff { .. } => Applied::Unchanged,
        }
    }

    fn add(&mut self, catalog: &Catalog, mention: &ItemMention) -> Applied {
        let product = match product_for(catalog, &mention.product) {
            Ok(product) => product,
            Err(applied) => return applied,
        };
        let quantity = mention.quantity.unwrap_or(1);
        if let Err(applied) = check_quantity(quantity) {
            return applied;
        }
        let new = match canonical_choices(product, &mention.choices) {
            Ok(choices) => choices,
            Err(applied) => return applied,
        };
        let mut choices = Vec::new();
        apply_choices(product, &mut choices, &new);
        let key = effective_choices(product, &choices);
        let same = self.lines.iter().position(|line| {
            line.sku == product.sku && effective_choices(product, &line.choices) == key
        });
        if let Some(at) = same {
            let total = self.lines[at].quantity.saturating_add(quantity);
            if let Err(applied) = check_quantity(total) {
                return applied;
            }
            self.lines[at].quantity = total;
            self.last = Some(at);
            return self.changed_line(product, at);
        }
        if let Some(at) = self.incomplete_line_for(product, &new) {
            let line = &mut self.lines[at];
            apply_choices(product, &mut line.choices, &new);
            if let Some(restated) = mention.quantity {
                line.quantity = restated;
            }
            self.last = Some(at);
            return self.settle(product, at);
        }
        self.lines.push(DraftLine { sku: product.sku.clone(), quantity, choices });
        self.last = Some(self.lines.len() - 1);
        self.changed_line(product, self.lines.len() - 1)
    }

    /// "a tee" then, after the question, "two black tees in M": the shopper is
    /// completing the line they started, not ordering a second one.
    fn incomplete_line_for(&self, product: &Product, new: &[Choice]) -> Option<usize> {
        if new.is_empty() {
            return None;
        }
        self.lines.iter().rposition(|line| {
            line.sku == product.sku
                && missing_groups(product, &line.choices).next().is_some()
                && new.iter().all(|choice| compatible(product, &line.choices, choice))
        })
    }

    fn change_quantity(&mut self, catalog: &Catalog, target: &ItemRef, quantity: u32) -> Applied {
        if let Err(applied) = check_quantity(quantity) {
            return applied;
        }
        let at = match self.line_for(catalog, target) {
            Ok(at) => at,
            Err(applied) => return applied,
        };
        self.lines[at].quantity = quantity;
        self.last = Some(at);
        Applied::changed()
    }

    fn set_choices(&mut self, catalog: &Catalog, target: &ItemRef, choices: &[Choice]) -> Applied {
        let at = match self.line_for(catalog, target) {
            Ok(at) => at,
            Err(applied) => return applied,
        };
        let Some(product) = catalog.product(&self.lines[at].sku) else {
            return Applied::rejected(IssueCode::UnknownProduct, "That product is no longer sold.");
        };
        let new = match canonical_choices(product, choices) {
            Ok(new) => new,
            Err(applied) => return applied,
        };
        apply_choices(product, &mut self.lines[at].choices, &new);
        self.last = Some(at);
        self.settle(product, at)
    }

    /// After an edit a line may have become equal to another one; two lines for the
    /// same thing are one line with both quantities.
    fn settle(&mut self, product: &Product, at: usize) -> Applied {
        let key = effective_choices(product, &self.lines[at].choices);
        let twin = self.lines.iter().enumerate().position(|(i, line)| {
            i != at && line.sku == product.sku && effective_choices(product, &line.choices) == key
        });
        if let Some(twin) = twin {
            let total = self.lines[twin].quantity.saturating_add(self.lines[at].quantity);
            if total <= MAX_QUANTITY {
                self.lines[twin].quantity = total;
                self.lines.remove(at);
                let twin = if twin > at { twin - 1 } else { twin };
                self.last = Some(twin);
                return self.changed_line(product, twin);
            }
        }
        self.changed_line(product, at)
    }

    fn changed_line(&self, product: &Product, at: usize) -> Applied {
        Applied::Changed { follow_up: missing_question(product, &self.lines[at].choices) }
    }

    fn remove(&mut self, catalog: &Catalog, target: &ItemRef) -> Applied {
        let at = match self.line_for(catalog, target) {
            Ok(at) => at,
            Err(applied) => return applied,
        };
        self.lines.remove(at);
        self.last = match self.last {
            Some(last) if last == at => self.lines.len().checked_sub(1),
            Some(last) if last > at => Some(last - 1),
            other => other,
        };
        Applied::changed()
    }

    fn identify(
        &mut self,
        name: &Option<String>,
        email: &Option<String>,
        phone: &Option<String>,
    ) -> Applied {
        let mut changed = false;
        for (slot, given) in [
            (&mut self.customer.name, name),
            (&mut self.customer.email, email),
            (&mut self.customer.phone, phone),
        ] {
            if let Some(given) = given.as_ref().map(|g| g.trim()).filter(|g| !g.is_empty()) {
                if slot.as_deref() != Some(given) {
                    *slot = Some(given.to_owned());
                    changed = true;
                }
            }
        }
        if changed {
            Applied::changed()
        } else {
            Applied::Unchanged
        }
    }

    /// Fields the message gave replace the old ones; the others stay, so "it's apt 4"
    /// after a full address only adds the apartment.
    fn set_address(&mut self, given: &UncheckedAddress) -> Applied {
        let address = self.shipping_address.get_or_insert_with(UncheckedAddress::default);
        let before = address.clone();
        for (slot, value) in [
            (&mut address.line1, &given.line1),
            (&mut address.line2, &given.line2),
            (&mut address.city, &given.city),
            (&mut address.postal_code, &given.postal_code),
            (&mut address.region, &given.region),
            (&mut address.country, &given.country),
        ] {
            if let Some(value) = value {
                *slot = Some(value.clone());
            }
        }
        if *address == before {
            Applied::Unchanged
        } else {
            Applied::changed()
        }
    }

    fn check_confirmable(&self, catalog: &Catalog) -> Applied {
        if self.lines.is_empty() {
            return Applied::rejected(
                IssueCode::EmptyOrder,
                "Your order is empty: add something first.",
            );
        }
        match self.missing(catalog) {
            Some(question) => Applied::NeedsClarification(question),
            None => Applied::Unchanged,
        }
    }

    /// The line an edit is about.
    fn line_for(&self, catalog: &Catalog, target: &ItemRef) -> Result<usize, Applied> {
        match target {
            ItemRef::Last => self
                .last
                .filter(|&at| at < self.lines.len())
                .or_else(|| self.lines.len().checked_sub(1))
                .ok_or_else(|| {
                    Applied::rejected(
                        IssueCode::NotInOrder,
                        "Your order is empty, so there is nothing to change yet.",
                    )
                }),
            ItemRef::Line(at) if *at < self.lines.len() => Ok(*at),
            ItemRef::Line(at) => Err(Applied::rejected(
                IssueCode::NotInOrder,
                format!(
                    "Your order has no line {at}: its lines are numbered from 0 to {}.",
                    self.lines.len().saturating_sub(1)
                ),
            )),
            ItemRef::Product(product) => {
                let (candidates, said) = match product {
                    ProductRef::Known(sku) => (std::slice::from_ref(sku), name_of(catalog, sku)),
                    ProductRef::Ambiguous { said, candidates } => {
                        (candidates.as_slice(), said.clone())
                    }
                    ProductRef::Unknown { said, .. } => {
                        return Err(Applied::rejected(
                            IssueCode::NotInOrder,
                            format!("Your order has no {said}."),
                        ));
                    }
                };
                let matching: Vec<usize> = (0..self.lines.len())
                    .filter(|&i| candidates.contains(&self.lines[i].sku))
                    .collect();
                match matching.as_slice() {
                    [] => Err(Applied::rejected(
                        IssueCode::NotInOrder,
                        format!("Your order has no {said}."),
                    )),
                    [one] => Ok(*one),
                    many => match self.last.filter(|last| many.contains(last)) {
                        Some(last) => Ok(last),
                        None => {
                            Err(Applied::NeedsClarification(self.which_line(catalog, many, &said)))
                        }
                    },
                }
            }
        }
    }

    fn which_line(&self, catalog: &Catalog, lines: &[usize], said: &str) -> Clarification {
        let options: Vec<String> =
            lines.iter().map(|&i| describe(catalog, &self.lines[i])).collect();
        Clarification {
            code: IssueCode::AmbiguousProduct,
            question: format!("Which {said} do you mean: {}?", or_list(&options)),
            options,
        }
    }
}

fn name_of(catalog: &Catalog, sku: &Sku) -> String {
    catalog.product(sku).map_or_else(|| sku.to_string(), |p| p.name.clone())
}

/// "the 2 black m tee": enough to tell lines of the same product apart.
fn describe(catalog: &Catalog, line: &DraftLine) -> String {
    let Some(product) = catalog.product(&line.sku) else { return line.sku.to_string() };
    let choices: Vec<String> = effective_choices(product, &line.choices)
        .into_iter()
        .map(|c| match (c.exclude, &c.qualifier) {
            (true, Some(q)) => format!("no {q} {}", c.value),
            (true, None) => format!("no {}", c.value),
            (false, _) => c.value,
        })
        .collect();
    let described = if choices.is_empty() {
        product.name.clone()
    } else {
        format!("{} {}", product.name, choices.join(", "))
    };
    format!("{} × {described}", line.quantity)
}

fn product_for<'c>(catalog: &'c Catalog, product: &ProductRef) -> Result<&'c Product, Applied> {
    match product {
        ProductRef::Known(sku) => catalog.product(sku).ok_or_else(|| {
            Applied::rejected(IssueCode::UnknownProduct, format!("Sorry, we don't sell {sku}."))
        }),
        ProductRef::Ambiguous { said, candidates } => {
            let options: Vec<String> = candidates
                .iter()
                .filter_map(|sku| catalog.product(sku))
                .map(|p| p.name.clone())
                .collect();
            Err(Applied::NeedsClarification(Clarification {
                code: IssueCode::AmbiguousProduct,
                question: format!("Which {said} would you like: {}?", or_list(&options)),
                options,
            }))
        }
        ProductRef::Unknown { said, suggestions } => {
            let options: Vec<String> = suggestions
                .iter()
                .filter_map(|sku| catalog.product(sku))
                .map(|p| p.name.clone())
                .collect();
            if options.is_empty() {
                Err(Applied::rejected(
                    IssueCode::UnknownProduct,
                    format!("Sorry, we don't sell \"{said}\"."),
                ))
            } else {
                Err(Applied::NeedsClarification(Clarification {
                    code: IssueCode::UnknownProduct,
                    question: format!(
                        "We don't have \"{said}\". Did you mean {}?",
                        or_list(&options)
                    ),
                    options,
                }))
            }
        }
    }
}

fn check_quantity(quantity: u32) -> Result<(), Applied> {
    if (MIN_QUANTITY..=MAX_QUANTITY).contains(&quantity) {
        Ok(())
    } else {
        Err(Applied::rejected(
            IssueCode::QuantityExceeded,
            format!(
                "The quantity must be between {MIN_QUANTITY} and {MAX_QUANTITY}, not {quantity}."
            ),
        ))
    }
}

/// The choices in the catalog's own spelling, or a rejection naming what the product
/// does offer. Choices may come from an LLM, so nothing is taken on trust.
fn canonical_choices(product: &Product, choices: &[Choice]) -> Result<Vec<Choice>, Applied> {
    choices.iter().map(|choice| canonical_choice(product, choice)).collect()
}

fn canonical_choice(product: &Product, choice: &Choice) -> Result<Choice, Applied> {
    let Some(group) = product.option(&choice.group) else {
        let groups: Vec<String> = product.options.iter().map(|g| g.name.clone()).collect();
        let reason = if groups.is_empty() {
            format!("The {} has no options to choose.", product.name)
        } else {
            format!(
                "The {} has no {}; you can choose {}.",
                product.name,
                choice.group,
                and_list(&groups)
            )
        };
        return Err(Applied::rejected(IssueCode::Invalid, reason));
    };
    let Some(value) = group.value(&choice.value) else {
        return Err(Applied::rejected(
            IssueCode::Invalid,
            format!(
                "The {} {} can be {}, not {}.",
                product.name,
                group.name,
                or_list(&value_names(group)),
                choice.value
            ),
        ));
    };
    // An exclusion may carry a qualifier too: "no extra cheese" leaves out the extra.
    let qualifier = match &choice.qualifier {
        Some(q) => {
            match group.qualifiers.iter().find(|allowed| allowed.eq_ignore_ascii_case(q.trim())) {
                Some(allowed) => Some(allowed.clone()),
                None => {
                    return Err(Applied::rejected(
                        IssueCode::Invalid,
                        format!(
                            "\"{q}\" is not something we can do for the {} {}.",
                            product.name, group.name
                        ),
                    ))
                }
            }
        }
        None => None,
    };
    Ok(Choice {
        group: group.name.clone(),
        value: value.name.clone(),
        qualifier,
        exclude: choice.exclude,
    })
}

/// Single groups hold one value, so a new one replaces the old; multi groups
/// accumulate; an exclusion removes the value and is remembered ("no onions" on a
/// pizza that has onions by recipe).
fn apply_choices(product: &Product, choices: &mut Vec<Choice>, new: &[Choice]) {
    for choice in new {
        let single = product.option(&choice.group).is_some_and(|g| g.kind == GroupKind::Single);
        let same_value = |c: &Choice| c.group == choice.group && c.value == choice.value;
        if single {
            if choice.exclude {
                choices.retain(|c| !same_value(c));
            } else {
                choices.retain(|c| c.group != choice.group);
                choices.push(choice.clone());
            }
        } else {
            choices.retain(|c| !same_value(c));
            choices.push(choice.clone());
        }
    }
}

fn compatible(product: &Product, choices: &[Choice], new: &Choice) -> bool {
    let single = product.option(&new.group).is_some_and(|g| g.kind == GroupKind::Single);
    !single || choices.iter().all(|c| c.group != new.group || c.value == new.value)
}

/// The choices as the order shows them: defaults filled in, catalog order.
fn effective_choices(product: &Product, chosen: &[Choice]) -> Vec<Choice> {
    // Sorted by section (single values, multi values, exclusions), group, value.
    let mut shown: Vec<((u8, usize, usize), Choice)> = Vec::new();
    for (g, group) in product.options.iter().enumerate() {
        let section = |exclude: bool| match (exclude, group.kind) {
            (true, _) => 2,
            (false, GroupKind::Single) => 0,
            (false, GroupKind::Multi) => 1,
        };
        let position =
            |name: &str| group.values.iter().position(|v| v.name == name).unwrap_or(usize::MAX);
        let in_group: Vec<&Choice> = chosen.iter().filter(|c| c.group == group.name).collect();
        for choice in &in_group {
            shown.push(((section(choice.exclude), g, position(&choice.value)), (*choice).clone()));
        }
        let has_value = in_group.iter().any(|c| !c.exclude);
        if group.kind == GroupKind::Single && !has_value {
            if let Some(default) = group.default_value() {
                let choice = Choice::new(group.name.clone(), default.name.clone());
                shown.push(((0, g, position(&default.name)), choice));
            }
        }
    }
    shown.sort_by_key(|(key, _)| *key);
    shown.into_iter().map(|(_, choice)| choice).collect()
}

fn missing_groups<'p>(
    product: &'p Product,
    choices: &'p [Choice],
) -> impl Iterator<Item = &'p OptionGroup> {
    product.options.iter().filter(move |group| {
        group.required
            && group.default.is_none()
            && !choices.iter().any(|c| c.group == group.name && !c.exclude)
    })
}

fn missing_question(product: &Product, choices: &[Choice]) -> Option<Clarification> {
    let missing: Vec<&OptionGroup> = missing_groups(product, choices).collect();
    let question = match missing.as_slice() {
        [] => return None,
        [group] => format!(
            "Which {} would you like for the {}: {}?",
            group.name,
            product.name,
            or_list(&value_names(group))
        ),
        groups => {
            let names: Vec<String> = groups.iter().map(|g| g.name.clone()).collect();
            let lists: Vec<String> = groups
                .iter()
                .map(|g| format!("{}: {}", capitalised(&g.name), or_list(&value_names(g))))
                .collect();
            format!(
                "Which {} would you like for the {}? {}.",
                and_list(&names),
                product.name,
                lists.join(". ")
            )
        }
    };
    Some(Clarification { code: IssueCode::Missing, question, options: value_names(missing[0]) })
}

fn value_names(group: &OptionGroup) -> Vec<String> {
    group.values.iter().map(|v| v.name.clone()).collect()
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

fn joined(items: &[String], last_word: &str) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} {last_word} {last}", init.join(", ")),
    }
}

fn or_list(items: &[String]) -> String {
    joined(items, "or")
}

fn and_list(items: &[String]) -> String {
    joined(items, "and")
}

#[cfg(test)]
mod tests;
