import { getHeapStatistics } from 'node:v8';

/**
 * How many activities (and local activities) one worker runs at once, sized so that all of them
 * holding the largest event the receiver accepts still fit in half of the V8 heap. Each one may
 * hold the raw body (a JS string, up to two bytes per character), its parsed object and the
 * documents written from it: about 8 × the body's bytes. With Node's default heap (~4 GiB here)
 * this is the SDK's own default of 100; with a capped heap (the production image's
 * `--max-old-space-size=160`, Dockerfile) it is 10, so a burst of large events slows the worker
 * down instead of running it out of heap — the worker's counterpart of the receiver's body budget.
 */
export const HEAP_BYTES_PER_BODY_BYTE = 8;
export const MIN_ACTIVITY_SLOTS = 4;
export const MAX_ACTIVITY_SLOTS = 100;

export function activitySlots(
  bodyLimitBytes: number,
  heapLimitBytes: number = getHeapStatistics().heap_size_limit,
): number {
  const fit = Math.floor(heapLimitBytes / 2 / (bodyLimitBytes * HEAP_BYTES_PER_BODY_BYTE));
  return Math.min(MAX_ACTIVITY_SLOTS, Math.max(MIN_ACTIVITY_SLOTS, fit));
}
