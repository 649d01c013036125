/**
 * Workflow starts give way to acknowledgements. A start costs Temporal a few ms of CPU; when
 * Temporal shares the receiver's cores (the embedded stack, a small host), starting as fast as
 * deliveries arrive slows every acknowledgement down — and Stripe only waits for the answer, not
 * for the start. The pacer watches how long deliveries take to be acknowledged and sets how many
 * starts may be in flight: halved as soon as acknowledgements turn slow (and again every
 * `cutIntervalMs` while they stay slow), one more after a window in which they were not (AIMD, as
 * TCP does with its window). At 0 starts pause;
 * they queue, and past the queue's limit the stored events wait in the inbox for the reconciler.
 * Nothing is lost, only started later. When Temporal runs elsewhere, starts do not slow
 * acknowledgements and the limit stays at its maximum.
 *
 * While no delivery arrives there is nothing to protect: starts run at the maximum (draining what
 * a burst left queued), but the paced limit is kept, not grown, and applies again from the first
 * delivery after the lull. Only a window with deliveries that stayed fast is evidence that one
 * more start in flight does not hurt them. (Before, idle windows grew the limit back to the
 * maximum, and every burst after a lull met 32 starts at once: its first ~250 ms answered at
 * p50 ~135 ms in the benchmark's 1,000/s step while the cuts caught up — README, Performance.)
 */
export interface StartPacerOptions {
  /** Most starts in flight (`WORKFLOW_START_CONCURRENCY`). */
  maxConcurrency: number;
  /** Acknowledgements slower than this count as slow; 0 turns pacing off. */
  ackTargetMs: number;
  /** Share of a window's acknowledgements that may be slow before starts back off. */
  slowShare?: number;
  /** How often the limit may grow (by one, after a calm window). */
  windowMs?: number;
  /**
   * Shortest time between two halvings. The limit is cut within the window, on the answer that
   * makes it slow, not at its end: when a process starts the limit is at its maximum, and a burst
   * of deliveries should not meet it for a whole window. (On the Intel host the benchmark's 1,000/s
   * step still answered slowly for its first 2–3.5 s with this — p50 150–430 ms, then 15–35 ms; on
   * the AMD host for its first ~250 ms, until the paced limit was kept through lulls — see above.)
   */
  cutIntervalMs?: number;
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

/**
 * One window's step: halve after slow acknowledgements, one more (up to `max`) after fast ones,
 * unchanged after a window without any (no evidence either way).
 */
export function nextStartLimit(
  current: number,
  max: number,
  window: { seen: number; slow: number },
  slowShare: number,
): number {
  if (window.seen === 0) return current;
  return isPressed(window, slowShare) ? Math.floor(current / 2) : Math.min(max, current + 1);
}

/** More than `slowShare` of the acknowledgements seen so far were slow. */
function isPressed(window: { seen: number; slow: number }, slowShare: number): boolean {
  return window.seen > 0 && window.slow > window.seen * slowShare;
}

export function createStartPacer(options: StartPacerOptions): StartPacer {
  const max = options.maxConcurrency;
  if (options.ackTargetMs <= 0) return { observe: () => undefined, limit: () => max, stop: () => undefined };
  const slowShare = options.slowShare ?? 0.01;
  const cutIntervalMs = options.cutIntervalMs ?? 25;
  let current = max;
  let seen = 0;
  let slow = 0;
  let cutInWindow = false;
  let lastCutAt = 0;
  // No delivery in the last whole window nor since: starts may use the maximum.
  let idle = true;
  const effective = () => (idle ? max : current);
  const timer = setInterval(() => {
    const previous = effective();
    // A window that already cut the limit does not also grow it (nor cut it again at its end).
    if (!cutInWindow) current = nextStartLimit(current, max, { seen, slow }, slowShare);
    idle = seen === 0;
    seen = 0;
    slow = 0;
    cutInWindow = false;
    if (effective() > previous) options.onRaise?.();
  }, options.windowMs ?? 250);
  timer.unref();
  return {
    observe(ms) {
      idle = false;
      seen++;
      if (ms <= options.ackTargetMs) return;
      slow++;
      const now = Date.now();
      if (current > 0 && now - lastCutAt >= cutIntervalMs && isPressed({ seen, slow }, slowShare)) {
        current = Math.floor(current / 2);
        lastCutAt = now;
        cutInWindow = true;
      }
    },
    limit: effective,
    stop() {
      clearInterval(timer);
      idle = false;
      current = max;
    },
  };
}
