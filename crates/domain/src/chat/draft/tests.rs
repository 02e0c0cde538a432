use super::*;
use crate::chat::command::Span;
use crate::testing::demo_catalog;

fn sku(code: &str) -> Sku {
    Sku::parse(code).unwrap()
}

fn add(code: &str, quantity: Option<u32>, choices: &[Choice]) -> Command {
    Command::AddItem(ItemMention {
        product: ProductRef::Known(sku(code)),
        quantity,
        choices: choices.to_vec(),
        span: Span::default(),
    })
}

fn set(target: ItemRef, choices: &[Choice]) -> Command {
    Command::SetChoices { target, choices: choices.to_vec(), span: Span::default() }
}

fn c(group: &str, value: &str) -> Choice {
    Choice::new(group, value)
}

fn no(group: &str, value: &str) -> Choice {
    Choice::excluded(group, value)
}

fn tee(code: &str) -> ItemRef {
    ItemRef::Product(ProductRef::Known(sku(code)))
}

#[test]
fn identical_items_add_up_on_one_line() {
    let catalog = demo_catalog();
    let mut draft = Draft::new();
    draft.apply(&catalog, &add("PIZZA-PEP", Some(2), &[c("size", "large")]));
    // The same pizza, once with its default crust spelled out: still the same line.
    draft.apply(&catalog, &add("PIZZA-PEP", None, &[c("size", "large"), c("crust", "classic")]));
    assert_eq!(draft.raw_lines().len(), 1);
    assert_eq!(draft.raw_lines()[0].quantity, 3);
    draft.apply(&catalog, &add("PIZZA-PEP", None, &[c("size", "small")]));
    assert_eq!(draft.raw_lines().len(), 2);
}

#[test]
fn lines_show_defaults_then_multi_values_then_exclusions_in_catalog_order() {
    let catalog = demo_catalog();
    let mut draft = Draft::new();
    let choices = [
        no("topping", "onions"),
        c("topping", "olives"),
        c("topping", "cheese").with_qualifier("extra"),
        c("size", "large"),
    ];
    draft.apply(&catalog, &add("PIZZA-VEG", Some(2), &choices));
    let lines = draft.lines(&catalog);
    assert_eq!(lines[0].name, "veggie pizza");
    assert_eq!(
        lines[0].choices,
        [
            c("size", "large"),
            c("crust", "classic"),
            c("topping", "cheese").with_qualifier("extra"),
            c("topping", "olives"),
            no("topping", "onions"),
        ]
    );
    let json = serde_json::to_value(&lines[0]).unwrap();
    assert_eq!(json["choices"][0], serde_json::json!({"group": "size", "value": "large"}));
    assert_eq!(json["choices"][2]["qualifier"], "extra");
    assert_eq!(json["choices"][4]["exclude"], true);
    assert!(json.get("unit_price").is_none(), "the draft knows no prices");
}

#[test]
fn single_groups_replace_multi_groups_accumulate_exclusions_remove() {
    let catalog = demo_catalog();
    let mut draft = Draft::new();
    draft.apply(&catalog, &add("PIZZA-PEP", None, &[c("size", "small"), c("topping", "onions")]));
    draft.apply(&catalog, &set(ItemRef::Last, &[c("size", "large"), c("topping", "olives")]));
    draft.apply(&catalog, &set(ItemRef::Last, &[no("topping", "onions")]));
    assert_eq!(
        draft.lines(&catalog)[0].choices,
        [
            c("size", "large"),
            c("crust", "classic"),
            c("topping", "olives"),
            no("topping", "onions")
        ]
    );
    // Asking for an excluded value again takes the exclusion back.
    draft.apply(&catalog, &set(ItemRef::Last, &[c("topping", "onions")]));
    assert!(draft.lines(&catalog)[0].choices.contains(&c("topping", "onions")));
    assert!(!draft.lines(&catalog)[0].choices.iter().any(|choice| choice.exclude));
}

#[test]
fn edits_keep_what_was_not_mentioned() {
    let catalog = demo_catalog();
    let mut draft = Draft::new();
    draft.apply(&catalog, &add("TEE", Some(2), &[c("size", "m"), c("color", "white")]));
    assert!(draft.apply(&catalog, &set(tee("TEE"), &[c("size", "l")])).is_changed());
    assert_eq!(draft.lines(&catalog)[0].choices, [c("size", "l"), c("color", "white")]);
    assert_eq!(draft.lines(&catalog)[0].quantity, 2);
}

#[test]
fn a_missing_required_choice_keeps_the_line_and_asks() {
    let catalog = demo_catalog();
    let mut draft = Draft::new();
    let Applied::Changed { follow_up: Some(question) } =
        draft.apply(&catalog, &add("TEE", None, &[c("color", "black")]))
    else {
        panic!("expected a follow-up question")
    };
    assert_eq!(question.code, IssueCode::Missing);
    assert_eq!(question.question, "Which size would you like for the tee: s, m, l or xl?");
    assert_eq!(question.options, ["s", "m", "l", "xl"]);
    assert_eq!(draft.raw_lines().len(), 1);
    assert!(matches!(draft.apply(&catalog, &Command::Confirm), Applied::NeedsClarification(_)));
    // "two black tees in M" completes the line rather than starting a second one.
    draft.apply(&catalog, &add("TEE", Some(2), &[c("color", "black"), c("size", "m")]));
    assert_eq!(draft.raw_lines().len(), 1);
    assert_eq!(draft.lines(&catalog)[0].quantity, 2);
    assert_eq!(draft.apply(&catalog, &Command::Confirm), Applied::Unchanged);
}

#[test]
fn two_missing_groups_are_asked_together() {
    let catalog = demo_catalog();
    let Applied::Changed { follow_up: Some(question) } =
        Draft::new().apply(&catalog, &add("HOODIE", None, &[]))
    else {
        panic!()
    };
    assert_eq!(
        question.question,
        "Which size and color would you like for the hoodie? Size: s, m, l or xl. Color: black, heather grey or navy."
    );
}

#[test]
fn quantities_outside_one_to_ninety_nine_are_rejected() {
    let catalog = demo_catalog();
    let mut draft = Draft::new();
    for quantity in [0, 100, u32::MAX] {
        let Applied::Rejected(rejection) = draft.apply(&catalog, &add("COKE", Some(quantity), &[]))
        else {
            panic!()
        };
        assert_eq!(rejection.code, IssueCode::QuantityExceeded);
        assert!(rejection.reason.contains("between 1 and 99"), "{}", rejection.reason);
    }
    draft.apply(&catalog, &add("COKE", Some(60), &[]));
    assert!(matches!(draft.apply(&catalog, &add("COKE", Some(60), &[])), Applied::Rejected(_)));
    assert_eq!(draft.raw_lines()[0].quantity, 60);
    let change =
        Command::ChangeQuantity { target: ItemRef::Last, quantity: 0, span: Span::default() };
    assert!(matches!(draft.apply(&catalog, &change), Applied::Rejected(_)));
}

#[test]
fn ambiguous_and_unknown_products_change_nothing() {
    let catalog = demo_catalog();
    let mut draft = Draft::new();
    let pizza = Command::AddItem(ItemMention {
        product: ProductRef::Ambiguous {
            said: "pizza".into(),
            candidates: vec![sku("PIZZA-PEP"), sku("PIZZA-MARG")],
        },
        quantity: None,
        choices: vec![],
        span: Span::default(),
    });
    let Applied::NeedsClarification(question) = draft.apply(&catalog, &pizza) else { panic!() };
    assert_eq!(
        question.question,
        "Which pizza would you like: pepperoni pizza or margherita pizza?"
    );
    let burrito = Command::AddItem(ItemMention {
        product: ProductRef::Unknown { said: "burritos".into(), suggestions: vec![] },
        quantity: Some(2),
        choices: vec![],
        span: Span::default(),
    });
    let Applied::Rejected(rejection) = draft.apply(&catalog, &burrito) else { panic!() };
    assert_eq!(rejection.code, IssueCode::UnknownProduct);
    assert!(draft.is_empty());
}

#[test]
fn choices_the_product_does_not_offer_are_rejected_with_the_allowed_ones() {
    let catalog = demo_catalog();
    let mut draft = Draft::new();
    let Applied::Rejected(rejection) =
        draft.apply(&catalog, &add("TEE", None, &[c("size", "xxl")]))
    else {
        panic!()
    };
    assert_eq!(rejection.reason, "The tee size can be s, m, l or xl, not xxl.");
    let Applied::Rejected(rejection) =
        draft.apply(&catalog, &add("COKE", None, &[c("size", "large")]))
    else {
        panic!()
    };
    assert_eq!(rejection.reason, "The coke has no options to choose.");
    // Aliases and any case are accepted and stored canonically.
    draft.apply(&catalog, &add("TEE", None, &[c("Size", "Large"), c("color", "navy blue")]));
    assert_eq!(draft.lines(&catalog)[0].choices, [c("size", "l"), c("color", "navy")]);
}

#[test]
fn edits_find_their_line_or_say_why_not() {
    let catalog = demo_catalog();
    let mut draft = Draft::new();
    let remove = |code: &str| Command::RemoveItem { target: tee(code), span: Span::default() };
    let Applied::Rejected(rejection) = draft.apply(&catalog, &remove("SOCKS")) else { panic!() };
    assert_eq!(
        (rejection.code, rejection.reason.as_str()),
        (IssueCode::NotInOrder, "Your order has no wool socks.")
    );
    draft.apply(&catalog, &add("TEE", None, &[c("size", "m"), c("color", "black")]));
    draft.apply(&catalog, &add("TEE", None, &[c("size", "l"), c("color", "white")]));
    draft.apply(&catalog, &add("COKE", None, &[]));
    let Applied::NeedsClarification(question) = draft.apply(&catalog, &remove("TEE")) else {
        panic!()
    };
    assert_eq!(question.options, ["1 × tee m, black", "1 × tee l, white"]);
    assert!(draft.apply(&catalog, &remove("COKE")).is_changed());
    assert_eq!(draft.raw_lines().len(), 2);
}

#[test]
fn an_edit_that_makes_two_lines_equal_merges_them() {
    let catalog = demo_catalog();
    let mut draft = Draft::new();
    draft.apply(&catalog, &add("TEE", Some(2), &[c("size", "m"), c("color", "black")]));
    draft.apply(&catalog, &add("TEE", None, &[c("size", "l"), c("color", "black")]));
    draft.apply(&catalog, &set(ItemRef::Last, &[c("size", "m")]));
    assert_eq!(draft.raw_lines().len(), 1);
    assert_eq!(draft.raw_lines()[0].quantity, 3);
}

#[test]
fn customer_and_address_fill_in_field_by_field() {
    let catalog = demo_catalog();
    let mut draft = Draft::new();
    let identify = Command::IdentifyCustomer { name: Some("Ana".into()), email: None, phone: None };
    assert!(draft.apply(&catalog, &identify).is_changed());
    assert_eq!(draft.apply(&catalog, &identify), Applied::Unchanged);
    let email = Command::IdentifyCustomer {
        name: None,
        email: Some("ana@example.com".into()),
        phone: None,
    };
    draft.apply(&catalog, &email);
    assert_eq!(draft.customer.name.as_deref(), Some("Ana"));
    assert_eq!(draft.customer.email.as_deref(), Some("ana@example.com"));
    let street = UncheckedAddress {
        line1: Some("12 Main St".into()),
        city: Some("Springfield".into()),
        ..Default::default()
    };
    draft.apply(&catalog, &Command::SetShippingAddress(street));
    let unit = UncheckedAddress { line2: Some("Apt 4".into()), ..Default::default() };
    draft.apply(&catalog, &Command::SetShippingAddress(unit));
    let address = draft.shipping_address.clone().unwrap();
    assert_eq!(
        (address.line1.as_deref(), address.line2.as_deref()),
        (Some("12 Main St"), Some("Apt 4"))
    );
}

#[test]
fn confirm_needs_a_complete_order_and_cancel_empties_it() {
    let catalog = demo_catalog();
    let mut draft = Draft::new();
    let Applied::Rejected(rejection) = draft.apply(&catalog, &Command::Confirm) else { panic!() };
    assert_eq!(rejection.code, IssueCode::EmptyOrder);
    draft.apply(&catalog, &add("COKE", Some(2), &[]));
    assert_eq!(draft.apply(&catalog, &Command::Confirm), Applied::Unchanged);
    assert!(draft.apply(&catalog, &Command::Cancel).is_changed());
    assert!(draft.is_empty());
    assert_eq!(draft.apply(&catalog, &Command::Handoff { reason: None }), Applied::Unchanged);
}

#[test]
fn remove_moves_the_last_line_pointer() {
    let catalog = demo_catalog();
    let mut draft = Draft::new();
    draft.apply(&catalog, &add("COKE", None, &[]));
    draft.apply(&catalog, &add("COOKIE", None, &[]));
    draft.apply(&catalog, &Command::RemoveItem { target: ItemRef::Last, span: Span::default() });
    let change =
        Command::ChangeQuantity { target: ItemRef::Last, quantity: 4, span: Span::default() };
    draft.apply(&catalog, &change);
    assert_eq!(draft.lines(&catalog)[0].quantity, 4);
    assert_eq!(draft.context().last, Some(0));
}

#[test]
fn a_line_index_names_one_of_two_lines_of_the_same_product() {
    let catalog = demo_catalog();
    let mut draft = Draft::new();
    draft.apply(&catalog, &add("TEE", Some(1), &[c("size", "m"), c("color", "black")]));
    draft.apply(&catalog, &add("TEE", Some(1), &[c("size", "l"), c("color", "white")]));
    let change =
        Command::ChangeQuantity { target: ItemRef::Line(0), quantity: 3, span: Span::default() };
    assert!(draft.apply(&catalog, &change).is_changed());
    assert_eq!((draft.raw_lines()[0].quantity, draft.raw_lines()[1].quantity), (3, 1));
    assert!(draft.apply(&catalog, &set(ItemRef::Line(1), &[c("size", "s")])).is_changed());
    assert!(draft.raw_lines()[1].choices.contains(&c("size", "s")));

    let missing = Command::RemoveItem { target: ItemRef::Line(2), span: Span::default() };
    match draft.apply(&catalog, &missing) {
        Applied::Rejected(rejection) => assert_eq!(rejection.code, IssueCode::NotInOrder),
        other => panic!("{other:?}"),
    }
    assert_eq!(draft.raw_lines().len(), 2);
}
