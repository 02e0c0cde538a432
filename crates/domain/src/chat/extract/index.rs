//! The catalog as a phrase index: every product name, alias and option value as a
//! sequence of words, found in a message longest match first and forgiving plurals
//! and small typos.
//!
//! Matching runs over tokens rather than characters, so "coke" never matches inside
//! "cokes" by accident and a typo is judged per word. Built once per catalog; a
//! message then costs a hash lookup per word plus, for words the catalog does not
//! know, one edit-distance pass over the catalog's vocabulary.

use std::collections::{HashMap, HashSet};

use crate::catalog::{Catalog, GroupKind};
use crate::chat::text::{term_words, Token, TokenKind};

use super::numbers::{is_number_word, spelled_digits};
use super::words::{COMMON, NEGATIONS, UNITS_OF_MEASURE};

pub type WordId = u32;

/// What a phrase means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Meaning {
    /// A product name or alias (one product), or a word several products share as
    /// their last word ("pizza", "jacket"): all of them, for a clarifying question.
    Products(Vec<usize>),
    /// An option value of one or more products ("large" is a size of many).
    Value(Vec<ValueHit>),
}

/// How much a phrase deserves to win a tie of equal length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Strength {
    /// "pepperoni" for "pepperoni pizza": a guess from the first word of a name.
    Modifier,
    /// "bottle" for "trail bottle": the last word of a name.
    Head,
    Value,
    /// The name or an alias itself.
    Term,
}

/// A value name with every product's hit for it.
pub type NamedValue = (String, Vec<ValueHit>);

/// One product's option value, by index into the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ValueHit {
    pub product: usize,
    pub group: usize,
    pub value: usize,
}

#[derive(Debug, Clone)]
pub struct Phrase {
    pub words: Vec<WordId>,
    pub meaning: Meaning,
    pub strength: Strength,
    /// Option values a product term says by itself: "buffalo wings" are wings with
    /// buffalo sauce.
    pub implied: Vec<ValueHit>,
    /// A product term that is also an option value: "guacamole" the side and the
    /// topping. Which one is meant depends on the words around it.
    pub also_value: Vec<ValueHit>,
}

impl Phrase {
    /// A catalog term as such, saying nothing more.
    fn new(words: Vec<WordId>, meaning: Meaning) -> Phrase {
        Phrase {
            words,
            meaning,
            strength: Strength::Term,
            implied: Vec::new(),
            also_value: Vec::new(),
        }
    }
}

/// A phrase found in a message: tokens `start..end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhraseMatch {
    pub start: usize,
    pub end: usize,
    pub phrase: usize,
    /// Summed edit distance of the typo-corrected words; 0 for an exact match.
    pub cost: u32,
}

#[derive(Debug, Clone, Default)]
pub struct PhraseIndex {
    ids: HashMap<String, WordId>,
    words: Vec<String>,
    /// Plural and singular forms of catalog words.
    variants: HashMap<String, Vec<WordId>>,
    /// Words and variants long enough to be reached by a typo.
    /// By length in characters, so a typo is compared only with words of about its
    /// own length.
    fuzzy_targets: HashMap<usize, Vec<(String, WordId, Letters)>>,
    /// Product names and aliases of two or more words, for abbreviated first words.
    product_phrases: Vec<usize>,
    /// Each product's terms, whole and by last word, for "did you mean".
    suggestion_terms: Vec<(usize, String)>,
    phrases: Vec<Phrase>,
    by_first: HashMap<WordId, Vec<usize>>,
    common: HashSet<&'static str>,
    /// How many words the catalog's own terms use: words interned later are derived
    /// forms ("buffalowings"), which a shopper's two words are not joined into.
    spelled: usize,
    /// Multi-value groups by their name's words, singular and plural ("dips"): each
    /// value name with the products' hits for it, in catalog order.
    multi_groups: HashMap<Vec<String>, Vec<NamedValue>>,
}

impl PhraseIndex {
    pub fn new(catalog: &Catalog) -> PhraseIndex {
        // "skip the cream" is not a typo of "skim": negations are everyday words too.
        let common = COMMON.iter().chain(NEGATIONS).copied().collect();
        let mut index = PhraseIndex { common, ..Default::default() };
        let mut products: HashMap<Vec<WordId>, usize> = HashMap::new();
        let mut values: HashMap<Vec<WordId>, Vec<ValueHit>> = HashMap::new();
        let mut names: Vec<Vec<WordId>> = Vec::with_capacity(catalog.products.len());
        let mut shortened: HashMap<Vec<WordId>, Vec<ValueHit>> = HashMap::new();
        // Each product's and each value's terms: one thing said several ways.
        let mut synonyms: Vec<Vec<Vec<WordId>>> = Vec::new();
        for (p, product) in catalog.products.iter().enumerate() {
            names.push(index.intern_term(&product.name));
            let mut said = Vec::new();
            for term in std::iter::once(&product.name).chain(&product.aliases) {
                let words = index.intern_term(term);
                if !words.is_empty() {
                    said.push(words.clone());
                    products.entry(words).or_insert(p);
                }
            }
            synonyms.push(said);
            for (g, group) in product.options.iter().enumerate() {
                let group_word = term_words(&group.name).pop();
                for (v, value) in group.values.iter().enumerate() {
                    let hit = ValueHit { product: p, group: g, value: v };
                    let mut said = Vec::new();
                    for term in std::iter::once(&value.name).chain(&value.aliases) {
                        let words = index.intern_term(term);
                        said.push(words.clone());
                        // "lunch size" in the size group is also just "lunch".
                        let last = words.last().map(|&w| index.word(w));
                        if words.len() >= 2 && last == group_word.as_deref() {
                            let hits = shortened.entry(words[..words.len() - 1].to_vec());
                            hits.or_default().push(hit);
                        }
                        if !words.is_empty() {
                            let hits = values.entry(words).or_default();
                            if !hits.contains(&hit) {
                                hits.push(hit);
                            }
                        }
                    }
                    synonyms.push(said);
                }
            }
        }
        for (words, mut hits) in shortened {
            if !values.contains_key(&words) && !products.contains_key(&words) {
                hits.dedup();
                values.insert(words, hits);
            }
        }
        index.spelled = index.words.len();
        let value_words: HashSet<WordId> = values.keys().flatten().copied().collect();
        let (heads, modifiers) = index.derived_words(&products, &value_words);
        for (words, p) in index.joined_terms(&products) {
            products.entry(words).or_insert(p);
        }
        synonyms.retain(|said| said.len() >= 2);
        for (words, p) in index.name_variants(&products, &values, &synonyms) {
            products.entry(words).or_insert(p);
        }
        for (words, hits) in index.joined_terms(&values) {
            values.entry(words).or_insert(hits);
        }
        for (words, p) in products {
            let implied = implied_values(&words, &names[p], p, &values);
            let also_value = values.get(&words).cloned().unwrap_or_default();
            let meaning = Meaning::Products(vec![p]);
            index.add_phrase(Phrase { implied, also_value, ..Phrase::new(words, meaning) });
        }
        for (words, hits) in values {
            let phrase = Phrase::new(words, Meaning::Value(hits));
            index.add_phrase(Phrase { strength: Strength::Value, ..phrase });
        }
        for (word, owners) in heads {
            let phrase = Phrase::new(vec![word], Meaning::Products(owners));
            index.add_phrase(Phrase { strength: Strength::Head, ..phrase });
        }
        for (word, p) in modifiers {
            let phrase = Phrase::new(vec![word], Meaning::Products(vec![p]));
            index.add_phrase(Phrase { strength: Strength::Modifier, ..phrase });
        }
        index.add_variants();
        index.multi_groups = multi_groups(catalog);
        index.suggestion_terms = suggestion_terms(catalog);
        index.product_phrases = (0..index.phrases.len())
            .filter(|&id| {
                let phrase = &index.phrases[id];
                phrase.words.len() >= 2
                    && phrase.strength == Strength::Term
                    && matches!(phrase.meaning, Meaning::Products(_))
            })
            .collect();
        index
    }

    pub fn phrase(&self, id: usize) -> &Phrase {
        &self.phrases[id]
    }

    pub fn word(&self, id: WordId) -> &str {
        &self.words[id as usize]
    }

    /// Whether the catalog knows this word in any form, typos aside.
    pub fn knows(&self, word: &str) -> bool {
        self.ids.contains_key(word) || self.variants.contains_key(word)
    }

    /// Whether a word, or a plural or singular of it, is one the catalog's own terms
    /// use: "cheeseburgers" at a shop with a cheeseburger.
    fn spelled_word(&self, word: &str) -> bool {
        let own = |id: &WordId| (*id as usize) < self.spelled;
        self.ids.get(word).is_some_and(own)
            || self.variants.get(word).is_some_and(|ids| ids.iter().any(own))
    }

    /// The one-word option value of these products that starts with `prefix` ("med"
    /// for "medium"), when exactly one does; every product's hits for it.
    pub fn value_starting_with(&self, prefix: &str, products: &[usize]) -> Option<Vec<ValueHit>> {
        let mut found = self.phrases.iter().filter_map(|phrase| match &phrase.meaning {
            Meaning::Value(hits)
                if phrase.words.len() == 1
                    && self.word(phrase.words[0]).len() > prefix.len()
                    && self.word(phrase.words[0]).starts_with(prefix)
                    && hits.iter().any(|hit| products.contains(&hit.product)) =>
            {
                Some(hits)
            }
            _ => None,
        });
        let first = found.next()?;
        found.next().is_none().then(|| first.clone())
    }

    /// The option values named by this number and a unit ("750 ml"), for when the
    /// shopper leaves the unit out.
    pub fn values_by_number(&self, number: &str) -> Vec<ValueHit> {
        let Some(id) = self.ids.get(number) else { return Vec::new() };
        let mut hits: Vec<ValueHit> = self
            .by_first
            .get(id)
            .into_iter()
            .flatten()
            .map(|&p| &self.phrases[p])
            .filter(|phrase| {
                phrase.words.len() == 2
                    && self.word(phrase.words[1]).chars().all(char::is_alphabetic)
            })
            .flat_map(|phrase| match &phrase.meaning {
                Meaning::Value(hits) => hits.clone(),
                Meaning::Products(_) => Vec::new(),
            })
            .collect();
        hits.sort();
        hits.dedup();
        hits
    }

    /// "dips", "toppings" at token `at`: every value of the multi-value groups of that
    /// name, one list of hits per value, and how many tokens the name takes.
    pub fn multi_group_at(&self, tokens: &[Token], at: usize) -> Option<(&[NamedValue], usize)> {
        (1..=2).rev().find_map(|len| {
            let words: Vec<String> =
                tokens.get(at..at + len)?.iter().map(|t| t.text.clone()).collect();
            self.multi_groups.get(&words).map(|values| (values.as_slice(), len))
        })
    }

    pub fn is_common(&self, word: &str) -> bool {
        self.common.contains(word)
    }

    /// An everyday word or one of its forms: "comes" is not a typo of "cokes".
    fn is_everyday(&self, word: &str) -> bool {
        let stems = ["s", "es", "d", "ed", "ing"].iter().filter_map(|end| word.strip_suffix(end));
        self.common.contains(word)
            || is_number_word(word)
            || stems.into_iter().any(|stem| self.common.contains(stem))
    }

    fn intern_term(&mut self, term: &str) -> Vec<WordId> {
        term_words(term).into_iter().map(|word| self.intern(word)).collect()
    }

    fn intern(&mut self, word: String) -> WordId {
        if let Some(id) = self.ids.get(&word) {
            return *id;
        }
        let id = self.words.len() as WordId;
        self.ids.insert(word.clone(), id);
        self.words.push(word);
        id
    }

    fn add_phrase(&mut self, phrase: Phrase) {
        let id = self.phrases.len();
        self.by_first.entry(phrase.words[0]).or_default().push(id);
        self.phrases.push(phrase);
    }

    /// "rootbeer", "glutenfree": shoppers run the words of a term together.
    fn joined_terms<T: Clone + Ord>(
        &mut self,
        terms: &HashMap<Vec<WordId>, T>,
    ) -> Vec<(Vec<WordId>, T)> {
        let mut joined = Vec::new();
        for (words, meaning) in terms {
            if words.len() < 2 {
                continue;
            }
            let text: String = words.iter().map(|&w| self.word(w).to_owned()).collect();
            if text.chars().all(char::is_alphabetic) {
                let id = self.intern(text);
                joined.push((vec![id], meaning.clone()));
            }
        }
        joined.sort();
        joined
    }

    /// Other ways to say a product's name, read off the catalog's own names: an
    /// inner word left out ("chicken bacon ranch", "chai latte"), "n" for "and"
    /// ("steak n cheese"), a first word that several names share left out ("latte"
    /// when the menu has "caffe latte", "caffe mocha" and "caffe americano"), and a
    /// part said the way the catalog says it elsewhere ("chips and guac" when
    /// guacamole is also called guac). Only variants that point at one product and
    /// are no other term.
    fn name_variants(
        &mut self,
        products: &HashMap<Vec<WordId>, usize>,
        values: &HashMap<Vec<WordId>, Vec<ValueHit>>,
        synonyms: &[Vec<Vec<WordId>>],
    ) -> Vec<(Vec<WordId>, usize)> {
        let mut by_first: HashMap<WordId, Vec<(usize, usize)>> = HashMap::new();
        for (s, said) in synonyms.iter().enumerate() {
            for (k, words) in said.iter().enumerate() {
                if let Some(&first) = words.first() {
                    by_first.entry(first).or_default().push((s, k));
                }
            }
        }
        let and = self.intern("and".to_owned());
        let n = self.intern("n".to_owned());
        let single_terms: HashSet<WordId> =
            products.keys().filter(|words| words.len() == 1).map(|words| words[0]).collect();
        let mut sharing: HashMap<WordId, HashSet<usize>> = HashMap::new();
        for (words, &p) in products.iter().filter(|(words, _)| words.len() >= 2) {
            sharing.entry(words[0]).or_default().insert(p);
        }
        let mut found: HashMap<Vec<WordId>, HashSet<usize>> = HashMap::new();
        for (words, &p) in products {
            let mut variants = Vec::new();
            for k in (1..words.len().saturating_sub(1)).filter(|_| words.len() >= 3) {
                let mut shorter = words.clone();
                shorter.remove(k);
                variants.push(shorter);
            }
            if words.contains(&and) {
                variants.push(words.iter().map(|&w| if w == and { n } else { w }).collect());
            }
            for (i, word) in words.iter().enumerate() {
                for &(s, k) in by_first.get(word).into_iter().flatten() {
                    let part = &synonyms[s][k];
                    let end = i + part.len();
                    if part.len() >= words.len() || words.get(i..end) != Some(part.as_slice()) {
                        continue;
                    }
                    for other in synonyms[s].iter().filter(|other| *other != part) {
                        let said = words[..i].iter().chain(other).chain(&words[end..]);
                        variants.push(said.copied().collect());
                    }
                }
            }
            let first = words[0];
            let generic = sharing.get(&first).is_some_and(|owners| owners.len() >= 2)
                && !single_terms.contains(&first);
            if words.len() >= 2 && generic && words[1] != and {
                variants.push(words[1..].to_vec());
            }
            for variant in variants {
                found.entry(variant).or_default().insert(p);
            }
        }
        let mut variants: Vec<(Vec<WordId>, usize)> = found
            .into_iter()
            .filter(|(words, owners)| {
                owners.len() == 1 && !products.contains_key(words) && !values.contains_key(words)
            })
            .filter_map(|(words, owners)| owners.into_iter().next().map(|p| (words, p)))
            .collect();
        variants.sort();
        variants
    }

    /// Words shoppers use for a product without saying its whole name: the last word
    /// ("bottle", or "pizza" for all three pizzas) and a distinctive first word
    /// ("pepperoni"). Words that already are a term, an option value or everyday
    /// English are left alone.
    fn derived_words(
        &self,
        products: &HashMap<Vec<WordId>, usize>,
        value_words: &HashSet<WordId>,
    ) -> (HashMap<WordId, Vec<usize>>, HashMap<WordId, usize>) {
        let single_terms: HashSet<WordId> =
            products.keys().filter(|words| words.len() == 1).map(|words| words[0]).collect();
        let mut heads: HashMap<WordId, Vec<usize>> = HashMap::new();
        let mut firsts: HashMap<WordId, HashSet<usize>> = HashMap::new();
        let mut anywhere: HashMap<WordId, HashSet<usize>> = HashMap::new();
        for (words, &p) in products {
            for word in words {
                anywhere.entry(*word).or_default().insert(p);
            }
            if words.len() < 2 {
                continue;
            }
            let last = words[words.len() - 1];
            let owners = heads.entry(last).or_default();
            if !owners.contains(&p) {
                owners.push(p);
            }
            firsts.entry(words[0]).or_default().insert(p);
        }
        let usable = |word: WordId| {
            let text = self.word(word);
            !single_terms.contains(&word)
                && !value_words.contains(&word)
                && !text.chars().any(|c| c.is_ascii_digit())
                && text.chars().count() >= 3
        };
        // "burger" is also the hamburger and the cheeseburger: a head word that ends
        // another product's last word is theirs too.
        for (word, owners) in heads.iter_mut() {
            let head = self.word(*word);
            for (words, &p) in products {
                let last = self.word(words[words.len() - 1]);
                if last.len() > head.len() && last.ends_with(head) && !owners.contains(&p) {
                    owners.push(p);
                }
            }
        }
        heads.retain(|word, owners| {
            owners.sort_unstable();
            usable(*word)
        });
        let modifiers = firsts
            .into_iter()
            .filter(|(word, owners)| {
                owners.len() == 1
                    && anywhere.get(word).is_some_and(|all| all.len() == 1)
                    && usable(*word)
                    && !heads.contains_key(word)
                    && !self.common.contains(self.word(*word))
                    && self.word(*word).chars().count() >= 4
            })
            .filter_map(|(word, owners)| owners.into_iter().next().map(|p| (word, p)))
            .collect();
        (heads, modifiers)
    }

    fn add_variants(&mut self) {
        for (id, word) in self.words.iter().enumerate() {
            if word.chars().count() < 3 || !word.chars().all(char::is_alphabetic) {
                continue;
            }
            for variant in inflections(word) {
                let ids = self.variants.entry(variant).or_default();
                if !ids.contains(&(id as WordId)) {
                    ids.push(id as WordId);
                }
            }
        }
        let targets = self
            .words
            .iter()
            .enumerate()
            .map(|(id, word)| (word.clone(), id as WordId))
            .chain(
                self.variants
                    .iter()
                    .flat_map(|(word, ids)| ids.iter().map(|id| (word.clone(), *id))),
            )
            .filter(|(word, _)| word.chars().count() >= 4 && word.chars().all(char::is_alphabetic));
        for (word, id) in targets {
            let bucket = self.fuzzy_targets.entry(word.chars().count()).or_default();
            if !bucket.iter().any(|(w, i, _)| *w == word && *i == id) {
                let letters = Letters::of(&word);
                bucket.push((word, id, letters));
            }
        }
        for bucket in self.fuzzy_targets.values_mut() {
            bucket.sort();
        }
    }

    /// "pepper jack" for the catalog's "pepperjack", "cheese burger" for "cheeseburger":
    /// two message words that together spell a word of the catalog's own terms become
    /// that one word (its span covering both). `None` when nothing joins, the common
    /// case, so the message is not copied.
    pub fn join_split_words(
        &self,
        tokens: &[Token],
        usable: &[bool],
    ) -> Option<(Vec<Token>, Vec<bool>)> {
        // One buffer for every pair: this runs on each message.
        let mut both = String::new();
        let mut joins = |i: usize| {
            let (a, b) = (&tokens[i], &tokens[i + 1]);
            let candidate = a.kind == TokenKind::Word
                && b.kind == TokenKind::Word
                && usable[i]
                && usable[i + 1]
                && a.text.len() >= 3
                && b.text.len() >= 3;
            if !candidate {
                return false;
            }
            both.clear();
            both.push_str(&a.text);
            both.push_str(&b.text);
            self.spelled_word(&both)
        };
        let first = (0..tokens.len().saturating_sub(1)).find(|&i| joins(i))?;
        let mut joined = tokens[..first].to_vec();
        let mut flags = usable[..first].to_vec();
        let mut i = first;
        while i < tokens.len() {
            if i + 1 < tokens.len() && joins(i) {
                let (a, b) = (&tokens[i], &tokens[i + 1]);
                let text = format!("{}{}", a.text, b.text);
                joined.push(Token { text, kind: TokenKind::Word, span: a.span.join(b.span) });
                flags.push(true);
                i += 2;
            } else {
                joined.push(tokens[i].clone());
                flags.push(usable[i]);
                i += 1;
            }
        }
        Some((joined, flags))
    }

    /// The catalog words a message word may stand for, with the edit distance it
    /// took: the word itself, a plural or singular form, or the closest words within
    /// one typo (two for long words). Everyday words and short words are never
    /// corrected, since "hold" is not a typo of "cold".
    pub fn word_candidates(&self, token: &str) -> Vec<(WordId, u32)> {
        // "mountain" is a word of "mountain print" and the singular of "mountains".
        let exact = self.ids.get(token).copied().into_iter();
        let inflected = self.variants.get(token).into_iter().flatten().copied();
        let mut found: Vec<(WordId, u32)> = exact.chain(inflected).map(|id| (id, 0)).collect();
        found.dedup();
        if !found.is_empty() {
            return found;
        }
        let length = token.chars().count();
        if length < 4 || self.is_everyday(token) || !token.chars().all(char::is_alphabetic) {
            return Vec::new();
        }
        let limit = if length >= 8 { 2 } else { 1 };
        self.closest(token, limit, 4)
    }

    fn closest(&self, token: &str, limit: usize, min_target_len: usize) -> Vec<(WordId, u32)> {
        let length = token.chars().count();
        let mut best = limit + 1;
        let mut found: Vec<(WordId, u32)> = Vec::new();
        let lengths = length.saturating_sub(limit).max(min_target_len)..=length + limit;
        let nearby = lengths.filter_map(|l| self.fuzzy_targets.get(&l)).flatten();
        let letters = Letters::of(token);
        for (target, id, target_letters) in nearby {
            // Each edit changes at most two letter counts: a cheap bound that skips
            // most of the vocabulary before the real distance is computed.
            if letters.difference(target_letters) > 2 * limit.min(best) {
                continue;
            }
            let distance = strsim::osa_distance(token, target);
            if distance < best {
                best = distance;
                found.clear();
            }
            if distance == best && distance <= limit && !found.iter().any(|(f, _)| f == id) {
                found.push((*id, distance as u32));
            }
        }
        found
    }

    /// Every phrase in the message, leftmost first and longest at each position; a
    /// tie goes to the cheaper correction, then to the stronger kind of phrase.
    pub fn find_phrases(&self, tokens: &[Token], usable: &[bool]) -> Vec<PhraseMatch> {
        // A word said twice is looked up once: typo correction is the costly part.
        let mut seen: HashMap<&str, Vec<(WordId, u32)>> = HashMap::new();
        let candidates: Vec<Vec<(WordId, u32)>> = tokens
            .iter()
            .enumerate()
            .map(|(i, token)| match token.kind {
                TokenKind::Word if usable[i] => {
                    let mut found = seen
                        .entry(token.text.as_str())
                        .or_insert_with(|| self.word_candidates(&token.text))
                        .clone();
                    // "twelve inch" for "12 inch" (see `best_match_at` for when).
                    let digits = spelled_digits(&token.text).and_then(|d| self.ids.get(&d));
                    found.extend(digits.map(|&id| (id, 0)));
                    found
                }
                TokenKind::Number if usable[i] => {
                    self.ids.get(&token.text).map(|id| vec![(*id, 0)]).unwrap_or_default()
                }
                _ => Vec::new(),
            })
            .collect();
        let mut found = Vec::new();
        let mut i = 0;
        while i < tokens.len() {
            match self.best_match_at(i, tokens, usable, &candidates) {
                Some(hit) => {
                    i = hit.end;
                    found.push(hit);
                }
                None => i += 1,
            }
        }
        found
    }

    fn best_match_at(
        &self,
        start: usize,
        tokens: &[Token],
        usable: &[bool],
        candidates: &[Vec<(WordId, u32)>],
    ) -> Option<PhraseMatch> {
        let mut best: Option<(PhraseMatch, Strength)> = None;
        let exact = candidates[start].iter().flat_map(|&(first, cost)| {
            self.by_first.get(&first).into_iter().flatten().map(move |&id| (id, cost))
        });
        let spelled = tokens[start].kind == TokenKind::Word;
        for (id, first_cost) in exact.chain(self.abbreviated_at(start, tokens, usable)) {
            let phrase = &self.phrases[id];
            // A spelled number stands for digits only before a unit said in full:
            // "one l tee" is a tee in L, not "1 l".
            let digits = self.word(phrase.words[0]).chars().all(|c| c.is_ascii_digit());
            let unit = phrase.words.get(1).is_some_and(|&w| self.word(w).len() >= 3);
            if spelled && digits && !unit {
                continue;
            }
            let Some(cost) = self.rest_cost(phrase, start, tokens, usable, candidates) else {
                continue;
            };
            let hit = PhraseMatch {
                start,
                end: start + phrase.words.len(),
                phrase: id,
                cost: cost + first_cost,
            };
            let better = match &best {
                None => true,
                Some((old, old_strength)) => {
                    let new_key = (hit.end, std::cmp::Reverse(hit.cost), phrase.strength);
                    let old_key = (old.end, std::cmp::Reverse(old.cost), *old_strength);
                    new_key > old_key
                }
            };
            if better {
                best = Some((hit, phrase.strength));
            }
        }
        best.map(|(hit, _)| hit)
    }

    /// "pep pizza", "marg pizza": the first word of a product name of two or more
    /// words cut short, at a cost of one, when the rest of the name follows.
    fn abbreviated_at(&self, start: usize, tokens: &[Token], usable: &[bool]) -> Vec<(usize, u32)> {
        let said = &tokens[start];
        let length = said.text.chars().count();
        if said.kind != TokenKind::Word
            || !usable[start]
            || length < 3
            || self.common.contains(said.text.as_str())
            || self.knows(&said.text)
        {
            return Vec::new();
        }
        self.product_phrases
            .iter()
            .copied()
            .filter(|&id| {
                let first = self.word(self.phrases[id].words[0]);
                first.chars().count() > length && first.starts_with(said.text.as_str())
            })
            .map(|id| (id, 1))
            .collect()
    }

    /// The cost of matching the phrase's words after the first, or `None`. Inside a
    /// phrase a three-letter word may also be one letter short ("diet cok"), which
    /// alone would be too loose.
    fn rest_cost(
        &self,
        phrase: &Phrase,
        start: usize,
        tokens: &[Token],
        usable: &[bool],
        candidates: &[Vec<(WordId, u32)>],
    ) -> Option<u32> {
        let mut cost = 0;
        for (k, word) in phrase.words.iter().enumerate().skip(1) {
            let at = start + k;
            if at >= tokens.len() || !usable[at] {
                return None;
            }
            if let Some((_, c)) = candidates[at].iter().find(|(id, _)| id == word) {
                cost += c;
                continue;
            }
            let said = &tokens[at].text;
            let wanted = self.word(*word);
            // "1 liter" for the catalog's "1 l", "16 oz" for "16 ounce": a unit right
            // after digits ("one l tee" is a tee in L).
            if tokens[at - 1].kind == TokenKind::Number && same_unit(said, wanted) {
                continue;
            }
            let near = said.chars().count() == 3
                && wanted.starts_with(said.as_str())
                && wanted.chars().count() == 4
                && !self.common.contains(said.as_str());
            if !near {
                return None;
            }
            cost += 1;
        }
        Some(cost)
    }

    /// Products whose names look like what the shopper typed, for "did you mean".
    pub fn suggestions(&self, said: &str) -> Vec<usize> {
        let said = said.trim();
        if said.is_empty() {
            return Vec::new();
        }
        let mut best: HashMap<usize, f64> = HashMap::new();
        for (p, term) in &self.suggestion_terms {
            let longest = said.chars().count().max(term.chars().count()).max(1);
            let score = 1.0 - strsim::osa_distance(said, term) as f64 / longest as f64;
            let entry = best.entry(*p).or_insert(0.0);
            *entry = entry.max(score);
        }
        let mut scored: Vec<(f64, usize)> = best
            .into_iter()
            .filter(|(_, score)| *score >= 0.6)
            .map(|(p, score)| (score, p))
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        scored.into_iter().take(3).map(|(_, p)| p).collect()
    }
}

/// How often each letter occurs in a word (other characters share one slot).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Letters([u8; 27]);

impl Letters {
    fn of(word: &str) -> Letters {
        let mut counts = [0u8; 27];
        for c in word.chars() {
            let slot = if c.is_ascii_lowercase() { (c as u8 - b'a') as usize } else { 26 };
            counts[slot] = counts[slot].saturating_add(1);
        }
        Letters(counts)
    }

    fn difference(&self, other: &Letters) -> usize {
        self.0.iter().zip(&other.0).map(|(a, b)| usize::from(a.abs_diff(*b))).sum()
    }
}

fn suggestion_terms(catalog: &Catalog) -> Vec<(usize, String)> {
    let mut terms = Vec::new();
    for (p, product) in catalog.products.iter().enumerate() {
        for term in std::iter::once(&product.name).chain(&product.aliases) {
            let mut words = term_words(term);
            terms.push((p, words.join(" ")));
            if let Some(last) = words.pop() {
                terms.push((p, last));
            }
        }
    }
    terms
}

fn multi_groups(catalog: &Catalog) -> HashMap<Vec<String>, Vec<NamedValue>> {
    let mut groups: HashMap<Vec<String>, Vec<NamedValue>> = HashMap::new();
    for (p, product) in catalog.products.iter().enumerate() {
        for (g, group) in product.options.iter().enumerate() {
            if group.kind != GroupKind::Multi {
                continue;
            }
            let words = term_words(&group.name);
            let Some((last, rest)) = words.split_last() else { continue };
            let forms = std::iter::once(last.clone()).chain(inflections(last));
            for form in forms {
                let key: Vec<String> = rest.iter().cloned().chain([form]).collect();
                let values = groups.entry(key).or_default();
                for (v, value) in group.values.iter().enumerate() {
                    let hit = ValueHit { product: p, group: g, value: v };
                    match values.iter_mut().find(|(name, _)| *name == value.name) {
                        Some((_, hits)) => hits.push(hit),
                        None => values.push((value.name.clone(), vec![hit])),
                    }
                }
            }
        }
    }
    groups
}

/// The product's own option values that a term for it contains and its name does
/// not: the alias "buffalo wings" says buffalo sauce, but "meatball marinara" is the
/// name of a sub, and its marinara is no choice the shopper made.
fn implied_values(
    words: &[WordId],
    name: &[WordId],
    product: usize,
    values: &HashMap<Vec<WordId>, Vec<ValueHit>>,
) -> Vec<ValueHit> {
    let contains = |term: &[WordId], part: &[WordId]| {
        part.len() <= term.len() && term.windows(part.len()).any(|w| w == part)
    };
    let mut implied: Vec<ValueHit> = values
        .iter()
        .filter(|(value_words, _)| {
            value_words.len() < words.len()
                && contains(words, value_words)
                && !contains(name, value_words)
        })
        .flat_map(|(_, hits)| hits.iter().filter(|hit| hit.product == product).copied())
        .collect();
    implied.sort_by_key(|hit| (hit.group, hit.value));
    implied.dedup();
    implied
}

/// Whether two words name the same unit of measure, in any of its spellings.
fn same_unit(said: &str, wanted: &str) -> bool {
    UNITS_OF_MEASURE
        .iter()
        .any(|spellings| spellings.contains(&said) && spellings.contains(&wanted) && said != wanted)
}

/// Plural and singular forms a shopper may use for a catalog word.
fn inflections(word: &str) -> Vec<String> {
    let mut forms = vec![format!("{word}s"), format!("{word}es")];
    if let Some(stem) = word.strip_suffix('y') {
        forms.push(format!("{stem}ies"));
    }
    if let Some(stem) = word.strip_suffix("ies") {
        forms.push(format!("{stem}y"));
        forms.push(format!("{stem}ie"));
    }
    if let Some(stem) = word.strip_suffix("es") {
        forms.push(stem.to_owned());
    }
    if let Some(stem) = word.strip_suffix('s').filter(|stem| stem.chars().count() >= 3) {
        forms.push(stem.to_owned());
    }
    forms
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::text::tokenize;
    use crate::testing::demo_catalog;

    fn found(index: &PhraseIndex, message: &str) -> Vec<(String, Meaning)> {
        let tokens = tokenize(message);
        let usable = vec![true; tokens.len()];
        index
            .find_phrases(&tokens, &usable)
            .into_iter()
            .map(|hit| {
                let said: Vec<&str> =
                    tokens[hit.start..hit.end].iter().map(|t| t.text.as_str()).collect();
                (said.join(" "), index.phrase(hit.phrase).meaning.clone())
            })
            .collect()
    }

    fn product_index(catalog: &Catalog, sku: &str) -> usize {
        catalog.products.iter().position(|p| p.sku.as_str() == sku).unwrap()
    }

    #[test]
    fn longest_match_wins() {
        let catalog = demo_catalog();
        let index = PhraseIndex::new(&catalog);
        let diet = product_index(&catalog, "DIET-COKE");
        assert_eq!(
            found(&index, "a diet coke"),
            [("diet coke".into(), Meaning::Products(vec![diet]))]
        );
    }

    #[test]
    fn plurals_and_typos_match() {
        let catalog = demo_catalog();
        let index = PhraseIndex::new(&catalog);
        let tee = product_index(&catalog, "TEE");
        let hoodie = product_index(&catalog, "HOODIE");
        let pep = product_index(&catalog, "PIZZA-PEP");
        let diet = product_index(&catalog, "DIET-COKE");
        assert_eq!(found(&index, "tees")[0].1, Meaning::Products(vec![tee]));
        assert_eq!(found(&index, "hoddie")[0].1, Meaning::Products(vec![hoodie]));
        assert_eq!(found(&index, "hoodies")[0].1, Meaning::Products(vec![hoodie]));
        assert_eq!(found(&index, "peperoni pizzas")[0].1, Meaning::Products(vec![pep]));
        assert_eq!(found(&index, "diet cok")[0].1, Meaning::Products(vec![diet]));
    }

    #[test]
    fn a_shared_last_word_means_every_product_that_has_it() {
        let catalog = demo_catalog();
        let index = PhraseIndex::new(&catalog);
        let Meaning::Products(pizzas) = &found(&index, "pizza")[0].1 else { panic!() };
        assert_eq!(pizzas.len(), 3);
        let bottle = product_index(&catalog, "TRAIL-BOTTLE");
        assert_eq!(found(&index, "bottle")[0].1, Meaning::Products(vec![bottle]));
    }

    #[test]
    fn everyday_words_are_not_corrected() {
        let catalog = demo_catalog();
        let index = PhraseIndex::new(&catalog);
        assert!(found(&index, "hold the sizes please").is_empty());
        assert!(index.word_candidates("hold").is_empty());
        assert!(index.word_candidates("size").is_empty());
    }

    #[test]
    fn option_values_know_every_product_that_has_them() {
        let catalog = demo_catalog();
        let index = PhraseIndex::new(&catalog);
        let Meaning::Value(hits) = &found(&index, "large")[0].1 else { panic!() };
        assert!(hits.len() > 5);
        let Meaning::Value(hits) = &found(&index, "extra large")[0].1 else { panic!() };
        assert!(hits.iter().all(|hit| {
            catalog.products[hit.product].options[hit.group].values[hit.value].name == "xl"
        }));
    }

    #[test]
    fn multi_value_groups_are_known_by_name() {
        let catalog = demo_catalog();
        let index = PhraseIndex::new(&catalog);
        let (values, len) = index.multi_group_at(&tokenize("dips"), 0).unwrap();
        assert_eq!(len, 1);
        let names: Vec<&str> = values.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(names.len(), 3, "{names:?}");
        assert!(index.multi_group_at(&tokenize("dip"), 0).is_some());
        assert!(index.multi_group_at(&tokenize("size"), 0).is_none(), "a single-value group");
    }

    #[test]
    fn suggests_close_products() {
        let catalog = demo_catalog();
        let index = PhraseIndex::new(&catalog);
        let suggested = index.suggestions("hoodey");
        assert_eq!(suggested.first(), Some(&product_index(&catalog, "HOODIE")));
        assert!(index.suggestions("burritos").is_empty());
    }

    #[test]
    fn inflections_go_both_ways() {
        assert!(inflections("tee").contains(&"tees".to_owned()));
        assert!(inflections("socks").contains(&"sock".to_owned()));
        assert!(inflections("hoody").contains(&"hoodies".to_owned()));
        assert!(inflections("box").contains(&"boxes".to_owned()));
    }
}
