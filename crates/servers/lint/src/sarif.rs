//! SARIF 2.1.0, the export form of a lint run: one SARIF run per tool that
//! ran, its rules (with their documentation links), its results and whether
//! it executed successfully, built with `serde-sarif`'s types.

use std::collections::BTreeMap;

use serde_json::Value;
use serde_sarif::sarif;

use crate::diag::{Diagnostic, Severity};
use crate::linters::RunInfo;

/// The SARIF log of `runs` and their `findings`.
pub fn log(runs: &[RunInfo], findings: &[Diagnostic]) -> Result<Value, String> {
    let mut out = Vec::new();
    for r in runs.iter().filter(|r| r.status != "missing") {
        let mine: Vec<&Diagnostic> = findings.iter().filter(|d| d.tool == r.tool).collect();
        let mut rules: BTreeMap<String, Option<String>> = BTreeMap::new();
        for d in &mine {
            rules.entry(d.rule.clone()).or_insert_with(|| d.help_uri.clone());
        }
        let index: BTreeMap<&String, i64> = rules.keys().enumerate().map(|(i, k)| (k, i as i64)).collect();
        let descriptors: Vec<sarif::ReportingDescriptor> = rules
            .iter()
            .map(|(id, uri)| match uri {
                Some(u) => sarif::ReportingDescriptor::builder().id(id.clone()).help_uri(u.clone()).build(),
                None => sarif::ReportingDescriptor::builder().id(id.clone()).build(),
            })
            .collect();
        let driver = match &r.version {
            Some(v) => {
                sarif::ToolComponent::builder().name(r.tool.clone()).version(v.clone()).rules(descriptors).build()
            }
            None => sarif::ToolComponent::builder().name(r.tool.clone()).rules(descriptors).build(),
        };
        let results: Vec<sarif::Result> = mine
            .iter()
            .map(|d| {
                let level = match d.severity {
                    Severity::Error => sarif::ResultLevel::Error,
                    Severity::Warning => sarif::ResultLevel::Warning,
                    Severity::Note => sarif::ResultLevel::Note,
                };
                let artifact = sarif::ArtifactLocation::builder().uri(d.file.clone()).build();
                let physical = if d.line > 0 {
                    let region = sarif::Region::builder()
                        .start_line(i64::from(d.line))
                        .start_column(i64::from(d.column.max(1)))
                        .end_line(i64::from(d.end_line.unwrap_or(d.line).max(d.line)))
                        .build();
                    sarif::PhysicalLocation::builder().artifact_location(artifact).region(region).build()
                } else {
                    sarif::PhysicalLocation::builder().artifact_location(artifact).build()
                };
                let location = sarif::Location::builder().physical_location(physical).build();
                sarif::Result::builder()
                    .rule_id(d.rule.clone())
                    .rule_index(index.get(&d.rule).copied().unwrap_or(0))
                    .level(level)
                    .message(sarif::Message::builder().text(d.message.clone()).build())
                    .locations(vec![location])
                    .build()
            })
            .collect();
        let invocation = sarif::Invocation::builder()
            .execution_successful(r.status == "ok" || r.status == "findings")
            .command_line(r.argv.join(" "))
            .build();
        out.push(sarif::Run::builder().tool(driver).results(results).invocations(vec![invocation]).build());
    }
    let log = sarif::Sarif::builder()
        .version(serde_json::json!("2.1.0"))
        .schema("https://json.schemastore.org/sarif-2.1.0.json".to_owned())
        .runs(out)
        .build();
    serde_json::to_value(&log).map_err(|e| e.to_string())
}
