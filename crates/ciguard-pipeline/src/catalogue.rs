//! The one catalogue of every audit ciguard has: the core audits, then the dependency audits
//! (`ciguard deps`), then the settings checks (`ciguard settings`). Built once from static lists
//! and handed to every stage that needs it (configuration, docs, SARIF rules, `explain`), so no
//! behaviour depends on hidden global registration.

use std::sync::LazyLock;

use ciguard_core::Catalogue;

/// Every audit of every crate, in catalogue order.
pub fn build() -> Catalogue {
    let mut catalogue = ciguard_core::audits::catalogue();
    catalogue.extend(ciguard_deps::audits::all());
    catalogue.extend(ciguard_settings::checks::all().iter().map(|c| c.meta()));
    catalogue
}

/// The catalogue, built on first use.
pub fn catalogue() -> &'static Catalogue {
    static CATALOGUE: LazyLock<Catalogue> = LazyLock::new(build);
    &CATALOGUE
}
