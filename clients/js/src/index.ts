/**
 * Client for reverse-otp, self-hosted reverse OTP phone verification.
 *
 * ```ts
 * import { Client } from "reverse-otp";
 * const client = new Client({ baseUrl: "https://verify.example.com", apiKey: process.env.KEY });
 * const challenge = await client.create({ phone: "+33612345678" }); // show body, sms_uri, QR
 * const status = await client.wait(challenge.token, 120); // "verified" once the SMS arrives
 * ```
 */

export { Client, OPERATIONS, type ClientOptions } from "./client.js";
export {
  ConflictError,
  ERROR_FAMILIES,
  InvalidCallbackError,
  InvalidProofError,
  InvalidRequestError,
  NetworkError,
  NotFoundError,
  ProtocolError,
  RateLimitedError,
  ReverseOtpError,
  UnauthorizedError,
  UnavailableError,
  type ErrorDetails,
} from "./errors.js";
export { verifyProof, type ProofCheck } from "./proofs.js";
export { DEFAULT_RETRY, parseRetryAfter, type RetryOptions } from "./http.js";
export { SSEParser, statusEvents, type EventsOptions, type SSEEvent } from "./sse.js";
export {
  FIELDS,
  isFinal,
  type CallbackChallenge,
  type CallbackEvent,
  type Challenge,
  type CodeSent,
  type CreatedChallenge,
  type CreateParams,
  type Nullability,
  type ProofClaims,
  type ProofKey,
  type ProofKeySet,
  type Status,
  type StatusName,
} from "./types.js";
export { TOLERANCE_SECONDS, verifyCallback, type HeaderSource, type VerifyOptions } from "./webhooks.js";

/** The version of this client, the same as the server's it was released with. */
export const VERSION = "0.1.0";
