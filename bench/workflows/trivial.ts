/**
 * The Temporal ceiling's workflow: no activity, no timer, no search attribute — one workflow task
 * and completion. Whatever hookflow's workflow does costs more than this on the same server.
 */
export async function trivialWorkflow(sequence: number): Promise<number> {
  return sequence + 1;
}
