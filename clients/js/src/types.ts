/**
 * Typed results, one interface per schema of the server's OpenAPI document, and the create
 * request's fields. Times are RFC 3339 UTC strings, as the server sends them.
 */

export type StatusName = "pending" | "verified" | "expired" | "failed" | "cancelled";
export type ChannelName = "sms" | "whatsapp";

/** The WhatsApp way to send the code (`WhatsAppLink`): a wa.me link and its QR codes. */
export interface WhatsAppLink {
  uri: string;
  qr_svg_url: string;
  qr_png_url: string;
}

/** A challenge as its integrator sees it (`ChallengeView`). */
export interface Challenge {
  id: string;
  status: StatusName;
  to: string;
  phone: string | null;
  created_at: string;
  expires_at: string;
  verified_phone: string | null;
  verified_at: string | null;
  attempts: number;
  failure_reason: string | null;
  metadata: Record<string, unknown>;
  /** How it was verified: `inbound_sms`, `test` (a `[[test_numbers]]` code), `outbound_sms` (a code sent by the fallback); null until verified. */
  method: string | null;
  /** Once verified: a signed proof (compact JWS) to check with `verifyProof`; else null. */
  proof: string | null;
  /** How the user may send the code. */
  channels: ChannelName[];
  /** The channel that verified it (null until then). */
  channel: ChannelName | null;
  /** Language of the SMS and the hosted page; null: the user's browser decides. */
  locale: string | null;
  /** Where the hosted page leads when done. */
  return_url: string | null;
}

/** A code sent to the challenge's expected phone by the fallback (`SentView`). */
export interface CodeSent {
  id: string;
  status: string;
  channel: string;
  to: string | null;
  resend_after: number;
  sends_left: number;
}

/** A new challenge, with what only its creator sees (`CreatedView`). */
export interface CreatedChallenge extends Challenge {
  code: string;
  body: string;
  sms_uri: string;
  qr_svg_url: string;
  qr_png_url: string;
  /** The wa.me link and its QR codes when the challenge is offered on WhatsApp. */
  whatsapp: WhatsAppLink | null;
  token: string;
  status_url: string;
  events_url: string;
  verify_url: string;
}

/** What a status token grants: no code, the phone masked (`StatusView`). */
export interface Status {
  expires_at: string;
  phone: string | null;
  verified_at: string | null;
  status: StatusName;
  channel: ChannelName | null;
  /** SMS with the code received from another number than the expected one. */
  attempts: number;
}

/** The body of `POST /api/v1/challenges` (`CreateChallenge`); every field is optional. */
export interface CreateParams {
  /** Expected phone (E.164); omit for discovery mode (whoever texts the code). */
  phone?: string | null;
  /** Lifetime in seconds, within the server's bounds. */
  ttl?: number | null;
  /** Your own data, at most 2 KiB as JSON. */
  metadata?: Record<string, unknown> | null;
  /** Where this challenge's callbacks go (else the app's callback URL). */
  callback_url?: string | null;
  /** The end user's IP address as your backend sees it; the per-IP creation limit counts it. */
  client_ip?: string | null;
  /** How the user may send the code: "sms", "whatsapp" (default: every channel configured). */
  channels?: ChannelName[] | null;
  /** BCP 47 language of the SMS and the hosted page (en, fr, es, de, pt, it, ar; fr-CA reads as fr). */
  locale?: string | null;
  /** https URL of an allowed origin where the hosted page leads when done (challenge_id and status appended). */
  return_url?: string | null;
  /** Expected email address: the server's fallback may email a code there (`sendCode`). */
  email?: string | null;
}

/** The challenge inside a callback: phones masked unless the app opted in. */
export interface CallbackChallenge extends Challenge {
  ended_at: string | null;
}

/** A signed callback: `challenge.verified`, `.failed`, `.expired` or `.cancelled`. */
export interface CallbackEvent {
  id: string;
  type: string;
  timestamp: string;
  data: CallbackChallenge;
}

/** A public key that verifies proofs (`JwkView`): EC P-256, with its thumbprint as `kid`. */
export interface ProofKey {
  kty: "EC";
  crv: "P-256";
  x: string;
  y: string;
  kid: string;
  use: "sig";
  alg: "ES256";
}

/** The server's `/.well-known/jwks.json` (`JwksView`): the signing key first. */
export interface ProofKeySet {
  keys: ProofKey[];
}

/** The claims of a valid proof (docs/proofs.md). */
export interface ProofClaims {
  iss: string;
  /** The verified phone, E.164. */
  sub: string;
  /** The app id. */
  aud: string;
  /** The challenge id. */
  jti: string;
  iat: number;
  exp: number;
  amr: string[];
  metadata_sha256: string;
  [claim: string]: unknown;
}

/** For each field of T, whether it may be null: the compiler checks every entry. */
export type Nullability<T> = { readonly [K in keyof T]-?: null extends T[K] ? true : false };

/**
 * The fields of each result and of the create request, with their nullability. The compiler
 * holds these to the interfaces above; the tests hold them to the server's /openapi.json.
 */
export const FIELDS: {
  readonly ChallengeView: Nullability<Challenge>;
  readonly CreatedView: Nullability<CreatedChallenge>;
  readonly StatusView: Nullability<Status>;
  readonly SentView: Nullability<CodeSent>;
  readonly CreateChallenge: Nullability<CreateParams>;
} = {
  ChallengeView: challengeFields(),
  CreatedView: {
    ...challengeFields(),
    code: false,
    body: false,
    sms_uri: false,
    qr_svg_url: false,
    qr_png_url: false,
    whatsapp: true,
    token: false,
    status_url: false,
    events_url: false,
    verify_url: false,
  },
  StatusView: { expires_at: false, phone: true, verified_at: true, status: false, channel: true, attempts: false },
  SentView: { id: false, status: false, channel: false, to: true, resend_after: false, sends_left: false },
  CreateChallenge: {
    phone: true,
    ttl: true,
    metadata: true,
    callback_url: true,
    client_ip: true,
    channels: true,
    locale: true,
    return_url: true,
    email: true,
  },
};

function challengeFields(): Nullability<Challenge> {
  return {
    id: false,
    status: false,
    to: false,
    phone: true,
    created_at: false,
    expires_at: false,
    verified_phone: true,
    verified_at: true,
    attempts: false,
    failure_reason: true,
    metadata: false,
    method: true,
    proof: true,
    channels: false,
    channel: true,
    locale: true,
    return_url: true,
  };
}

export const FINAL: ReadonlySet<StatusName> = new Set(["verified", "expired", "failed", "cancelled"]);

/** True once a status is verified, expired, failed or cancelled. */
export function isFinal(status: { status: StatusName }): boolean {
  return FINAL.has(status.status);
}
