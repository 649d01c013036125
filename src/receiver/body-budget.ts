import type { Middleware } from 'koa';
import { AppError } from '../errors';

export interface BodyBudgetOptions {
  /** Declared body bytes the receiver reads, verifies and stores at once. */
  maxInFlightBytes: number;
  /** Declared body bytes that may wait for room; a delivery beyond it is refused with 429. */
  maxWaitingBytes: number;
  /** The webhook body limit: what a delivery without Content-Length is counted as. */
  bodyLimitBytes: number;
  /** A delivery had to wait for room (counted by the receiver's metrics). */
  onWait?: () => void;
  /** A delivery was refused with 429 (counted with the other delivery results). */
  onRefuse?: () => void;
}

export interface BodyBudget {
  middleware: Middleware;
  inFlightBytes(): number;
  waiting(): number;
}

interface Waiter {
  bytes: number;
  admit: () => void;
}

/**
 * Bounds the memory deliveries can take, whatever arrives: a delivery's body is read, parsed and
 * held until its group commit only once its declared size fits in the in-flight budget. Deliveries
 * that do not fit wait in arrival order without being read (a waiting body holds at most one
 * stream buffer, 16 KiB, in the process; the socket is paused and the rest stays with the sender);
 * past the waiting budget they are refused with 429 before
 * anything is read or stored, and Stripe delivers them again later. A lone delivery larger than the
 * budget is still read when nothing else is in flight. Stripe's events are a few KiB, so at the
 * defaults this only ever engages for storms of large bodies — which is what lets the receiver run
 * under a small heap limit.
 */
export function createBodyBudget(options: BodyBudgetOptions): BodyBudget {
  let inFlight = 0;
  let waitingBytes = 0;
  const queue: Waiter[] = [];

  const admitWaiting = () => {
    while (queue.length > 0 && (inFlight === 0 || inFlight + queue[0]!.bytes <= options.maxInFlightBytes)) {
      const next = queue.shift()!;
      waitingBytes -= next.bytes;
      inFlight += next.bytes;
      next.admit();
    }
  };

  const acquire = async (bytes: number): Promise<void> => {
    if (queue.length === 0 && (inFlight === 0 || inFlight + bytes <= options.maxInFlightBytes)) {
      inFlight += bytes;
      return;
    }
    if (waitingBytes + bytes > options.maxWaitingBytes) {
      options.onRefuse?.();
      throw new AppError(
        429,
        'receiver_busy',
        'The receiver is reading as many delivery bytes as it may hold; Stripe will deliver this event again.',
      );
    }
    waitingBytes += bytes;
    options.onWait?.();
    await new Promise<void>((admit) => queue.push({ bytes, admit }));
  };

  const middleware: Middleware = async (ctx, next) => {
    const declared = ctx.request.length;
    // An over-limit body is refused by the route before it is read: it costs nothing here.
    if (declared !== undefined && declared > options.bodyLimitBytes) return next();
    const bytes = declared ?? options.bodyLimitBytes;
    await acquire(bytes);
    try {
      await next();
    } finally {
      inFlight -= bytes;
      admitWaiting();
    }
  };

  return { middleware, inFlightBytes: () => inFlight, waiting: () => queue.length };
}
