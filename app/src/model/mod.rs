//! Plain data exchanged between the engine, the server functions and the pages. No Leptos, no
//! secrets: nothing here may carry a token or a client secret.

use serde::{Deserialize, Serialize};

/// An enum stored and sent as fixed words (`as_str`, `parse`, serde and `ALL` agree).
macro_rules! word_enum {
    ($(#[$m:meta])* pub enum $name:ident { $($(#[$vm:meta])* $v:ident = $s:literal,)+ }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vm])* #[serde(rename = $s)] $v,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$v),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$v => $s,)+
                }
            }

            pub fn parse(s: &str) -> Option<$name> {
                match s {
                    $($s => Some($name::$v),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

mod agent;
mod auth;
mod calls;
mod connection;
mod directory;
mod jobs;
mod pbx;
mod phonebook;
mod rules;

pub use agent::*;
pub use auth::*;
pub use calls::*;
pub use connection::*;
pub use directory::*;
pub use jobs::*;
pub use pbx::*;
pub use phonebook::*;
pub use rules::*;

/// A field the form must fix, with a message key (translated by the page).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub problem: FieldProblem,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FieldProblem {
    Required,
    NotUrl,
    NotHttps,
    Credentials,
    QueryOrFragment,
    TooLong,
    /// An extension number: digits only, 1 to 15 of them.
    NotExtensionNumber,
    /// Not a well-formed e-mail address.
    BadEmail,
    /// Another extension has this number.
    Duplicate,
    /// Not a phone number (digits with + - ( ) . and spaces).
    NotPhoneNumber,
    /// No PBX extension has this number.
    NoSuchExtension,
    /// An outbound call is placed from one extension.
    OneExtension,
    /// The extension is not ringing on this call.
    NotRinging,
    /// The call has already ended.
    CallEnded,
    /// Only an empty company contacts group can be synced to.
    GroupNotEmpty,
    /// Choose at least one.
    ChooseOne,
    /// Not offered by this Zoho Desk edition.
    NotInEdition,
    /// A password of 8 characters or more.
    PasswordTooShort,
    /// The Accounts Server URL changed: the client secret must be entered again (a stored
    /// secret is never sent to a new server).
    SecretForNewServer,
    /// A real PBX's phone answers its own calls: pick up the phone.
    AnswerOnPhone,
}

/// What a plain HTML form's call left for the page it came from (kept in the session until
/// that page is drawn once): what was typed and why it was refused, or what it did.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Flash {
    /// Which form on the page (`add`, `edit-7`, `import`…).
    pub form: String,
    /// The fields as they were sent (never a password).
    pub typed: Vec<(String, String)>,
    /// Why the call was refused.
    pub error: Option<crate::error::AppError>,
    /// What it did, in a word the page puts into its sentence (e.g. a count).
    pub done: Option<String>,
}

impl Flash {
    /// The flash, if it is `form`'s.
    pub fn of(flash: &Option<Flash>, form: &str) -> Option<Flash> {
        flash.as_ref().filter(|f| f.form == form).cloned()
    }

    /// What was typed in `field`, or nothing.
    pub fn typed(&self, field: &str) -> String {
        self.typed
            .iter()
            .find(|(k, _)| k == field)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    /// The refusal's field errors (none for other refusals).
    pub fn field_errors(&self) -> Vec<FieldError> {
        match &self.error {
            Some(crate::error::AppError::Invalid(list)) => list.clone(),
            _ => vec![],
        }
    }
}
