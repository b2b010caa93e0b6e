//! The tools, one per file.

pub mod check_dependencies;
pub mod gitlab_packages;
pub mod image_tags;
pub mod latest_release;
pub mod latest_version;
pub mod package_info;
pub mod package_versions;
pub mod pin_dependencies;
pub mod registry_status;
pub mod vulnerabilities;
