//! RFC 9457 problem details, and the error responses each path declares in the spec.

use actix_web::http::StatusCode;
use serde::Serialize;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{ContentBuilder, HeaderBuilder, Ref, RefOr, ResponseBuilder, ResponsesBuilder};
use utoipa::{IntoResponses, ToSchema};
use vestibule_domain::FieldError;

pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// An error, as `application/problem+json` (RFC 9457).
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem; stable, one per `code`.
    #[serde(rename = "type")]
    #[schema(example = "urn:vestibule:problem:not_found")]
    pub problem_type: String,
    /// Short summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// Explanation of this occurrence.
    pub detail: String,
    /// Stable machine-readable code; switch on this.
    #[schema(example = "not_found")]
    pub code: String,
    /// For `validation_failed`: every invalid field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
    /// For a conflict the request can resolve itself (`portal_required` on a file transfer):
    /// the values to send again with, e.g. as `portal.choice`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = json!(["existing", "full", "temporary"]))]
    pub choices: Option<Vec<String>>,
    /// For `exceeds_balance`: the invoice that owes less than the payment would take.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invoice_id: Option<String>,
    /// For `exceeds_balance`: what that invoice still owes, in minor units.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub balance_minor: Option<i64>,
    /// For `card_declined`: the processor's reason (`card_declined`, `insufficient_funds`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decline_code: Option<String>,
}

impl Problem {
    pub fn new(status: StatusCode, code: &str, detail: String, errors: Option<Vec<FieldError>>) -> Self {
        Self {
            problem_type: format!("urn:vestibule:problem:{code}"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail,
            code: code.to_owned(),
            errors,
            choices: None,
            invoice_id: None,
            balance_minor: None,
            decline_code: None,
        }
    }
}

fn problem_response(status: &str, description: &str, header: Option<(&str, &str)>) -> ResponsesBuilder {
    let mut response = ResponseBuilder::new()
        .description(description)
        .content(PROBLEM_CONTENT_TYPE, ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build());
    if let Some((name, about)) = header {
        let string = ObjectBuilder::new().schema_type(Type::String).build();
        response = response.header(name, HeaderBuilder::new().schema(string).description(Some(about)).build());
    }
    ResponsesBuilder::new().response(status, response.build())
}

macro_rules! problem_responses {
    ($($name:ident => $status:literal, $description:literal $(, header $header:literal : $about:literal)?;)+) => {
        $(
            #[doc = $description]
            pub struct $name;

            impl IntoResponses for $name {
                fn responses() -> std::collections::BTreeMap<String, RefOr<utoipa::openapi::Response>> {
                    let header: Option<(&str, &str)> = None $(.or(Some(($header, $about))))?;
                    problem_response($status, $description, header).build().into()
                }
            }
        )+
    };
}

problem_responses! {
    BadRequest => "400", "The request is malformed: invalid JSON or query parameters.";
    Unauthorized => "401", "No valid credentials were sent.", header "WWW-Authenticate": "Always `Bearer`.";
    Forbidden => "403", "The principal may not perform this action.";
    NotFound => "404", "No such resource, or it belongs to another firm or is not visible to the caller.";
    PaymentRequired => "402", "The card processor declined the card (see `decline_code`); nothing was charged.";
    Conflict => "409", "The request conflicts with the current state (a taken unique value, records still in use, or a request with the same Idempotency-Key still in flight).";
    Gone => "410", "The link expired or was withdrawn; ask for a new one.";
    PreconditionFailed => "412", "`If-Match` does not match the current `ETag`.";
    RequestTimeout => "408", "The request body arrived slower than the minimum rate (`BODY_MIN_BYTES_PER_SEC` over `BODY_RATE_WINDOW_SECS`); reading it stopped and nothing was kept.";
    PayloadTooLarge => "413", "The request body exceeds the configured limit.";
    RangeNotSatisfiable => "416", "The `Range` asked for lies outside the file.", header "Content-Range": "`bytes */<size>`.";
    UnsupportedMediaType => "415", "The body is not `application/json`.";
    Unprocessable => "422", "The body is well-formed but invalid (see `errors`), or the Idempotency-Key was used with a different request.";
    TooManyRequests => "429", "Too many attempts; retry after the given delay.", header "Retry-After": "Seconds to wait before retrying.";
    ServiceUnavailable => "503", "The card processor could not be reached; nothing was charged. Retry later.", header "Retry-After": "Seconds to wait before retrying.";
    InternalError => "500", "An unexpected error; the details are logged under the response's `x-request-id`.";
}
