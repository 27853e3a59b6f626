//! Where a new conversation is filed: which client (and matter) it is about, from what its
//! starter named and what they may see.

use crate::FieldError;

/// The client a conversation started by staff is about: the matter's client (a named client
/// must be the same), else the named client, else the client the contact belongs to.
pub fn staff_conversation_client<'a>(
    named: Option<&'a str>,
    matter_client: Option<&'a str>,
    contact_client: Option<&'a str>,
) -> Result<&'a str, FieldError> {
    match (named, matter_client) {
        (Some(named), Some(of_matter)) if named != of_matter => {
            Err(FieldError::new("/matter_id", "wrong_client", "the matter belongs to another client"))
        }
        (_, Some(of_matter)) => Ok(of_matter),
        (Some(named), None) => Ok(named),
        (None, None) => contact_client.ok_or_else(|| {
            FieldError::new("/client_id", "required", "name the client (or matter) the conversation is about")
        }),
    }
}

/// Where a contact's new conversation is filed, among what their portal shows (`matters` as
/// `(matter, its client)`): the named matter and its client, the named client, or the
/// portal's only client. Returns `(client, matter)`.
pub fn portal_conversation_place<'a>(
    named_client: Option<&'a str>,
    named_matter: Option<&'a str>,
    clients: &[&'a str],
    matters: &[(&'a str, &'a str)],
) -> Result<(&'a str, Option<&'a str>), FieldError> {
    let unknown = |pointer: &str| FieldError::new(pointer, "unknown_reference", "not one your portal shows");
    match (named_client, named_matter) {
        (client, Some(matter)) => {
            let (matter, of_client) =
                matters.iter().find(|(id, _)| *id == matter).ok_or_else(|| unknown("/matter_id"))?;
            if client.is_some_and(|c| c != *of_client) {
                return Err(FieldError::new("/matter_id", "wrong_client", "the matter belongs to another client"));
            }
            Ok((of_client, Some(matter)))
        }
        (Some(client), None) => {
            clients.iter().find(|id| **id == client).ok_or_else(|| unknown("/client_id"))?;
            Ok((client, None))
        }
        (None, None) => match clients {
            [only] => Ok((only, None)),
            _ => Err(FieldError::new("/client_id", "required", "name the client or matter this is about")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(result: Result<impl std::fmt::Debug, FieldError>) -> (String, String) {
        let error = result.expect_err("refused");
        (error.pointer, error.code)
    }

    #[test]
    fn staff_conversation_is_about_the_matters_client() {
        assert_eq!(staff_conversation_client(None, Some("cli_m"), Some("cli_c")), Ok("cli_m"));
        assert_eq!(staff_conversation_client(Some("cli_m"), Some("cli_m"), None), Ok("cli_m"));
    }

    #[test]
    fn staff_conversation_refuses_a_matter_of_another_client() {
        let result = staff_conversation_client(Some("cli_a"), Some("cli_m"), None);
        assert_eq!(refused(result), ("/matter_id".to_owned(), "wrong_client".to_owned()));
    }

    #[test]
    fn staff_conversation_falls_back_to_named_then_contacts_client() {
        assert_eq!(staff_conversation_client(Some("cli_a"), None, Some("cli_c")), Ok("cli_a"));
        assert_eq!(staff_conversation_client(None, None, Some("cli_c")), Ok("cli_c"));
        let result = staff_conversation_client(None, None, None);
        assert_eq!(refused(result), ("/client_id".to_owned(), "required".to_owned()));
    }

    const CLIENTS: &[&str] = &["cli_a", "cli_b"];
    const MATTERS: &[(&str, &str)] = &[("mat_1", "cli_a"), ("mat_2", "cli_c")];

    #[test]
    fn portal_conversation_takes_a_shown_matter_and_its_client() {
        assert_eq!(portal_conversation_place(None, Some("mat_2"), CLIENTS, MATTERS), Ok(("cli_c", Some("mat_2"))));
        assert_eq!(
            portal_conversation_place(Some("cli_a"), Some("mat_1"), CLIENTS, MATTERS),
            Ok(("cli_a", Some("mat_1")))
        );
    }

    #[test]
    fn portal_conversation_refuses_what_the_portal_does_not_show() {
        let matter = portal_conversation_place(None, Some("mat_9"), CLIENTS, MATTERS);
        assert_eq!(refused(matter), ("/matter_id".to_owned(), "unknown_reference".to_owned()));
        let client = portal_conversation_place(Some("cli_z"), None, CLIENTS, MATTERS);
        assert_eq!(refused(client), ("/client_id".to_owned(), "unknown_reference".to_owned()));
        let wrong = portal_conversation_place(Some("cli_b"), Some("mat_1"), CLIENTS, MATTERS);
        assert_eq!(refused(wrong), ("/matter_id".to_owned(), "wrong_client".to_owned()));
    }

    #[test]
    fn portal_conversation_defaults_to_the_only_client() {
        assert_eq!(portal_conversation_place(None, None, &["cli_a"], &[]), Ok(("cli_a", None)));
        assert_eq!(portal_conversation_place(Some("cli_b"), None, CLIENTS, MATTERS), Ok(("cli_b", None)));
        let several = portal_conversation_place(None, None, CLIENTS, MATTERS);
        assert_eq!(refused(several), ("/client_id".to_owned(), "required".to_owned()));
    }
}
