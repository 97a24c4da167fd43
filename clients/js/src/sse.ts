/**
 * The live status stream (Server-Sent Events): `EventSource` in browsers, streaming `fetch`
 * where there is none (Node). Both yield each status and end after a final one.
 */

import { NetworkError, ProtocolError } from "./errors.js";
import { errorFrom } from "./http.js";
import { isFinal, type Status } from "./types.js";

const RECONNECTS = 5;

export interface SSEEvent {
  event: string;
  data: string;
  id: string | undefined;
}

/** Server-Sent Events, line by line (the WHATWG event-stream interpretation). */
export class SSEParser {
  lastId: string | undefined;
  retryMs: number | undefined;
  private event = "";
  private data: string[] = [];

  /** Take one line (without its end); return the event a blank line completes. */
  feed(line: string): SSEEvent | undefined {
    if (line === "") return this.dispatch();
    if (line.startsWith(":")) return undefined;
    const colon = line.indexOf(":");
    const name = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (name === "event") this.event = value;
    else if (name === "data") this.data.push(value);
    else if (name === "id" && !value.includes("\0")) this.lastId = value;
    else if (name === "retry" && /^\d+$/.test(value)) this.retryMs = Number(value);
    return undefined;
  }

  private dispatch(): SSEEvent | undefined {
    if (this.data.length === 0) {
      this.event = "";
      return undefined;
    }
    const found = { event: this.event || "message", data: this.data.join("\n"), id: this.lastId };
    this.event = "";
    this.data = [];
    return found;
  }
}

export interface EventsOptions {
  /** Stop listening (the iteration ends). */
  signal?: AbortSignal;
  /** The fetch to use; given, it is used even where EventSource exists. */
  fetch?: typeof fetch;
  /** Use EventSource when the platform has one (default true, unless `fetch` is given). */
  eventSource?: boolean;
  /** For tests: how to wait before reconnecting. */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Yield the status from a challenge's `events_url` (the create answer gives it), then each
 * change; end after a final status. Needs only the status token in the URL, so the user's
 * browser may call it.
 */
export function statusEvents(eventsUrl: string, options: EventsOptions = {}): AsyncIterableIterator<Status> {
  const useEventSource =
    (options.eventSource ?? options.fetch === undefined) && typeof globalThis.EventSource === "function";
  return useEventSource ? viaEventSource(eventsUrl, options.signal) : viaFetch(eventsUrl, options);
}

const STATUS_NAMES = ["pending", "verified", "expired", "failed", "cancelled"] as const;

function parseStatus(data: string): Status {
  try {
    return JSON.parse(data) as Status;
  } catch {
    throw new ProtocolError("invalid_response", "an event's data is not JSON");
  }
}

async function* viaFetch(url: string, options: EventsOptions): AsyncIterableIterator<Status> {
  const fetcher = options.fetch ?? globalThis.fetch.bind(globalThis);
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((done) => setTimeout(done, ms)));
  let lastId: string | undefined;
  for (let reconnect = 0; reconnect <= RECONNECTS; reconnect++) {
    const parser = new SSEParser();
    const headers: Record<string, string> = { Accept: "text/event-stream" };
    if (lastId !== undefined) headers["Last-Event-ID"] = lastId;
    let response: Response;
    try {
      response = await fetcher(url, { headers, signal: options.signal ?? null });
    } catch (error) {
      if (options.signal?.aborted) return;
      if (reconnect === RECONNECTS) throw new NetworkError("network_error", String(error));
      await sleep(1000);
      continue;
    }
    if (response.status === 204) return;
    if (!response.ok || response.body === null) throw await errorFrom(response);
    try {
      for await (const line of lines(response.body)) {
        const event = parser.feed(line);
        if (event === undefined) continue;
        const status = parseStatus(event.data);
        lastId = event.id;
        yield status;
        if (isFinal(status)) return;
      }
    } catch (error) {
      if (options.signal?.aborted) return;
      if (error instanceof ProtocolError) throw error;
      if (reconnect === RECONNECTS) throw new NetworkError("network_error", String(error));
    }
    await sleep(parser.retryMs ?? 1000);
  }
  throw new NetworkError("network_error", "the event stream kept ending before a final status");
}

/** The lines of a byte stream, split on CRLF, LF or CR. */
export async function* lines(body: ReadableStream<Uint8Array>): AsyncIterableIterator<string> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      let match: RegExpExecArray | null;
      while ((match = /\r\n|\n|\r(?=[^\n])/.exec(buffer)) !== null) {
        yield buffer.slice(0, match.index);
        buffer = buffer.slice(match.index + match[0].length);
      }
      if (done) {
        if (buffer !== "") yield buffer;
        return;
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

/** Bridge EventSource's callbacks to an async iterator; it reconnects by itself. */
function viaEventSource(url: string, signal: AbortSignal | undefined): AsyncIterableIterator<Status> {
  const source = new EventSource(url);
  const queue: Status[] = [];
  let failure: Error | undefined;
  let ended = false;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    wake?.();
    wake = undefined;
  };
  const end = (): void => {
    ended = true;
    source.close();
    notify();
  };
  for (const name of STATUS_NAMES) {
    source.addEventListener(name, (message: MessageEvent<string>) => {
      try {
        const status = parseStatus(message.data);
        queue.push(status);
        if (isFinal(status)) end(); // before the server's close reads as an error
      } catch (error) {
        failure = error instanceof Error ? error : new ProtocolError("invalid_response", "unreadable event");
        end();
      }
      notify();
    });
  }
  source.addEventListener("error", () => {
    if (!ended && source.readyState === EventSource.CLOSED) {
      failure ??= new NetworkError("network_error", "the event stream was refused or closed");
      end();
    }
  });
  signal?.addEventListener("abort", end, { once: true });
  const iterator: AsyncIterableIterator<Status> = {
    async next(): Promise<IteratorResult<Status>> {
      for (;;) {
        const status = queue.shift();
        if (status !== undefined) return { value: status, done: false };
        if (ended) {
          if (failure !== undefined && !signal?.aborted) {
            const error = failure;
            failure = undefined;
            throw error;
          }
          return { value: undefined, done: true };
        }
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
    return(): Promise<IteratorResult<Status>> {
      end();
      return Promise.resolve({ value: undefined, done: true });
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
