//! The offline rules extractor: a chat message in, typed [`Command`]s out.
//!
//! Deterministic and catalog-driven, so it works without a network and gives the
//! same answer twice. The stages, each a plain function with its own tests:
//!
//! 1. [`crate::chat::text`]: normalise and tokenize;
//! 2. [`contact`] and [`address`]: set aside emails, phones, order numbers,
//!    addresses and names;
//! 3. [`index`]: find catalog phrases, longest first, forgiving plurals and typos;
//! 4. [`pieces`]: numbers, qualifiers and negations;
//! 5. [`items`]: cut into item mentions, attach quantities and options, decide
//!    between adding and editing;
//! 6. [`intents`]: confirm, cancel, status, returns, a person.
//!
//! The extractor only proposes. It has no command for prices or totals, so text
//! that tries to instruct the system can at most produce what a shopper may ask.

mod address;
mod contact;
mod context;
mod extraction;
mod index;
mod intents;
mod items;
mod numbers;
mod pieces;
mod words;

use crate::catalog::Catalog;
use crate::chat::command::{Command, Span};
use crate::chat::text::{self, tokenize, Token};

pub use address::parse_address;
pub use context::{ContextLine, DraftContext, Resolved};
pub use extraction::{Extraction, Note, NoteCode};

use index::PhraseIndex;
use intents::{find_intents, Confirmation, Intents};
use items::Items;
use pieces::{pieces, Qualifiers};

/// The rules extractor for one catalog. Building it indexes the catalog's phrases;
/// build it once per catalog version and share it: `extract` takes `&self`.
#[derive(Debug, Clone)]
pub struct RulesExtractor {
    catalog: Catalog,
    index: PhraseIndex,
    qualifiers: Qualifiers,
}

impl RulesExtractor {
    pub fn new(catalog: &Catalog) -> RulesExtractor {
        let qualifiers = Qualifiers::new(
            catalog
                .products
                .iter()
                .flat_map(|product| &product.options)
                .flat_map(|group| group.qualifiers.iter().cloned()),
        );
        RulesExtractor { catalog: catalog.clone(), index: PhraseIndex::new(catalog), qualifiers }
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Reads one chat message against the draft as it stands. Never fails: what it
    /// cannot use it leaves out, noting the notable.
    pub fn extract(&self, message: &str, context: &DraftContext) -> Extraction {
        let mut notes = Vec::new();
        let read = text::bounded(message);
        if read.len() < message.len() {
            notes.push(Note::new(NoteCode::Truncated, Span::new(read.len(), message.len())));
        }
        let tokens = tokenize(read);
        let contact = contact::find_contact(read, &tokens, &self.index);
        let intents = find_intents(&tokens);
        if let Some(command) = order_request(&intents, &contact, read) {
            // The email of a status question identifies the order, not a new customer.
            let mut commands = vec![command];
            commands.extend(identify(&contact, false));
            return Extraction { commands, notes };
        }
        let mut commands = if intents.cancel {
            Vec::new()
        } else {
            self.item_commands(&tokens, &contact, context, &mut notes)
        };
        let ordered = commands.iter().any(|command| matches!(command, Command::AddItem(_)));
        commands.extend(identify(&contact, true));
        commands.extend(contact.address.clone().map(Command::SetShippingAddress));
        let has_order = !context.is_empty() || ordered;
        commands.extend(closing(&intents, commands.is_empty(), has_order));
        Extraction { commands, notes }
    }

    /// The products the message names, by index into the catalog, best first: a
    /// product's own name or alias, then products a shared word stands for ("pizza");
    /// only when the message names no product, the products with an option value it
    /// names ("large"). The same phrase
    /// lookup as [`extract`](Self::extract), forgiving plurals and typos; it reads
    /// nothing else and changes nothing about extraction.
    pub fn mentioned_products(&self, message: &str) -> Vec<usize> {
        let tokens = tokenize(text::bounded(message));
        let usable = vec![true; tokens.len()];
        let joined = self.index.join_split_words(&tokens, &usable);
        let (tokens, usable) = match &joined {
            Some((tokens, usable)) => (tokens.as_slice(), usable.as_slice()),
            None => (tokens.as_slice(), usable.as_slice()),
        };
        let mut ranked: Vec<(u8, usize, usize)> = Vec::new();
        for found in self.index.find_phrases(tokens, usable) {
            let phrase = self.index.phrase(found.phrase);
            let rank = match (&phrase.meaning, phrase.strength) {
                (index::Meaning::Products(_), index::Strength::Term) => 0,
                (index::Meaning::Products(_), _) => 1,
                (index::Meaning::Value(_), _) => 2,
            };
            let products: Vec<usize> = match &phrase.meaning {
                index::Meaning::Products(products) => products.clone(),
                index::Meaning::Value(hits) => hits.iter().map(|hit| hit.product).collect(),
            };
            let also = phrase.also_value.iter().map(|hit| hit.product);
            for product in products.into_iter().chain(also) {
                ranked.push((rank, found.start, product));
            }
        }
        ranked.sort();
        // A value ("large", "extra cheese") says which product only when no product is
        // named: otherwise it belongs to the products named.
        if ranked.first().is_some_and(|(rank, _, _)| *rank < 2) {
            ranked.retain(|(rank, _, _)| *rank < 2);
        }
        let mut products: Vec<usize> = Vec::new();
        for (_, _, product) in ranked {
            if !products.contains(&product) {
                products.push(product);
            }
        }
        products
    }

    /// Products for a search the model asked for: those the words name, else names
    /// that look like them ("did you mean").
    pub fn search_products(&self, query: &str) -> Vec<usize> {
        let found = self.mentioned_products(query);
        if found.is_empty() {
            self.index.suggestions(query)
        } else {
            found
        }
    }

    fn item_commands(
        &self,
        tokens: &[Token],
        contact: &contact::Contact,
        context: &DraftContext,
        notes: &mut Vec<Note>,
    ) -> Vec<Command> {
        let mut usable = vec![true; tokens.len()];
        for range in &contact.claimed {
            usable[range.clone()].iter_mut().for_each(|flag| *flag = false);
        }
        let joined = self.index.join_split_words(tokens, &usable);
        let (tokens, usable) = match &joined {
            Some((tokens, usable)) => (tokens.as_slice(), usable.as_slice()),
            None => (tokens, usable.as_slice()),
        };
        let matches = self.index.find_phrases(tokens, usable);
        let pieces = pieces(tokens, usable, &matches, &self.index, &self.qualifiers);
        let items = Items { catalog: &self.catalog, index: &self.index, context };
        items.commands(&pieces, notes).into_iter().map(|(_, command)| command).collect()
    }
}

fn identify(contact: &contact::Contact, with_email: bool) -> Option<Command> {
    let email = contact.email.clone().filter(|_| with_email);
    let any = contact.name.is_some() || email.is_some() || contact.phone.is_some();
    any.then(|| Command::IdentifyCustomer {
        name: contact.name.clone(),
        email,
        phone: contact.phone.clone(),
    })
}

/// "cancel", or a confirmation that has something to confirm: "that's all" with an
/// order, "yes" only when the message says nothing else.
fn closing(intents: &Intents, nothing_else: bool, has_order: bool) -> Option<Command> {
    if intents.cancel {
        return Some(Command::Cancel);
    }
    let confirms = match intents.confirm {
        Confirmation::None => false,
        Confirmation::Explicit => true,
        Confirmation::Closing => has_order,
        Confirmation::Affirmative => nothing_else && has_order,
    };
    confirms.then_some(Command::Confirm)
}

/// Questions about an order already placed, and asking for a person, stand alone:
/// "I want to return the tee" orders no tee.
fn order_request(intents: &Intents, contact: &contact::Contact, message: &str) -> Option<Command> {
    if intents.handoff {
        let reason = intents.handoff_reason.and_then(|(start, end)| message.get(start..end));
        return Some(Command::Handoff { reason: reason.map(str::to_owned) });
    }
    if intents.start_return {
        return Some(Command::StartReturn { order_number: contact.order_number.clone() });
    }
    if intents.payment {
        return Some(Command::PaymentStatus {
            order_number: contact.order_number.clone(),
            email: contact.email.clone(),
        });
    }
    let status = intents.status || (contact.order_number.is_some() && !intents.cancel);
    status.then(|| Command::OrderStatus {
        order_number: contact.order_number.clone(),
        email: contact.email.clone(),
    })
}

#[cfg(test)]
mod tests;
