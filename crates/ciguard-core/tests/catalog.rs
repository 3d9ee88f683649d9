//! The catalogue as a value: audits declared outside this crate (as `ciguard-deps` and
//! `ciguard-settings` do) are known to configuration and outputs through the catalogue passed,
//! or through the finding's own metadata; nothing depends on process-wide state.

use ciguard_core::catalog::{Catalogue, Transitive};
use ciguard_core::config::Config;
use ciguard_core::output::{Format, RenderOptions, render};
use ciguard_core::{Finding, Location, Report, audits, declare_audit};
use serde_json::Value;

declare_audit! {
    /// ## What it does
    ///
    /// Stands for an audit of another crate.
    pub struct OutsideAudit {
        id: "outside-audit",
        summary: "an audit declared outside the core crate",
        severity: Low,
        confidence: High,
        persona: Regular,
        inputs: [Dependencies],
        needs_network: false,
        fix: None,
    }
}

declare_audit! {
    /// Concerns whoever uses the action it is found in.
    pub struct ConsumerAudit {
        id: "consumer-audit",
        summary: "a finding inside a dependency that concerns its consumer",
        severity: High,
        confidence: High,
        persona: Regular,
        inputs: [Workflow],
        needs_network: false,
        fix: None,
        transitive: Consumer,
    }
}

fn with_outside() -> Catalogue {
    let mut catalogue = audits::catalogue();
    catalogue.extend([&OutsideAudit::META]);
    catalogue
}

#[test]
fn declarations_record_their_file_and_transitive_policy() {
    assert_eq!(
        OutsideAudit::META.source,
        "crates/ciguard-core/tests/catalog.rs"
    );
    assert_eq!(OutsideAudit::META.transitive, Transitive::Auditor);
    assert_eq!(ConsumerAudit::META.transitive, Transitive::Consumer);
    let unpinned = audits::catalogue()
        .get("unpinned-uses")
        .expect("core audit");
    assert_eq!(
        unpinned.source,
        "crates/ciguard-core/src/audits/unpinned_uses.rs"
    );
    assert_eq!(unpinned.transitive, Transitive::Consumer);
    let style = audits::catalogue().get("concurrency-limits").expect("core");
    assert_eq!(style.transitive, Transitive::Auditor);
}

#[test]
fn configuration_knows_the_audits_of_the_catalogue_passed() {
    let text = "[audits.outside-audit]\ndisable = true\nseverity = \"high\"\n";
    let e = Config::parse(text, &audits::catalogue()).unwrap_err();
    assert!(e.message.contains("unknown audit `outside-audit`"), "{e}");
    let config = Config::parse(text, &with_outside()).expect("known through the catalogue");
    assert!(config.is_disabled("outside-audit"));
    // Audits of other crates take their options from their own tables.
    let e = Config::parse("[audits.outside-audit]\ncooldown = 3\n", &with_outside()).unwrap_err();
    assert!(e.message.contains("takes no option `cooldown`"), "{e}");
    // A typo is corrected from the same catalogue.
    let e = Config::parse("[audits.outside-audt]\n", &with_outside()).unwrap_err();
    assert!(e.message.contains("outside-audit"), "{e}");
}

#[test]
#[should_panic(expected = "declared twice")]
fn an_id_is_declared_once() {
    let mut catalogue = with_outside();
    catalogue.extend([&OutsideAudit::META]);
}

#[test]
fn sarif_describes_any_audit_from_its_findings() {
    let finding = Finding::new(
        &OutsideAudit::META,
        "a finding of another crate",
        Location::setting("octo/repo: something", None, ""),
    );
    let report = Report {
        findings: vec![finding],
        diagnostics: Vec::new(),
        files_audited: 0,
        suppressed: 0,
        notes: Vec::new(),
    };
    let mut out = Vec::new();
    render(
        Format::Sarif,
        &report,
        &RenderOptions::default(),
        &ciguard_core::audits::catalogue(),
        &mut out,
    )
    .expect("render");
    let sarif: Value = serde_json::from_slice(&out).expect("JSON");
    // The rules are the core's catalogue and the findings' audits, sorted by id; the result
    // points at its own.
    let index = sarif["runs"][0]["results"][0]["ruleIndex"]
        .as_u64()
        .expect("ruleIndex") as usize;
    let rule = &sarif["runs"][0]["tool"]["driver"]["rules"][index];
    assert_eq!(rule["id"], "outside-audit");
    assert_eq!(
        rule["shortDescription"]["text"],
        "an audit declared outside the core crate"
    );
    assert_eq!(
        rule["fullDescription"]["text"],
        "Stands for an audit of another crate."
    );
    assert_eq!(rule["defaultConfiguration"]["level"], "warning");
    assert_eq!(rule["properties"]["persona"], "regular");
}
