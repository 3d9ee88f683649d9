//! Facts resolved online before auditing (refs, commits, advisories). Offline, it is empty and
//! audits that need it are reported as skipped.

/// An immutable store of what the online resolution learned.
#[derive(Debug, Default)]
pub struct Facts {
    /// Whether resolution ran; audits that need the network check this.
    pub online: bool,
}
