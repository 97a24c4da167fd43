// @ts-check
// verifyCallback: Standard Webhooks signatures with Web Crypto, the tolerance, rotations.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { test } from "node:test";

import { InvalidCallbackError, verifyCallback } from "../dist/index.js";

// The Standard Webhooks specification's published example.
const SPEC = {
  secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  headers: {
    "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
    "webhook-timestamp": "1614265330",
    "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
  },
};
const SECRET = `whsec_${Buffer.from("s".repeat(32)).toString("base64")}`;
const NOW = 1_800_000_000;
const EVENT = {
  id: "evt_1",
  type: "challenge.verified",
  timestamp: "2027-01-15T08:00:00Z",
  data: {
    id: "ch_1",
    status: "verified",
    to: "+15017122661",
    phone: "+33 6** *** *78",
    created_at: "2027-01-15T07:59:00Z",
    expires_at: "2027-01-15T08:09:00Z",
    verified_phone: "+33 6** *** *78",
    verified_at: "2027-01-15T08:00:00Z",
    ended_at: "2027-01-15T08:00:00Z",
    attempts: 0,
    failure_reason: null,
    method: null,
    metadata: { order: 42 },
    proof: "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiIrMzM2MTIzNDU2NzgifQ.c2ln",
    channels: ["sms", "whatsapp"],
    channel: "whatsapp",
    locale: "fr",
    return_url: "https://shop.example/done",
  },
};
const BODY = JSON.stringify(EVENT);

/** @param {string} body @param {string} [secret] @param {number} [stamp] */
function signed(body, secret = SECRET, stamp = NOW) {
  const key = Buffer.from(secret.slice("whsec_".length), "base64");
  const digest = createHmac("sha256", key).update(`evt_1.${stamp}.${body}`).digest("base64");
  return { "Webhook-Id": "evt_1", "Webhook-Timestamp": String(stamp), "Webhook-Signature": `v1,${digest}` };
}

/** @param {string} code */
const refusedWith = (code) => (/** @type {unknown} */ error) =>
  error instanceof InvalidCallbackError && error.code === code;

test("the specification's example verifies up to its JSON", async () => {
  const now = 1614265330;
  await assert.rejects(verifyCallback('{"test": 2432232314}', SPEC.headers, SPEC.secret, { now }), refusedWith("invalid_body"));
  await assert.rejects(verifyCallback('{"test": 2432232315}', SPEC.headers, SPEC.secret, { now }), refusedWith("bad_signature"));
});

test("a signed callback gives its event, from a string, bytes or Headers", async () => {
  const event = await verifyCallback(BODY, signed(BODY), SECRET, { now: NOW });
  assert.equal(event.type, "challenge.verified");
  assert.deepEqual(event.data.metadata, { order: 42 });
  const bytes = new TextEncoder().encode(BODY);
  assert.deepEqual(await verifyCallback(bytes, new Headers(signed(BODY)), SECRET, { now: NOW }), event);
});

test("a changed body is refused", async () => {
  await assert.rejects(verifyCallback(BODY.replace("42", "43"), signed(BODY), SECRET, { now: NOW }), refusedWith("bad_signature"));
});

test("another secret is refused", async () => {
  const other = `whsec_${Buffer.from("t".repeat(32)).toString("base64")}`;
  await assert.rejects(verifyCallback(BODY, signed(BODY, other), SECRET, { now: NOW }), refusedWith("bad_signature"));
});

for (const offset of [-301, 301]) {
  test(`a timestamp ${offset} s away is refused`, async () => {
    await assert.rejects(verifyCallback(BODY, signed(BODY, SECRET, NOW + offset), SECRET, { now: NOW }), refusedWith("stale_timestamp"));
  });
}

for (const offset of [-300, 300]) {
  test(`a timestamp ${offset} s away is accepted`, async () => {
    assert.equal((await verifyCallback(BODY, signed(BODY, SECRET, NOW + offset), SECRET, { now: NOW })).id, "evt_1");
  });
}

test("the tolerance can be narrowed", async () => {
  const headers = signed(BODY, SECRET, NOW - 60);
  await assert.rejects(verifyCallback(BODY, headers, SECRET, { now: NOW, toleranceSeconds: 30 }), refusedWith("stale_timestamp"));
});

test("any v1 signature may match during a rotation", async () => {
  const headers = signed(BODY);
  const old = signed(BODY, `whsec_${Buffer.from("o".repeat(32)).toString("base64")}`);
  headers["Webhook-Signature"] = `${old["Webhook-Signature"]} v2,abc ${headers["Webhook-Signature"]}`;
  assert.equal((await verifyCallback(BODY, headers, SECRET, { now: NOW })).id, "evt_1");
});

for (const missing of ["Webhook-Id", "Webhook-Timestamp", "Webhook-Signature"]) {
  test(`a missing ${missing} is refused`, async () => {
    /** @type {Record<string, string>} */
    const headers = signed(BODY);
    delete headers[missing];
    await assert.rejects(verifyCallback(BODY, headers, SECRET, { now: NOW }), refusedWith("missing_headers"));
  });
}

test("a secret that is not base64 is refused", async () => {
  await assert.rejects(verifyCallback(BODY, signed(BODY), "whsec_not*base64", { now: NOW }), refusedWith("invalid_secret"));
});

test("without a global crypto (Node 18) node:crypto's Web Crypto is used", async () => {
  const saved = Object.getOwnPropertyDescriptor(globalThis, "crypto");
  Object.defineProperty(globalThis, "crypto", { value: undefined, configurable: true });
  try {
    assert.ok(/** @type {{ crypto?: unknown }} */ (globalThis).crypto === undefined);
    assert.equal((await verifyCallback(BODY, signed(BODY), SECRET, { now: NOW })).id, "evt_1");
  } finally {
    if (saved) Object.defineProperty(globalThis, "crypto", saved);
  }
  assert.deepEqual(Object.getOwnPropertyDescriptor(globalThis, "crypto"), saved);
});
