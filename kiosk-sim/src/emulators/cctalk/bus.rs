//! A ccTalk slave on the single-wire bus: what every emulated ccTalk
//! device does with the bytes the host sends before and after its own
//! header handling.
//!
//! The bus gives the host its own bytes back first (the echo of the
//! single wire, when configured), decodes frames, ignores frames for other
//! addresses, stays silent on a corrupted frame or an unknown header (a
//! slave never answers an error), and frames each reply with header 0 from
//! its own address to the host. The device behind it only turns a
//! [`HostCommand`] into reply data, so the bill validator and the coin
//! acceptor differ only there and in their address.

use kiosk_hal::wire::cctalk::{
    BufferedBillEvents, Checksum, Decoder, FrameRepr, HostCommand, ADDR_HOST,
};

use crate::emulators::runner::WireDevice;

/// An emulated ccTalk device behind a [`SlaveBus`]: its answers by header.
/// Called from the emulator thread only.
pub(crate) trait CctalkSlave: Send + 'static {
    /// The reply data to a command addressed to this device; `None` for
    /// silence.
    fn command(&mut self, cmd: HostCommand) -> Option<Vec<u8>>;
    /// A frame with a bad checksum arrived (it is not answered).
    fn bad_frame(&mut self);
    /// A frame for this device with a header it does not know (it is not
    /// answered).
    fn unknown_command(&mut self);
    /// Every loop turn of the emulator thread: work that goes on whether
    /// or not the host polls.
    fn on_tick(&mut self) {}
    /// The emulator thread is about to end.
    fn on_stop(&mut self) {}
}

/// The bus side of a ccTalk slave at `address`, in front of `slave`.
pub(crate) struct SlaveBus<S> {
    address: u8,
    checksum: Checksum,
    echo: bool,
    decoder: Decoder,
    /// The device's own state (read by the emulator's accessors).
    pub(crate) slave: S,
}

impl<S: CctalkSlave> SlaveBus<S> {
    /// `slave` answering at `address` on a line with `checksum`, echoing
    /// the host's bytes when `echo`.
    pub(crate) fn new(address: u8, checksum: Checksum, echo: bool, slave: S) -> SlaveBus<S> {
        debug_assert_ne!(address, ADDR_HOST, "a slave never has the host's address");
        SlaveBus {
            address,
            checksum,
            echo,
            decoder: Decoder::new(checksum),
            slave,
        }
    }
}

impl<S: CctalkSlave> WireDevice for SlaveBus<S> {
    fn on_bytes(&mut self, bytes: &[u8], out: &mut Vec<Vec<u8>>) {
        // The shared wire gives the host its own bytes back first.
        let mut write = if self.echo {
            bytes.to_vec()
        } else {
            Vec::new()
        };
        self.decoder.push(bytes);
        while let Some(frame) = self.decoder.next_frame() {
            let Ok(frame) = frame else {
                // A slave stays silent on any error.
                self.slave.bad_frame();
                continue;
            };
            if frame.dest != self.address {
                continue;
            }
            let reply = match HostCommand::from_frame(&frame) {
                Ok(cmd) => self.slave.command(cmd),
                Err(_) => {
                    self.slave.unknown_command();
                    None
                }
            };
            if let Some(data) = reply {
                let frame = FrameRepr::new(ADDR_HOST, self.address, 0, data);
                if let Ok(bytes) = frame.to_bytes(self.checksum) {
                    write.extend(bytes);
                }
            }
        }
        if !write.is_empty() {
            out.push(write);
        }
    }

    fn on_tick(&mut self, _out: &mut Vec<Vec<u8>>) {
        self.slave.on_tick();
    }

    fn on_stop(&mut self) {
        self.slave.on_stop();
    }
}

/// The buffered event log of a device just powered up or reset: counter 0,
/// no events.
pub(crate) fn fresh_log() -> BufferedBillEvents {
    BufferedBillEvents {
        counter: 0,
        pairs: [(0, 0); 5],
    }
}
