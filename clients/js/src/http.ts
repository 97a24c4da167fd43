/** Requests with bounded retries of 429 and 503, and error answers turned into errors. */

import { familyFor, NetworkError, ProtocolError, type ReverseOtpError } from "./errors.js";

/** How 429 and 503 answers (and failed connections) are retried. */
export interface RetryOptions {
  /** Retries after the first try (default 3). */
  attempts: number;
  /** First wait in milliseconds, doubled each time, with jitter (default 500). */
  backoffMs: number;
  /** A Retry-After longer than this is not waited for: the error is thrown at once (30000). */
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryOptions = { attempts: 3, backoffMs: 500, maxDelayMs: 30_000 };
const RETRIED = new Set([429, 503]);

/** Milliseconds before retry number `attempt` (0-based), or undefined to give up. */
export function retryDelay(retry: RetryOptions, attempt: number, retryAfterMs?: number): number | undefined {
  if (attempt >= retry.attempts) return undefined;
  if (retryAfterMs !== undefined) return retryAfterMs <= retry.maxDelayMs ? retryAfterMs : undefined;
  const base = retry.backoffMs * 2 ** attempt;
  return Math.min(retry.maxDelayMs, base * (0.5 + Math.random() / 2));
}

/** Read a Retry-After header (seconds or an HTTP date) as seconds; undefined if unreadable. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const when = Date.parse(text);
  return Number.isNaN(when) ? undefined : Math.max(0, (when - now) / 1000);
}

/** The error an error answer stands for, from its `{"error": {"code", "message"}}` body. */
export async function errorFrom(response: Response): Promise<ReverseOtpError> {
  let code = `http_${String(response.status)}`;
  let message = `HTTP ${String(response.status)}`;
  try {
    const body = (await response.json()) as { error?: { code?: unknown; message?: unknown } };
    if (typeof body.error?.code === "string" && typeof body.error.message === "string") {
      code = body.error.code;
      message = body.error.message;
    }
  } catch {
    // not the JSON error shape: keep the status as the code
  }
  const retryAfter = parseRetryAfter(response.headers.get("Retry-After"));
  const Family = familyFor(response.status);
  return new Family(code, message, { status: response.status, retryAfter });
}

export interface Transport {
  fetch: typeof fetch;
  retry: RetryOptions;
  timeoutMs: number;
  sleep: (ms: number) => Promise<void>;
}

/** Send a request, retrying as `retry` says; return the decoded JSON of a 2xx answer. */
export async function requestJson(
  transport: Transport,
  url: string,
  init: RequestInit,
  timeoutMs: number = transport.timeoutMs,
): Promise<unknown> {
  for (let attempt = 0; ; attempt++) {
    const controller = new AbortController();
    const timer = setTimeout(() => {
      controller.abort();
    }, timeoutMs);
    let wait: number | undefined;
    try {
      let response: Response;
      try {
        response = await transport.fetch(url, { ...init, signal: controller.signal });
      } catch (error) {
        // fetch does not say whether the request reached the server: only idempotent calls
        // (GET) are retried after a network failure.
        wait = init.method === "GET" ? retryDelay(transport.retry, attempt) : undefined;
        if (wait === undefined) throw new NetworkError("network_error", describe(error));
        await transport.sleep(wait);
        continue;
      }
      if (response.ok) {
        try {
          return await response.json();
        } catch (error) {
          if (controller.signal.aborted) throw new NetworkError("network_error", describe(error));
          throw new ProtocolError("invalid_response", "the answer is not JSON");
        }
      }
      const error = await errorFrom(response);
      if (RETRIED.has(response.status)) {
        const hinted = error.retryAfter === undefined ? undefined : error.retryAfter * 1000;
        wait = retryDelay(transport.retry, attempt, hinted);
      }
      if (wait === undefined) throw error;
    } finally {
      clearTimeout(timer);
    }
    await transport.sleep(wait);
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as Error & { cause?: unknown }).cause;
    return cause instanceof Error ? `${error.message}: ${cause.message}` : error.message;
  }
  return String(error);
}
