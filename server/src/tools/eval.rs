//! `gapless eval FILE.jsonl`: runs labelled utterances through an extractor (the rules,
//! the model, or both side by side) against a catalog file and reports exact-match
//! accuracy, the failures and, for both, where the two disagree. No database needed;
//! the model needs the LLM settings.

use std::{path::PathBuf, sync::Arc};

use anyhow::{bail, Context};
use gapless_domain::{
    catalog::Catalog,
    chat::{
        eval::{self, Case, ExpectedLine, Failure, Report},
        Draft, RulesExtractor,
    },
};
use indicatif::{ProgressBar, ProgressStyle};
use tokio::{sync::Semaphore, task::JoinSet};

use crate::chat::llm::{self, LlmArgs, LlmExtractor};

#[derive(Debug, Clone, clap::Args)]
pub struct EvalArgs {
    /// Labelled cases, one JSON object a line: {"text": …, "lines": […]} or {"turns": […], "lines": […]}.
    pub file: PathBuf,

    /// The catalog the cases are labelled against.
    #[arg(long, default_value = "demo/catalog.json")]
    pub catalog: PathBuf,

    /// Which extractor reads the messages.
    #[arg(long, value_enum, default_value = "rules")]
    pub extractor: Extractor,

    /// Exit with an error when exact-match accuracy (in percent) is below this.
    #[arg(long, value_name = "PERCENT")]
    pub min_accuracy: Option<f64>,

    /// How many failures (and disagreements) to print.
    #[arg(long, default_value_t = 20)]
    pub failures: usize,

    /// Cases sent to the model at once.
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,

    #[command(flatten)]
    pub llm: LlmArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Extractor {
    /// The embedded, offline rules extractor.
    Rules,
    /// The model (GAPLESS_LLM_MODEL at OPENAI_BASE_URL), without the rules fallback.
    Llm,
    /// Both, with the cases where they disagree.
    Both,
}

/// The reports of the extractors that ran.
#[derive(Debug, Default)]
pub struct Reports {
    pub rules: Option<Report>,
    pub llm: Option<Report>,
}

pub async fn run(args: &EvalArgs) -> anyhow::Result<Reports> {
    let catalog_text = std::fs::read_to_string(&args.catalog)
        .with_context(|| format!("cannot read the catalog file {}", args.catalog.display()))?;
    let catalog = Catalog::from_json(&catalog_text)
        .with_context(|| format!("the catalog file {} is not valid", args.catalog.display()))?;
    let cases_text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read the cases file {}", args.file.display()))?;
    let cases = eval::parse_cases(&cases_text)
        .with_context(|| format!("the cases file {} is not valid", args.file.display()))?;
    if cases.is_empty() {
        bail!("the cases file {} has no cases", args.file.display());
    }

    // Checked before any work: a missing model is the first thing to hear about.
    let model = match args.extractor {
        Extractor::Rules => None,
        Extractor::Llm | Extractor::Both => {
            let settings = args.llm.settings("gapless eval --extractor llm")?;
            Some(llm::openai_extractor(&settings, None)?)
        }
    };
    let mut reports = Reports::default();
    if args.extractor != Extractor::Llm {
        let extractor = RulesExtractor::new(&catalog);
        let bar = progress(cases.len());
        let report = eval::run_with_progress(&catalog, &extractor, &cases, |done, _| {
            bar.set_position(done as u64)
        });
        bar.finish_and_clear();
        reports.rules = Some(report);
    }
    if let Some(model) = &model {
        let (report, unusable) = run_llm(&catalog, model, &cases, args.concurrency).await?;
        if unusable > 0 {
            println!("{unusable} turns got no usable answer from the model (nothing applied)");
        }
        reports.llm = Some(report);
    }

    if let (Some(rules), Some(llm)) = (&reports.rules, &reports.llm) {
        print_disagreements(rules, llm, &cases, args.failures);
    }
    for (name, report) in [("rules", &reports.rules), ("llm", &reports.llm)] {
        let Some(report) = report else { continue };
        if args.extractor != Extractor::Both {
            print_failures(report, args.failures);
        }
        let accuracy = report.accuracy() * 100.0;
        println!(
            "exact match: {}/{} ({accuracy:.1} %) with the {name} extractor on {}",
            report.exact,
            report.total,
            args.file.display()
        );
    }
    if let Some(floor) = args.min_accuracy {
        for (name, report) in [("rules", &reports.rules), ("llm", &reports.llm)] {
            let Some(report) = report else { continue };
            let accuracy = report.accuracy() * 100.0;
            if accuracy < floor {
                bail!("{name} accuracy {accuracy:.1} % is below the floor of {floor:.1} %");
            }
        }
    }
    Ok(reports)
}

/// Drawn on stderr, and only when stderr is a terminal: logs and CI stay clean.
fn progress(len: usize) -> ProgressBar {
    ProgressBar::new(len as u64).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} cases {elapsed}")
            .expect("a valid progress template"),
    )
}

/// The model on every case, `concurrency` cases at a time. Returns the report and how
/// many turns had no usable answer.
async fn run_llm(
    catalog: &Catalog,
    model: &LlmExtractor,
    cases: &[Case],
    concurrency: usize,
) -> anyhow::Result<(Report, usize)> {
    let shared = Arc::new(catalog.clone());
    let rules = Arc::new(RulesExtractor::new(catalog));
    let slots = Arc::new(Semaphore::new(concurrency.max(1)));
    let bar = progress(cases.len());
    let mut tasks = JoinSet::new();
    for (index, case) in cases.iter().enumerate() {
        let slot = slots.clone().acquire_owned().await.context("the eval's task limit")?;
        let (catalog, model, rules, case) =
            (shared.clone(), model.clone(), rules.clone(), case.clone());
        let bar = bar.clone();
        tasks.spawn(async move {
            let result = llm_case(&catalog, &model, &rules, &case, index).await;
            bar.inc(1);
            drop(slot);
            (index, result)
        });
    }
    let mut results = tasks.join_all().await;
    bar.finish_and_clear();
    results.sort_by_key(|(index, _)| *index);

    let mut report = Report { total: cases.len(), ..Report::default() };
    let mut unusable = 0;
    for ((index, (got, not_usable)), case) in results.into_iter().zip(cases) {
        unusable += not_usable;
        if eval::same_lines(&case.lines, &got) {
            report.exact += 1;
        } else {
            report.failures.push(Failure {
                case: index,
                turns: case.turns.clone(),
                expected: case.lines.clone(),
                got,
            });
        }
    }
    Ok((report, unusable))
}

/// The same harness as the rules eval: each turn's commands applied to the draft the
/// previous turns left, whatever their outcome; the model sees that draft in its
/// prompt. Returns the lines and how many turns had no usable answer.
async fn llm_case(
    catalog: &Catalog,
    model: &LlmExtractor,
    rules: &RulesExtractor,
    case: &Case,
    index: usize,
) -> (Vec<ExpectedLine>, usize) {
    let mut draft = Draft::new();
    let mut unusable = 0;
    for turn in &case.turns {
        let order = gapless_domain::chat::llm::prompt_order(catalog, &draft);
        let proposal = model.propose(rules, &order, turn).await;
        if let Err(error) = &proposal.run.answer {
            tracing::warn!(case = index + 1, %error, "the model gave no answer");
        }
        if proposal.fallback.is_some() {
            unusable += 1;
        }
        for command in &proposal.parsed.extraction.commands {
            draft.apply(catalog, command);
        }
    }
    (draft.lines(catalog).into_iter().map(Into::into).collect(), unusable)
}

/// Cases one extractor got right and the other wrong, or both wrong differently.
fn print_disagreements(rules: &Report, llm: &Report, cases: &[Case], limit: usize) {
    let got = |report: &Report, case: usize| {
        report.failures.iter().find(|f| f.case == case).map(|f| f.got.clone())
    };
    let mut disagreements = 0;
    for (index, case) in cases.iter().enumerate() {
        let (by_rules, by_llm) = (got(rules, index), got(llm, index));
        let differ = match (&by_rules, &by_llm) {
            (None, None) => false,
            (Some(a), Some(b)) => !eval::same_lines(a, b),
            _ => true,
        };
        if !differ {
            continue;
        }
        disagreements += 1;
        if disagreements > limit {
            continue;
        }
        println!("≠ case {}", index + 1);
        for turn in &case.turns {
            println!("    > {turn}");
        }
        println!("    expected: {}", show_lines(&case.lines));
        let shown = |lines: &Option<Vec<ExpectedLine>>| match lines {
            None => "(right)".to_owned(),
            Some(lines) => show_lines(lines),
        };
        println!("    rules:    {}", shown(&by_rules));
        println!("    llm:      {}", shown(&by_llm));
    }
    if disagreements > limit {
        println!("… and {} more disagreements", disagreements - limit);
    }
    println!("rules and llm disagree on {disagreements} of {} cases", cases.len());
}

fn print_failures(report: &Report, limit: usize) {
    for failure in report.failures.iter().take(limit) {
        println!("✗ case {}", failure.case + 1);
        for turn in &failure.turns {
            println!("    > {turn}");
        }
        println!("    expected: {}", show_lines(&failure.expected));
        println!("    got:      {}", show_lines(&failure.got));
    }
    if report.failures.len() > limit {
        println!("… and {} more failures", report.failures.len() - limit);
    }
}

/// `2× TEE [size=m, color=black]; 1× TRAIL-BOTTLE []`: one line to compare by eye.
fn show_lines(lines: &[ExpectedLine]) -> String {
    if lines.is_empty() {
        return "(nothing)".to_owned();
    }
    lines
        .iter()
        .map(|line| {
            let choices = line
                .choices
                .iter()
                .map(|c| {
                    let qualifier =
                        c.qualifier.as_deref().map(|q| format!("{q} ")).unwrap_or_default();
                    let sign = if c.exclude { "no " } else { "" };
                    format!("{}={sign}{qualifier}{}", c.group, c.value)
                })
                .collect::<Vec<_>>()
                .join(", ");
            format!("{}× {} [{choices}]", line.quantity, line.sku)
        })
        .collect::<Vec<_>>()
        .join("; ")
}
