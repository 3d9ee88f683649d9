use ciguard_core::{AuditMeta, declare_audit};

use super::{Check, Cx, Outcome, finding};
use crate::gather::Org;

declare_audit! {
    /// ## What it does
    ///
    /// Checks the organization: two-factor authentication is required of members, the base
    /// repository permission is not `write` or `admin`, and there are no more owners than the
    /// option `max_owners` (default 3).
    ///
    /// ## Why is this bad?
    ///
    /// A member without 2FA is one phished password away from pushing code; a write base permission
    /// gives every member push access to every repository; every owner can change every setting
    /// this command checks, so each one is an account worth stealing.
    ///
    /// ## Example
    ///
    /// ```json
    /// { "login": "octo-org", "two_factor_requirement_enabled": false, "default_repository_permission": "write" }
    /// ```
    ///
    /// Use instead:
    ///
    /// ```json
    /// { "login": "octo-org", "two_factor_requirement_enabled": true, "default_repository_permission": "read" }
    /// ```
    ///
    /// ## Fix
    ///
    /// Organization settings → Authentication security, and → Member privileges.
    pub struct SettingsOrganization {
        id: "settings-organization",
        summary: "organization without required 2fa, with a write base permission, or with many owners",
        severity: High,
        confidence: High,
        persona: Regular,
        inputs: [],
        needs_network: true,
        fix: None,
    }
}

impl Check for SettingsOrganization {
    fn meta(&self) -> &'static AuditMeta {
        &Self::META
    }

    fn is_org_check(&self) -> bool {
        true
    }

    fn org(&self, cx: &Cx<'_>, org: &Org, out: &mut Outcome) {
        let subject = |field: &str| format!("org {}: {field}", org.login);
        match &org.two_factor_required {
            Ok(true) => {}
            Ok(false) => out.findings.push(finding(
                &Self::META,
                "two-factor authentication is not required of members",
                subject("two_factor_requirement_enabled"),
                cx.org_url(&org.login, "security"),
                "2fa",
            )),
            Err(u) => out.unknown(u),
        }
        match org.default_repository_permission.as_deref() {
            Ok(p @ ("write" | "admin")) => out.findings.push(finding(
                &Self::META,
                format!("every member has `{p}` access to every repository (base permission)"),
                subject("default_repository_permission"),
                cx.org_url(&org.login, "member_privileges"),
                "base permission",
            )),
            Ok(_) => {}
            Err(u) => out.unknown(u),
        }
        match &org.owners {
            Ok(n) if *n > cx.options.max_owners => out.findings.push(
                finding(
                    &Self::META,
                    format!(
                        "the organization has {n} owners, more than {}",
                        cx.options.max_owners
                    ),
                    subject("owners"),
                    Some(format!(
                        "{}/orgs/{}/people?query=role%3Aowner",
                        cx.options.web_url, org.login
                    )),
                    "owners",
                )
                .severity(ciguard_core::Severity::Medium),
            ),
            Ok(_) => {}
            Err(u) => out.unknown(u),
        }
    }
}
