//! The problems the host answers itself, when no component can. Their codes are part of the
//! HTTP contract (docs/api.md); tests/contract.rs includes this file to keep the two in step.

/// A problem answered by the host rather than by a component.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostProblem {
    /// No route of the manifest serves the path.
    RouteNotFound,
    /// The request body is over the host's cap.
    PayloadTooLarge,
    /// The instance was stopped at the request deadline.
    DeadlineExceeded,
    /// The instance failed before it answered.
    ComponentFailed,
    /// A test host (`--test-clock`) got a malformed `x-credit-test-now`.
    InvalidTestClock,
    /// Over the cap on connections (all, or this client's), or no instance came free within the
    /// deadline: 503 with `Retry-After`.
    ServerBusy,
    /// The request body came slower than the host's minimum rate: 408, connection closed.
    RequestTimeout,
    /// The request body ended before its declared length or broke the chunked coding: 400,
    /// connection closed, nothing acted on.
    IncompleteBody,
}

impl HostProblem {
    /// The stable machine-readable code.
    pub fn code(self) -> &'static str {
        match self {
            HostProblem::RouteNotFound => "ROUTE_NOT_FOUND",
            HostProblem::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            HostProblem::DeadlineExceeded => "DEADLINE_EXCEEDED",
            HostProblem::ComponentFailed => "COMPONENT_FAILED",
            HostProblem::ServerBusy => "SERVER_BUSY",
            HostProblem::RequestTimeout => "REQUEST_TIMEOUT",
            HostProblem::InvalidTestClock => "INVALID_TEST_CLOCK",
            HostProblem::IncompleteBody => "INCOMPLETE_BODY",
        }
    }
}
