//! The rules extractor and the draft on every labelled case of `eval/utterances.jsonl`
//! against the demo catalog: what one chat turn costs before any I/O.
//!
//! `cargo bench -p gapless-domain --bench chat`

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use gapless_domain::{
    catalog::Catalog,
    chat::{eval, Draft, RulesExtractor},
};

fn load() -> (Catalog, Vec<eval::Case>) {
    let catalog = Catalog::from_json(include_str!("../../../demo/catalog.json")).unwrap();
    let cases = eval::parse_cases(include_str!("../../../eval/utterances.jsonl")).unwrap();
    (catalog, cases)
}

fn chat(c: &mut Criterion) {
    let (catalog, cases) = load();
    let extractor = RulesExtractor::new(&catalog);
    let turns: Vec<&str> = cases.iter().flat_map(|c| c.turns.iter().map(String::as_str)).collect();

    let mut group = c.benchmark_group("chat");
    group.throughput(Throughput::Elements(turns.len() as u64));
    group.bench_function("extract every labelled turn", |b| {
        let empty = Draft::new().context();
        b.iter(|| {
            for turn in &turns {
                std::hint::black_box(extractor.extract(turn, &empty));
            }
        })
    });
    group.throughput(Throughput::Elements(cases.len() as u64));
    group.bench_function("extract and apply every labelled case", |b| {
        b.iter(|| {
            for case in &cases {
                std::hint::black_box(eval::run_case(&catalog, &extractor, case));
            }
        })
    });
    group.finish();

    c.bench_function("build the phrase index for the demo catalog", |b| {
        b.iter_batched(
            || catalog.clone(),
            |catalog| RulesExtractor::new(&catalog),
            BatchSize::SmallInput,
        )
    });
}

criterion_group!(benches, chat);
criterion_main!(benches);
