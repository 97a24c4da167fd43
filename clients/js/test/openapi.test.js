// @ts-check
// The client against the server's live /openapi.json: operations, parameters and fields. A
// route, request field or answer field the server adds, renames or drops fails here.
import assert from "node:assert/strict";
import { before, test } from "node:test";

import { ERROR_FAMILIES, FIELDS, OPERATIONS } from "../dist/index.js";
import { NO_SERVER, server } from "./helpers.js";

const target = server();
const skip = target === undefined ? NO_SERVER : false;

// Operations of the "api" and "status" groups left to the user's browser (the hosted page
// and the widget call them), with why.
const BROWSER_ONLY = {
  "GET /api/v1/status/{token}/qr.{fmt}": "an image: the answer's qr_*_url links to it",
  "GET /api/v1/status/{token}/message": "the hosted page's SMS details",
  "POST /api/v1/status/{token}/renew": "the hosted page's new-code button",
  "POST /api/v1/status/{token}/check": "the hosted page's form for a code sent to the user",
};

/** @type {any} */
let spec;
before(async () => {
  if (target !== undefined) spec = await (await fetch(`${target.url}/openapi.json`)).json();
});

/** @param {string} method @param {string} path */
const operation = (method, path) => spec.paths[path][method.toLowerCase()];
/** @param {string} name */
const schema = (name) => spec.components.schemas[name];
/** @param {any} prop */
const nullable = (prop) => prop.type === "null" || (prop.anyOf ?? []).some((/** @type {any} */ alt) => alt.type === "null");

test("every client operation is in the document", { skip }, () => {
  for (const [name, [method, path]] of Object.entries(OPERATIONS)) {
    assert.ok(spec.paths[path]?.[method.toLowerCase()], `${name}: ${method} ${path} is not served`);
  }
  const wait = operation(...OPERATIONS.wait);
  assert.ok(wait.parameters.some((/** @type {any} */ p) => p.in === "query" && p.name === "wait"));
});

test("every integrator operation of the document is in the client", { skip }, () => {
  const covered = new Set([...Object.values(OPERATIONS).map(([m, p]) => `${m} ${p}`), ...Object.keys(BROWSER_ONLY)]);
  for (const [path, methods] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(/** @type {Record<string, any>} */ (methods))) {
      if (op.tags.some((/** @type {string} */ t) => t === "api" || t === "status")) {
        assert.ok(covered.has(`${method.toUpperCase()} ${path}`), `client lacks ${method.toUpperCase()} ${path}`);
      }
    }
  }
});

test("the create parameters are the request body fields", { skip }, () => {
  const ref = operation(...OPERATIONS.create).requestBody.content["application/json"].schema.$ref;
  const fields = Object.keys(schema(ref.split("/").pop()).properties).sort();
  assert.deepEqual(Object.keys(FIELDS.CreateChallenge).sort(), fields);
});

for (const name of /** @type {const} */ (["ChallengeView", "CreatedView", "StatusView", "SentView"])) {
  test(`${name} has the schema's fields and nullability`, { skip }, () => {
    const properties = schema(name).properties;
    /** @type {Record<string, boolean>} */
    const mine = FIELDS[name];
    assert.deepEqual(Object.keys(mine).sort(), Object.keys(properties).sort());
    for (const [field, prop] of Object.entries(properties)) {
      assert.equal(mine[field], nullable(prop), `${name}.${field}: nullability differs`);
    }
  });
}

test("the answers the client reads are the documented ones", { skip }, () => {
  /** @type {Array<[keyof typeof OPERATIONS, string, string]>} */
  const answers = [["create", "201", "CreatedView"], ["get", "200", "ChallengeView"], ["cancel", "200", "ChallengeView"], ["status", "200", "StatusView"], ["send", "202", "SentView"]];
  for (const [name, status, model] of answers) {
    const [method, path] = OPERATIONS[name];
    const op = operation(method, path);
    assert.ok(op.responses[status].content["application/json"].schema.$ref.endsWith(`/${model}`), name);
  }
  assert.ok("text/event-stream" in operation(...OPERATIONS.events).responses["200"].content);
});

test("every documented error status has an error family", { skip }, () => {
  for (const [method, path] of Object.values(OPERATIONS)) {
    for (const status of Object.keys(operation(method, path).responses)) {
      if (Number(status) >= 400) assert.ok(ERROR_FAMILIES[Number(status)], `${method} ${path}: no family for ${status}`);
    }
  }
});
