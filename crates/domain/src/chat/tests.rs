//! Fixtures shared by the chat tests, and the tests that run the whole pipeline.

use crate::catalog::Catalog;
use crate::testing::demo_catalog;

pub(crate) const UTTERANCES: &str = include_str!("../../../../eval/utterances.jsonl");

/// Our own small menus of other kinds of shop (`eval/shops/`), each with its
/// labelled utterances: the extractor must read menus it was not written for.
pub(crate) const SHOPS: &[(&str, &str, &str)] = &[
    (
        "sandwich",
        include_str!("../../../../eval/shops/sandwich/catalog.json"),
        include_str!("../../../../eval/shops/sandwich/utterances.jsonl"),
    ),
    (
        "burrito",
        include_str!("../../../../eval/shops/burrito/catalog.json"),
        include_str!("../../../../eval/shops/burrito/utterances.jsonl"),
    ),
    (
        "coffee",
        include_str!("../../../../eval/shops/coffee/catalog.json"),
        include_str!("../../../../eval/shops/coffee/utterances.jsonl"),
    ),
    (
        "burger",
        include_str!("../../../../eval/shops/burger/catalog.json"),
        include_str!("../../../../eval/shops/burger/utterances.jsonl"),
    ),
];

pub(crate) fn shop_catalog(kind: &str) -> Catalog {
    let (_, json, _) = SHOPS.iter().find(|(name, _, _)| *name == kind).expect("a shop we have");
    Catalog::from_json(json).expect("the shop catalog imports")
}

mod pipeline {
    use super::*;
    use crate::chat::eval::{self, parse_cases};
    use crate::chat::extract::RulesExtractor;

    /// The labelled set, end to end. The floor is a ratchet: it sits a little below
    /// what the extractor reaches so that a regression fails here.
    #[test]
    fn labelled_utterances_reach_the_accuracy_floor() {
        const FLOOR: f64 = 0.99;
        let catalog = demo_catalog();
        let extractor = RulesExtractor::new(&catalog);
        let cases = parse_cases(UTTERANCES).expect("the labelled set parses");
        assert!(cases.iter().filter(|c| c.turns.len() == 1).count() >= 300);
        assert!(cases.iter().filter(|c| c.turns.len() > 1).count() >= 30);
        let report = eval::run(&catalog, &extractor, &cases);
        for failure in &report.failures {
            println!("FAIL #{} {:?}", failure.case, failure.turns);
            println!("  expected {}", serde_json::to_string(&failure.expected).unwrap());
            println!("  got      {}", serde_json::to_string(&failure.got).unwrap());
        }
        println!("accuracy {}/{} = {:.3}", report.exact, report.total, report.accuracy());
        assert!(report.accuracy() >= FLOOR, "accuracy {:.3} fell below {FLOOR}", report.accuracy());
    }

    /// Each shop's labelled set, end to end, with a floor a little under what the
    /// extractor reaches.
    #[test]
    fn other_shops_reach_their_floors() {
        const FLOOR: f64 = 0.9;
        for (name, catalog, utterances) in SHOPS {
            let catalog = Catalog::from_json(catalog).expect("the shop catalog imports");
            let extractor = RulesExtractor::new(&catalog);
            let cases = parse_cases(utterances).expect("the shop's labelled set parses");
            let report = eval::run(&catalog, &extractor, &cases);
            for failure in &report.failures {
                println!("FAIL {name} #{} {:?}", failure.case, failure.turns);
                println!("  expected {}", serde_json::to_string(&failure.expected).unwrap());
                println!("  got      {}", serde_json::to_string(&failure.got).unwrap());
            }
            let accuracy = report.accuracy();
            println!("{name}: {}/{} = {accuracy:.3}", report.exact, report.total);
            assert!(accuracy >= FLOOR, "{name}: accuracy {accuracy:.3} fell below {FLOOR}");
        }
    }
}

mod robustness {
    use std::sync::OnceLock;
    use std::time::Instant;

    use proptest::prelude::*;

    use super::*;
    use crate::chat::command::Command;
    use crate::chat::draft::Draft;
    use crate::chat::eval::parse_cases;
    use crate::chat::extract::RulesExtractor;
    use crate::orders::MAX_QUANTITY;

    fn shared() -> &'static (Catalog, RulesExtractor) {
        static SHARED: OnceLock<(Catalog, RulesExtractor)> = OnceLock::new();
        SHARED.get_or_init(|| {
            let catalog = demo_catalog();
            let extractor = RulesExtractor::new(&catalog);
            (catalog, extractor)
        })
    }

    /// Reads the message against a draft that already has a few lines, applies what
    /// comes out, and checks the invariants: no zero quantity is ever proposed and
    /// the draft stays within its bounds.
    fn read_and_apply(message: &str) -> Result<(), TestCaseError> {
        let (catalog, extractor) = shared();
        let mut draft = Draft::new();
        for setup in ["2 black tees in m", "a large pepperoni pizza with olives", "a coke"] {
            for command in extractor.extract(setup, &draft.context()).commands {
                draft.apply(catalog, &command);
            }
        }
        for context in [crate::chat::extract::DraftContext::empty(), draft.context()] {
            let extraction = extractor.extract(message, &context);
            for command in &extraction.commands {
                match command {
                    Command::AddItem(item) => {
                        prop_assert_ne!(item.quantity, Some(0), "{:?}", command)
                    }
                    Command::ChangeQuantity { quantity, .. } => prop_assert_ne!(*quantity, 0),
                    _ => {}
                }
                draft.apply(catalog, command);
            }
            let _ = serde_json::to_string(&extraction).expect("extractions serialize");
        }
        for line in draft.lines(catalog) {
            prop_assert!((1..=MAX_QUANTITY).contains(&line.quantity));
        }
        Ok(())
    }

    fn chatty_words() -> impl Strategy<Value = String> {
        let words = prop::sample::select(vec![
            "a",
            "an",
            "two",
            "3",
            "0",
            "100",
            "x2",
            "2x",
            "and",
            "with",
            "no",
            "without",
            "extra",
            "light",
            "on",
            "the",
            "make",
            "that",
            "it",
            "actually",
            "remove",
            "change",
            "to",
            "one",
            "more",
            "both",
            "tee",
            "tees",
            "pizza",
            "pepperoni",
            "diet",
            "coke",
            "cok",
            "large",
            "black",
            "m",
            "onions",
            "olives",
            "instead",
            "of",
            "swap",
            "for",
            ",",
            ".",
            "?",
            ":",
            "my",
            "name",
            "is",
            "ship",
            "12",
            "main",
            "st",
            "g-100042",
            "a@b.co",
            "cancel",
            "yes",
            "confirm",
            "never",
            "mind",
            "return",
            "human",
            "burritos",
            "half",
            "dozen",
            "couple",
            "pair",
            "pairs",
            "take",
            "off",
            "all",
            "each",
            "same",
            "another",
            "🍕",
        ]);
        prop::collection::vec(words, 0..40).prop_map(|words| words.join(" "))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn any_text_is_read_without_panicking(message in "\\PC{0,300}") {
            read_and_apply(&message)?;
        }

        #[test]
        fn binary_ish_text_is_read_without_panicking(
            bytes in prop::collection::vec(any::<u8>(), 0..3000)
        ) {
            read_and_apply(&String::from_utf8_lossy(&bytes))?;
        }

        #[test]
        fn chat_like_word_salad_is_read_without_panicking(message in chatty_words()) {
            read_and_apply(&message)?;
        }
    }

    #[test]
    fn huge_messages_are_read_without_panicking() {
        read_and_apply(&"two large pepperoni pizzas and a diet coke, ".repeat(10_000)).unwrap();
        read_and_apply(&"9".repeat(100_000)).unwrap();
        read_and_apply(&"\u{0}\u{FFFF}é́́́".repeat(20_000)).unwrap();
    }

    /// Repetitive junk at the length limit costs milliseconds, not seconds: the
    /// pieces that are quadratic in the number of items stay bounded by
    /// [`crate::chat::text::MAX_MESSAGE_BYTES`].
    #[test]
    fn pathological_messages_stay_cheap() {
        let (catalog, extractor) = shared();
        let mut draft = Draft::new();
        for command in extractor
            .extract("2 black tees in m and a large pepperoni", &Draft::new().context())
            .commands
        {
            draft.apply(catalog, &command);
        }
        for message in [
            "large ".repeat(700),
            "a tee large ".repeat(400),
            "one black one white ".repeat(250),
            "2 tees, one black, ".repeat(250),
            "make it a diet coke ".repeat(250),
            "no onions and ".repeat(350),
            "peperonni hoddie burritos ".repeat(200),
            "a, ".repeat(1400),
        ] {
            let started = Instant::now();
            extractor.extract(&message, &draft.context());
            let took = started.elapsed();
            assert!(took.as_millis() < 1000, "{took:?} for {:?}…", &message[..20]);
        }
    }

    /// The extractor runs on every chat turn. Release builds take well under a
    /// millisecond per message; this bound is loose enough for an unoptimised test
    /// build on a busy machine and still catches an accidental blow-up.
    #[test]
    fn extraction_is_fast() {
        let (_, extractor) = shared();
        let cases = parse_cases(UTTERANCES).unwrap();
        let messages: Vec<&str> =
            cases.iter().flat_map(|c| c.turns.iter().map(String::as_str)).collect();
        let context = Draft::new().context();
        let started = Instant::now();
        for message in &messages {
            extractor.extract(message, &context);
        }
        let per_message = started.elapsed() / messages.len() as u32;
        println!("{} messages, {per_message:?} per message", messages.len());
        assert!(per_message.as_millis() < 20, "{per_message:?} per message");
    }
}
