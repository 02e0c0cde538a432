//! The Checkout Session Stripe is asked for: one line item per order line, priced
//! from the stored order (which was priced from the catalog, never from what the
//! shopper typed), in the order's currency, tied to the order by
//! `client_reference_id`.

use gapless_domain::orders::{OrderNumber, OrderState, PricedLine};
use time::OffsetDateTime;

/// Stripe's form fields for `POST /v1/checkout/sessions`.
pub fn session_form(
    number: &OrderNumber,
    order: &OrderState,
    expires_at: OffsetDateTime,
    return_url: &str,
) -> Vec<(String, String)> {
    let currency = order.currency.as_str().to_ascii_lowercase();
    let mut form: Vec<(String, String)> = vec![
        ("mode".into(), "payment".into()),
        ("client_reference_id".into(), number.to_string()),
        ("metadata[order_number]".into(), number.to_string()),
        ("payment_intent_data[metadata][order_number]".into(), number.to_string()),
        ("expires_at".into(), expires_at.unix_timestamp().to_string()),
        ("success_url".into(), with_query(return_url, &format!("paid={number}"))),
        ("cancel_url".into(), return_url.to_owned()),
    ];
    if let Some(email) = &order.customer.email {
        form.push(("customer_email".into(), email.to_string()));
    }
    let mut item = |index: usize, name: String, unit_amount: i64, quantity: u32| {
        let field = |name: &str| format!("line_items[{index}]{name}");
        form.push((field("[price_data][currency]"), currency.clone()));
        form.push((field("[price_data][unit_amount]"), unit_amount.to_string()));
        form.push((field("[price_data][product_data][name]"), name));
        form.push((field("[quantity]"), quantity.to_string()));
    };
    for (index, line) in order.lines.iter().enumerate() {
        item(index, line_name(line), line.unit_price.minor(), line.quantity);
    }
    if order.totals.shipping.minor() > 0 {
        item(order.lines.len(), "Shipping".into(), order.totals.shipping.minor(), 1);
    }
    form
}

/// "pizza (large, ham, extra cheese, no onions)": what the customer sees on Stripe's page.
fn line_name(line: &PricedLine) -> String {
    let choices: Vec<String> = line
        .choices
        .iter()
        .map(|choice| match (&choice.qualifier, choice.exclude) {
            (_, true) => format!("no {}", choice.value),
            (Some(qualifier), false) => format!("{qualifier} {}", choice.value),
            (None, false) => choice.value.clone(),
        })
        .collect();
    if choices.is_empty() {
        line.name.clone()
    } else {
        format!("{} ({})", line.name, choices.join(", "))
    }
}

fn with_query(url: &str, query: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{query}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use gapless_domain::{
        chat::command::ChoiceMention,
        money::{Currency, Money},
        orders::{Email, OrderEvent, PricedLine, Totals},
        sku::Sku,
    };
    use time::macros::datetime;

    fn line(sku: &str, quantity: u32, unit: i64, choices: Vec<ChoiceMention>) -> PricedLine {
        PricedLine {
            sku: Sku::parse(sku).unwrap(),
            name: sku.to_lowercase(),
            quantity,
            choices,
            unit_price: Money(unit),
            total: Money(unit * i64::from(quantity)),
        }
    }

    #[test]
    fn one_item_per_line_priced_from_the_order() {
        let mut onions = ChoiceMention::new("topping", "onions");
        onions.exclude = true;
        let mut cheese = ChoiceMention::new("topping", "cheese");
        cheese.qualifier = Some("extra".into());
        let events = [
            OrderEvent::LineAdded {
                line: line(
                    "PIZZA",
                    2,
                    1500,
                    vec![ChoiceMention::new("size", "large"), cheese, onions],
                ),
            },
            OrderEvent::LineAdded { line: line("COKE", 1, 250, vec![]) },
            OrderEvent::CustomerIdentified {
                name: None,
                email: Some(Email::parse("ana@example.com").unwrap()),
                phone: None,
            },
        ];
        let mut order = OrderState::fold(Currency::parse("EUR").unwrap(), &events).unwrap();
        assert_eq!(
            order.totals,
            Totals { subtotal: Money(3250), shipping: Money(0), total: Money(3250) }
        );
        let number = OrderNumber::from_sequence(42);
        let at = datetime!(2030-06-01 11:00 UTC);
        let form = session_form(&number, &order, at, "https://shop.example/");
        let get = |key: &str| {
            form.iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
                .unwrap_or_else(|| panic!("{key}"))
        };
        assert_eq!(get("mode"), "payment");
        assert_eq!(get("client_reference_id"), "G-100042");
        assert_eq!(get("expires_at"), at.unix_timestamp().to_string());
        assert_eq!(get("customer_email"), "ana@example.com");
        assert_eq!(get("success_url"), "https://shop.example/?paid=G-100042");
        assert_eq!(get("line_items[0][price_data][currency]"), "eur");
        assert_eq!(get("line_items[0][price_data][unit_amount]"), "1500");
        assert_eq!(get("line_items[0][quantity]"), "2");
        assert_eq!(
            get("line_items[0][price_data][product_data][name]"),
            "pizza (large, extra cheese, no onions)"
        );
        assert_eq!(get("line_items[1][price_data][product_data][name]"), "coke");
        assert!(form.iter().all(|(k, _)| !k.starts_with("line_items[2]")));
        // Shipping, once there is any, is an item of its own.
        order.totals.shipping = Money(500);
        let form = session_form(&number, &order, at, "https://shop.example/?x=1");
        assert!(form.contains(&("line_items[2][price_data][unit_amount]".into(), "500".into())));
        assert!(form
            .contains(&("success_url".into(), "https://shop.example/?x=1&paid=G-100042".into())));
    }
}
