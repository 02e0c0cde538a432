//! The `gapless` binary as an operator meets it: imports, and startup failures that
//! must print one line saying what is wrong and how to fix it.

use std::{
    io::Write,
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
    time::{Duration, Instant},
};

use gapless_domain::catalog::Catalog;
use gapless_store::testing::{self, TestDatabase};
use server::staff::accounts::{self, Password};

mod prompt_reader;

fn repo_path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join(relative)
}

fn gapless(database_url: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_gapless"));
    command
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "off")
        .env("LEPTOS_SITE_ROOT", repo_path("public"))
        .env("GAPLESS_CATALOG", repo_path("demo/catalog.json"))
        .env("GAPLESS_RETURN_POLICY", repo_path("demo/return-policy.json"))
        .stdin(Stdio::null());
    command
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A startup failure: non-zero exit, exactly one line on stderr, no panic.
fn assert_one_line_failure(output: &Output, expected: &str) {
    let text = stderr(output);
    assert!(!output.status.success(), "should fail: {text}");
    assert_eq!(text.trim_end().lines().count(), 1, "one line expected: {text}");
    assert!(text.starts_with("gapless: "), "{text}");
    assert!(text.contains(expected), "{expected:?} not in {text}");
    assert!(!text.contains("panicked"), "{text}");
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

async fn databases() -> Vec<TestDatabase> {
    let mut dbs = vec![testing::sqlite().await];
    dbs.extend(testing::postgres().await);
    dbs
}

#[tokio::test]
async fn catalog_import_is_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write(
        dir.path(),
        "bad.json",
        r#"{ "currency": "USD", "products": [
              { "sku": "OK", "name": "fine product", "price": 100 },
              { "sku": "TEE", "name": "tee", "price": -5,
                "options": [ { "name": "size", "kind": "single", "default": "xxl",
                               "values": [ { "name": "s" }, { "name": "m" } ] } ] } ] }"#,
    );
    let malformed = write(
        dir.path(),
        "malformed.json",
        "{\n  \"currency\": \"USD\",\n  \"products\": [\n    { \"sku\": \"A\" \n",
    );
    let demo =
        Catalog::from_json(&std::fs::read_to_string(repo_path("demo/catalog.json")).unwrap())
            .unwrap();

    for db in databases().await {
        let ok = gapless(&db.url)
            .args(["catalog", "import"])
            .arg(repo_path("demo/catalog.json"))
            .output()
            .unwrap();
        assert!(ok.status.success(), "{}", stderr(&ok));
        let stdout = String::from_utf8_lossy(&ok.stdout);
        assert!(stdout.contains(&format!("{} added", demo.products.len())), "{stdout}");

        let rejected = gapless(&db.url).args(["catalog", "import"]).arg(&bad).output().unwrap();
        assert!(!rejected.status.success());
        let text = stderr(&rejected);
        assert!(text.contains("nothing was changed"), "{text}");
        assert!(text.contains("products[1] (TEE).price"), "{text}");
        assert!(text.contains("products[1] (TEE).options[0].default"), "{text}");
        assert!(!text.contains("panicked"), "{text}");

        let rejected =
            gapless(&db.url).args(["catalog", "import"]).arg(&malformed).output().unwrap();
        assert!(!rejected.status.success());
        assert!(stderr(&rejected).contains("line 5"), "{}", stderr(&rejected));

        let missing =
            gapless(&db.url).args(["catalog", "import", "/no/such/catalog.json"]).output().unwrap();
        assert_one_line_failure(&missing, "cannot read the catalog file /no/such/catalog.json");

        assert_eq!(db.store.catalog().await.unwrap(), Some(demo.clone()), "catalog changed");
    }
}

/// `gapless ARGS…` with `input` piped to its standard input.
fn gapless_with_input(database_url: &str, args: &[&str], input: &str) -> Output {
    let mut child = gapless(database_url)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A command that fails before it reads (a taken email) may be gone already: a broken
    // pipe here is fine, its output says what happened.
    let _ = child.stdin.take().unwrap().write_all(input.as_bytes());
    child.wait_with_output().unwrap()
}

#[tokio::test]
async fn staff_add_takes_the_password_from_stdin_and_an_email_once() {
    const PASSWORD: &str = "correct horse battery staple";
    for db in databases().await {
        let add = |email: &str, role: &str, input: &str| {
            gapless_with_input(&db.url, &["staff", "add", email, "--role", role], input)
        };

        let created = add("Ana@Example.com", "admin", &format!("{PASSWORD}\n"));
        assert!(created.status.success(), "{}", stderr(&created));
        assert_eq!(
            String::from_utf8_lossy(&created.stdout),
            "staff account ana@example.com (admin) created\n"
        );
        let account = db.store.staff_by_email("ana@example.com").await.unwrap().unwrap();
        assert_eq!(account.role, "admin");
        // The first line, without its newline, is the password.
        for (tried, works) in [(PASSWORD, true), (&format!("{PASSWORD}\n") as &str, false)] {
            let limit = accounts::HashLimit::new(1, std::time::Duration::from_secs(60));
            let password = Password::new(tried);
            let signed_in =
                accounts::authenticate(db.store.as_ref(), &limit, "ana@example.com", &password)
                    .await
                    .unwrap();
            assert_eq!(signed_in.is_some(), works, "{tried:?}");
        }

        let again = add("ana@example.com", "agent", "another password 123\n");
        assert_one_line_failure(
            &again,
            "a staff account with the email ana@example.com already exists",
        );
        let unchanged = db.store.staff_by_email("ana@example.com").await.unwrap().unwrap();
        assert_eq!(unchanged, account);

        let short = add("bo@example.com", "agent", "short\n");
        assert_one_line_failure(&short, "the password is too short: use at least 12 characters");
        let bad_email = add("bo.example.com", "agent", &format!("{PASSWORD}\n"));
        assert_one_line_failure(&bad_email, "\"bo.example.com\" is not a usable email address");
        assert_eq!(db.store.staff_by_email("bo@example.com").await.unwrap(), None);

        let bad_role = add("bo@example.com", "owner", &format!("{PASSWORD}\n"));
        assert!(!bad_role.status.success());
        assert!(stderr(&bad_role).contains("owner"), "{}", stderr(&bad_role));
    }
}

#[tokio::test]
async fn a_bad_database_url_is_one_clear_line() {
    let output = gapless("mysql://root@127.0.0.1/test").arg("serve").output().unwrap();
    assert_one_line_failure(&output, "DATABASE_URL");

    let output = gapless("postgres://nobody@127.0.0.1:1/none").arg("migrate").output().unwrap();
    assert_one_line_failure(&output, "cannot open the database postgres://nobody@127.0.0.1:1/none");
}

#[tokio::test]
async fn the_llm_extractor_without_a_model_is_one_clear_line() {
    let db = testing::sqlite().await;
    let output = gapless(&db.url)
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .env("GAPLESS_EXTRACTOR", "llm")
        .env_remove("GAPLESS_LLM_MODEL")
        .env("OPENAI_API_KEY", "sk-never-shown")
        .output()
        .unwrap();
    assert_one_line_failure(&output, "GAPLESS_EXTRACTOR=llm needs a model");
    assert!(!stderr(&output).contains("sk-never-shown"));
}

/// `GAPLESS_PAYMENTS=stripe` half configured does not start, names what is missing, and
/// shows no secret; `--help` lists the payment settings without their secret values.
#[tokio::test]
async fn stripe_half_configured_is_one_clear_line_without_secrets() {
    let db = testing::sqlite().await;
    let output = gapless(&db.url)
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .env("GAPLESS_PAYMENTS", "stripe")
        .env("STRIPE_SECRET_KEY", "sk_test_never_shown")
        .env_remove("STRIPE_WEBHOOK_SECRET")
        .env_remove("GAPLESS_PAYMENT_RETURN_URL")
        .output()
        .unwrap();
    assert_one_line_failure(&output, "STRIPE_WEBHOOK_SECRET is not set");
    assert!(stderr(&output).contains("GAPLESS_PAYMENT_RETURN_URL"));
    assert!(!stderr(&output).contains("sk_test_never_shown"));

    let help = gapless("sqlite::memory:")
        .args(["serve", "--help"])
        .env("STRIPE_SECRET_KEY", "sk_test_never_shown")
        .env("STRIPE_WEBHOOK_SECRET", "whsec_never_shown")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&help.stdout).into_owned();
    for setting in
        ["GAPLESS_PAYMENTS", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "STRIPE_API_BASE"]
    {
        assert!(text.contains(setting), "{setting} missing from\n{text}");
    }
    assert!(!text.contains("never_shown"), "{text}");
}

#[tokio::test]
async fn a_taken_port_is_one_clear_line() {
    let db = testing::sqlite().await;
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let output = gapless(&db.url).env("LEPTOS_SITE_ADDR", &addr).output().unwrap();
    assert_one_line_failure(&output, &format!("cannot listen on {addr}"));
    assert_one_line_failure(&output, "LEPTOS_SITE_ADDR");
}

#[tokio::test]
async fn an_unreadable_first_start_catalog_is_one_clear_line() {
    let db = testing::sqlite().await;
    let output = gapless(&db.url)
        .env("GAPLESS_CATALOG", "/no/such/catalog.json")
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .output()
        .unwrap();
    assert_one_line_failure(&output, "cannot read the catalog file /no/such/catalog.json");
    assert_one_line_failure(&output, "GAPLESS_CATALOG");
}

#[tokio::test]
async fn a_missing_or_bad_return_policy_stops_the_start_with_its_problems() {
    let db = testing::sqlite().await;
    let output = gapless(&db.url)
        .env("GAPLESS_RETURN_POLICY", "/no/such/policy.json")
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .output()
        .unwrap();
    assert_one_line_failure(&output, "cannot read the return policy /no/such/policy.json");
    assert_one_line_failure(&output, "GAPLESS_RETURN_POLICY");

    let dir = tempfile::tempdir().unwrap();
    let bad = write(
        dir.path(),
        "policy.json",
        r#"{ "window_days": 30, "reasons": [ { "code": "too_small", "label": "", "review": false } ],
             "auto_approve_ceiling": -1, "customer_limit": { "returns": 3, "days": 30 },
             "resolutions": ["refund"] }"#,
    );
    let output = gapless(&db.url)
        .env("GAPLESS_RETURN_POLICY", &bad)
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .output()
        .unwrap();
    let text = stderr(&output);
    assert!(!output.status.success(), "{text}");
    assert!(text.contains("was rejected"), "{text}");
    assert!(text.contains("reasons[0] (too_small).label"), "{text}");
    assert!(text.contains("auto_approve_ceiling"), "{text}");
}

#[tokio::test]
async fn serve_creates_the_database_loads_the_demo_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("fresh/gapless.db").display());
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = gapless(&url)
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();

    let client = wait_healthy(port).await;
    let shop = client.get(format!("http://127.0.0.1:{port}/")).send().await.unwrap();
    assert!(shop.text().await.unwrap().contains("data-sku=\"TEE\""));
    assert!(dir.path().join("fresh/gapless.db").exists());

    // kill(1): sends SIGTERM without an unsafe libc call in the test.
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(Instant::now() < deadline, "server ignored SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(exit.success(), "graceful shutdown exits 0, got {exit:?}");
}

/// Waits for `/healthz` on `port` to answer 200 (30 s at most).
async fn wait_healthy(port: u16) -> reqwest::Client {
    server::tls::install_crypto_provider();
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    let health = loop {
        match client.get(format!("http://127.0.0.1:{port}/healthz")).send().await {
            Ok(response) => break response,
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            Err(error) => panic!("server did not come up: {error}"),
        }
    };
    assert_eq!(health.status(), 200);
    client
}

/// `make load`'s two measurements: turns through a running server, and SQLite's plain
/// commit rate on the same file; and what each says when it cannot measure.
#[tokio::test]
async fn bench_turns_and_the_plain_commit_rate_measure_a_running_shop() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("load.db").display());
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = gapless(&url)
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("GAPLESS_RATE_IP_BURST", "1000000")
        .env("GAPLESS_RATE_IP_PER_SECOND", "1000000")
        .env("GAPLESS_RATE_CHAT_BURST", "1000000")
        .env("GAPLESS_RATE_CHAT_PER_SECOND", "1000000")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_healthy(port).await;
    let turns = gapless(&url)
        .args(["bench-turns", "--base", &base, "--workers", "2", "--seconds", "0.5"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&turns.stdout).into_owned();
    assert!(turns.status.success(), "{text}{}", stderr(&turns));
    assert!(text.contains("with 2 workers: ") && text.contains(" turns/s, p50 "), "{text}");
    let plain =
        gapless(&url).args(["bench-writes", "--plain", "--seconds", "0.3"]).output().unwrap();
    let text = String::from_utf8_lossy(&plain.stdout).into_owned();
    assert!(plain.status.success(), "{text}{}", stderr(&plain));
    assert!(text.starts_with("plain single-threaded SQLite loop, 1 row(s)"), "{text}");
    assert!(text.contains(" tx/s, "), "{text}");
    let _ = child.kill();
    let _ = child.wait();

    // Nothing listening any more: one line saying so, no panic.
    let refused = gapless(&url)
        .args(["bench-turns", "--base", &base, "--workers", "1", "--seconds", "0.2"])
        .output()
        .unwrap();
    assert_one_line_failure(&refused, &format!("connecting to 127.0.0.1:{port}"));
    // The load generator speaks plain HTTP: any other address is refused before it runs.
    let https = gapless(&url)
        .args(["bench-turns", "--base", "https://127.0.0.1:1", "--seconds", "0.2"])
        .output()
        .unwrap();
    assert_one_line_failure(&https, "speaks plain HTTP");
    let postgres = gapless("postgres://nobody@127.0.0.1:1/none")
        .args(["bench-writes", "--plain"])
        .output()
        .unwrap();
    assert!(!postgres.status.success());
}

#[test]
fn eval_reports_accuracy_and_holds_the_floor() {
    let dir = tempfile::tempdir().unwrap();
    // One right label and one deliberately wrong one: 50 % exact match.
    let cases = write(
        dir.path(),
        "cases.jsonl",
        concat!(
            r#"{"text": "two diet cokes please", "lines": [{"sku": "DIET-COKE", "quantity": 2}]}"#,
            "\n\n",
            r#"{"turns": ["a coke", "make that 3"], "lines": [{"sku": "COKE", "quantity": 4}]}"#,
            "\n",
        ),
    );
    let eval = |floor: &str| {
        Command::new(env!("CARGO_BIN_EXE_gapless"))
            .current_dir(repo_path(""))
            .env("RUST_LOG", "off")
            .args(["eval", "--min-accuracy", floor])
            .arg(&cases)
            .output()
            .unwrap()
    };

    let passed = eval("50");
    let stdout = String::from_utf8_lossy(&passed.stdout).into_owned();
    assert!(passed.status.success(), "{stdout}{}", stderr(&passed));
    assert!(stdout.contains("exact match: 1/2 (50.0 %)"), "{stdout}");
    assert!(stdout.contains("> make that 3"), "the failure is shown: {stdout}");

    let below = eval("50.1");
    assert!(!below.status.success());
    assert!(stderr(&below).contains("below the floor of 50.1 %"), "{}", stderr(&below));

    let broken =
        write(dir.path(), "broken.jsonl", "{\"text\": \"a coke\", \"lines\": []}\nnot json\n");
    let output = Command::new(env!("CARGO_BIN_EXE_gapless"))
        .current_dir(repo_path(""))
        .args(["eval"])
        .arg(&broken)
        .output()
        .unwrap();
    assert_one_line_failure(&output, "line 2");
}

/// Two cases: "two diet cokes" (the fake model always proposes two cokes, a product that
/// turn does not offer, so refused) and
/// "a coke" then "make that 3", labelled 4 cokes (wrong for the rules extractor, right
/// for a model that adds two cokes each turn).
#[test]
fn eval_compares_the_model_with_the_rules() {
    let dir = tempfile::tempdir().unwrap();
    let cases = write(
        dir.path(),
        "cases.jsonl",
        concat!(
            r#"{"text": "two diet cokes please", "lines": [{"sku": "DIET-COKE", "quantity": 2}]}"#,
            "\n",
            r#"{"turns": ["a coke", "make that 3"], "lines": [{"sku": "COKE", "quantity": 4}]}"#,
            "\n",
        ),
    );
    let eval = |extractor: &str, base_url: Option<&str>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_gapless"));
        command
            .current_dir(repo_path(""))
            .env("RUST_LOG", "off")
            .env_remove("GAPLESS_LLM_MODEL")
            .args(["eval", "--extractor", extractor])
            .arg(&cases);
        if let Some(base_url) = base_url {
            command.env("OPENAI_BASE_URL", base_url).env("GAPLESS_LLM_MODEL", "fake-model");
        }
        command.output().unwrap()
    };

    let unconfigured = eval("llm", None);
    assert_one_line_failure(&unconfigured, "set GAPLESS_LLM_MODEL");

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let base_url = runtime.block_on(async {
        use axum::{routing::post, Json, Router};
        let answer = serde_json::json!({
            "id": "chatcmpl-fake", "object": "chat.completion", "created": 1_700_000_000,
            "model": "fake-model",
            "choices": [ { "index": 0, "finish_reason": "tool_calls", "message": {
                "role": "assistant", "content": null,
                "tool_calls": [ { "id": "call_0", "type": "function", "function": {
                    "name": "add_item", "arguments": "{\"product\": \"coke\", \"quantity\": 2}" } } ] } } ]
        });
        let app = Router::new()
            .route("/v1/chat/completions", post(move || async move { Json(answer.clone()) }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{address}/v1")
    });
    let both = eval("both", Some(&base_url));
    let stdout = String::from_utf8_lossy(&both.stdout).into_owned();
    assert!(both.status.success(), "{stdout}{}", stderr(&both));
    assert!(stdout.contains("exact match: 1/2 (50.0 %) with the rules extractor"), "{stdout}");
    assert!(stdout.contains("exact match: 1/2 (50.0 %) with the llm extractor"), "{stdout}");
    assert!(stdout.contains("rules and llm disagree on 2 of 2 cases"), "{stdout}");
    // The fake always says coke, which a turn about diet cokes does not offer (the
    // model would have to search for it): refused, nothing applied.
    assert!(stdout.contains("llm:      (nothing)"), "{stdout}");
    assert!(stdout.contains("1 turns got no usable answer from the model"), "{stdout}");
}

/// `gapless eval --extractor llm` on the labelled sets against a model that knows only
/// what each request tells it (see `prompt_reader`): its accuracy is what the prompts
/// carry. The floors are the figures measured when the prompt was last changed; the
/// largest request must stay within the per-turn budget.
#[test]
fn eval_with_a_model_that_reads_only_its_prompt() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let reader = runtime.block_on(prompt_reader::PromptReader::start());
    let sets = [
        ("eval/utterances.jsonl", "demo/catalog.json", 677),
        ("eval/shops/burger/utterances.jsonl", "eval/shops/burger/catalog.json", 38),
        ("eval/shops/burrito/utterances.jsonl", "eval/shops/burrito/catalog.json", 40),
        ("eval/shops/coffee/utterances.jsonl", "eval/shops/coffee/catalog.json", 38),
        ("eval/shops/sandwich/utterances.jsonl", "eval/shops/sandwich/catalog.json", 43),
    ];
    let mut report = Vec::new();
    for (cases, catalog, floor) in sets {
        let output = Command::new(env!("CARGO_BIN_EXE_gapless"))
            .current_dir(repo_path(""))
            .env("RUST_LOG", "off")
            .env("OPENAI_BASE_URL", &reader.base_url)
            .env("GAPLESS_LLM_MODEL", "prompt-reader")
            .args(["eval", "--extractor", "llm", "--failures", "0", "--catalog", catalog, cases])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(output.status.success(), "{stdout}{}", stderr(&output));
        let line = stdout.lines().find(|l| l.starts_with("exact match: ")).expect(&stdout);
        let exact: usize =
            line["exact match: ".len()..].split('/').next().unwrap().parse().unwrap();
        let stats = reader.take_stats();
        report.push(format!(
            "{cases}: {line}; {} requests, {} searches, the largest {} characters ({:?})",
            stats.requests, stats.searches, stats.largest.0, stats.largest.1
        ));
        assert!(exact >= floor, "{cases}: {exact} below the floor of {floor}");
    }
    println!("{}", report.join("\n"));
}

#[test]
fn bench_llm_times_both_paths() {
    let output = Command::new(env!("CARGO_BIN_EXE_gapless"))
        .current_dir(repo_path(""))
        .env("RUST_LOG", "off")
        .args(["bench-llm", "--turns", "20"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{stdout}{}", stderr(&output));
    assert!(stdout.contains("llm path, 20 turns") && stdout.contains("rules path"), "{stdout}");
}

#[tokio::test]
async fn demo_seed_places_delivered_orders_of_various_ages() {
    let db = testing::sqlite().await;
    let without = gapless(&db.url).args(["demo", "seed"]).output().unwrap();
    assert_one_line_failure(&without, "no catalog");

    let import = gapless(&db.url)
        .args(["catalog", "import"])
        .arg(repo_path("demo/catalog.json"))
        .output()
        .unwrap();
    assert!(import.status.success(), "{}", stderr(&import));
    let output = gapless(&db.url).args(["demo", "seed"]).output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.starts_with("DEMO DATA"), "{text}");
    let numbers: Vec<&str> =
        text.split_whitespace().filter(|word| word.starts_with("G-")).collect();
    assert_eq!(numbers.len(), 4, "{text}");
    let now = time::OffsetDateTime::now_utc();
    let mut ages = Vec::new();
    for number in numbers {
        let order = db.store.returnable_order(number).await.unwrap().expect("a placed order");
        assert_eq!(order.email.as_deref(), Some("demo@example.com"));
        ages.push((now - order.delivered_at.expect("delivered")).whole_days());
        // Through the fulfilment path: events (with outbox rows), not a column set aside.
        let summary = db.store.order_summary(number).await.unwrap().unwrap();
        assert_eq!(summary.status, gapless_domain::orders::OrderStatus::Delivered);
        let events = db.store.order_events(&summary.id).await.unwrap();
        let kinds: Vec<&str> = events.iter().rev().take(2).map(|e| e.event_type.as_str()).collect();
        assert_eq!(kinds, ["delivered", "shipped"]);
    }
    assert_eq!(ages, [3, 5, 10, 45]);
}

/// Customer emails reach the server in chat messages, lookups, return requests and
/// return status checks (also the old `?email=` form): none may end up in its log, even
/// at debug level for the request traces.
#[tokio::test]
async fn the_log_never_shows_a_customers_email() {
    use serde_json::{json, Value};

    const EMAIL: &str = "shopper.secret@example.com";
    const OTHER: &str = "other.secret@example.com";
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("gapless.db").display());
    let log_path = dir.path().join("server.log");
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = gapless(&url)
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "info,tower_http=debug")
        .env("GAPLESS_METRICS_TOKEN", "hunter2-metrics-secret")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();

    server::tls::install_crypto_provider();
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while client.get(format!("{base}/healthz")).send().await.is_err() {
        assert!(Instant::now() < deadline, "server did not come up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let post = |path: &str, body: Value| client.post(format!("{base}{path}")).json(&body).send();

    let chat: Value = post("/api/v1/conversations", json!({})).await.unwrap().json().await.unwrap();
    let chat = chat["id"].as_str().unwrap().to_owned();
    let mut last = Value::Null;
    for text in [
        "two black tees in M".to_owned(),
        format!("my name is Ana Ruiz, {EMAIL}"),
        "ship to 12 Main St, Springfield, 62701, US".to_owned(),
        "confirm".to_owned(),
        "yes".to_owned(),
    ] {
        let response =
            post(&format!("/api/v1/conversations/{chat}/messages"), json!({ "text": text }))
                .await
                .unwrap();
        assert_eq!(response.status(), 200, "{text}");
        last = response.json().await.unwrap();
    }
    let number = last["order"]["number"].as_str().expect("an order").to_owned();
    let asked = post(
        &format!("/api/v1/conversations/{chat}/messages"),
        json!({ "text": format!("where is my order {number}, I'm {EMAIL}") }),
    )
    .await
    .unwrap();
    assert_eq!(asked.status(), 200);

    let lookup = post("/api/v1/returns/lookup", json!({ "order_number": number, "email": EMAIL }))
        .await
        .unwrap();
    assert_eq!(lookup.status(), 200);
    let created: Value = post(
        "/api/v1/returns",
        json!({ "order_number": number, "email": EMAIL, "resolution": "refund",
                "items": [ { "line": 0, "quantity": 1, "reason": "too_small" } ] }),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let rma = created["rma"].as_str().expect("a return").to_owned();
    for (query, header, expected) in [
        (format!("?email={EMAIL}"), None, 200),
        (format!("?email={OTHER}"), None, 404),
        (String::new(), Some(EMAIL), 200),
        (String::new(), Some(OTHER), 404),
    ] {
        let mut request = client.get(format!("{base}/api/v1/returns/{rma}{query}"));
        if let Some(email) = header {
            request = request.header("customer-email", email);
        }
        assert_eq!(request.send().await.unwrap().status(), expected, "{query} {header:?}");
    }

    let scrape = client
        .get(format!("{base}/metrics"))
        .bearer_auth("hunter2-metrics-secret")
        .send()
        .await
        .unwrap();
    assert_eq!(scrape.status(), 200);

    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "server ignored SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let log = std::fs::read_to_string(&log_path).unwrap();
    // The requests were logged: the test looks at a real access log.
    assert!(log.contains(&format!("/api/v1/returns/{rma}")), "{log}");
    assert!(log.contains("/api/v1/returns/lookup"), "{log}");
    let lower = log.to_lowercase();
    for secret in
        ["shopper.secret", "other.secret", "secret%40example", "secret@example", "hunter2"]
    {
        assert!(!lower.contains(secret), "{secret} is in the log:\n{log}");
    }
}

/// The settings of issue 11 are documented in `--help`; the metrics token's value is
/// never shown there, nor in the server's log.
#[test]
fn serve_help_shows_the_new_settings_but_not_the_metrics_token() {
    let output = gapless("sqlite::memory:")
        .args(["serve", "--help"])
        .env("GAPLESS_METRICS_TOKEN", "hunter2-metrics-secret")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{help}{}", stderr(&output));
    for setting in [
        "GAPLESS_METRICS_TOKEN",
        "GAPLESS_METRICS_REFRESH_MS",
        "GAPLESS_REQUEST_TIMEOUT_MS",
        "[default: 30000]",
        "[default: 5000]",
    ] {
        assert!(help.contains(setting), "{setting} missing from\n{help}");
    }
    assert!(!help.contains("hunter2"), "{help}");
}

/// `gapless api-key add NAME` prints the key once (the one stdout line starting `gk_`),
/// `list` never shows it, `revoke` stops it at once.
#[tokio::test]
async fn api_keys_are_added_listed_and_revoked() {
    use server::fulfilment::keys;
    for db in databases().await {
        let added = gapless(&db.url).args(["api-key", "add", "warehouse"]).output().unwrap();
        assert!(added.status.success(), "{}", stderr(&added));
        let stdout = String::from_utf8(added.stdout).unwrap();
        let lines: Vec<&str> = stdout.lines().filter(|line| line.starts_with("gk_")).collect();
        assert_eq!(lines.len(), 1, "{stdout}");
        let key = lines[0];
        assert_eq!(key.len(), 3 + 64, "{key}");
        let bearer = format!("Bearer {key}");
        let found = keys::authenticate(db.store.as_ref(), Some(&bearer)).await.unwrap();
        assert_eq!(found.expect("the printed key works").name, "warehouse");

        let taken = gapless(&db.url).args(["api-key", "add", "warehouse"]).output().unwrap();
        assert_one_line_failure(&taken, "in use");

        let listed = gapless(&db.url).args(["api-key", "list"]).output().unwrap();
        let listed = String::from_utf8(listed.stdout).unwrap();
        assert!(listed.contains("warehouse") && listed.contains("in use"), "{listed}");
        assert!(!listed.contains(&key[3..]), "the key itself is never listed");

        let revoked = gapless(&db.url).args(["api-key", "revoke", "warehouse"]).output().unwrap();
        assert!(revoked.status.success(), "{}", stderr(&revoked));
        assert!(keys::authenticate(db.store.as_ref(), Some(&bearer)).await.unwrap().is_none());
        let again = gapless(&db.url).args(["api-key", "revoke", "warehouse"]).output().unwrap();
        assert_one_line_failure(&again, "no key in use");
    }
}
