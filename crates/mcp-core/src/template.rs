//! The fleet's one template rule (`templates/README.md`): `{{name}}` is a
//! placeholder and nothing else is special. A placeholder without a value is
//! an error, never left in place — a half-rendered file or email must not
//! leave the fleet — and values are not expanded again. The planner renders
//! project files, `SPEC.md` and reports with it; the agent its questions.

use std::collections::BTreeMap;

/// Fill every `{{key}}` in `text` from `vars`.
pub fn render(text: &str, vars: &BTreeMap<&str, String>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len() + 256);
    let mut rest = text;
    while let Some(i) = rest.find("{{") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let Some(j) = after.find("}}") else {
            return Err("an unclosed {{".into());
        };
        let key = &after[..j];
        match vars.get(key) {
            Some(v) => out.push_str(v),
            None => return Err(format!("no value for {{{{{key}}}}}")),
        }
        rest = &after[j + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders() {
        let vars = BTreeMap::from([("name", "X".to_owned())]);
        assert_eq!(render("a {{name}} b", &vars).unwrap(), "a X b");
        assert!(render("{{nope}}", &vars).unwrap_err().contains("{{nope}}"));
        assert!(render("{{name", &vars).is_err());
        // Only `{{name}}` is a placeholder: spaces make another key.
        assert!(render("{{ name }}", &vars).is_err());
        // A value holding braces is not expanded again.
        let vars = BTreeMap::from([("name", "{{name}}".to_owned())]);
        assert_eq!(render("{{name}}", &vars).unwrap(), "{{name}}");
    }
}
