// @ts-check
// Proofs: verifyProof against keys made here (no server needed), then against the real server
// (clients/ci.sh starts it), where the Node example of docs/proofs.md (jose) must agree.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { SignJWT, exportJWK, generateKeyPair } from "jose";

import { Client, InvalidProofError, verifyProof, verifyCallback } from "../dist/index.js";
import { NO_SERVER, newPhone, receiver, sendSms, server } from "./helpers.js";

const target = server();
const skip = target === undefined ? NO_SERVER : false;
const ISSUER = "https://verify.test";

/** @returns {NonNullable<typeof target>} */
function running() {
  if (target === undefined) throw new Error(NO_SERVER);
  return target;
}

/** A key pair of our own, its key set, and proofs signed with it. */
async function signer(kid = "k1") {
  const { publicKey, privateKey } = await generateKeyPair("ES256");
  const jwk = await exportJWK(publicKey);
  const jwks = /** @type {import("../dist/index.js").ProofKeySet} */ ({
    keys: [{ ...jwk, kid, use: "sig", alg: "ES256" }],
  });
  /** @param {Record<string, unknown>} [claims] */
  const sign = (claims = {}) =>
    new SignJWT({ amr: ["sms"], metadata_sha256: "x", ...claims })
      .setProtectedHeader({ alg: "ES256", kid, typ: "JWT" })
      .setIssuer(ISSUER)
      .setSubject("+33612345678")
      .setAudience("default")
      .setJti("ch_1")
      .setIssuedAt(1_800_000_000)
      .setExpirationTime(1_800_000_600)
      .sign(privateKey);
  return { jwks, sign };
}

/** @param {string} code */
const refusedWith = (code) => (/** @type {unknown} */ error) =>
  error instanceof InvalidProofError && error.code === code;

const check = { audience: "default", issuer: ISSUER, now: 1_800_000_100 };

test("a proof signed by a key of the set verifies and gives its claims", async () => {
  const { jwks, sign } = await signer();
  const claims = await verifyProof(await sign(), jwks, check);
  assert.equal(claims.sub, "+33612345678");
  assert.equal(claims.jti, "ch_1");
  assert.deepEqual(claims.amr, ["sms"]);
});

test("changed, misdirected, expired, unknown-key and unreadable proofs are refused", async () => {
  const { jwks, sign } = await signer();
  const proof = await sign();
  const [header, payload, signature] = proof.split(".");
  const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(String(payload), "base64url").toString()), sub: "+15550000000" })).toString("base64url");
  await assert.rejects(verifyProof(`${header}.${forged}.${signature}`, jwks, check), refusedWith("bad_signature"));
  await assert.rejects(verifyProof(proof, jwks, { ...check, audience: "app_other" }), refusedWith("wrong_audience"));
  await assert.rejects(verifyProof(proof, jwks, { ...check, issuer: "https://other.test" }), refusedWith("wrong_issuer"));
  await assert.rejects(verifyProof(proof, jwks, { ...check, now: 1_800_000_600 }), refusedWith("expired"));
  assert.ok(await verifyProof(proof, jwks, { ...check, now: 1_800_000_600, leewaySeconds: 5 }));
  const other = await signer("k2");
  await assert.rejects(verifyProof(proof, other.jwks, check), refusedWith("unknown_key"));
  await assert.rejects(verifyProof("a.b", jwks, check), refusedWith("malformed"));
  const none = `${Buffer.from('{"alg":"none","kid":"k1"}').toString("base64url")}.${payload}.`;
  await assert.rejects(verifyProof(none, jwks, check), refusedWith("malformed"));
});

/** The Node example of docs/proofs.md, for this server and app, as a module. */
async function documented(issuer = running().url, appId = "default") {
  const doc = readFileSync(new URL("../../../docs/proofs.md", import.meta.url), "utf8");
  const block = /<!-- node-proof -->\s*```js\n([\s\S]*?)```/.exec(doc);
  assert.ok(block?.[1], "docs/proofs.md lost its Node example");
  let code = block[1];
  code = code.replace(/^const ISSUER = "[^"]*";/m, `const ISSUER = ${JSON.stringify(issuer)};`);
  code = code.replace(/^const APP_ID = "[^"]*";/m, `const APP_ID = ${JSON.stringify(appId)};`);
  code = code.replace('from "jose"', `from ${JSON.stringify(import.meta.resolve("jose"))}`);
  return /** @type {{ verifyProof: (proof: string) => Promise<Record<string, unknown>>, metadataSha256: (m: unknown) => string }} */ (
    await import(`data:text/javascript,${encodeURIComponent(code)}`)
  );
}

test("a verified challenge's proof verifies with the client and with the documented jose code", { skip }, async () => {
  const client = new Client({ baseUrl: running().url, apiKey: running().apiKey });
  const phone = newPhone();
  const metadata = { session: "n0nce-é", cart: [1, 2], nested: { b: true, a: null } };
  const created = await client.create({ phone, metadata });
  assert.equal(created.proof, null);
  assert.equal((await client.get(created.id)).proof, null);
  assert.equal(await sendSms(running(), phone, created.to, created.body), 200);
  const shown = await client.get(created.id);
  assert.equal(shown.status, "verified");
  assert.ok(shown.proof);
  const claims = await verifyProof(shown.proof, await client.jwks(), { audience: "default", issuer: running().url });
  assert.equal(claims.sub, phone);
  assert.equal(claims.jti, created.id);
  const doc = await documented();
  const joseClaims = await doc.verifyProof(shown.proof);
  assert.deepEqual(joseClaims, claims);
  assert.equal(doc.metadataSha256(shown.metadata), claims.metadata_sha256);
  const elsewhere = await documented(running().url, "app_other");
  await assert.rejects(elsewhere.verifyProof(shown.proof));
});

test("the callback's proof verifies", { skip }, async () => {
  const hook = await receiver();
  try {
    const client = new Client({ baseUrl: running().url, apiKey: running().apiKey });
    const phone = newPhone();
    const created = await client.create({ phone, callback_url: hook.url });
    assert.equal(await sendSms(running(), phone, created.to, created.body), 200);
    const delivery = await hook.next();
    const event = await verifyCallback(delivery.body, delivery.headers, running().callbackSecret);
    assert.ok(event.data.proof);
    const claims = await verifyProof(event.data.proof, await client.jwks(), { audience: "default", issuer: running().url });
    assert.equal(claims.jti, created.id);
  } finally {
    await hook.close();
  }
});
