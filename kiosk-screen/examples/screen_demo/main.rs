//! A kiosk on virtual devices in real time, with the customer's screen.
//!
//! Run `cargo run -p kiosk-screen --example screen_demo [-- 127.0.0.1:8080]`
//! and open the address it prints in a browser (a touchscreen kiosk runs
//! `chromium --kiosk http://127.0.0.1:8080/`). Type the account
//! 13800000001 or 13800000002 on the page's keypad; you are the customer's
//! hands on the devices through stdin:
//!
//! - `note 50` inserts a 50 yuan note (`fake 50`: a counterfeit one),
//! - `code` shows a valid payment code to the reader (`code 123`: any digits),
//! - `paper-out` / `paper-in` empties / reloads the receipt printer,
//! - `quit` ends the demo.
#![forbid(unsafe_code)]

mod rig;

use std::io::BufRead;

use kiosk_hal::{Currency, Money};

fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let bind = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".into())
        .parse()?;
    let demo = rig::start(bind)?;
    println!("customer's screen: {}", demo.url);
    println!("accounts: 13800000001 (张三, 70 元 due), 13800000002 (李小红, 30 元 due)");
    println!("commands: note <yuan> | fake <yuan> | code [digits] | paper-out | paper-in | quit");
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["note" | "fake", yuan] => match yuan
                .parse::<i64>()
                .ok()
                .and_then(|y| Money::try_major(y, Currency::CNY))
            {
                Some(value) => match demo.slot.insert_note(value, words[0] == "note") {
                    Ok(()) => println!("inserted {value}"),
                    Err(e) => println!("the slot refused the note: {e}"),
                },
                None => println!("not an amount in yuan: {yuan}"),
            },
            ["code"] => demo.window.present_code(rig::DEMO_CODE),
            ["code", digits] => demo.window.present_code(digits),
            ["paper-out"] => demo.printer.load_paper(0),
            ["paper-in"] => demo.printer.load_paper(10_000),
            ["quit"] => {
                let cash = demo.backend.credited_total(kiosk_hal::PaymentMethod::Cash);
                let code = demo.backend.credited_total(kiosk_hal::PaymentMethod::Code);
                println!("credited by the backend: {cash} in cash, {code} by code");
                break;
            }
            [] => {}
            _ => println!(
                "commands: note <yuan> | fake <yuan> | code [digits] | paper-out | paper-in | quit"
            ),
        }
    }
    Ok(())
}
