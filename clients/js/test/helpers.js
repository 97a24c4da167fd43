// @ts-check
// Helpers for the tests: a scripted fetch, the real server from clients/ci.sh, a receiver.
import { createHmac, randomBytes, randomInt } from "node:crypto";
import { createServer } from "node:http";

/**
 * A fetch answering `answers` in turn, recording each request.
 * @param {Array<Response | Error>} answers
 */
export function scriptedFetch(answers) {
  /** @type {Array<{ url: string, init: RequestInit | undefined }>} */
  const calls = [];
  /** @type {typeof fetch} */
  const fetcher = async (input, init) => {
    calls.push({ url: String(input), init });
    const next = answers.shift();
    if (next === undefined) throw new Error("no more answers");
    if (next instanceof Error) throw next;
    return next;
  };
  return { fetch: fetcher, calls };
}

/**
 * @param {number} status
 * @param {string} code
 * @param {Record<string, string>} [headers]
 */
export function errorAnswer(status, code, headers = {}) {
  const body = JSON.stringify({ error: { code, message: `${code} happened` } });
  return new Response(body, { status, headers: { "Content-Type": "application/json", ...headers } });
}

/** @param {unknown} body @param {number} [status] */
export function jsonAnswer(body, status = 200) {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

export const CHALLENGE = {
  id: "ch_1",
  status: "cancelled",
  to: "+15017122661",
  phone: null,
  created_at: "2026-03-01T09:29:00Z",
  expires_at: "2026-03-01T09:39:00Z",
  verified_phone: null,
  verified_at: null,
  attempts: 0,
  failure_reason: null,
  method: null,
  metadata: {},
  proof: null,
  channels: ["sms"],
  channel: null,
  locale: null,
  return_url: null,
};

/** The running server clients/ci.sh started, or undefined when there is none. */
export function server() {
  const url = process.env["REVERSE_OTP_CLIENT_TEST_URL"];
  if (!url) return undefined;
  return {
    url,
    apiKey: process.env["REVERSE_OTP_CLIENT_TEST_API_KEY"] ?? "",
    simulatorSecret: process.env["REVERSE_OTP_CLIENT_TEST_SIMULATOR_SECRET"] ?? "",
    callbackSecret: process.env["REVERSE_OTP_CLIENT_TEST_CALLBACK_SECRET"] ?? "",
  };
}

export const NO_SERVER = "no server: clients/ci.sh sets REVERSE_OTP_CLIENT_TEST_URL and the rest";

/**
 * Play the user's phone: post a signed SMS to the simulator webhook.
 * @param {{ url: string, simulatorSecret: string }} target
 * @param {string} from @param {string} to @param {string} text
 */
export async function sendSms(target, from, to, text) {
  const body = JSON.stringify({ from, to, text, id: `sim-${randomBytes(8).toString("hex")}` });
  const signature = createHmac("sha256", target.simulatorSecret).update(body).digest("hex");
  const response = await fetch(`${target.url}/webhooks/simulator`, {
    method: "POST",
    body,
    headers: { "Content-Type": "application/json", "X-Simulator-Signature": signature },
  });
  await response.text();
  return response.status;
}

/** A fresh French mobile number (+33 61...: every one valid), so the per-phone limit never bites. */
export function newPhone() {
  return `+3361${String(randomInt(0, 10_000_000)).padStart(7, "0")}`;
}

/**
 * An HTTP server on 127.0.0.1 that answers 204 and keeps what it is sent.
 * @returns {Promise<{ url: string, next: () => Promise<{ headers: import("node:http").IncomingHttpHeaders, body: Buffer }>, close: () => Promise<void> }>}
 */
export async function receiver() {
  /** @type {Array<{ headers: import("node:http").IncomingHttpHeaders, body: Buffer }>} */
  const received = [];
  /** @type {Array<() => void>} */
  const waiting = [];
  const httpServer = createServer((req, res) => {
    /** @type {Buffer[]} */
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(204).end();
      waiting.shift()?.();
    });
  });
  await new Promise((done) => httpServer.listen(0, "127.0.0.1", () => done(undefined)));
  const address = httpServer.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return {
    url: `http://127.0.0.1:${address.port}/callbacks`,
    async next() {
      const deadline = Date.now() + 20_000;
      while (received.length === 0) {
        if (Date.now() > deadline) throw new Error("no callback within 20 s");
        await new Promise((done) => {
          waiting.push(() => done(undefined));
          setTimeout(done, 500);
        });
      }
      const first = received.shift();
      if (first === undefined) throw new Error("unreachable");
      return first;
    },
    close: () => new Promise((done) => httpServer.close(() => done(undefined))),
  };
}
