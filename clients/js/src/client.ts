/** The client: create, get, cancel, sendCode and check with the API key; status, wait and events with a token. */

import { ProtocolError, ReverseOtpError } from "./errors.js";
import { DEFAULT_RETRY, requestJson, type RetryOptions, type Transport } from "./http.js";
import { statusEvents, type EventsOptions } from "./sse.js";
import {
  FIELDS,
  isFinal,
  type Challenge,
  type CodeSent,
  type CreatedChallenge,
  type CreateParams,
  type ProofKeySet,
  type Status,
} from "./types.js";

/**
 * Each client operation: [method, path in the server's OpenAPI document]. Every URL is built
 * from this table, and the tests compare it with the server's live /openapi.json.
 */
export const OPERATIONS = {
  create: ["POST", "/api/v1/challenges"],
  get: ["GET", "/api/v1/challenges/{challenge_id}"],
  cancel: ["POST", "/api/v1/challenges/{challenge_id}/cancel"],
  check: ["POST", "/api/v1/challenges/{challenge_id}/check"],
  send: ["POST", "/api/v1/challenges/{challenge_id}/send"],
  status: ["GET", "/api/v1/status/{token}"],
  wait: ["GET", "/api/v1/status/{token}"],
  events: ["GET", "/api/v1/status/{token}/events"],
  jwks: ["GET", "/.well-known/jwks.json"],
} as const satisfies Record<string, readonly [string, string]>;

/** Longest single long poll; the server's `[streams] max_wait` (30 s by default) allows it. */
const LONG_POLL_SECONDS = 25;

export interface ClientOptions {
  /** The server's base URL, e.g. `https://verify.example.com`. */
  baseUrl: string;
  /** An API key: needed by `create`, `get`, `cancel` and `check` (never ship it to a browser). */
  apiKey?: string;
  /** Seconds before a call gives up (long polls add their wait). Default 10. */
  timeoutSeconds?: number;
  /** Retries of 429 and 503 answers. */
  retry?: Partial<RetryOptions>;
  /** The fetch to use (default: the global one). */
  fetch?: typeof fetch;
  /** For tests: how to wait between retries. */
  sleep?: (ms: number) => Promise<void>;
}

export class Client {
  readonly baseUrl: string;
  private readonly apiKey: string | undefined;
  private readonly transport: Transport;
  private readonly customFetch: boolean;

  constructor(options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.apiKey = options.apiKey;
    this.customFetch = options.fetch !== undefined;
    this.transport = {
      fetch: options.fetch ?? globalThis.fetch.bind(globalThis),
      retry: { ...DEFAULT_RETRY, ...options.retry },
      timeoutMs: (options.timeoutSeconds ?? 10) * 1000,
      sleep: options.sleep ?? ((ms) => new Promise((done) => setTimeout(done, ms))),
    };
  }

  /** Create a challenge; without `phone`, whoever texts the code is verified (discovery). */
  async create(params: CreateParams = {}): Promise<CreatedChallenge> {
    const body: Record<string, unknown> = {};
    for (const name of Object.keys(FIELDS.CreateChallenge) as (keyof CreateParams)[]) {
      if (params[name] !== undefined && params[name] !== null) body[name] = params[name];
    }
    const data = await this.call("create", {}, { method: "POST", body: JSON.stringify(body) }, true);
    return shaped<CreatedChallenge>(data, FIELDS.CreatedView, "CreatedView");
  }

  /** A challenge's full view. */
  async get(challengeId: string): Promise<Challenge> {
    const data = await this.call("get", { challenge_id: challengeId }, { method: "GET" }, true);
    return shaped<Challenge>(data, FIELDS.ChallengeView, "ChallengeView");
  }

  /** Cancel a pending challenge; throws ConflictError when it is already final. */
  async cancel(challengeId: string): Promise<Challenge> {
    const data = await this.call("cancel", { challenge_id: challengeId }, { method: "POST" }, true);
    return shaped<Challenge>(data, FIELDS.ChallengeView, "ChallengeView");
  }

  /**
   * Send a code by SMS to the challenge's expected phone, or with channel "email" by email to
   * its expected `email` (default: sms with an expected phone, else email), through the
   * server's fallback when it has `[[senders]]`; pass what the user types to `check`. 404 `fallback_disabled` without
   * senders; 429 during the cooldown or over a cap; 403 when a guard refuses the destination.
   */
  async sendCode(challengeId: string, channel?: "sms" | "email"): Promise<CodeSent> {
    const init = { method: "POST", body: JSON.stringify(channel ? { channel } : {}) };
    const data = await this.call("send", { challenge_id: challengeId }, init, true);
    return shaped<CodeSent>(data, FIELDS.SentView, "SentView");
  }

  /**
   * Present a code the user typed (a `[[test_numbers]]` phone's code); resolve the challenge.
   * A wrong code is a failed attempt (see `attempts`); 403 `check_refused` (UnauthorizedError)
   * for discovery challenges and phones no source of codes knows.
   */
  async check(challengeId: string, code: string): Promise<Challenge> {
    const init = { method: "POST", body: JSON.stringify({ code }) };
    const data = await this.call("check", { challenge_id: challengeId }, init, true);
    return shaped<Challenge>(data, FIELDS.ChallengeView, "ChallengeView");
  }

  /** The server's public keys that verify proofs (no API key needed); cache them. */
  async jwks(): Promise<ProofKeySet> {
    const data = await this.call("jwks", {}, { method: "GET" }, false);
    return shaped<ProofKeySet>(data, { keys: false }, "JwksView");
  }

  /** The status a token grants, at once. */
  async status(token: string): Promise<Status> {
    const data = await this.call("status", { token }, { method: "GET" }, false);
    return shaped<Status>(data, FIELDS.StatusView, "StatusView");
  }

  /** Long-poll until the status is final or `timeoutSeconds` pass; resolve the last status. */
  async wait(token: string, timeoutSeconds = 60): Promise<Status> {
    const deadline = Date.now() + timeoutSeconds * 1000;
    for (;;) {
      const remaining = Math.max(0, (deadline - Date.now()) / 1000);
      const poll = Math.min(remaining, LONG_POLL_SECONDS);
      const url = `${this.url("wait", { token })}?wait=${encodeURIComponent(poll.toFixed(3))}`;
      const init = { method: "GET", headers: this.headers(false) };
      const data = await requestJson(this.transport, url, init, this.transport.timeoutMs + poll * 1000);
      const current = shaped<Status>(data, FIELDS.StatusView, "StatusView");
      if (isFinal(current) || Date.now() >= deadline) return current;
    }
  }

  /**
   * Yield the status from the live stream (Server-Sent Events), then each change; end after a
   * final one. Uses EventSource in browsers and streaming fetch in Node.
   */
  events(token: string, options: Omit<EventsOptions, "fetch"> = {}): AsyncIterableIterator<Status> {
    const fetchOption = this.customFetch ? { fetch: this.transport.fetch } : {};
    const sleep = { sleep: this.transport.sleep };
    return statusEvents(this.url("events", { token }), { ...sleep, ...fetchOption, ...options });
  }

  private url(operation: keyof typeof OPERATIONS, params: Record<string, string>): string {
    const path = OPERATIONS[operation][1].replace(/\{(\w+)\}/g, (_, name: string) => {
      const value = params[name];
      if (value === undefined) throw new TypeError(`missing ${name}`);
      return encodeURIComponent(value);
    });
    return this.baseUrl + path;
  }

  private headers(auth: boolean): Record<string, string> {
    const headers: Record<string, string> = { Accept: "application/json" };
    if (auth) {
      if (!this.apiKey) throw new ReverseOtpError("no_api_key", "this call needs the client's apiKey");
      headers["Authorization"] = `Bearer ${this.apiKey}`;
    }
    return headers;
  }

  private async call(
    operation: keyof typeof OPERATIONS,
    params: Record<string, string>,
    init: RequestInit,
    auth: boolean,
  ): Promise<unknown> {
    const headers = this.headers(auth);
    if (init.body !== undefined) headers["Content-Type"] = "application/json";
    return requestJson(this.transport, this.url(operation, params), { ...init, headers });
  }
}

/** Check that an answer has every field a result type promises (extra fields are kept). */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the result type
export function shaped<T>(data: unknown, fields: object, name: string): T {
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new ProtocolError("invalid_response", `expected a JSON object for ${name}`);
  }
  for (const field of Object.keys(fields)) {
    if (!(field in data)) throw new ProtocolError("invalid_response", `${name} lacks ${field}`);
  }
  return data as T;
}
