//! One end of a pseudo-terminal pair, published at a stable path.
//!
//! The emulator holds the master side; the driver opens the slave by path.
//! The path is a symlink the emulator re-points on every (re)plug, so a
//! driver configured with it finds the new pty after an "unplug" exactly as
//! it would find a USB-serial adapter plugged back in.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serialport::{SerialPort, TTYPort};

/// Read timeout on the master side.
pub(crate) const READ_TICK: Duration = Duration::from_millis(5);

/// A pty master plus the symlink the driver opens.
pub struct PtyEndpoint {
    link: PathBuf,
    master: Option<TTYPort>,
    /// Held so the master never reads EIO while the driver has the slave
    /// closed (between its reconnection attempts).
    slave: Option<TTYPort>,
    slave_name: Option<String>,
}

impl PtyEndpoint {
    /// Creates a pty pair and points `link` at its slave (replacing any
    /// file there).
    pub fn create(link: impl Into<PathBuf>) -> io::Result<PtyEndpoint> {
        let mut endpoint = PtyEndpoint {
            link: link.into(),
            master: None,
            slave: None,
            slave_name: None,
        };
        endpoint.plug()?;
        Ok(endpoint)
    }

    /// The path a driver opens.
    pub fn path(&self) -> &Path {
        &self.link
    }

    /// The slave device (`/dev/pts/N`) while plugged.
    pub fn device_name(&self) -> Option<&str> {
        self.slave_name.as_deref()
    }

    /// Whether a pty is attached.
    pub fn is_plugged(&self) -> bool {
        self.master.is_some()
    }

    /// Attaches a fresh pty and re-points the link at it (atomically).
    pub fn plug(&mut self) -> io::Result<()> {
        let (mut master, slave) = TTYPort::pair().map_err(io::Error::from)?;
        master.set_timeout(READ_TICK).map_err(io::Error::from)?;
        let name = slave
            .name()
            .ok_or_else(|| io::Error::other("pty slave has no name"))?;
        let tmp = self.link.with_extension("relink");
        let _ = std::fs::remove_file(&tmp);
        std::os::unix::fs::symlink(&name, &tmp)?;
        std::fs::rename(&tmp, &self.link)?;
        self.master = Some(master);
        self.slave = Some(slave);
        self.slave_name = Some(name);
        Ok(())
    }

    /// Closes the pty (the driver's reads fail) and removes the link (its
    /// reopening attempts fail), like pulling the adapter out.
    pub fn unplug(&mut self) {
        self.master = None;
        self.slave = None;
        self.slave_name = None;
        let _ = std::fs::remove_file(&self.link);
    }

    /// Reads what the driver wrote; `Ok(0)` after the read tick with
    /// nothing, `NotConnected` while unplugged.
    pub fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some(master) = self.master.as_mut() else {
            return Err(io::ErrorKind::NotConnected.into());
        };
        match master.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::TimedOut => Ok(0),
            other => other,
        }
    }

    /// Writes to the driver (nothing while unplugged).
    pub fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self.master.as_mut() {
            Some(master) => master.write_all(bytes),
            None => Err(io::ErrorKind::NotConnected.into()),
        }
    }
}

impl Drop for PtyEndpoint {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.link);
    }
}
