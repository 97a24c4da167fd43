// @ts-check
// The whole flow through the client, against the real server (clients/ci.sh starts it).
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  Client,
  ConflictError,
  InvalidCallbackError,
  InvalidRequestError,
  NotFoundError,
  UnauthorizedError,
  verifyCallback,
} from "../dist/index.js";
import { NO_SERVER, newPhone, receiver, sendSms, server } from "./helpers.js";

const target = server();
const skip = target === undefined ? NO_SERVER : false;

/** @returns {NonNullable<typeof target>} */
function running() {
  if (target === undefined) throw new Error(NO_SERVER);
  return target;
}

const client = () => new Client({ baseUrl: running().url, apiKey: running().apiKey });

test("a challenge is verified by SMS and seen by long poll", { skip }, async () => {
  const phone = newPhone();
  const created = await client().create({ phone, ttl: 300, metadata: { order: 42 }, client_ip: "203.0.113.7" });
  assert.equal(created.status, "pending");
  assert.equal(created.phone, phone);
  assert.ok(created.body.includes(created.code));
  assert.equal((await client().status(created.token)).status, "pending");
  const waiting = client().wait(created.token, 20);
  setTimeout(() => void sendSms(running(), phone, created.to, created.body), 300);
  const status = await waiting;
  assert.equal(status.status, "verified");
  const shown = await client().get(created.id);
  assert.equal(shown.verified_phone, phone);
});

test("the event stream yields pending then verified", { skip }, async () => {
  const phone = newPhone();
  const created = await client().create({ phone });
  const seen = [];
  for await (const status of client().events(created.token)) {
    seen.push(status.status);
    if (status.status === "pending") assert.equal(await sendSms(running(), phone, created.to, created.body), 200);
  }
  assert.deepEqual(seen, ["pending", "verified"]);
});

test("locale and return_url are sent and shown", { skip }, async () => {
  const created = await client().create({ locale: "fr-CA", return_url: "https://shop.example/done?step=2" });
  assert.equal(created.locale, "fr");
  assert.ok(created.body.startsWith("VERIFIER "));
  assert.equal((await client().get(created.id)).return_url, "https://shop.example/done?step=2");
  await assert.rejects(
    client().create({ return_url: "https://evil.example/" }),
    (error) => error instanceof InvalidRequestError && error.code === "invalid_return_url" && error.message.includes("return_url"),
  );
  await assert.rejects(client().create({ locale: "not a tag" }), (error) => error instanceof InvalidRequestError && error.message.includes("locale"));
});

test("cancel ends a challenge and a second cancel is a conflict", { skip }, async () => {
  const created = await client().create({ phone: newPhone() });
  assert.equal((await client().cancel(created.id)).status, "cancelled");
  assert.equal((await client().wait(created.token, 5)).status, "cancelled");
  await assert.rejects(client().cancel(created.id), (error) => error instanceof ConflictError && error.status === 409);
});

test("an expected email is sent and a header injection refused", { skip }, async () => {
  const created = await client().create({ email: "jane.doe@example.org" });
  assert.equal(created.status, "pending");
  await assert.rejects(
    client().create({ email: "jane@example.org\r\nBcc: all@victim.example" }),
    (error) => error instanceof InvalidRequestError && error.code === "invalid_request" && error.message.includes("email:"),
  );
});

test("errors carry the server's code", { skip }, async () => {
  await assert.rejects(client().create({ phone: "not a phone" }), (error) => error instanceof InvalidRequestError && error.code === "invalid_phone");
  await assert.rejects(
    client().create({ client_ip: "not an address" }),
    (error) => error instanceof InvalidRequestError && error.code === "invalid_request" && error.message.includes("client_ip"),
  );
  await assert.rejects(client().get("ch_nothing"), (error) => error instanceof NotFoundError && error.code === "not_found");
  const stranger = new Client({ baseUrl: running().url, apiKey: "wrong-key" });
  await assert.rejects(stranger.create(), (error) => error instanceof UnauthorizedError && error.code === "unauthorized");
});

test("a callback is received, verified, and a tampered one refused", { skip }, async () => {
  const hook = await receiver();
  try {
    const phone = newPhone();
    const created = await client().create({ phone, callback_url: hook.url, metadata: { n: 1 } });
    assert.equal(await sendSms(running(), phone, created.to, created.body), 200);
    const delivery = await hook.next();
    const event = await verifyCallback(delivery.body, delivery.headers, running().callbackSecret);
    assert.equal(event.type, "challenge.verified");
    assert.equal(event.data.id, created.id);
    assert.deepEqual(event.data.metadata, { n: 1 });
    assert.equal(event.id, delivery.headers["webhook-id"]);
    const tampered = JSON.parse(delivery.body.toString());
    tampered.data.verified_phone = "+15550000000";
    await assert.rejects(
      verifyCallback(JSON.stringify(tampered), delivery.headers, running().callbackSecret),
      (error) => error instanceof InvalidCallbackError && error.code === "bad_signature",
    );
  } finally {
    await hook.close();
  }
});

test("a test number is verified by check and a real phone is refused", { skip }, async () => {
  const phone = process.env.REVERSE_OTP_CLIENT_TEST_NUMBER ?? "";
  const code = process.env.REVERSE_OTP_CLIENT_TEST_CODE ?? "";
  const created = await client().create({ phone });
  const wrong = await client().check(created.id, "not-the-code");
  assert.deepEqual([wrong.status, wrong.attempts, wrong.method], ["pending", 1, null]);
  const verified = await client().check(created.id, code);
  assert.deepEqual([verified.status, verified.method], ["verified", "test"]);
  const real = await client().create({ phone: newPhone() });
  await assert.rejects(client().check(real.id, code), (error) => error instanceof UnauthorizedError && error.code === "check_refused");
  assert.equal((await client().get(real.id)).attempts, 0);
});
