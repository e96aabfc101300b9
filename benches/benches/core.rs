//! Payment sessions per second: through the sans-IO state machine alone, and
//! through the async runner with virtual devices and the journal on disk.
//!
//! Run with `cargo bench -p kiosk-benches --bench core`.
#![forbid(unsafe_code)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use kiosk_core::session::{Input, Session, SessionConfig};
use kiosk_core::{CustomerAction, KioskId, Millis, SessionId};
use kiosk_hal::{
    AcceptorEvent, AccountAnswer, AccountInfo, AccountNumber, Currency, Money, PaymentMethod,
    PostingAnswer, PrintOutcome,
};
use kiosk_sim::drill::{run_once, Scenario};

fn cny(v: i64) -> Money {
    Money::major(v, Currency::CNY)
}

/// One full cash session of three notes through the state machine.
fn one_session(config: &SessionConfig) -> usize {
    let (mut s, mut n) = Session::start(
        SessionId("K01-000001".into()),
        KioskId("K01".into()),
        AccountNumber("1".into()),
        vec![PaymentMethod::Cash],
        config.clone(),
    );
    let mut actions = n.len();
    let mut now = 0u64;
    let mut feed = |s: &mut Session, i: Input| {
        now += 500;
        n = s.handle(i, Millis(now));
        actions += n.len();
    };
    feed(
        &mut s,
        Input::AccountAnswer(Ok(AccountAnswer::Payable(AccountInfo {
            holder_name: "A".into(),
            amount_due: cny(170),
            balance: cny(0),
        }))),
    );
    feed(
        &mut s,
        Input::Customer(CustomerAction::ChooseMethod {
            method: PaymentMethod::Cash,
        }),
    );
    for v in [50, 20, 100] {
        feed(
            &mut s,
            Input::Acceptor(AcceptorEvent::Escrowed { value: cny(v) }),
        );
        feed(
            &mut s,
            Input::Acceptor(AcceptorEvent::Stacked { value: cny(v) }),
        );
    }
    feed(&mut s, Input::Customer(CustomerAction::Confirm));
    feed(
        &mut s,
        Input::PostingAnswer(Ok(PostingAnswer::Credited {
            backend_ref: "B".into(),
            new_balance: cny(170),
        })),
    );
    feed(&mut s, Input::PrintResult(Ok(PrintOutcome::Printed)));
    assert!(s.outcome().is_some());
    actions
}

const CUSTOMERS: usize = 20;

fn runner_scenario() -> Scenario {
    let mut toml = String::from(
        "id = \"bench\"\ntitle = \"bench\"\nduration-ms = 10000000\n\
         [backend.accounts.\"1\"]\nholder-name = \"A\"\namount-due = { minor = 10000000, currency = \"CNY\" }\n",
    );
    for i in 0..CUSTOMERS {
        toml.push_str(&format!(
            "[[customers]]\narrive-ms = {}\naccount = \"1\"\nnotes = [50, 20, 100]\n",
            1_000 + i * 60_000
        ));
    }
    Scenario::from_toml("bench", &toml).unwrap()
}

fn bench(c: &mut Criterion) {
    let config = SessionConfig::default();
    let mut g = c.benchmark_group("payment-sessions");
    g.sample_size(20).measurement_time(Duration::from_secs(5));
    g.throughput(Throughput::Elements(1));
    g.bench_function("state-machine-only", |b| {
        b.iter(|| black_box(one_session(black_box(&config))))
    });
    let scenario = runner_scenario();
    g.throughput(Throughput::Elements(CUSTOMERS as u64));
    g.bench_function("runner-virtual-devices-journal-on-disk", |b| {
        b.iter(|| {
            let run = run_once(&scenario, 1).unwrap();
            // Synced commits per session, for the record: 11 money events each.
            assert_eq!(run.kiosk.journal().commits(), 11 * CUSTOMERS as u64);
            black_box(run.trace.len())
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
