//! `gapless eval FILE.jsonl`: runs labelled utterances through an extractor against a
//! catalog file and reports exact-match accuracy and the failures. No database needed.

use std::path::PathBuf;

use anyhow::{bail, Context};
use gapless_domain::{
    catalog::Catalog,
    chat::{
        eval::{self, ExpectedLine, Report},
        RulesExtractor,
    },
};
use indicatif::{ProgressBar, ProgressStyle};

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

    /// How many failures to print.
    #[arg(long, default_value_t = 20)]
    pub failures: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Extractor {
    /// The embedded, offline rules extractor.
    Rules,
}

impl Extractor {
    fn name(self) -> &'static str {
        match self {
            Extractor::Rules => "rules",
        }
    }
}

pub fn run(args: &EvalArgs) -> anyhow::Result<Report> {
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

    let extractor = match args.extractor {
        Extractor::Rules => RulesExtractor::new(&catalog),
    };
    // Drawn on stderr, and only when stderr is a terminal: logs and CI stay clean.
    let bar = ProgressBar::new(cases.len() as u64).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} cases {elapsed}")
            .expect("a valid progress template"),
    );
    let report = eval::run_with_progress(&catalog, &extractor, &cases, |done, _| {
        bar.set_position(done as u64)
    });
    bar.finish_and_clear();

    for failure in report.failures.iter().take(args.failures) {
        println!("✗ case {}", failure.case + 1);
        for turn in &failure.turns {
            println!("    > {turn}");
        }
        println!("    expected: {}", show_lines(&failure.expected));
        println!("    got:      {}", show_lines(&failure.got));
    }
    if report.failures.len() > args.failures {
        println!("… and {} more failures", report.failures.len() - args.failures);
    }
    let accuracy = report.accuracy() * 100.0;
    println!(
        "exact match: {}/{} ({accuracy:.1} %) with the {} extractor on {}",
        report.exact,
        report.total,
        args.extractor.name(),
        args.file.display()
    );
    if let Some(floor) = args.min_accuracy {
        if accuracy < floor {
            bail!("accuracy {accuracy:.1} % is below the floor of {floor:.1} %");
        }
    }
    Ok(report)
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
