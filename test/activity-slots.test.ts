import assert from 'node:assert/strict';
import { getHeapStatistics } from 'node:v8';
import { activitySlots, MAX_ACTIVITY_SLOTS, MIN_ACTIVITY_SLOTS } from '../src/worker/activity-slots';

const MiB = 1024 * 1024;

describe('worker activity slots', () => {
  it("keep the SDK's 100 with Node's default heap and shrink under the production cap", () => {
    // Node's default limit on a large host (~4 GiB): every slot fits.
    assert.equal(activitySlots(1 * MiB, 4096 * MiB), MAX_ACTIVITY_SLOTS);
    // --max-old-space-size=160 --max-semi-space-size=4 gives a heap_size_limit of about 172 MiB:
    // 10 activities holding 1 MiB events each (8 MiB of heap apiece) use half of it.
    assert.equal(activitySlots(1 * MiB, 172 * MiB), 10);
    // A smaller body limit lets more run at once; a huge one never goes below the floor.
    assert.equal(activitySlots(256 * 1024, 172 * MiB), 43);
    assert.equal(activitySlots(64 * MiB, 172 * MiB), MIN_ACTIVITY_SLOTS);
  });

  it("read this process's own heap limit by default", () => {
    const expected = activitySlots(1 * MiB, getHeapStatistics().heap_size_limit);
    assert.equal(activitySlots(1 * MiB), expected);
  });
});
