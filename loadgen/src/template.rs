//! `{{name}}` templates in paths, headers and bodies. Parsed once when the scenario is
//! read, so a typo (`{{tokn}}`) is reported before any request is sent.

use crate::vars::Lookup;

/// Variables every iteration has: the virtual user, its iteration number, a
/// run-wide sequence number and the flow's name.
pub const BUILTIN_VARS: [&str; 4] = ["vu", "iter", "seq", "flow"];

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Lit(String),
    Var(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    parts: Vec<Part>,
}

impl Template {
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                parts.push(Part::Lit(rest[..open].to_string()));
            }
            let after = &rest[open + 2..];
            let close = after
                .find("}}")
                .ok_or_else(|| format!("`{{{{` without a closing `}}}}` in `{text}`"))?;
            let name = after[..close].trim();
            let valid = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if !valid {
                return Err(format!(
                    "`{{{{{}}}}}` is not a variable name (letters, digits, _ and -)",
                    &after[..close]
                ));
            }
            parts.push(Part::Var(name.to_string()));
            rest = &after[close + 2..];
        }
        if !rest.is_empty() {
            parts.push(Part::Lit(rest.to_string()));
        }
        Ok(Self { parts })
    }

    /// The variables the template reads.
    pub fn vars(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Var(v) => Some(v.as_str()),
            Part::Lit(_) => None,
        })
    }

    pub fn is_constant(&self) -> bool {
        self.vars().next().is_none()
    }

    /// Fills the template; a variable without a value is an error naming it.
    pub fn render(&self, vars: &impl Lookup) -> Result<String, String> {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Lit(s) => out.push_str(s),
                Part::Var(v) => {
                    if !vars.append(v, &mut out) {
                        return Err(format!("variable `{v}` has no value"));
                    }
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn renders_and_lists_variables() {
        let t = Template::parse("/groups/{{gid}}/members?u={{ vu }}").unwrap();
        assert_eq!(t.vars().collect::<Vec<_>>(), ["gid", "vu"]);
        let vars = HashMap::from([("gid".into(), "7".into()), ("vu".into(), "3".into())]);
        assert_eq!(t.render(&vars).unwrap(), "/groups/7/members?u=3");
        let e = t.render(&HashMap::<String, String>::new()).unwrap_err();
        assert!(e.contains("`gid`"), "{e}");
    }

    #[test]
    fn rejects_bad_templates() {
        assert!(Template::parse("/x/{{gid").unwrap_err().contains("closing"));
        assert!(Template::parse("{{}}").is_err());
        assert!(Template::parse("{{a b}}").is_err());
        assert!(Template::parse("plain").unwrap().is_constant());
    }

    proptest::proptest! {
        #[test]
        fn literal_text_renders_to_itself(s in "[^{}]{0,40}") {
            let t = Template::parse(&s).unwrap();
            proptest::prop_assert_eq!(t.render(&HashMap::<String, String>::new()).unwrap(), s);
        }

        #[test]
        fn parsing_never_panics(s in "\\PC{0,40}") {
            let _ = Template::parse(&s);
        }
    }
}
