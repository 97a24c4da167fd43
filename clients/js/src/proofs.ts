/**
 * Verify a proof of a verified challenge offline (the server's docs/proofs.md) with Web Crypto:
 * a compact JWS signed ES256 by one of the keys of the server's /.well-known/jwks.json.
 */

import { InvalidProofError } from "./errors.js";
import type { ProofClaims, ProofKeySet } from "./types.js";
import { subtleCrypto } from "./webhooks.js";

const REQUIRED = ["iss", "sub", "aud", "jti", "iat", "exp"] as const;

export interface ProofCheck {
  /** Your app id (`default` for the API keys of the server's configuration file). */
  audience: string;
  /** The server's public URL, as the proof's `iss` names it. */
  issuer: string;
  /** Seconds of clock skew allowed past `exp` (default 0). */
  leewaySeconds?: number;
  /** Now, in Unix seconds (default: the clock). */
  now?: number;
}

/**
 * Check a proof and resolve its claims; reject with InvalidProofError when it is not valid.
 *
 * `jwks` is the server's key set (`client.jwks()`; cache it, and fetch it again on
 * `unknown_key`). Only ES256 is accepted; the signature is checked first, then `aud`, `iss`
 * and `exp`. Check `sub` (the verified phone) and `jti` (the challenge id) yourself.
 */
export async function verifyProof(proof: string, jwks: ProofKeySet, check: ProofCheck): Promise<ProofClaims> {
  const [encodedHeader, encodedPayload, encodedSignature, ...rest] = proof.split(".");
  if (encodedHeader === undefined || encodedPayload === undefined || encodedSignature === undefined || rest.length) {
    throw new InvalidProofError("malformed", "a proof has three dot-separated parts");
  }
  const header = jsonPart(encodedHeader);
  const claims = jsonPart(encodedPayload);
  if (header["alg"] !== "ES256") throw new InvalidProofError("malformed", "only ES256 proofs are accepted");
  const jwk = jwks.keys.find((key) => key.kid === header["kid"]);
  if (jwk === undefined) throw new InvalidProofError("unknown_key", "no key of the key set has the proof's kid");
  const subtle = await subtleCrypto();
  let key: CryptoKey;
  try {
    const params = { name: "ECDSA", namedCurve: "P-256" };
    key = await subtle.importKey("jwk", { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y }, params, false, ["verify"]);
  } catch {
    throw new InvalidProofError("unknown_key", "the key with the proof's kid is not an EC P-256 key");
  }
  const signature = bytes(encodedSignature);
  const signed = new TextEncoder().encode(`${encodedHeader}.${encodedPayload}`);
  const valid =
    signature !== undefined &&
    signature.length === 64 &&
    (await subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key, signature, signed));
  if (!valid) throw new InvalidProofError("bad_signature", "the signature does not match");
  return checkedClaims(claims, check);
}

function checkedClaims(claims: Record<string, unknown>, check: ProofCheck): ProofClaims {
  for (const name of REQUIRED) {
    if (!(name in claims)) throw new InvalidProofError("missing_claim", `the proof lacks ${name}`);
  }
  const audience = claims["aud"];
  const audiences = Array.isArray(audience) ? audience : [audience];
  if (!audiences.includes(check.audience)) {
    throw new InvalidProofError("wrong_audience", "the proof is for another app");
  }
  if (claims["iss"] !== check.issuer) {
    throw new InvalidProofError("wrong_issuer", "the proof comes from another server");
  }
  const exp = claims["exp"];
  if (typeof exp !== "number") throw new InvalidProofError("malformed", "the proof's exp is not a number");
  const now = check.now ?? Date.now() / 1000;
  if (now >= exp + (check.leewaySeconds ?? 0)) throw new InvalidProofError("expired", "the proof has expired");
  return claims as ProofClaims;
}

function jsonPart(part: string): Record<string, unknown> {
  const raw = bytes(part);
  let value: unknown;
  try {
    value = raw === undefined ? undefined : JSON.parse(new TextDecoder().decode(raw));
  } catch {
    value = undefined;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new InvalidProofError("malformed", "the proof cannot be read");
  }
  return value as Record<string, unknown>;
}

function bytes(part: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(part) || part.length % 4 === 1) return undefined;
  const binary = atob(part.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (part.length % 4)) % 4));
  const found = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) found[i] = binary.charCodeAt(i);
  return found;
}
