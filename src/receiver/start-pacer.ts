/**
 * Workflow starts give way to acknowledgements. A start costs Temporal a few ms of CPU; when
 * Temporal shares the receiver's cores (the embedded stack, a small host), starting as fast as
 * deliveries arrive slows every acknowledgement down — and Stripe only waits for the answer, not
 * for the start. The pacer watches how long deliveries take to be acknowledged and sets how many
 * starts may be in flight: halved after a window in which acknowledgements were slow, one more
 * after a window in which they were not (AIMD, as TCP does with its window). At 0 starts pause;
 * they queue, and past the queue's limit the stored events wait in the inbox for the reconciler.
 * Nothing is lost, only started later. When Temporal runs elsewhere, starts do not slow
 * acknowledgements and the limit stays at its maximum.
 */
export interface StartPacerOptions {
  /** Most starts in flight (`WORKFLOW_START_CONCURRENCY`). */
  maxConcurrency: number;
  /** Acknowledgements slower than this count as slow; 0 turns pacing off. */
  ackTargetMs: number;
  /** Share of a window's acknowledgements that may be slow before starts back off. */
  slowShare?: number;
  /** How often the limit is adjusted. */
  windowMs?: number;
  /** Called when the limit rises, so queued starts can go. */
  onRaise?: () => void;
}

export interface StartPacer {
  /** One delivery acknowledged after `ms` milliseconds (from request to answer). */
  observe(ms: number): void;
  /** Starts that may be in flight now. */
  limit(): number;
  /** Stops pacing (shutdown: no answer left to protect); the limit returns to the maximum. */
  stop(): void;
}

/** One window's step: halve after slow acknowledgements, else one more (up to `max`). */
export function nextStartLimit(
  current: number,
  max: number,
  window: { seen: number; slow: number },
  slowShare: number,
): number {
  const pressed = window.seen > 0 && window.slow > window.seen * slowShare;
  return pressed ? Math.floor(current / 2) : Math.min(max, current + 1);
}

export function createStartPacer(options: StartPacerOptions): StartPacer {
  const max = options.maxConcurrency;
  if (options.ackTargetMs <= 0) return { observe: () => undefined, limit: () => max, stop: () => undefined };
  const slowShare = options.slowShare ?? 0.01;
  let current = max;
  let seen = 0;
  let slow = 0;
  const timer = setInterval(() => {
    const previous = current;
    current = nextStartLimit(current, max, { seen, slow }, slowShare);
    seen = 0;
    slow = 0;
    if (current > previous) options.onRaise?.();
  }, options.windowMs ?? 250);
  timer.unref();
  return {
    observe(ms) {
      seen++;
      if (ms > options.ackTargetMs) slow++;
    },
    limit: () => current,
    stop() {
      clearInterval(timer);
      current = max;
    },
  };
}
