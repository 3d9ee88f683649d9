//! The one catalogue of every audit ciguard has: the core audits, then the dependency audits
//! (`ciguard deps`), then the settings checks (`ciguard settings`). Integration tests include
//! this file too, so they see the same catalogue as the binary.

use ciguard_core::Catalogue;

/// Every audit of every crate, in catalogue order.
pub fn build() -> Catalogue {
    let mut catalogue = ciguard_core::audits::catalogue();
    catalogue.extend(ciguard_deps::audits::all());
    catalogue.extend(ciguard_settings::checks::all().iter().map(|c| c.meta()));
    catalogue
}
