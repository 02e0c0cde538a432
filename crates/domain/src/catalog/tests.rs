use proptest::prelude::*;
use serde_json::{json, Value};

use super::*;

fn tee() -> Value {
    json!({
        "sku": "TEE",
        "name": "tee",
        "aliases": ["t-shirt", "tshirt"],
        "price": 2500,
        "stock": 50,
        "category": "Apparel",
        "options": [
            { "name": "size", "kind": "single", "required": true,
              "values": [ { "name": "s", "aliases": ["small"] },
                          { "name": "m", "aliases": ["medium"] },
                          { "name": "l", "aliases": ["large"] } ] },
            { "name": "color", "kind": "single",
              "values": [ { "name": "black", "stock": 3 }, { "name": "white" } ] }
        ]
    })
}

fn pizza() -> Value {
    json!({
        "sku": "PIZZA-PEP",
        "name": "pepperoni pizza",
        "price": 1400,
        "category": "Kitchen",
        "final_sale": true,
        "options": [
            { "name": "size", "kind": "single", "default": "medium",
              "values": [ { "name": "small", "price_delta": -300 },
                          { "name": "medium" },
                          { "name": "large", "price_delta": 400 } ] },
            { "name": "topping", "kind": "multi", "qualifiers": ["extra", "light"],
              "values": [ { "name": "cheese", "price_delta": 150 },
                          { "name": "onions", "aliases": ["onion"] } ] }
        ]
    })
}

fn socks() -> Value {
    json!({ "sku": "SOCKS", "name": "wool socks", "aliases": ["socks"], "price": 1800,
            "category": "Apparel" })
}

fn catalog_of(products: Vec<Value>) -> Value {
    json!({ "currency": "USD", "products": products })
}

fn base() -> Value {
    catalog_of(vec![tee(), pizza(), socks()])
}

/// Sets (or adds) the member or element at a JSON pointer.
fn set(mut tree: Value, pointer: &str, new: Value) -> Value {
    let (parent, key) = pointer.rsplit_once('/').expect("a pointer with a slash");
    match tree.pointer_mut(parent).expect(parent) {
        Value::Object(members) => {
            members.insert(key.to_owned(), new);
        }
        Value::Array(elements) => elements[key.parse::<usize>().expect("an index")] = new,
        other => panic!("{parent} is {other}, not an object or array"),
    }
    tree
}

fn remove(mut tree: Value, pointer: &str) -> Value {
    let (parent, key) = pointer.rsplit_once('/').expect("a pointer with a slash");
    tree.pointer_mut(parent).and_then(Value::as_object_mut).expect(parent).remove(key).expect(key);
    tree
}

fn problems(text: &str) -> Vec<(String, String)> {
    match Catalog::from_json(text) {
        Ok(catalog) => panic!("expected problems, got {catalog:?}"),
        Err(error) => {
            error.problems.into_iter().map(|problem| (problem.path, problem.message)).collect()
        }
    }
}

fn problems_in(tree: &Value) -> Vec<(String, String)> {
    problems(&tree.to_string())
}

fn one(path: &str, message: &str) -> Vec<(String, String)> {
    vec![(path.to_owned(), message.to_owned())]
}

fn parse(tree: &Value) -> Catalog {
    Catalog::from_json(&tree.to_string()).expect("a valid catalog")
}

#[test]
fn the_contract_example_imports_with_its_defaults() {
    let text = r#"{
      "currency": "USD",
      "products": [
        {
          "sku": "PIZZA",
          "name": "pizza",
          "aliases": ["pie", "pizzas"],
          "price": 1200,
          "stock": null,
          "final_sale": false,
          "return_days": null,
          "options": [
            { "name": "size", "kind": "single", "required": false, "default": "medium",
              "values": [ { "name": "small",  "aliases": ["personal"], "price_delta": -200 },
                          { "name": "medium" },
                          { "name": "large",  "price_delta": 300, "stock": 40 } ] },
            { "name": "topping", "kind": "multi", "qualifiers": ["extra", "light"],
              "values": [ { "name": "ham" }, { "name": "onions", "aliases": ["onion"] } ] }
          ]
        }
      ]
    }"#;
    let catalog = Catalog::from_json(text).expect("the contract's own example");
    assert_eq!(catalog.currency.as_str(), "USD");
    let pizza = &catalog.products[0];
    assert_eq!(pizza.sku.as_str(), "PIZZA");
    assert_eq!(pizza.price, Money(1200));
    assert_eq!(pizza.stock, None);
    assert!(!pizza.final_sale);
    let size = pizza.option("SIZE").expect("size group");
    assert_eq!(size.kind, GroupKind::Single);
    assert_eq!(size.default.as_deref(), Some("medium"));
    assert_eq!(size.value("personal").map(|v| v.price_delta), Some(Money(-200)));
    assert_eq!(size.value("large").and_then(|v| v.stock), Some(40));
    let topping = pizza.option("topping").expect("topping group");
    assert_eq!(topping.kind, GroupKind::Multi);
    assert!(!topping.required);
    assert_eq!(topping.qualifiers, ["extra", "light"]);
    assert_eq!(topping.value("ham").map(|v| v.price_delta), Some(Money::ZERO));
}

#[test]
fn absent_fields_take_their_defaults() {
    let catalog = parse(&catalog_of(vec![json!({ "sku": "x", "name": "thing", "price": 0 })]));
    let product = &catalog.products[0];
    assert_eq!(product.sku.as_str(), "X");
    assert!(product.aliases.is_empty());
    assert_eq!(product.stock, None);
    assert!(!product.final_sale);
    assert_eq!(product.return_days, None);
    assert_eq!(product.category, None);
    assert_eq!(product.description, None);
    assert!(product.options.is_empty());
}

#[test]
fn texts_are_trimmed_and_a_default_named_by_alias_becomes_canonical() {
    let tree = set(base(), "/products/0/name", json!("  tee \n"));
    let tree = set(tree, "/products/1/options/0/default", json!(" MEDIUM "));
    let tree = set(tree, "/products/0/options/0/default", json!("Large"));
    let catalog = parse(&tree);
    assert_eq!(catalog.products[0].name, "tee");
    assert_eq!(catalog.products[0].options[0].default.as_deref(), Some("l"));
    assert_eq!(catalog.products[1].options[0].default.as_deref(), Some("medium"));
}

#[test]
fn a_syntax_error_gives_line_and_column() {
    let text = "{\n  \"currency\": \"USD\"\n  \"products\": []\n}";
    let error = Catalog::from_json(text).unwrap_err();
    assert_eq!(error.problems.len(), 1);
    let problem = &error.problems[0];
    assert_eq!(problem.path, "");
    assert_eq!((problem.line, problem.column), (Some(3), Some(3)));
    assert_eq!(problem.message, "expected `,` or `}`");
    assert_eq!(error.to_string(), "line 3, column 3: expected `,` or `}`");
}

#[test]
fn an_empty_file_is_a_syntax_error() {
    let error = Catalog::from_json("").unwrap_err();
    assert_eq!(error.problems[0].message, "EOF while parsing a value");
}

#[test]
fn a_type_error_names_the_product_and_keeps_line_and_column() {
    let text = "{\"currency\": \"USD\", \"products\": [\n  {\"sku\": \"TEE\", \"name\": \"tee\",\n   \"price\": \"25\"}\n]}";
    let error = Catalog::from_json(text).unwrap_err();
    assert_eq!(
        error.problems,
        vec![Problem {
            path: "products[0] (TEE)".into(),
            line: Some(3),
            column: Some(16),
            message: "invalid type: string \"25\", expected i64".into(),
        }]
    );
    assert_eq!(
        error.to_string(),
        "products[0] (TEE) (line 3, column 16): invalid type: string \"25\", expected i64"
    );
}

#[test]
fn a_misspelt_field_is_rejected_not_ignored() {
    let tree = set(base(), "/products/2/prcie", json!(1800));
    let error = Catalog::from_json(&serde_json::to_string_pretty(&tree).unwrap()).unwrap_err();
    assert_eq!(error.problems.len(), 1);
    let problem = &error.problems[0];
    assert_eq!(problem.path, "products[2] (SOCKS)");
    assert!(
        problem.message.starts_with("unknown field `prcie`, expected one of"),
        "{}",
        problem.message
    );
    assert!(problem.line.is_some());
}

#[test]
fn misspelt_fields_deep_inside_are_all_located() {
    let tree = set(base(), "/products/0/options/1/values/1/stok", json!(3));
    let tree = set(tree, "/products/1/options/1/qualifier", json!(["extra"]));
    let found = problems_in(&tree);
    let paths: Vec<&str> = found.iter().map(|(path, _)| path.as_str()).collect();
    assert_eq!(
        paths,
        ["products[0] (TEE).options[1].values[1]", "products[1] (PIZZA-PEP).options[1]"]
    );
    assert!(found[0].1.starts_with("unknown field `stok`"));
    assert!(found[1].1.starts_with("unknown field `qualifier`"));
}

#[test]
fn an_unknown_top_level_field_is_rejected() {
    let tree = set(base(), "/currncy", json!("USD"));
    let found = problems_in(&tree);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].0, "");
    assert!(found[0].1.starts_with("unknown field `currncy`"));
}

#[test]
fn a_bad_group_kind_is_a_type_error() {
    let tree = set(base(), "/products/1/options/1/kind", json!("mult"));
    assert_eq!(
        problems_in(&tree),
        one(
            "products[1] (PIZZA-PEP).options[1]",
            "unknown variant `mult`, expected `single` or `multi`"
        )
    );
}

#[test]
fn negative_stock_is_a_type_error() {
    let tree = set(base(), "/products/0/stock", json!(-1));
    let found = problems_in(&tree);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].0, "products[0] (TEE)");
}

#[test]
fn a_field_given_twice_is_reported_for_the_file() {
    let text = r#"{"currency": "USD", "currency": "EUR", "products": []}"#;
    let error = Catalog::from_json(text).unwrap_err();
    assert_eq!(error.problems.len(), 1);
    assert_eq!(error.problems[0].message, "duplicate field `currency`");
    assert_eq!(error.problems[0].line, Some(1));
}

#[test]
fn the_currency_must_be_a_code() {
    let tree = set(base(), "/currency", json!("dollars"));
    assert_eq!(
        problems_in(&tree),
        one(
            "currency",
            "\"dollars\" is not a currency code: expected three letters such as \"USD\""
        )
    );
}

#[test]
fn a_catalog_needs_a_product() {
    let expected = one("products", "the catalog has no products; it needs at least one");
    assert_eq!(problems_in(&catalog_of(vec![])), expected);
    assert_eq!(problems(r#"{"currency": "USD"}"#), expected);
}

#[test]
fn skus_must_be_valid() {
    let tree = set(base(), "/products/2/sku", json!("wool socks"));
    assert_eq!(
        problems_in(&tree),
        one(
            "products[2] (wool socks).sku",
            "a SKU may contain only letters A-Z, digits, '-' and '_', not ' '"
        )
    );
    let tree = set(base(), "/products/2/sku", json!(" "));
    assert_eq!(problems_in(&tree), one("products[2].sku", "a SKU must not be empty"));
}

#[test]
fn skus_must_be_unique_after_normalising() {
    let tree = set(base(), "/products/2/sku", json!("tee"));
    assert_eq!(
        problems_in(&tree),
        one("products[2] (tee).sku", "SKU TEE is already used by products[0] (TEE)")
    );
}

#[test]
fn names_must_be_present_and_short() {
    let tree = set(base(), "/products/0/name", json!("   "));
    assert_eq!(problems_in(&tree), one("products[0] (TEE).name", "the name must not be empty"));
    let tree = set(base(), "/products/0/name", json!("é".repeat(121)));
    assert_eq!(
        problems_in(&tree),
        one("products[0] (TEE).name", "the name has 121 characters; at most 120 are allowed")
    );
    parse(&set(base(), "/products/0/name", json!("é".repeat(120))));
}

#[test]
fn a_name_or_alias_may_not_name_two_products() {
    let tree = set(base(), "/products/2/aliases", json!(["socks", "T-Shirt"]));
    assert_eq!(
        problems_in(&tree),
        one(
            "products[2] (SOCKS).aliases[1]",
            "\"T-Shirt\" is also an alias of products[0] (TEE), so a shopper could not tell the two products apart"
        )
    );
    let tree = set(base(), "/products/2/name", json!("Pepperoni  Pizza"));
    assert_eq!(
        problems_in(&tree),
        one(
            "products[2] (SOCKS).name",
            "\"Pepperoni  Pizza\" is also the name of products[1] (PIZZA-PEP), so a shopper could not tell the two products apart"
        )
    );
}

#[test]
fn a_product_may_repeat_its_own_name_as_an_alias() {
    parse(&set(base(), "/products/2/aliases", json!(["socks", "Wool Socks"])));
}

#[test]
fn aliases_must_not_be_empty() {
    let tree = set(base(), "/products/0/aliases", json!(["t-shirt", ""]));
    assert_eq!(
        problems_in(&tree),
        one("products[0] (TEE).aliases[1]", "an alias must not be empty")
    );
}

#[test]
fn prices_are_bounded() {
    let tree = set(base(), "/products/2/price", json!(-1));
    assert_eq!(
        problems_in(&tree),
        one(
            "products[2] (SOCKS).price",
            "the price must be between 0 and 100000000 minor units, not -1"
        )
    );
    let tree = set(base(), "/products/2/price", json!(100_000_001));
    assert_eq!(problems_in(&tree)[0].0, "products[2] (SOCKS).price");
    parse(&set(base(), "/products/2/price", json!(100_000_000)));
    parse(&set(base(), "/products/2/price", json!(0)));
}

#[test]
fn an_enormous_price_does_not_overflow_the_checks() {
    let tree = set(base(), "/products/1/price", json!(i64::MAX));
    let found = problems_in(&tree);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].0, "products[1] (PIZZA-PEP).price");
}

#[test]
fn return_days_are_bounded() {
    let tree = set(base(), "/products/0/return_days", json!(3651));
    assert_eq!(
        problems_in(&tree),
        one(
            "products[0] (TEE).return_days",
            "return_days must be at most 3650 (ten years), not 3651"
        )
    );
    let catalog = parse(&set(base(), "/products/0/return_days", json!(3650)));
    assert_eq!(catalog.products[0].return_days, Some(3650));
}

#[test]
fn category_and_description_must_not_be_empty_or_long() {
    let tree = set(base(), "/products/0/category", json!(""));
    assert_eq!(
        problems_in(&tree),
        one("products[0] (TEE).category", "the category must not be empty")
    );
    let tree = set(base(), "/products/0/description", json!("x".repeat(501)));
    assert_eq!(
        problems_in(&tree),
        one(
            "products[0] (TEE).description",
            "the description has 501 characters; at most 500 are allowed"
        )
    );
    let catalog = parse(&set(base(), "/products/0/description", json!("x".repeat(500))));
    assert_eq!(catalog.products[0].description.as_ref().map(String::len), Some(500));
}

#[test]
fn group_names_must_be_present_and_unique() {
    let tree = set(base(), "/products/0/options/1/name", json!("Size"));
    assert_eq!(
        problems_in(&tree),
        one(
            "products[0] (TEE).options[1].name",
            "\"Size\" is already the name of options[0]; each group in a product needs its own name"
        )
    );
    let tree = set(base(), "/products/0/options/1/name", json!(""));
    assert_eq!(
        problems_in(&tree),
        one("products[0] (TEE).options[1].name", "a group name must not be empty")
    );
}

#[test]
fn a_group_needs_values() {
    let expected = one("products[0] (TEE).options[1].values", "a group needs at least one value");
    assert_eq!(problems_in(&set(base(), "/products/0/options/1/values", json!([]))), expected);
    assert_eq!(problems_in(&remove(base(), "/products/0/options/1/values")), expected);
}

#[test]
fn value_names_and_aliases_are_unique_within_a_group() {
    let tree = set(base(), "/products/0/options/0/values/2/name", json!("S"));
    assert_eq!(
        problems_in(&tree),
        one(
            "products[0] (TEE).options[0].values[2].name",
            "\"S\" already names values[0] (s) in this group"
        )
    );
    let tree = set(base(), "/products/0/options/0/values/2/aliases", json!(["large", "Medium"]));
    assert_eq!(
        problems_in(&tree),
        one(
            "products[0] (TEE).options[0].values[2].aliases[1]",
            "\"Medium\" already names values[1] (m) in this group"
        )
    );
    let tree = set(base(), "/products/0/options/0/values/2/name", json!(""));
    assert_eq!(
        problems_in(&tree),
        one("products[0] (TEE).options[0].values[2].name", "a value name must not be empty")
    );
}

#[test]
fn the_same_value_name_is_fine_in_different_groups_and_products() {
    let tree = set(base(), "/products/0/options/1/values/0/name", json!("l"));
    let catalog = parse(&tree);
    assert_eq!(catalog.products[0].options[1].values[0].name, "l");
}

#[test]
fn a_default_must_name_a_value() {
    let tree = set(base(), "/products/0/options/0/default", json!("xl"));
    assert_eq!(
        problems_in(&tree),
        one(
            "products[0] (TEE).options[0].default",
            "\"xl\" is not one of the group's values: s, m, l"
        )
    );
}

#[test]
fn only_single_groups_have_a_default() {
    let tree = set(base(), "/products/1/options/1/default", json!("cheese"));
    assert_eq!(
        problems_in(&tree),
        one(
            "products[1] (PIZZA-PEP).options[1].default",
            "only a single group can have a default, and this one is multi"
        )
    );
}

#[test]
fn only_multi_groups_have_qualifiers() {
    let tree = set(base(), "/products/0/options/0/qualifiers", json!(["extra"]));
    assert_eq!(
        problems_in(&tree),
        one(
            "products[0] (TEE).options[0].qualifiers",
            "only a multi group can have qualifiers, and this one is single"
        )
    );
    let tree = set(base(), "/products/1/options/1/qualifiers", json!(["extra", " "]));
    assert_eq!(
        problems_in(&tree),
        one("products[1] (PIZZA-PEP).options[1].qualifiers[1]", "a qualifier must not be empty")
    );
}

#[test]
fn a_value_alias_must_not_be_empty() {
    let tree = set(base(), "/products/1/options/1/values/1/aliases", json!([""]));
    assert_eq!(
        problems_in(&tree),
        one(
            "products[1] (PIZZA-PEP).options[1].values[1].aliases[0]",
            "an alias must not be empty"
        )
    );
}

#[test]
fn no_price_delta_may_make_the_price_negative() {
    let tree = set(base(), "/products/1/options/0/values/0/price_delta", json!(-1401));
    assert_eq!(
        problems_in(&tree),
        one(
            "products[1] (PIZZA-PEP).options[0].values[0].price_delta",
            "the price 1400 with this price_delta -1401 would be below zero"
        )
    );
    parse(&set(base(), "/products/1/options/0/values/0/price_delta", json!(-1400)));
}

#[test]
fn price_deltas_are_bounded() {
    let tree = set(base(), "/products/1/options/1/values/0/price_delta", json!(i64::MAX));
    assert_eq!(
        problems_in(&tree),
        one(
            "products[1] (PIZZA-PEP).options[1].values[0].price_delta",
            "price_delta must be between -100000000 and 100000000 minor units, not 9223372036854775807"
        )
    );
}

#[test]
fn discounts_that_add_up_below_zero_are_refused() {
    let tree = set(base(), "/products/1/options/1/values/0/price_delta", json!(-800));
    let tree = set(tree, "/products/1/options/1/values/1/price_delta", json!(-500));
    assert_eq!(
        problems_in(&tree),
        one(
            "products[1] (PIZZA-PEP).options",
            "the cheapest combination of options costs -200 minor units; it must not be below zero"
        )
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let tree = set(base(), "/currency", json!("US"));
    let tree = set(tree, "/products/0/options/0/default", json!("xl"));
    let tree = set(tree, "/products/1/price", json!(-5));
    let tree = set(tree, "/products/2/sku", json!("PIZZA-PEP"));
    let tree = set(tree, "/products/2/name", json!(""));
    let paths: Vec<String> = problems_in(&tree).into_iter().map(|(path, _)| path).collect();
    assert_eq!(
        paths,
        [
            "currency",
            "products[0] (TEE).options[0].default",
            "products[1] (PIZZA-PEP).price",
            "products[2] (PIZZA-PEP).sku",
            "products[2] (PIZZA-PEP).name",
        ]
    );
}

#[test]
fn the_error_lists_one_problem_per_line() {
    let tree = set(base(), "/products/0/return_days", json!(9999));
    let tree = set(tree, "/products/2/name", json!(""));
    let error = Catalog::from_json(&tree.to_string()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "products[0] (TEE).return_days: return_days must be at most 3650 (ten years), not 9999\n\
         products[2] (SOCKS).name: the name must not be empty"
    );
}

#[test]
fn deserializing_a_catalog_runs_the_same_checks() {
    let good: Catalog = serde_json::from_value(base()).expect("valid");
    assert_eq!(good, parse(&base()));
    let bad = set(base(), "/products/0/options/0/default", json!("xl"));
    let error = serde_json::from_value::<Catalog>(bad).unwrap_err();
    assert!(error.to_string().contains("\"xl\" is not one of the group's values"));
}

#[test]
fn deserializing_a_product_checks_it() {
    let product: Product = serde_json::from_value(tee()).expect("valid");
    assert_eq!(product.name, "tee");
    let bad = set(tee(), "/options/1/qualifiers", json!(["extra"]));
    let error = serde_json::from_value::<Product>(bad).unwrap_err();
    assert_eq!(
        error.to_string(),
        "product (TEE).options[1].qualifiers: only a multi group can have qualifiers, and this one is single"
    );
}

#[test]
fn lookups() {
    let catalog = parse(&base());
    let tee = catalog.product(&Sku::parse("tee").unwrap()).expect("tee");
    assert_eq!(tee.name, "tee");
    assert!(catalog.product(&Sku::parse("NOPE").unwrap()).is_none());
    assert_eq!(catalog.categories(), ["Apparel", "Kitchen"]);

    let size = tee.option("Size").expect("size");
    assert_eq!(size.value("MEDIUM").map(|v| v.name.as_str()), Some("m"));
    assert_eq!(size.value("  l ").map(|v| v.name.as_str()), Some("l"));
    assert!(size.value("xl").is_none());
    assert!(size.default_value().is_none());
    assert!(tee.option("flavour").is_none());

    let pizza = &catalog.products[1];
    let pizza_size = pizza.option("size").expect("size");
    assert_eq!(pizza_size.default_value().map(|v| v.name.as_str()), Some("medium"));
}

#[test]
fn low_stock_is_tracked_stock_from_one_to_five() {
    let mut product = parse(&base()).products[0].clone();
    for (stock, low) in
        [(None, false), (Some(0), false), (Some(1), true), (Some(5), true), (Some(6), false)]
    {
        product.stock = stock;
        assert_eq!(product.is_low_stock(), low, "stock {stock:?}");
    }
}

#[test]
fn to_json_pretty_round_trips_and_omits_empty_extras() {
    let catalog = parse(&base());
    let text = catalog.to_json_pretty();
    assert_eq!(Catalog::from_json(&text).expect("re-import"), catalog);
    let tree: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(tree["products"][0]["stock"], json!(50));
    assert_eq!(tree["products"][2]["stock"], Value::Null);
    assert_eq!(tree["products"][2]["final_sale"], json!(false));
    assert!(tree["products"][2].get("description").is_none());
    assert!(tree["products"][0]["options"][0].get("default").is_none());
    assert_eq!(tree["products"][1]["options"][0]["default"], json!("medium"));
    assert_eq!(
        tree["products"][1]["options"][1]["values"][1],
        json!({ "name": "onions", "aliases": ["onion"] })
    );
}

mod demo {
    use super::*;

    const DEMO: &str = include_str!("../../../../demo/catalog.json");

    fn demo() -> Catalog {
        Catalog::from_json(DEMO).unwrap_or_else(|error| panic!("demo catalog:\n{error}"))
    }

    fn by_name<'a>(catalog: &'a Catalog, name: &str) -> &'a Product {
        catalog
            .products
            .iter()
            .find(|product| product.name == name)
            .unwrap_or_else(|| panic!("no product named {name:?}"))
    }

    #[test]
    fn the_demo_catalog_imports_and_exercises_every_feature() {
        let catalog = demo();
        assert_eq!(catalog.currency.as_str(), "USD");
        assert!(catalog.products.len() >= 30, "{}", catalog.products.len());
        let groups = || catalog.products.iter().flat_map(|p| p.options.iter());
        let has_values = |group: &OptionGroup, names: &[&str]| {
            names.iter().all(|name| group.value(name).is_some())
        };
        assert!(groups()
            .any(|g| g.kind == GroupKind::Single && has_values(g, &["small", "medium", "large"])));
        assert!(groups().any(|g| g.kind == GroupKind::Single && has_values(g, &["black", "white"])));
        assert!(groups().any(|g| g.kind == GroupKind::Multi && !g.qualifiers.is_empty()));
        assert!(groups().any(|g| g.default.is_some()));
        assert!(groups().any(|g| g.required && g.default.is_none()));
        assert!(groups().flat_map(|g| g.values.iter()).any(|v| v.stock.is_some()));
        assert!(groups().flat_map(|g| g.values.iter()).any(|v| v.price_delta != Money::ZERO));
        assert!(catalog.products.iter().any(|p| p.final_sale));
        assert!(catalog.products.iter().any(Product::is_low_stock));
        assert!(catalog.products.iter().any(|p| p.stock.is_none()));
        assert!(catalog.products.iter().any(|p| p.return_days.is_some()));
        assert_eq!(catalog.categories(), ["Apparel", "Gear", "Kitchen", "Drinks"]);
    }

    #[test]
    fn the_demo_catalog_has_what_the_chat_tests_talk_about() {
        let catalog = demo();
        let tee = by_name(&catalog, "tee");
        assert_eq!(tee.sku.as_str(), "TEE");
        assert_eq!(tee.price, Money(2500));
        assert!(tee.aliases.iter().any(|a| a == "t-shirt"));
        let size = tee.option("size").expect("tee size");
        assert!(size.required && size.default.is_none());
        for (alias, name) in
            [("small", "s"), ("medium", "m"), ("large", "l"), ("extra large", "xl")]
        {
            assert_eq!(size.value(alias).map(|v| v.name.as_str()), Some(name));
        }
        let color = tee.option("color").expect("tee color");
        assert!(has_all(color, &["black", "white", "navy", "forest green", "green"]));

        for name in ["pepperoni pizza", "margherita pizza", "veggie pizza"] {
            let pizza = by_name(&catalog, name);
            let size = pizza.option("size").expect("pizza size");
            assert_eq!(size.default.as_deref(), Some("medium"));
            assert!(has_all(size, &["small", "medium", "large"]));
            let topping = pizza.option("topping").expect("pizza topping");
            assert_eq!(topping.kind, GroupKind::Multi);
            assert_eq!(topping.qualifiers, ["extra", "light"]);
            assert!(has_all(
                topping,
                &[
                    "cheese",
                    "olives",
                    "onions",
                    "onion",
                    "mushrooms",
                    "peppers",
                    "sauce",
                    "jalapenos",
                    "ham"
                ]
            ));
        }
        assert_eq!(by_name(&catalog, "pepperoni pizza").sku.as_str(), "PIZZA-PEP");
        let everything_named = |term: &str| {
            catalog
                .products
                .iter()
                .filter(|p| {
                    std::iter::once(&p.name).chain(&p.aliases).any(|t| normalise_term(t) == term)
                })
                .count()
        };
        assert_eq!(everything_named("pizza"), 0, "\"pizza\" alone stays ambiguous");
        for term in ["coke", "diet coke", "trail bottle", "socks", "hoodie", "rain jacket"] {
            assert_eq!(everything_named(term), 1, "{term}");
        }
        assert!(by_name(&catalog, "rain jacket").final_sale);
    }

    fn has_all(group: &OptionGroup, names: &[&str]) -> bool {
        names.iter().all(|name| group.value(name).is_some())
    }

    #[test]
    fn the_demo_catalog_round_trips() {
        let catalog = demo();
        assert_eq!(Catalog::from_json(&catalog.to_json_pretty()).unwrap(), catalog);
    }
}

mod properties {
    use super::*;
    use proptest::collection::vec;
    use proptest::option;

    const WORD: &str = "[a-zA-Zé]([a-zA-Z é]{0,8}[a-zA-Zé])?";

    #[derive(Debug, Clone)]
    struct ValueSeed {
        word: String,
        aliases: Vec<String>,
        delta: i64,
        stock: Option<u32>,
    }

    #[derive(Debug, Clone)]
    struct GroupSeed {
        word: String,
        multi: bool,
        required: bool,
        default: Option<usize>,
        qualifiers: Vec<String>,
        values: Vec<ValueSeed>,
    }

    #[derive(Debug, Clone)]
    struct ProductSeed {
        sku: String,
        word: String,
        aliases: Vec<String>,
        price: i64,
        stock: Option<u32>,
        final_sale: bool,
        return_days: Option<u32>,
        category: Option<String>,
        description: Option<String>,
        groups: Vec<GroupSeed>,
    }

    fn value_seed() -> impl Strategy<Value = ValueSeed> {
        (WORD, vec(WORD, 0..3), -1000i64..10_000, option::of(any::<u32>()))
            .prop_map(|(word, aliases, delta, stock)| ValueSeed { word, aliases, delta, stock })
    }

    fn group_seed() -> impl Strategy<Value = GroupSeed> {
        (
            WORD,
            any::<bool>(),
            any::<bool>(),
            option::of(0usize..8),
            vec(WORD, 0..3),
            vec(value_seed(), 1..5),
        )
            .prop_map(|(word, multi, required, default, qualifiers, values)| GroupSeed {
                word,
                multi,
                required,
                default,
                qualifiers,
                values,
            })
    }

    fn product_seed() -> impl Strategy<Value = ProductSeed> {
        (
            "[A-Z0-9_][A-Z0-9_-]{0,10}",
            WORD,
            vec(WORD, 0..3),
            0i64..=MAX_PRICE.minor(),
            option::of(any::<u32>()),
            any::<bool>(),
            option::of(0u32..=MAX_RETURN_DAYS),
            option::of(WORD),
            option::of("\\PC{1,200}"),
            vec(group_seed(), 0..4),
        )
            .prop_map(
                |(
                    sku,
                    word,
                    aliases,
                    price,
                    stock,
                    final_sale,
                    return_days,
                    category,
                    description,
                    groups,
                )| {
                    ProductSeed {
                        sku,
                        word,
                        aliases,
                        price,
                        stock,
                        final_sale,
                        return_days,
                        category,
                        description,
                        groups,
                    }
                },
            )
    }

    /// Indices in the names keep them unique; discounts are capped so that even
    /// every discount at once leaves the price at or above zero.
    fn build(currency: &str, seeds: Vec<ProductSeed>) -> Catalog {
        let products = seeds
            .into_iter()
            .enumerate()
            .map(|(i, seed)| {
                let discount_cap = seed.price / 16;
                let options = seed
                    .groups
                    .into_iter()
                    .enumerate()
                    .map(|(j, group)| {
                        let values: Vec<OptionValue> = group
                            .values
                            .into_iter()
                            .enumerate()
                            .map(|(k, value)| OptionValue {
                                name: format!("{} v{k}", value.word),
                                aliases: value
                                    .aliases
                                    .iter()
                                    .enumerate()
                                    .map(|(m, alias)| format!("{alias} v{k}a{m}"))
                                    .collect(),
                                price_delta: Money(value.delta.max(-discount_cap)),
                                stock: value.stock,
                            })
                            .collect();
                        let kind = if group.multi { GroupKind::Multi } else { GroupKind::Single };
                        OptionGroup {
                            name: format!("{} g{j}", group.word),
                            kind,
                            required: group.required,
                            default: group
                                .default
                                .filter(|_| kind == GroupKind::Single)
                                .map(|d| values[d % values.len()].name.clone()),
                            qualifiers: if group.multi { group.qualifiers } else { Vec::new() },
                            values,
                        }
                    })
                    .collect();
                Product {
                    sku: Sku::parse(&format!("{}-{i}", seed.sku)).expect("generated SKU"),
                    name: format!("{} p{i}", seed.word),
                    aliases: seed
                        .aliases
                        .iter()
                        .enumerate()
                        .map(|(m, alias)| format!("{alias} p{i}a{m}"))
                        .collect(),
                    price: Money(seed.price),
                    stock: seed.stock,
                    final_sale: seed.final_sale,
                    return_days: seed.return_days,
                    category: seed.category,
                    description: seed
                        .description
                        .map(|d| d.trim().to_owned())
                        .filter(|d| !d.is_empty()),
                    options,
                }
            })
            .collect();
        Catalog { currency: Currency::parse(currency).expect("generated currency"), products }
    }

    fn catalog() -> impl Strategy<Value = Catalog> {
        ("[A-Z]{3}", vec(product_seed(), 1..6)).prop_map(|(code, seeds)| build(&code, seeds))
    }

    proptest! {
        #[test]
        fn a_valid_catalog_round_trips(catalog in catalog()) {
            let text = catalog.to_json_pretty();
            let back = Catalog::from_json(&text);
            prop_assert_eq!(back, Ok(catalog));
        }

        #[test]
        fn any_text_gives_a_catalog_or_problems_never_a_panic(text in "\\PC{0,300}") {
            if let Err(error) = Catalog::from_json(&text) {
                prop_assert!(!error.problems.is_empty());
            }
        }

        #[test]
        fn any_json_value_in_a_product_gives_problems_never_a_panic(
            field in "[a-z_]{1,12}",
            value in prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::from),
                any::<i64>().prop_map(Value::from),
                any::<f64>().prop_map(Value::from),
                "\\PC{0,20}".prop_map(Value::from),
                vec("\\PC{0,5}", 0..3).prop_map(Value::from),
            ],
        ) {
            let tree = set(base(), &format!("/products/1/{field}"), value.clone());
            let tree = set(tree, &format!("/products/0/options/1/values/0/{field}"), value);
            if let Err(error) = Catalog::from_json(&tree.to_string()) {
                prop_assert!(!error.problems.is_empty());
                prop_assert!(error.problems.iter().all(|p| !p.message.is_empty()));
            }
        }
    }
}
