// @ts-check
// statusEvents over EventSource (the browser path), with a stand-in EventSource: Node has none.
import assert from "node:assert/strict";
import { afterEach, test } from "node:test";

import { NetworkError, statusEvents } from "../dist/index.js";

/** A minimal EventSource: the test drives it with emit() and fail(). */
class FakeEventSource {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSED = 2;
  /** @type {FakeEventSource[]} */
  static made = [];

  /** @param {string} url */
  constructor(url) {
    this.url = url;
    this.readyState = FakeEventSource.OPEN;
    /** @type {Map<string, Array<(event: any) => void>>} */
    this.listeners = new Map();
    FakeEventSource.made.push(this);
  }

  /** @param {string} name @param {(event: any) => void} listener */
  addEventListener(name, listener) {
    this.listeners.set(name, [...(this.listeners.get(name) ?? []), listener]);
  }

  close() {
    this.readyState = FakeEventSource.CLOSED;
  }

  /** @param {string} status */
  emit(status) {
    if (this.readyState === FakeEventSource.CLOSED) return;
    const data = JSON.stringify({ expires_at: "2027-01-15T08:09:00Z", phone: null, verified_at: null, status, attempts: 0 });
    for (const listener of this.listeners.get(status) ?? []) listener({ data });
  }

  fail() {
    if (this.readyState === FakeEventSource.CLOSED) return; // closed: no more events
    this.readyState = FakeEventSource.CLOSED;
    for (const listener of this.listeners.get("error") ?? []) listener({});
  }
}

const global = /** @type {{ EventSource?: unknown }} */ (globalThis);
afterEach(() => {
  delete global.EventSource;
  FakeEventSource.made = [];
});

test("in a browser the stream uses EventSource and closes it after a final status", async () => {
  global.EventSource = FakeEventSource;
  const events = statusEvents("https://otp.example/api/v1/status/tok/events");
  const source = FakeEventSource.made[0];
  assert.ok(source);
  assert.equal(source.url, "https://otp.example/api/v1/status/tok/events");
  source.emit("pending");
  setTimeout(() => {
    source.emit("verified");
    source.fail(); // the server's close after the end must not read as an error
  }, 10);
  const seen = [];
  for await (const status of events) seen.push(status.status);
  assert.deepEqual(seen, ["pending", "verified"]);
  assert.equal(source.readyState, FakeEventSource.CLOSED);
});

test("a refused EventSource ends the iteration with a network error", async () => {
  global.EventSource = FakeEventSource;
  const events = statusEvents("https://otp.example/e");
  FakeEventSource.made[0]?.fail();
  await assert.rejects(events.next(), NetworkError);
});

test("breaking out of the loop closes the EventSource", async () => {
  global.EventSource = FakeEventSource;
  const events = statusEvents("https://otp.example/e");
  const source = FakeEventSource.made[0];
  source?.emit("pending");
  for await (const status of events) {
    assert.equal(status.status, "pending");
    break;
  }
  assert.equal(source?.readyState, FakeEventSource.CLOSED);
});

test("a given fetch is used even where EventSource exists", async () => {
  global.EventSource = FakeEventSource;
  /** @type {typeof fetch} */
  const fetcher = async () => new Response(null, { status: 204 });
  const seen = [];
  for await (const status of statusEvents("https://otp.example/e", { fetch: fetcher })) seen.push(status);
  assert.deepEqual(seen, []);
  assert.equal(FakeEventSource.made.length, 0);
});
