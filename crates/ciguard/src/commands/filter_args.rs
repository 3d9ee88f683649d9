//! The suppress and filter flags shared by `audit`, `deps` and `settings`: the same
//! [`ciguard_pipeline::FindingFilter`] decides what each reports.

use std::path::PathBuf;

use ciguard_core::{Confidence, Persona, Severity};
use ciguard_pipeline::{ConfigChoice, View};
use clap::builder::{PossibleValuesParser, TypedValueParser};

/// Suppress and filter flags shared by `audit`, `deps` and `settings`.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Filtering")]
pub struct FilterArgs {
    /// Who the report is for: `regular` findings only, `pedantic` adds hardening advice,
    /// `auditor` adds low-signal leads.
    #[arg(short, long, value_enum, default_value_t = PersonaArg::Regular)]
    pub persona: PersonaArg,

    /// Hide findings below this severity.
    #[arg(long, ignore_case = true, value_parser = severity_parser())]
    pub min_severity: Option<Severity>,

    /// Hide findings below this confidence.
    #[arg(long, ignore_case = true, value_parser = confidence_parser())]
    pub min_confidence: Option<Confidence>,

    /// Report only findings that are not in this baseline.
    #[arg(long)]
    pub baseline: Option<PathBuf>,

    /// Findings do not change the exit status (0 unless an error occurred); errors still do.
    #[arg(long)]
    pub no_exit_codes: bool,
}

impl FilterArgs {
    pub fn view(&self) -> View {
        View {
            persona: self.persona.persona(),
            min_severity: self.min_severity,
            min_confidence: self.min_confidence,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PersonaArg {
    Regular,
    Pedantic,
    Auditor,
}

impl PersonaArg {
    pub fn persona(self) -> Persona {
        match self {
            PersonaArg::Regular => Persona::Regular,
            PersonaArg::Pedantic => Persona::Pedantic,
            PersonaArg::Auditor => Persona::Auditor,
        }
    }
}

/// `--config FILE`, `--no-config`, or discovery at each repository root.
pub fn config_choice(config: Option<PathBuf>, no_config: bool) -> ConfigChoice {
    match (config, no_config) {
        (_, true) => ConfigChoice::Ignore,
        (Some(path), false) => ConfigChoice::File(path),
        (None, false) => ConfigChoice::Discover,
    }
}

/// `--min-severity`: the accepted values are listed in `--help` and in the error for a typo.
pub(crate) fn severity_parser() -> impl TypedValueParser<Value = Severity> {
    PossibleValuesParser::new(["informational", "low", "medium", "high"])
        .map(|s| Severity::parse(&s).expect("every listed value parses"))
}

/// `--min-confidence`, listed like `--min-severity`.
fn confidence_parser() -> impl TypedValueParser<Value = Confidence> {
    PossibleValuesParser::new(["low", "medium", "high"])
        .map(|s| Confidence::parse(&s).expect("every listed value parses"))
}
