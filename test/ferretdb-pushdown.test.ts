import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mongoose, { type Connection } from 'mongoose';
import { ensureStoreIndexes, openStores, type Stores } from '../src/stores';
import { isListKey, listKey } from '../src/stores/event-models';
import { decodeCursor, encodeCursor } from '../src/support/event-queries';
import { FERRETDB_BIN } from '../src/stack/local-stack';
import { freePort, isListening } from '../src/stack/ports';
import { testStack } from './setup/global-stack';
import { uniqueId } from './helpers/stripe-events';

const { Binary, BSONRegExp, MongoClient, ObjectId } = mongoose.mongo;
type Db = mongoose.mongo.Db;
type Document = mongoose.mongo.Document;
type FindOptions = mongoose.mongo.FindOptions;
type MongoClient = mongoose.mongo.MongoClient;

/**
 * scripts/ferretdb-pushdown.patch pushes a `find`'s string equalities/ranges, sort and limit down to
 * SQLite, only on the fields of indexes named `…__pushdown` and only for operands of safe
 * characters (see internal/backends/sqlite/pushdown.go in the patch). Everything else must behave
 * as upstream FerretDB. Each case runs the same query on a collection with the index and on an
 * unindexed "oracle" collection (no index: nothing can be pushed down, i.e. upstream behaviour)
 * and requires equal results; the review's failing cases (/tmp/review-pushdown) are among them.
 */
describe('FerretDB pushdown patch: results equal an unindexed oracle', () => {
  let connection: Connection;
  let db: Db;
  let stores: Stores;
  const finds: Document[] = [];

  before(async () => {
    connection = mongoose.createConnection(testStack().stack.mongoUrl(`hookflow_pushdown_${uniqueId('db')}`), {
      autoIndex: false,
      monitorCommands: true,
      retryWrites: false,
    });
    await connection.asPromise();
    db = connection.db!;
    stores = openStores(connection).stores;
    await ensureStoreIndexes(connection);
    connection.getClient().on('commandStarted', (event) => {
      if (event.commandName === 'find') finds.push(event.command as Document);
    });
  });
  after(async () => {
    await connection.dropDatabase();
    await connection.close();
  });

  let seq = 0;
  /** Fresh indexed + oracle collections holding `docs`. */
  async function pair(docs: Document[], indexes: Array<{ key: Document; name: string }>) {
    seq += 1;
    const indexed = db.collection(`pd_indexed_${seq}`);
    const oracle = db.collection(`pd_oracle_${seq}`);
    await indexed.createIndexes(indexes);
    await indexed.insertMany(docs.map((doc) => ({ ...doc })));
    await oracle.insertMany(docs.map((doc) => ({ ...doc })));
    return { indexed, oracle };
  }
  const PUSHED = [{ key: { f: 1 }, name: 'f__pushdown' }];
  const PLAIN = [{ key: { f: 1 }, name: 'f_1' }];

  async function sameFind(
    docs: Document[],
    indexes: Array<{ key: Document; name: string }>,
    filter: Document,
    options: FindOptions = {},
  ): Promise<Document[]> {
    const { indexed, oracle } = await pair(docs, indexes);
    const expected = await oracle.find(filter, options).toArray();
    const actual = await indexed.find(filter, options).toArray();
    assert.deepEqual(actual, expected, `find ${JSON.stringify(filter)} ${JSON.stringify(options)}`);
    assert.deepEqual(await indexed.countDocuments(filter), await oracle.countDocuments(filter));
    return actual;
  }

  async function explainFind(collection: string, filter: Document, sort: Document, limit: number) {
    return (await db.command({ explain: { find: collection, filter, sort, limit }, verbosity: 'queryPlanner' })) as {
      queryPlanner: unknown;
      filterPushdown: boolean;
      sortPushdown: boolean;
      limitPushdown: boolean;
    };
  }

  describe('the support list through EventStore.listEvents', () => {
    const T0 = Date.parse('2026-11-27T00:00:00.000Z');
    const offsets = [-2000, -1000, 0, 0, 1000, 2000];
    const tenantId = `t_${uniqueId('pd')}`;
    const ids = offsets.map((_, i) => `evt_${i}`);

    before(async () => {
      const docs = offsets.map((offset, i) => {
        const receivedAt = new Date(T0 + offset);
        return {
          _id: `${tenantId}:${ids[i]}`,
          tenantId,
          eventId: ids[i],
          type: 'invoice.paid',
          resource: 'invoice',
          objectId: `in_${i}`,
          customerId: 'cus_1',
          account: i % 3 === 0 ? 'acct_1' : null,
          livemode: false,
          eventCreated: Math.floor((T0 + offset) / 1000),
          rawBody: '{}',
          status: i % 2 === 0 ? 'processed' : 'failed',
          workflowId: `wf_${i}`,
          receivedAt,
          listKey: listKey(receivedAt, ids[i]!),
          reruns: 0,
        };
      });
      await db.collection('stripe_events').insertMany(docs as never[]);
      await db.collection('stripe_events_oracle').insertMany(docs as never[]);
    });

    /** listEvents' rows, checked against the same captured query on the unindexed oracle. */
    async function list(filter: Record<string, unknown>, limit: number): Promise<string[]> {
      finds.length = 0;
      const rows = await stores.events.listEvents({ tenantId, ...filter }, limit);
      const find = finds.find((command) => command.find === 'stripe_events')!;
      const oracle = await db
        .collection('stripe_events_oracle')
        .find(find.filter as Document, { sort: find.sort as Document, limit: find.limit as number })
        .toArray();
      const got = rows.map((row) => row.eventId);
      assert.deepEqual(
        got,
        oracle.map((doc) => doc.eventId),
        `listEvents ${JSON.stringify(filter)} limit ${limit}`,
      );
      return got;
    }

    it('keeps events exactly at since and until (bound = their receive time)', async () => {
      assert.deepEqual(await list({ since: new Date(T0) }, 10), ['evt_5', 'evt_4', 'evt_3', 'evt_2']);
      assert.deepEqual(await list({ until: new Date(T0 + 1000) }, 3), ['evt_3', 'evt_2', 'evt_1']);
      assert.deepEqual(await list({ status: 'failed', until: new Date(T0) }, 2), ['evt_1']);
      assert.deepEqual(await list({ status: 'processed', until: new Date(T0 + 1) }, 2), ['evt_2', 'evt_0']);
      assert.deepEqual(await list({ since: new Date(T0), until: new Date(T0 + 1) }, 10), ['evt_3', 'evt_2']);
    });

    it('lists one connected account (account null on the platform events), alone and with since', async () => {
      assert.deepEqual(await list({ account: 'acct_1' }, 10), ['evt_3', 'evt_0']);
      assert.deepEqual(await list({ account: 'acct_1', since: new Date(T0) }, 10), ['evt_3']);
      assert.deepEqual(await list({ account: 'acct_2' }, 10), []);
    });

    it('pages through every event with cursors, none lost at page edges', async () => {
      for (const pageSize of [1, 2, 3]) {
        const seen: string[] = [];
        let before: string | undefined;
        for (;;) {
          const rows = await stores.events.listEvents({ tenantId, ...(before ? { before } : {}) }, pageSize);
          seen.push(...rows.map((row) => row.eventId));
          if (rows.length < pageSize) break;
          before = rows.at(-1)!.listKey;
        }
        assert.deepEqual(seen, ['evt_5', 'evt_4', 'evt_3', 'evt_2', 'evt_1', 'evt_0'], `pages of ${pageSize}`);
      }
    });

    it('still serves the list from a __pushdown index with sort and limit pushed down', async () => {
      finds.length = 0;
      await stores.events.listEvents({ tenantId, status: 'failed', since: new Date(T0 - 5000) }, 50);
      const find = finds.find((command) => command.find === 'stripe_events')!;
      const explained = await explainFind('stripe_events', find.filter, find.sort, find.limit);
      const plan = JSON.stringify(explained.queryPlanner);
      assert.match(plan, /USING INDEX \S+__pushdown/, plan);
      assert.doesNotMatch(plan, /detail=SCAN /, plan);
      assert.deepEqual([explained.filterPushdown, explained.sortPushdown, explained.limitPushdown], [true, true, true]);
    });

    for (const [filter, index] of [
      [{}, 'list_tenant'],
      [{ status: 'failed' }, 'list_status'],
      [{ type: 'invoice.paid' }, 'list_type'],
      [{ objectId: 'in_1' }, 'list_object'],
      [{ customerId: 'cus_1', until: new Date(T0) }, 'list_customer'],
      [{ account: 'acct_1' }, 'list_account'],
      // (A `charge.*` wildcard is a second range: SQLite then walks list_tenant__pushdown in list
      // order and checks the type range on each index entry, in SQL — no document decoded in Go.)
    ] as const) {
      it(`searches ${index}__pushdown for ${JSON.stringify(filter)}`, async () => {
        finds.length = 0;
        await stores.events.listEvents({ tenantId, ...filter }, 50);
        const find = finds.find((command) => command.find === 'stripe_events')!;
        const explained = await explainFind('stripe_events', find.filter, find.sort, find.limit);
        assert.match(JSON.stringify(explained.queryPlanner), new RegExp(`USING INDEX \\S+_${index}__pushdown `));
      });
    }

    it('list keys are safe strings: `|` separator, unsafe id characters escaped', () => {
      const at = new Date(T0);
      assert.equal(listKey(at, 'evt_1'), '2026-11-27T00:00:00.000Z|evt_1');
      assert.ok(listKey(at, 'evt_1') > at.toISOString());
      const odd = listKey(at, 'a b"<\\é%');
      assert.match(odd, /^[\x23-\x7e]+$/);
      assert.doesNotMatch(odd, /[\\<>&]/);
      assert.notEqual(listKey(at, 'a%20b'), listKey(at, 'a b'));
      assert.ok(isListKey(odd));
    });

    it('cursors must be list keys: any other bound would not be served by the index', () => {
      const key = listKey(new Date(T0), 'evt_1');
      assert.equal(decodeCursor(encodeCursor(key)), key);
      for (const bad of ['2026-11-27T00:00:00.000Z evt_1', '2026-11-27T00:00:00.000Z|a b', 'x', '']) {
        assert.throws(() => decodeCursor(encodeCursor(bad)), /cursor is not one this API returned/, bad);
      }
    });
  });

  describe('strings (review cases 2, 3)', () => {
    const spaced = [
      { _id: 1, f: 'a' },
      { _id: 2, f: 'a b' },
      { _id: 3, f: 'a!' },
      { _id: 4, f: 'ab' },
    ];
    const escaped = [
      { _id: 1, f: 'a<b' },
      { _id: 2, f: 'a"b' },
      { _id: 3, f: 'a&b' },
      { _id: 4, f: 'a\nb' },
      { _id: 5, f: 'a\\b' },
      { _id: 6, f: 'a[' },
    ];
    it("space, '!' and JSON-escaped characters on a plain index (never pushed down)", async () => {
      await sameFind(spaced, PLAIN, { f: { $gt: 'a' } });
      await sameFind(spaced, PLAIN, { f: { $gt: '' } }, { sort: { f: -1 }, limit: 2 });
      await sameFind(spaced, PLAIN, { f: 'a b' }, { sort: { f: 1 }, limit: 1 });
      await sameFind(spaced, PLAIN, { f: { $gte: 'a ' } }, { sort: { f: 1 }, limit: 2 });
      await sameFind(escaped, PLAIN, { f: { $lt: 'a[' } });
      await sameFind(escaped, PLAIN, { f: { $gte: 'a' } }, { sort: { f: 1 }, limit: 1 });
      await sameFind(escaped, PLAIN, { f: 'a<b' }, { sort: { f: 1 }, limit: 1 });
      const lineSeparators = [
        { _id: 1, f: '\u2028' },
        { _id: 2, f: '\u2030' },
      ];
      await sameFind(lineSeparators, PLAIN, { f: { $gt: '\u2027' } }, { sort: { f: 1 }, limit: 1 });
    });

    // Stored values with these characters break a `__pushdown` index's contract (a safe operand
    // may then miss them, which is why hookflow never stores them there); an unsafe operand is
    // never pushed down, so it is answered as upstream answers it whatever is stored.
    it('unsafe operands on a __pushdown index are not pushed down', async () => {
      await sameFind(spaced, PUSHED, { f: 'a b' }, { sort: { f: 1 }, limit: 1 });
      await sameFind(spaced, PUSHED, { f: { $gte: 'a ' } }, { sort: { f: 1 }, limit: 2 });
      await sameFind(spaced, PUSHED, { f: { $gt: 'a!' } }, { sort: { f: -1 }, limit: 1 });
      await sameFind(escaped, PUSHED, { f: 'a<b' }, { sort: { f: 1 }, limit: 1 });
      await sameFind(escaped, PUSHED, { f: { $gt: 'a"' } }, { sort: { f: 1 }, limit: 2 });
      await sameFind(escaped, PUSHED, { f: { $lt: 'a\\c', $gt: 'a&' } }, { sort: { f: -1 }, limit: 3 });
      await sameFind(
        [
          { _id: 1, f: 'é' },
          { _id: 2, f: 'z' },
          { _id: 3, f: 'a' },
        ],
        PUSHED,
        { f: { $gte: 'é' } },
        { sort: { f: 1 }, limit: 1 },
      );
    });

    it('safe strings on a __pushdown index: equal results, and pushed down', async () => {
      const docs = ['a', 'a#', 'a-b', 'ab', 'b', 'a|x', '2026-01-01T00:00:00.000Z|evt_1', '2026-01-01T00:00:00.000Z']
        .map((f, i) => ({ _id: i, f }))
        .concat([{ _id: 100, f: null as never }, { _id: 101 } as never]);
      await sameFind(docs, PUSHED, { f: { $gt: 'a' } }, { sort: { f: 1 } });
      await sameFind(docs, PUSHED, { f: { $gte: 'a', $lt: 'b' } }, { sort: { f: -1 }, limit: 2 });
      await sameFind(docs, PUSHED, { f: { $gte: '2026-01-01T00:00:00.000Z' } }, { sort: { f: -1 }, limit: 5 });
      await sameFind(docs, PUSHED, { f: { $lt: '2026-01-01T00:00:00.001Z' } }, { sort: { f: -1 }, limit: 1 });
      await sameFind(docs, PUSHED, { f: 'a#' }, { sort: { f: 1 }, limit: 1 });
      await sameFind(docs, PUSHED, { f: { $gt: '' } }, { sort: { f: 1 }, limit: 3 });
      const explained = await explainFind(`pd_indexed_${seq}`, { f: { $gt: '' } }, { f: 1 }, 3);
      assert.match(JSON.stringify(explained.queryPlanner), /USING INDEX pd_indexed_\S+_f__pushdown/);
      assert.deepEqual([explained.filterPushdown, explained.sortPushdown, explained.limitPushdown], [true, true, true]);
      const unsafe = await explainFind(`pd_indexed_${seq}`, { f: { $gt: 'a b' } }, { f: 1 }, 3);
      assert.deepEqual([unsafe.filterPushdown, unsafe.sortPushdown, unsafe.limitPushdown], [false, false, false]);
    });
  });

  describe('types, arrays, _id (review cases 4, 5, 6, 9)', () => {
    it('ObjectId, Binary and Regex values beside strings, with range + sort + limit', async () => {
      for (const odd of [
        new ObjectId('000000000000000000000001'),
        new Binary(Buffer.from('hi')),
        new BSONRegExp('abc'),
      ]) {
        const docs = [
          { _id: 1, f: odd },
          { _id: 2, f: 'zzz' },
          { _id: 3, f: 'abc' },
        ];
        await sameFind(docs, PLAIN, { f: { $gte: '' } }, { sort: { f: 1 }, limit: 1 });
        await sameFind(docs, PLAIN, { f: 'abc' }, { sort: { f: 1 }, limit: 1 });
      }
    });

    it('arrays: equality and ranges match array members', async () => {
      const docs = [
        { _id: 1, f: ['x', 'y'] },
        { _id: 2, f: 'x' },
        { _id: 3, f: [true] },
      ];
      await sameFind(docs, PLAIN, { f: 'x' });
      await sameFind(docs, PLAIN, { f: { $eq: 'y' } });
      await sameFind(docs, PLAIN, { f: { $gt: 'w' } }, { sort: { f: 1 }, limit: 2 });
      await sameFind(docs, PLAIN, { f: true });
    });

    it('a second index key ({t, f}) and _id ranges in any collection', async () => {
      const docs = ['a', 'a b', 'a!', 'a<', 'b']
        .map((f, i) => ({ _id: f, t: 'x', f, n: i }))
        .concat([{ _id: 5 as never, t: 'x', f: 'c', n: 5 }]);
      const both = [{ key: { t: 1, f: 1 }, name: 't_f' }];
      await sameFind(docs, both, { t: 'x', f: { $gt: 'a' } }, { sort: { f: 1 }, limit: 2 });
      await sameFind(docs, both, { _id: { $gte: 'a' } }, { sort: { _id: 1 }, limit: 2 });
      await sameFind(docs, both, { _id: { $gt: 'a' } });
      await sameFind(docs, PUSHED, { _id: { $gte: 'a' } }, { sort: { _id: 1 }, limit: 2 });
      await sameFind(docs, PUSHED, { _id: 'a b' });
    });

    it('a field named like a SQLite path is not pushed down', async () => {
      const docs = [
        { _id: 1, '[0]': 'x' },
        { _id: 2, '[0]': 'y' },
      ];
      const { indexed, oracle } = await pair(docs, [{ key: { '[0]': 1 }, name: 'weird__pushdown' }]);
      assert.deepEqual(await indexed.find({ '[0]': 'x' }).toArray(), await oracle.find({ '[0]': 'x' }).toArray());
    });
  });

  describe('writes never use the pushdown (review case 7)', () => {
    // Arrays in a `__pushdown` field break the index's contract (a find may then miss them), but
    // writes must still behave as upstream: they never take the pushdown path.
    const docs = () => [
      { _id: 1, f: ['x', 'y'] },
      { _id: 2, f: 'a b' },
      { _id: 3, f: 'b' },
    ];
    for (const [name, indexes] of [
      ['a __pushdown index', PUSHED],
      ['a plain index', PLAIN],
    ] as const) {
      it(`updateMany, updateOne, upserts, findOneAndUpdate and deleteMany on ${name}`, async () => {
        const { indexed, oracle } = await pair(docs(), indexes);
        const both = async <T>(run: (c: typeof indexed) => Promise<T>) => {
          const [a, b] = [await run(indexed), await run(oracle)];
          assert.deepEqual(a, b);
          assert.deepEqual(
            await indexed.find().sort({ _id: 1 }).toArray(),
            await oracle.find().sort({ _id: 1 }).toArray(),
          );
        };
        const counts = (r: { matchedCount: number; modifiedCount: number; upsertedCount: number }) => [
          r.matchedCount,
          r.modifiedCount,
          r.upsertedCount,
        ];
        await both(async (c) => counts(await c.updateMany({ f: 'x' }, { $set: { g: 1 } })));
        await both(async (c) => counts(await c.updateOne({ f: { $gt: 'a' } }, { $set: { h: 1 } })));
        await both(async (c) => counts(await c.updateOne({ f: 'y' }, { $set: { u: 1 } }, { upsert: true })));
        await both(async (c) => counts(await c.updateOne({ f: 'b' }, { $set: { u: 2 } }, { upsert: true })));
        await both(async (c) => (await c.findOneAndUpdate({ f: 'x' }, { $set: { v: 1 } }, { upsert: true }))?._id);
        await both(async (c) => (await c.deleteMany({ f: { $gte: 'a' } })).deletedCount);
      });
    }
  });

  it('a database built before the __pushdown names gets the renamed indexes and `|` list keys', async () => {
    const old = mongoose.createConnection(testStack().stack.mongoUrl(`hookflow_pd_old_${uniqueId('db')}`), {
      autoIndex: false,
      retryWrites: false,
    });
    await old.asPromise();
    try {
      const events = old.db!.collection('stripe_events');
      await events.createIndexes([{ key: { tenantId: 1, listKey: -1 }, name: 'tenantId_1_listKey_-1' }]);
      await events.insertMany([
        { _id: 't:evt_a' as never, tenantId: 't', listKey: '2026-11-27T00:00:00.000Z evt_a' },
        { _id: 't:evt_b' as never, tenantId: 't', listKey: '2026-11-27T00:00:01.000Z|evt_b' },
      ]);
      openStores(old);
      await ensureStoreIndexes(old);
      const names = (await events.indexes()).map((index) => index.name);
      assert.ok(names.includes('list_tenant__pushdown'), names.join());
      assert.ok(!names.includes('tenantId_1_listKey_-1'), names.join());
      const keys = (await events.find({}, { sort: { _id: 1 } }).toArray()).map((doc) => doc.listKey);
      assert.deepEqual(keys, ['2026-11-27T00:00:00.000Z|evt_a', '2026-11-27T00:00:01.000Z|evt_b']);
      await ensureStoreIndexes(old); // idempotent
    } finally {
      await old.dropDatabase();
      await old.close();
    }
  });

  describe('--test-disable-pushdown', () => {
    let child: ChildProcess | undefined;
    let client: InstanceType<typeof MongoClient> | undefined;
    const dir = mkdtempSync(join(tmpdir(), 'hookflow-pd-'));
    after(async () => {
      await client?.close();
      child?.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    });

    it('turns the __pushdown index pushdown off for find', async function () {
      this.timeout(30_000);
      const port = await freePort();
      child = spawn(
        FERRETDB_BIN,
        [
          '--handler=sqlite',
          `--sqlite-url=file:${dir}/`,
          `--listen-addr=127.0.0.1:${port}`,
          `--state-dir=${dir}`,
          '--debug-addr=-',
          '--telemetry=disable',
          '--log-level=warn',
          '--test-disable-pushdown',
        ],
        { stdio: 'ignore', env: { ...process.env, DO_NOT_TRACK: '1' } },
      );
      const deadline = Date.now() + 20_000;
      while (!(await isListening(port))) {
        assert.ok(Date.now() < deadline, 'FerretDB with --test-disable-pushdown did not start');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      client = await new MongoClient(`mongodb://127.0.0.1:${port}/`, { directConnection: true }).connect();
      const off = client.db('pd');
      await off.collection('c').createIndexes(PUSHED);
      await off.collection('c').insertMany([{ f: 'a' }, { f: 'b' }]);
      const explained = await off.command({
        explain: { find: 'c', filter: { f: { $gt: 'a' } }, sort: { f: 1 }, limit: 1 },
        verbosity: 'queryPlanner',
      });
      assert.deepEqual(
        [explained.filterPushdown, explained.sortPushdown, explained.limitPushdown],
        [false, false, false],
      );
      assert.deepEqual(
        (
          await off
            .collection('c')
            .find({ f: { $gt: 'a' } })
            .toArray()
        ).map((d) => d.f),
        ['b'],
      );
    });
  });
});
