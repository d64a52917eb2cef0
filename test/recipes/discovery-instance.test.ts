// The discovery recipe's pure data layer: decoding stored values (foreign values are not
// instances) and the watched instance set kept from events.
import t from 'tap';
import type { KvEvent } from '../../core/api/types.js';
import { decodeRecord, encodeRecord, InstanceSet, instanceOfNode } from '../../recipes/discovery/instance.js';

const DIR = '/cairn/services/web';
const record = { instance: 'a1', endpoint: 'a1:80', meta: { z: '1' }, status: 'passing' as const, ttl: 5 };
const set = (key: string, index: number, value = encodeRecord(record)): KvEvent =>
  ({ action: 'set', node: { key, value, createdIndex: index, modifiedIndex: index }, index });
const removal = (action: 'delete' | 'expire', key: string, index: number, dir = false): KvEvent =>
  ({ action, node: { key, createdIndex: 1, modifiedIndex: index, ...(dir ? { dir: true as const } : {}) }, index });

t.test('decodeRecord accepts its own encoding and refuses foreign values', async (t) => {
  t.same(decodeRecord(encodeRecord(record)), record);
  for (const bad of [undefined, '', 'x', '[]', 'null', '{"instance":"a","endpoint":"e","status":"down"}',
    '{"instance":"a","endpoint":"e","status":"passing","meta":{"n":1}}']) {
    t.equal(decodeRecord(bad), undefined, String(bad));
  }
  t.equal(decodeRecord('{"instance":"a","endpoint":"e","status":"passing"}')?.ttl, 10, 'a value without ttl renews by the default');
});

t.test('the key, not the value, names the instance', async (t) => {
  t.equal(instanceOfNode({ key: `${DIR}/b2`, value: encodeRecord(record), createdIndex: 7, modifiedIndex: 9 })?.instance, 'b2');
  t.equal(instanceOfNode({ key: `${DIR}/d`, dir: true, createdIndex: 7, modifiedIndex: 9 }), undefined);
});

t.test('InstanceSet follows sets, deletions and expiries of direct children only', async (t) => {
  const s = new InstanceSet(DIR);
  t.equal(s.apply(set(`${DIR}/a1`, 2)), true);
  t.equal(s.apply(set(`${DIR}/b2`, 3)), true);
  t.equal(s.apply(set(`${DIR}/b2/deeper`, 4)), false, 'a key below an instance is not one');
  t.equal(s.apply(set('/cairn/services/webx/a1', 5)), false, 'a sibling service with a common prefix');
  t.same(s.list().map((i) => [i.instance, i.registeredIndex]), [['a1', 2], ['b2', 3]]);
  t.equal(s.apply(removal('expire', `${DIR}/a1`, 6)), true);
  t.equal(s.apply(removal('delete', `${DIR}/zz`, 7)), false, 'removing what it never had changes nothing');
  t.equal(s.apply(set(`${DIR}/b2`, 8, 'junk')), true, 'overwritten with a foreign value: no longer an instance');
  t.same(s.list(), []);
});

t.test('InstanceSet empties when its directory or one above it goes', async (t) => {
  for (const key of [DIR, '/cairn/services', '/cairn']) {
    const s = new InstanceSet(DIR, [{ instance: 'a1', endpoint: 'a1:80', meta: {}, status: 'passing', registeredIndex: 2 }]);
    t.equal(s.apply(removal('delete', key, 9, true)), true, key);
    t.same(s.list(), []);
    t.equal(s.apply(removal('delete', key, 10, true)), false, 'already empty: no new list');
  }
});
