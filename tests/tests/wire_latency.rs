//! Escrow-to-stack latency on the wire: from the emulator writing an escrow
//! status to the pty to it reading the driver's stack command, with the
//! driver at its default settings (poll 100 ms, event-driven I/O) and the
//! stack issued the moment `Escrowed` arrives, as the kiosk core does.
//!
//! Prints the figures; run with `-- --nocapture` to see them. The target is
//! "well inside one 100 ms poll interval": the test fails above 50 ms.
#![forbid(unsafe_code)]

use std::time::Duration;

use kiosk_hal::drivers::id003::{Id003Acceptor, Id003Config};
use kiosk_hal::{AcceptorEvent, BillAcceptor, Currency, Money};
use kiosk_sim::devices::AcceptorConfig;
use kiosk_sim::emulators::{Id003Emulator, Id003EmulatorConfig};

async fn next(acceptor: &mut Id003Acceptor) -> AcceptorEvent {
    tokio::time::timeout(Duration::from_secs(3), acceptor.next_event())
        .await
        .expect("an event within 3 s")
        .expect("no device error")
}

#[tokio::test]
async fn escrow_to_stack_is_well_inside_one_poll_interval() {
    let dir = tempfile::tempdir().unwrap();
    let config = Id003EmulatorConfig {
        acceptor: AcceptorConfig {
            validate_ms: 80,
            stack_ms: 80,
            return_ms: 80,
            faults: Vec::new(),
        },
        ..Id003EmulatorConfig::default()
    };
    let emu = Id003Emulator::start(dir.path().join("id003"), &config).unwrap();
    let mut acceptor = Id003Acceptor::open(&Id003Config::for_port(emu.path())).unwrap();
    assert!(matches!(
        next(&mut acceptor).await,
        AcceptorEvent::PowerUp { .. }
    ));
    while !acceptor.is_running() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let value = Money::major(20, Currency::CNY);
    acceptor.enable(&[value]).await.unwrap();
    const NOTES: usize = 8;
    for _ in 0..NOTES {
        emu.insert_note(value, true).unwrap();
        assert_eq!(next(&mut acceptor).await, AcceptorEvent::Escrowed { value });
        acceptor.stack().await.unwrap();
        assert_eq!(next(&mut acceptor).await, AcceptorEvent::Stacked { value });
    }
    let mut latencies = emu.stats().escrow_to_stack;
    assert_eq!(latencies.len(), NOTES);
    latencies.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "escrow status written -> stack command read, {NOTES} notes: min {:.2} ms, median {:.2} ms, max {:.2} ms",
        ms(latencies[0]),
        ms(latencies[NOTES / 2]),
        ms(latencies[NOTES - 1]),
    );
    assert!(
        latencies[NOTES - 1] < Duration::from_millis(50),
        "{latencies:?}"
    );
}
