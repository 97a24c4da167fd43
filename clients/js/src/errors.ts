/** One error class per family; each carries the server's stable error `code`. */

export interface ErrorDetails {
  status?: number | undefined;
  retryAfter?: number | undefined;
}

/** Any error of this client. `code` is the server's stable word (e.g. `not_found`). */
export class ReverseOtpError extends Error {
  readonly code: string;
  readonly status: number | undefined;
  /** The server's Retry-After hint in seconds, when it gave one. */
  readonly retryAfter: number | undefined;

  constructor(code: string, message: string, details: ErrorDetails = {}) {
    super(`${code}: ${message}`);
    this.name = new.target.name;
    this.code = code;
    this.status = details.status;
    this.retryAfter = details.retryAfter;
  }
}

/** 400 or 413: the request is invalid; the message names the problem. */
export class InvalidRequestError extends ReverseOtpError {}
/** 401 or 403: the API key is missing or wrong. */
export class UnauthorizedError extends ReverseOtpError {}
/** 404: no such challenge (or another app's), or an unknown status token. */
export class NotFoundError extends ReverseOtpError {}
/** 409: the challenge is already final. */
export class ConflictError extends ReverseOtpError {}
/** 429: a limit is reached; `retryAfter` says when to try again. */
export class RateLimitedError extends ReverseOtpError {}
/** 503 or another 5xx: storage or a component is unavailable; retry later. */
export class UnavailableError extends ReverseOtpError {}
/** The server could not be reached, the connection broke or the call timed out. */
export class NetworkError extends ReverseOtpError {}
/** The server answered something this client cannot read (code `invalid_response`). */
export class ProtocolError extends ReverseOtpError {}
/**
 * A callback failed verification: `missing_headers`, `stale_timestamp`, `bad_signature`,
 * `invalid_secret` or `invalid_body`.
 */
export class InvalidCallbackError extends ReverseOtpError {}
/**
 * A proof failed verification: `malformed`, `unknown_key`, `bad_signature`, `expired`,
 * `wrong_audience`, `wrong_issuer` or `missing_claim`.
 */
export class InvalidProofError extends ReverseOtpError {}

type Family = new (code: string, message: string, details?: ErrorDetails) => ReverseOtpError;

/** HTTP status to error family; another 4xx is a plain ReverseOtpError, a 5xx Unavailable. */
export const ERROR_FAMILIES: Readonly<Record<number, Family>> = {
  400: InvalidRequestError,
  401: UnauthorizedError,
  403: UnauthorizedError,
  404: NotFoundError,
  409: ConflictError,
  413: InvalidRequestError,
  429: RateLimitedError,
  502: UnavailableError,
  503: UnavailableError,
};

export function familyFor(status: number): Family {
  return ERROR_FAMILIES[status] ?? (status >= 500 ? UnavailableError : ReverseOtpError);
}
