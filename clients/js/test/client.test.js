// @ts-check
// Retries on 429/503 with backoff and Retry-After, and one error class per family.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  Client,
  ConflictError,
  InvalidRequestError,
  NetworkError,
  NotFoundError,
  parseRetryAfter,
  ProtocolError,
  RateLimitedError,
  ReverseOtpError,
  UnauthorizedError,
  UnavailableError,
} from "../dist/index.js";
import { CHALLENGE, errorAnswer, jsonAnswer, scriptedFetch } from "./helpers.js";

/** @param {Array<Response | Error>} answers @param {Partial<import("../dist/index.js").RetryOptions>} [retry] */
function scripted(answers, retry) {
  const { fetch, calls } = scriptedFetch(answers);
  /** @type {number[]} */
  const sleeps = [];
  const client = new Client({
    baseUrl: "https://otp.example/",
    apiKey: "key",
    fetch,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...(retry ? { retry } : {}),
  });
  return { client, calls, sleeps };
}

test("a 503 is retried and the retry succeeds", async () => {
  const { client, calls, sleeps } = scripted([errorAnswer(503, "unavailable"), jsonAnswer(CHALLENGE)]);
  assert.equal((await client.get("ch_1")).id, "ch_1");
  assert.equal(calls.length, 2);
  assert.equal(sleeps.length, 1);
  assert.ok(sleeps[0] !== undefined && sleeps[0] >= 250 && sleeps[0] <= 500);
  assert.equal(new Headers(calls[1]?.init?.headers).get("Authorization"), "Bearer key");
});

test("the Retry-After header is the delay", async () => {
  const { client, sleeps } = scripted([errorAnswer(429, "rate_limited", { "Retry-After": "7" }), jsonAnswer(CHALLENGE)]);
  await client.cancel("ch_1");
  assert.deepEqual(sleeps, [7000]);
});

test("retries are bounded and back off", async () => {
  const answers = [1, 2, 3, 4].map(() => errorAnswer(503, "storage_unavailable"));
  const { client, calls, sleeps } = scripted(answers);
  await assert.rejects(client.get("ch_1"), (error) => error instanceof UnavailableError && error.code === "storage_unavailable");
  assert.equal(calls.length, 4);
  assert.equal(sleeps.length, 3);
  sleeps.forEach((ms, i) => assert.ok(ms >= 250 * 2 ** i && ms <= 500 * 2 ** i, `retry ${i}: ${ms}`));
});

test("a Retry-After beyond the bound is thrown at once", async () => {
  const { client, calls, sleeps } = scripted([errorAnswer(429, "rate_limited", { "Retry-After": "3600" })]);
  await assert.rejects(client.create({ phone: "+33612345678" }), (error) => error instanceof RateLimitedError && error.retryAfter === 3600);
  assert.equal(calls.length, 1);
  assert.deepEqual(sleeps, []);
});

test("no retry when told so", async () => {
  const { client, calls } = scripted([errorAnswer(503, "unavailable")], { attempts: 0 });
  await assert.rejects(client.get("ch_1"), UnavailableError);
  assert.equal(calls.length, 1);
});

for (const [status, family] of /** @type {const} */ ([
  [400, InvalidRequestError],
  [401, UnauthorizedError],
  [404, NotFoundError],
  [409, ConflictError],
  [413, InvalidRequestError],
  [500, UnavailableError],
  [418, ReverseOtpError],
])) {
  test(`status ${status} throws ${family.name} with the code`, async () => {
    const { client, calls } = scripted([errorAnswer(status, "some_code")], { attempts: 0 });
    await assert.rejects(client.get("ch_1"), (error) => {
      assert.ok(error instanceof family);
      assert.equal(error.constructor, family);
      assert.equal(error.code, "some_code");
      assert.equal(error.status, status);
      return true;
    });
    assert.equal(calls.length, 1);
  });
}

test("an error without the JSON shape still has a code", async () => {
  const { client } = scripted([new Response("<html>bad gateway</html>", { status: 502 })]);
  await assert.rejects(client.get("ch_1"), (error) => error instanceof UnavailableError && error.code === "http_502");
});

test("an answer lacking a field is a protocol error", async () => {
  const { client } = scripted([jsonAnswer({ id: "ch_1" })]);
  await assert.rejects(client.get("ch_1"), (error) => error instanceof ProtocolError && error.code === "invalid_response");
});

test("create sends only the given fields, as JSON", async () => {
  const created = { ...CHALLENGE, code: "x", body: "x", sms_uri: "x", qr_svg_url: "x", qr_png_url: "x", whatsapp: null };
  const { client, calls } = scripted([jsonAnswer({ ...created, token: "t", status_url: "x", events_url: "x", verify_url: "x" }, 201)]);
  await client.create({ ttl: 120, metadata: { a: 1 }, channels: ["whatsapp"] });
  assert.deepEqual(JSON.parse(String(calls[0]?.init?.body)), { ttl: 120, metadata: { a: 1 }, channels: ["whatsapp"] });
  assert.equal(calls[0]?.url, "https://otp.example/api/v1/challenges");
  assert.equal(new Headers(calls[0]?.init?.headers).get("Content-Type"), "application/json");
});

test("a failed GET is retried, then a network error", async () => {
  const failures = [1, 2, 3, 4].map(() => new TypeError("fetch failed"));
  const { client, calls } = scripted(failures);
  await assert.rejects(client.get("ch_1"), (error) => error instanceof NetworkError && error.code === "network_error");
  assert.equal(calls.length, 4);
});

test("a failed POST is not retried: it may have reached the server", async () => {
  const { client, calls } = scripted([new TypeError("fetch failed")]);
  await assert.rejects(client.cancel("ch_1"), NetworkError);
  assert.equal(calls.length, 1);
});

test("calls needing the key refuse without it", async () => {
  const client = new Client({ baseUrl: "https://otp.example" });
  await assert.rejects(client.get("ch_1"), (error) => error instanceof ReverseOtpError && error.code === "no_api_key");
});

test("path parameters are encoded", async () => {
  const { client, calls } = scripted([jsonAnswer(CHALLENGE)]);
  await client.get("../admin");
  assert.equal(calls[0]?.url, "https://otp.example/api/v1/challenges/..%2Fadmin");
});

test("Retry-After reads seconds and dates", () => {
  const now = Date.parse("Wed, 21 Oct 2015 07:27:30 GMT");
  assert.equal(parseRetryAfter(null), undefined);
  assert.equal(parseRetryAfter("12"), 12);
  assert.equal(parseRetryAfter("soon"), undefined);
  assert.equal(parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT", now), 30);
});
