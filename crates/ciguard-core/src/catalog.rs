//! What is known about every audit without running it: its id, defaults, documentation and
//! policy ([`AuditMeta`], written by [`declare_audit!`](crate::declare_audit)), the scales a
//! finding is rated on, and the [`Catalogue`] of all audits of every crate. A leaf module: it
//! depends on nothing but `source` (for the kinds of input), so findings, configuration and
//! outputs can read audit metadata without reaching the audits themselves.

use std::fmt;

use serde::Serialize;

use crate::source::FileKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Informational,
    Low,
    Medium,
    High,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

/// Who a finding is for: `regular` users see only regular findings, `pedantic` adds style and
/// hardening advice, `auditor` adds everything, including low-signal leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Persona {
    Regular,
    Pedantic,
    Auditor,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Applicability {
    /// Changes nothing the workflow relies on; applied by `--fix`.
    Safe,
    /// Correct in most cases but may change behaviour; applied by `--fix=unsafe`.
    Unsafe,
    /// A suggestion to read, never applied.
    DisplayOnly,
}

macro_rules! str_enum {
    ($ty:ident { $($variant:ident = $text:literal),* $(,)? }) => {
        impl $ty {
            pub const ALL: &'static [$ty] = &[$($ty::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self { $($ty::$variant => $text),* }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s.to_ascii_lowercase().as_str() { $($text => Some($ty::$variant),)* _ => None }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

str_enum!(Severity { Informational = "informational", Low = "low", Medium = "medium", High = "high" });
str_enum!(Confidence { Low = "low", Medium = "medium", High = "high" });
str_enum!(Persona { Regular = "regular", Pedantic = "pedantic", Auditor = "auditor" });
str_enum!(Applicability { Safe = "safe", Unsafe = "unsafe", DisplayOnly = "display-only" });

/// What fix an audit can offer, for the catalogue and the docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FixAvailability {
    None,
    Safe,
    Unsafe,
    DisplayOnly,
}

impl FixAvailability {
    pub fn as_str(self) -> &'static str {
        match self {
            FixAvailability::None => "none",
            FixAvailability::Safe => "safe",
            FixAvailability::Unsafe => "unsafe",
            FixAvailability::DisplayOnly => "display-only",
        }
    }
}

/// Whom an audit's findings inside a dependency (an action or reusable workflow the audited
/// file uses) concern, for transitive auditing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transitive {
    /// The consumer: an unpinned nested action, a moving download, an injection reachable
    /// through the action's inputs. Such findings keep their persona.
    Consumer,
    /// The dependency's authors: style or hardening of someone else's code, shown to the
    /// `auditor` persona only. The default.
    Auditor,
}

/// Everything known about an audit without running it.
#[derive(Debug)]
pub struct AuditMeta {
    pub id: &'static str,
    pub summary: &'static str,
    /// The user documentation: the audit's doc comment, verbatim.
    pub docs: &'static str,
    pub severity: Severity,
    pub confidence: Confidence,
    pub persona: Persona,
    pub inputs: &'static [FileKind],
    pub needs_network: bool,
    pub fix: FixAvailability,
    /// The file that declares the audit, relative to the workspace root (`file!()`).
    pub source: &'static str,
    pub transitive: Transitive,
}

impl AuditMeta {
    /// The doc comment with the one space `///` leaves at the start of each line removed.
    pub fn documentation(&self) -> String {
        let mut out = String::new();
        for line in self.docs.lines() {
            out.push_str(line.strip_prefix(' ').unwrap_or(line));
            out.push('\n');
        }
        out
    }

    /// The body of a `## Heading` section of the documentation.
    pub fn section(&self, heading: &str) -> Option<String> {
        let docs = self.documentation();
        let marker = format!("## {heading}\n");
        let start = docs.find(&marker)? + marker.len();
        let end = docs[start..]
            .find("\n## ")
            .map_or(docs.len(), |i| start + i + 1);
        Some(docs[start..end].to_owned())
    }
}

/// Every audit ciguard has, of every crate, in catalogue order. Built once by the front end
/// (core + dependency + settings audits) and passed to what needs to know the audits:
/// configuration, docs, outputs, `ciguard audits` and `explain`.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    metas: Vec<&'static AuditMeta>,
}

impl Catalogue {
    /// A catalogue of these audits, in this order. Ids must be unique.
    pub fn new(metas: impl IntoIterator<Item = &'static AuditMeta>) -> Self {
        let mut catalogue = Catalogue::default();
        catalogue.extend(metas);
        catalogue
    }

    /// Adds audits at the end; an id already present is a programming error.
    pub fn extend(&mut self, metas: impl IntoIterator<Item = &'static AuditMeta>) {
        for meta in metas {
            assert!(
                self.get(meta.id).is_none(),
                "audit `{}` declared twice",
                meta.id
            );
            self.metas.push(meta);
        }
    }

    /// The audit with this id.
    pub fn get(&self, id: &str) -> Option<&'static AuditMeta> {
        self.metas.iter().copied().find(|m| m.id == id)
    }

    pub fn iter(&self) -> impl Iterator<Item = &'static AuditMeta> + '_ {
        self.metas.iter().copied()
    }

    pub fn ids(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.iter().map(|m| m.id)
    }

    pub fn len(&self) -> usize {
        self.metas.len()
    }

    pub fn is_empty(&self) -> bool {
        self.metas.is_empty()
    }
}

/// An audit's metadata, implemented by [`declare_audit!`](crate::declare_audit) so that no
/// audit writes `fn meta` by hand.
pub trait Declared {
    fn meta(&self) -> &'static AuditMeta;
}

/// Declares an audit: its doc comment becomes its documentation, the fields its [`AuditMeta`].
/// `transitive: Consumer` marks audits whose findings inside a dependency concern the consumer
/// (see [`Transitive`]); it may be left out for the default, `Auditor`.
#[macro_export]
macro_rules! declare_audit {
    (
        $(#[doc = $doc:literal])*
        $vis:vis struct $name:ident {
            id: $id:literal,
            summary: $summary:literal,
            severity: $severity:ident,
            confidence: $confidence:ident,
            persona: $persona:ident,
            inputs: [$($input:ident),* $(,)?],
            needs_network: $network:literal,
            fix: $fix:ident
            $(, transitive: $transitive:ident)? $(,)?
        }
    ) => {
        $(#[doc = $doc])*
        $vis struct $name;

        impl $name {
            pub const META: $crate::catalog::AuditMeta = $crate::catalog::AuditMeta {
                id: $id,
                summary: $summary,
                docs: concat!($($doc, "\n"),*),
                severity: $crate::catalog::Severity::$severity,
                confidence: $crate::catalog::Confidence::$confidence,
                persona: $crate::catalog::Persona::$persona,
                inputs: &[$($crate::source::FileKind::$input),*],
                needs_network: $network,
                fix: $crate::catalog::FixAvailability::$fix,
                source: file!(),
                transitive: $crate::__transitive_or_auditor!($($transitive)?),
            };
        }

        impl $crate::catalog::Declared for $name {
            fn meta(&self) -> &'static $crate::catalog::AuditMeta {
                &Self::META
            }
        }
    };
}

/// The `transitive:` of [`declare_audit!`], `Auditor` when left out.
#[doc(hidden)]
#[macro_export]
macro_rules! __transitive_or_auditor {
    () => {
        $crate::catalog::Transitive::Auditor
    };
    ($transitive:ident) => {
        $crate::catalog::Transitive::$transitive
    };
}
