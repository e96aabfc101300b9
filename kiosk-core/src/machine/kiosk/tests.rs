//! Tests of the kiosk machine driven by hand, without a runtime.
