//! A request body must keep coming: each window of `BODY_RATE_WINDOW_SECS` must bring at
//! least `BODY_MIN_BYTES_PER_SEC` × the window, or reading stops and the request answers
//! `408 request_body_too_slow`. Without it a client trickling bytes holds a connection and an
//! upload slot for as long as it likes (slow headers are already cut by actix).
//!
//! The payload is wrapped before any extractor sees it, so JSON bodies, raw uploads and
//! multipart uploads are all paced. Whatever fails to read the cut body (and answers an
//! error of its own, such as `upload_interrupted`) is answered `408` instead.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::middleware::Next;
use actix_web::web::{self, Bytes};
use actix_web::{HttpMessage, ResponseError};
use futures_util::Stream;
use tokio::time::{Instant, Sleep};

use crate::error::ApiError;
use crate::state::{AppState, BodyPace};

pub async fn body_pace(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let pace = req.app_data::<web::Data<AppState>>().map(|state| state.settings.body_pace);
    let payload = req.take_payload();
    let Some(pace) = pace.filter(|_| !matches!(payload, Payload::None)) else {
        req.set_payload(payload);
        return next.call(req).await.map(ServiceResponse::map_into_boxed_body);
    };
    let cut = Rc::new(Cell::new(false));
    let paced = Paced::new(Box::pin(payload), pace, cut.clone());
    req.set_payload(Payload::Stream { payload: Box::pin(paced) });
    let outcome = next.call(req).await;
    match outcome {
        Ok(res) if cut.get() && (res.status().is_client_error() || res.status().is_server_error()) => {
            Ok(res.into_response(too_slow(pace).error_response()))
        }
        Ok(res) => Ok(res.map_into_boxed_body()),
        Err(_) if cut.get() => Err(too_slow(pace).into()),
        Err(error) => Err(error),
    }
}

fn too_slow(pace: BodyPace) -> ApiError {
    ApiError::BodyTooSlow(format!(
        "the request body arrived slower than {} bytes in {} s",
        pace.bytes_per_window(),
        pace.window.as_secs()
    ))
}

/// The payload, cut off when a window passes without its share of bytes.
struct Paced {
    inner: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>>,
    window: Duration,
    per_window: u64,
    got: u64,
    deadline: Pin<Box<Sleep>>,
    cut: Rc<Cell<bool>>,
}

impl Paced {
    fn new(
        inner: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>>,
        pace: BodyPace,
        cut: Rc<Cell<bool>>,
    ) -> Self {
        Self {
            inner,
            window: pace.window,
            per_window: pace.bytes_per_window(),
            got: 0,
            deadline: Box::pin(tokio::time::sleep(pace.window)),
            cut,
        }
    }
}

impl Stream for Paced {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        // Ending quietly would let a reader keep a truncated body as if it were whole.
        if self.cut.get() {
            return Poll::Ready(Some(Err(timed_out())));
        }
        match self.inner.as_mut().poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                self.got = self.got.saturating_add(chunk.len() as u64);
                if self.got >= self.per_window {
                    self.got = 0;
                    let next = Instant::now() + self.window;
                    self.deadline.as_mut().reset(next);
                }
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Pending => match self.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    self.cut.set(true);
                    Poll::Ready(Some(Err(timed_out())))
                }
                Poll::Pending => Poll::Pending,
            },
            ended => ended,
        }
    }
}

fn timed_out() -> PayloadError {
    PayloadError::Io(std::io::Error::new(std::io::ErrorKind::TimedOut, "the request body arrived too slowly"))
}
