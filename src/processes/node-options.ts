/**
 * The memory settings hookflow's production processes run with — V8 heap caps and the allocator's
 * arena count: the production image (Dockerfile
 * `ENV NODE_OPTIONS`, the worker's — the larger — for both), docker-compose.yml (each service its
 * own), the production-shape stack (`npm run stack:prod`, src/stack/hookflow-processes.ts) and the
 * benchmark. test/compose-file.test.ts keeps the deployment files in step with this one.
 *
 * Why cap at all: with Node's default limit (~4 GiB on a 24 GiB host) V8 collects lazily and the
 * processes sat at 330–470 MiB resident doing work that fits in a fraction of that. Why it is
 * safe: the receiver bounds the webhook bytes it holds at once (WEBHOOK_INFLIGHT_BYTES, 16 MiB;
 * body-budget.ts) and the worker sizes its concurrent activities to its heap
 * (src/worker/activity-slots.ts), so a burst of large events waits instead of exhausting the heap.
 * `--max-semi-space-size=4` keeps the young generation small (V8 grows it to 16 MiB per semi-space
 * under allocation pressure, about 48 MiB resident in all).
 */
export const PRODUCTION_NODE_OPTIONS = {
  receiver: '--max-old-space-size=128 --max-semi-space-size=4',
  worker: '--max-old-space-size=160 --max-semi-space-size=4',
} as const;

/**
 * glibc's malloc gives each thread that allocates its own arena (up to 8 per core), and memory
 * freed in one arena is not reused by another: under load the receiver's threads (main, libuv
 * pool, V8's helpers) left 10–15 MiB resident in half-empty arenas. Two arenas: 148 MiB peak in the
 * benchmark's acknowledgement phase where the same runs without peaked at 157–162 MiB
 * (bench/results/ack-only-start-pacer-malloc-arena-2-20261127T105101Z.md and the two before it). Set in the Dockerfile too (`ENV MALLOC_ARENA_MAX`).
 */
export const PRODUCTION_MALLOC_ARENA_MAX = '2';

/** Environment of a production receiver or worker process: heap caps and arena count. */
export function productionProcessEnv(role: keyof typeof PRODUCTION_NODE_OPTIONS): Record<string, string> {
  return { NODE_OPTIONS: PRODUCTION_NODE_OPTIONS[role], MALLOC_ARENA_MAX: PRODUCTION_MALLOC_ARENA_MAX };
}
