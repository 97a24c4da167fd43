// @ts-check
// The SSE helper over streaming fetch: parsing, the end at a final status, resuming.
import assert from "node:assert/strict";
import { test } from "node:test";

import { Client, SSEParser, statusEvents } from "../dist/index.js";
import { scriptedFetch } from "./helpers.js";

/** @param {string} status */
function frame(status) {
  const data = { expires_at: "2027-01-15T08:09:00Z", phone: null, verified_at: null, status, attempts: 0 };
  return `id: ${status}\nevent: ${status}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** A streamed answer, delivered in small chunks that cut lines in two. @param {string} text */
function stream(text) {
  const bytes = new TextEncoder().encode(text);
  const body = new ReadableStream({
    start(controller) {
      for (let i = 0; i < bytes.length; i += 7) controller.enqueue(bytes.slice(i, i + 7));
      controller.close();
    },
  });
  return new Response(body, { headers: { "Content-Type": "text/event-stream" } });
}

test("the parser reads fields, comments and multi-line data", () => {
  const parser = new SSEParser();
  const lines = ["retry: 3000", "", ": keep-alive", "", "id: x", "event: pending", "data: a", "data:b", ""];
  const events = lines.map((line) => parser.feed(line)).filter((e) => e !== undefined);
  assert.deepEqual(events, [{ event: "pending", data: "a\nb", id: "x" }]);
  assert.equal(parser.retryMs, 3000);
});

test("events yield each status and end after a final one", async () => {
  const { fetch, calls } = scriptedFetch([stream(`retry: 10\r\n\r\n${frame("pending")}${frame("verified")}${frame("x")}`)]);
  const client = new Client({ baseUrl: "https://otp.example", fetch });
  const seen = [];
  for await (const status of client.events("tok")) seen.push(status.status);
  assert.deepEqual(seen, ["pending", "verified"]);
  assert.equal(calls[0]?.url, "https://otp.example/api/v1/status/tok/events");
});

test("a dropped stream resumes with the last event id", async () => {
  const { fetch, calls } = scriptedFetch([stream(`retry: 10\n\n${frame("pending")}`), stream(frame("verified"))]);
  /** @type {number[]} */
  const sleeps = [];
  const seen = [];
  const events = statusEvents("https://otp.example/api/v1/status/tok/events", {
    fetch,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  });
  for await (const status of events) seen.push(status.status);
  assert.deepEqual(seen, ["pending", "verified"]);
  assert.equal(new Headers(calls[1]?.init?.headers).get("Last-Event-ID"), "pending");
  assert.deepEqual(sleeps, [10]);
});

test("a 204 ends the stream", async () => {
  const { fetch } = scriptedFetch([new Response(null, { status: 204 })]);
  const seen = [];
  for await (const status of statusEvents("https://otp.example/e", { fetch })) seen.push(status);
  assert.deepEqual(seen, []);
});
