//! The email templates: a subject, a text part and an HTML part per kind of message,
//! built in and overridable file by file from a folder (`GAPLESS_EMAIL_TEMPLATES`).
//!
//! Jinja syntax (minijinja); the HTML parts are auto-escaped. The folder is checked
//! when the server starts: an unknown file name, a template that does not parse or one
//! that does not render with a sample message is named, all of them at once, and the
//! server does not start.

use std::path::Path;

use minijinja::{Environment, UndefinedBehavior};
use serde_json::{json, Value};

/// The kinds of message and what each template sees (see `compose.rs`).
pub const KINDS: &[&str] =
    &["order_confirmed", "payment_link", "order_shipped", "return_decision", "return_refunded"];

/// The three templates of each kind.
pub const PARTS: &[&str] = &["subject", "txt", "html"];

macro_rules! builtin {
    ($($kind:literal),*) => {
        &[$(
            (concat!($kind, ".subject"), include_str!(concat!("templates/", $kind, ".subject"))),
            (concat!($kind, ".txt"), include_str!(concat!("templates/", $kind, ".txt"))),
            (concat!($kind, ".html"), include_str!(concat!("templates/", $kind, ".html"))),
        )*]
    };
}

const BUILTIN: &[(&str, &str)] = builtin!(
    "order_confirmed",
    "payment_link",
    "order_shipped",
    "return_decision",
    "return_refunded"
);

/// A message's three parts, rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

pub struct Templates {
    env: Environment<'static>,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Templates").finish_non_exhaustive()
    }
}

/// Everything wrong with a template folder, one problem a line.
#[derive(Debug, thiserror::Error)]
#[error("the email templates in {folder} have {} problem(s):\n{}", .problems.len(), .problems.join("\n"))]
pub struct TemplateErrors {
    pub folder: String,
    pub problems: Vec<String>,
}

impl Templates {
    pub fn builtin() -> Templates {
        Templates::load(None).expect("the built-in email templates are valid")
    }

    /// The built-in templates, with those in `folder` in their place.
    pub fn load(folder: Option<&Path>) -> Result<Templates, TemplateErrors> {
        let mut env = Environment::new();
        // A misspelt variable is an error at start, not an empty spot in a customer's mail.
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        let mut problems = Vec::new();
        let mut sources: Vec<(String, String)> =
            BUILTIN.iter().map(|(name, text)| ((*name).to_owned(), (*text).to_owned())).collect();
        let folder_name =
            folder.map_or_else(|| "(built in)".to_owned(), |f| f.display().to_string());
        if let Some(folder) = folder {
            match std::fs::read_dir(folder) {
                Err(error) => problems.push(format!("cannot read the folder: {error}")),
                Ok(entries) => {
                    let mut names: Vec<_> = entries.flatten().map(|e| e.path()).collect();
                    names.sort();
                    for path in names {
                        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
                        let Some(name) = name else { continue };
                        if name.starts_with('.') || path.is_dir() {
                            continue;
                        }
                        let Some(slot) = sources.iter_mut().find(|(known, _)| *known == name)
                        else {
                            problems.push(format!(
                                "{name}: not a template name; the names are <kind>.subject, \
                                 <kind>.txt and <kind>.html with kind one of {}",
                                KINDS.join(", ")
                            ));
                            continue;
                        };
                        match std::fs::read_to_string(&path) {
                            Ok(text) => slot.1 = text,
                            Err(error) => problems.push(format!("{name}: cannot read it: {error}")),
                        }
                    }
                }
            }
        }
        let mut broken = Vec::new();
        for (name, text) in sources {
            if let Err(error) = env.add_template_owned(name.clone(), text) {
                problems.push(format!("{name}: {}", describe(&error)));
                broken.push(name);
            }
        }
        let templates = Templates { env };
        for kind in KINDS {
            for part in PARTS {
                let name = format!("{kind}.{part}");
                if broken.contains(&name) {
                    continue;
                }
                if let Err(error) = templates.part(&name, &sample(kind)) {
                    problems.push(format!("{name}: {error}"));
                }
            }
        }
        if problems.is_empty() {
            Ok(templates)
        } else {
            Err(TemplateErrors { folder: folder_name, problems })
        }
    }

    /// The three parts of a message of `kind` about `context`.
    pub fn render(&self, kind: &str, context: &Value) -> Result<Rendered, String> {
        let subject = self.part(&format!("{kind}.subject"), context)?;
        // One line, whatever the template or the data put in it.
        let subject = subject.split_whitespace().collect::<Vec<_>>().join(" ");
        Ok(Rendered {
            subject,
            text: self.part(&format!("{kind}.txt"), context)?,
            html: self.part(&format!("{kind}.html"), context)?,
        })
    }

    fn part(&self, name: &str, context: &Value) -> Result<String, String> {
        let template = self.env.get_template(name).map_err(|e| describe(&e))?;
        template.render(minijinja::value::Serde(context)).map_err(|e| describe(&e))
    }
}

fn describe(error: &minijinja::Error) -> String {
    match error.line() {
        Some(line) => format!("line {line}: {}", error.detail().unwrap_or(&error.to_string())),
        None => error.to_string(),
    }
}

/// A message of each kind with every field filled: what the templates are checked with.
pub fn sample(kind: &str) -> Value {
    let shop = json!({ "name": "Sample Shop" });
    let order = json!({
        "number": "G-100001",
        "customer_name": "Ada",
        "lines": [{
            "name": "Tee", "quantity": 2, "choices": "m, black",
            "unit_price": "$25.00", "total": "$50.00",
        }],
        "subtotal": "$50.00",
        "shipping": "$0.00",
        "total": "$50.00",
        "shipping_address": "12 Main St, Springfield, IL 62701, US",
    });
    match kind {
        "order_confirmed" => json!({ "shop": shop, "order": order }),
        "payment_link" => json!({
            "shop": shop,
            "order": order,
            "payment": {
                "amount": "$50.00",
                "url": "https://checkout.stripe.com/c/pay/cs_test_1",
                "expires_at": "2 December 2026, 14:30 UTC",
            },
        }),
        "order_shipped" => json!({
            "shop": shop,
            "order": order,
            "shipment": {
                "carrier": "UPS",
                "tracking_number": "1Z999",
                "tracking_url": "https://track.example/1Z999",
            },
        }),
        _ => json!({
            "shop": shop,
            "order": { "number": "G-100001" },
            "return": {
                "rma": "RMA-ABCD-2345",
                "status": "approved",
                "resolution": "refund",
                "items": [{
                    "name": "Tee", "quantity": 1, "decision": "approved",
                    "message": "Within the return window.",
                }],
                "instructions": "Pack the approved items.",
                "refund_amount": "$25.00",
            },
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_templates_render_every_kind() {
        let templates = Templates::builtin();
        for kind in KINDS {
            let rendered = templates.render(kind, &sample(kind)).unwrap();
            assert!(rendered.subject.starts_with("Sample Shop: "), "{}", rendered.subject);
            assert!(!rendered.subject.contains('\n'));
            assert!(rendered.html.contains("<html>"), "{kind}");
            assert!(!rendered.text.contains('<'), "{kind}: {}", rendered.text);
        }
    }

    #[test]
    fn html_is_escaped_and_text_is_not() {
        let templates = Templates::builtin();
        let mut context = sample("order_confirmed");
        context["order"]["customer_name"] = json!("<b>Ada</b> & co");
        let rendered = templates.render("order_confirmed", &context).unwrap();
        assert!(
            rendered.html.contains("&lt;b&gt;Ada&lt;&#x2f;b&gt; &amp; co"),
            "{}",
            rendered.html
        );
        assert!(rendered.text.contains("<b>Ada</b> & co"));
    }

    #[test]
    fn a_folder_overrides_and_every_problem_is_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("order_confirmed.subject"), "Order {{ order.number }}!")
            .unwrap();
        let templates = Templates::load(Some(dir.path())).unwrap();
        let rendered = templates.render("order_confirmed", &sample("order_confirmed")).unwrap();
        assert_eq!(rendered.subject, "Order G-100001!");

        std::fs::write(dir.path().join("order_shipped.txt"), "{{ order.numbr }}").unwrap();
        std::fs::write(dir.path().join("return_refunded.html"), "{% if %}").unwrap();
        std::fs::write(dir.path().join("welcome.html"), "hi").unwrap();
        let error = Templates::load(Some(dir.path())).unwrap_err();
        assert_eq!(error.problems.len(), 3, "{error}");
        let text = error.to_string();
        assert!(text.contains("order_shipped.txt: line 1"), "{text}");
        assert!(text.contains("return_refunded.html: line 1"), "{text}");
        assert!(text.contains("welcome.html: not a template name"), "{text}");
        assert!(Templates::load(Some(&dir.path().join("nope"))).is_err());
    }
}
