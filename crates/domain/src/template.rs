//! Message templates: text with `{{ placeholder }}` fields (seed 001). A template is parsed
//! when it is saved, so an unknown placeholder is refused then, and rendered when a message
//! is sent, when a value the template needs but the conversation lacks is refused too:
//! nothing is ever filled with a silent blank.

use crate::FieldError;

macro_rules! placeholders {
    ($($variant:ident => $name:literal: $about:literal,)+) => {
        /// A field a template may use.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Placeholder {
            $(#[doc = $about] $variant,)+
        }

        impl Placeholder {
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            pub fn name(self) -> &'static str {
                match self { $(Self::$variant => $name),+ }
            }

            pub fn description(self) -> &'static str {
                match self { $(Self::$variant => $about),+ }
            }

            fn from_name(raw: &str) -> Option<Self> {
                match raw { $($name => Some(Self::$variant),)+ _ => None }
            }
        }
    };
}

placeholders! {
    ClientName => "client.name": "The client's name.",
    ContactFirstName => "contact.first_name": "The recipient contact's first name.",
    ContactLastName => "contact.last_name": "The recipient contact's last name.",
    ContactFullName => "contact.full_name": "The recipient contact's first and last name.",
    MatterTitle => "matter.title": "The matter's title (conversations about a matter only).",
    MatterReference => "matter.reference": "The matter's reference (matters that have one).",
    FirmName => "firm.name": "The firm's name.",
    StaffName => "staff.name": "The name of the staff member who sends the message.",
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Field(Placeholder),
}

/// A parsed template text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateText(Vec<Part>);

/// The values one message can fill in; `None` where the conversation has no such thing.
pub trait Values {
    fn value(&self, placeholder: Placeholder) -> Option<String>;
}

impl TemplateText {
    /// Parses `raw`; the error names the first unknown or unclosed placeholder.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let mut parts = Vec::new();
        let mut rest = raw;
        while let Some(start) = rest.find("{{") {
            if start > 0 {
                parts.push(Part::Text(rest[..start].to_owned()));
            }
            let after = &rest[start + 2..];
            let end = after
                .find("}}")
                .ok_or_else(|| FieldError::new("", "malformed_placeholder", "a `{{` is never closed with `}}`"))?;
            let name = after[..end].trim();
            let field = Placeholder::from_name(name).ok_or_else(|| {
                let known: Vec<&str> = Placeholder::ALL.iter().map(|p| p.name()).collect();
                FieldError::new(
                    "",
                    "unknown_placeholder",
                    format!("`{{{{{name}}}}}` is not a placeholder; known are {}", known.join(", ")),
                )
            })?;
            parts.push(Part::Field(field));
            rest = &after[end + 2..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_owned()));
        }
        Ok(Self(parts))
    }

    /// Fills every placeholder, or names the first one without a value.
    pub fn render(&self, values: &impl Values) -> Result<String, FieldError> {
        let mut out = String::new();
        for part in &self.0 {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Field(field) => match values.value(*field) {
                    Some(value) => out.push_str(&value),
                    None => {
                        return Err(FieldError::new(
                            "",
                            "placeholder_unavailable",
                            format!(
                                "the template uses `{{{{{}}}}}`, which this conversation has no value for",
                                field.name()
                            ),
                        ));
                    }
                },
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct NoMatter;

    impl Values for NoMatter {
        fn value(&self, placeholder: Placeholder) -> Option<String> {
            match placeholder {
                Placeholder::ContactFirstName => Some("Cora".to_owned()),
                Placeholder::FirmName => Some("Harbor LLP".to_owned()),
                _ => None,
            }
        }
    }

    #[test]
    fn placeholders_are_filled_whatever_their_spacing() {
        let text = TemplateText::parse("Dear {{contact.first_name}}, {{ firm.name }} writes.").unwrap();
        assert_eq!(text.render(&NoMatter).unwrap(), "Dear Cora, Harbor LLP writes.");
    }

    #[test]
    fn an_unknown_or_unclosed_placeholder_is_refused_when_saved() {
        assert_eq!(TemplateText::parse("Hi {{client.nickname}}").unwrap_err().code, "unknown_placeholder");
        assert_eq!(TemplateText::parse("Hi {{client.name").unwrap_err().code, "malformed_placeholder");
        assert!(TemplateText::parse("No fields, a lone } and {").is_ok());
    }

    #[test]
    fn a_value_the_conversation_lacks_is_refused_not_blanked() {
        let text = TemplateText::parse("About {{matter.title}}").unwrap();
        let error = text.render(&NoMatter).unwrap_err();
        assert_eq!(error.code, "placeholder_unavailable");
        assert!(error.detail.contains("matter.title"));
    }
}
