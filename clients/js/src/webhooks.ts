/** Verify a signed callback (Standard Webhooks, https://www.standardwebhooks.com) with Web Crypto. */

import { InvalidCallbackError, ProtocolError } from "./errors.js";
import { shaped } from "./client.js";
import { FIELDS, type CallbackEvent } from "./types.js";

/** Seconds a callback's timestamp may be away from now. */
export const TOLERANCE_SECONDS = 5 * 60;

export type HeaderSource =
  | Headers
  | Readonly<Record<string, string | readonly string[] | undefined>>;

export interface VerifyOptions {
  /** Seconds the timestamp may differ from now (default 300). */
  toleranceSeconds?: number;
  /** Now, in Unix seconds (default: the clock). */
  now?: number;
}

/**
 * Check a callback and resolve its event; reject with InvalidCallbackError when it is not ours.
 *
 * `payload` is the raw request body as received (verify before parsing; never re-serialise),
 * `headers` the request headers (a Headers object or Node's `req.headers`), `secret` the
 * app's `whsec_...` callback secret. Any `v1` signature may match (during a secret rotation the
 * server signs with both secrets).
 */
export async function verifyCallback(
  payload: string | Uint8Array | ArrayBuffer,
  headers: HeaderSource,
  secret: string,
  options: VerifyOptions = {},
): Promise<CallbackEvent> {
  const body = typeof payload === "string" ? new TextEncoder().encode(payload) : new Uint8Array(payload);
  const id = header(headers, "webhook-id");
  const stamp = header(headers, "webhook-timestamp").trim();
  const signatures = header(headers, "webhook-signature");
  if (!id || !stamp || !signatures) {
    throw new InvalidCallbackError("missing_headers", "webhook-id, -timestamp and -signature needed");
  }
  if (!/^\d+$/.test(stamp)) throw new InvalidCallbackError("stale_timestamp", "webhook-timestamp is not a number");
  const now = options.now ?? Date.now() / 1000;
  if (Math.abs(now - Number(stamp)) > (options.toleranceSeconds ?? TOLERANCE_SECONDS)) {
    throw new InvalidCallbackError("stale_timestamp", "webhook-timestamp is outside the tolerance");
  }
  const subtle = await subtleCrypto();
  const key = await subtle.importKey("raw", secretBytes(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "verify",
  ]);
  const prefix = new TextEncoder().encode(`${id}.${stamp}.`);
  const signed = new Uint8Array(prefix.length + body.length);
  signed.set(prefix);
  signed.set(body, prefix.length);
  let matched = false;
  for (const part of signatures.split(" ")) {
    if (!part.startsWith("v1,")) continue;
    const given = base64Bytes(part.slice(3));
    // subtle.verify compares in constant time
    if (given !== undefined && (await subtle.verify("HMAC", key, given, signed))) matched = true;
  }
  if (!matched) throw new InvalidCallbackError("bad_signature", "no signature matches the secret");
  let data: unknown;
  try {
    data = JSON.parse(new TextDecoder().decode(body));
  } catch {
    throw new InvalidCallbackError("invalid_body", "the callback body is not JSON");
  }
  try {
    const event = shaped<CallbackEvent>(data, { id: 0, type: 0, timestamp: 0, data: 0 }, "CallbackEvent");
    shaped(event.data, { ...FIELDS.ChallengeView, ended_at: true }, "CallbackChallenge");
    return event;
  } catch (error) {
    if (error instanceof ProtocolError) throw new InvalidCallbackError("invalid_body", error.message);
    throw error;
  }
}

function header(headers: HeaderSource, name: string): string {
  if (typeof (headers as Headers).get === "function") return (headers as Headers).get(name) ?? "";
  for (const [key, value] of Object.entries(headers as Record<string, string | readonly string[] | undefined>)) {
    if (key.toLowerCase() !== name) continue;
    if (value === undefined) return "";
    return typeof value === "string" ? value : value.join(" ");
  }
  return "";
}

function secretBytes(secret: string): Uint8Array<ArrayBuffer> {
  const encoded = secret.startsWith("whsec_") ? secret.slice("whsec_".length) : secret;
  const bytes = base64Bytes(encoded);
  if (bytes === undefined || bytes.length === 0) {
    throw new InvalidCallbackError("invalid_secret", "the secret is not whsec_ + base64");
  }
  return bytes;
}

function base64Bytes(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return undefined;
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Web Crypto's SubtleCrypto, on Node 18 too. */
export async function subtleCrypto(): Promise<SubtleCrypto> {
  // Absent on Node 18 (the DOM types say it is always there).
  const global = globalThis as { crypto?: { subtle?: SubtleCrypto } };
  if (global.crypto?.subtle !== undefined) return global.crypto.subtle;
  // Node 18 keeps Web Crypto in node:crypto rather than on globalThis.
  const nodeModule: string = "node:crypto";
  const nodeCrypto = (await import(nodeModule)) as { webcrypto: { subtle: SubtleCrypto } };
  return nodeCrypto.webcrypto.subtle;
}
