// Unit tests of the pages' CSV parser and column mapping (node --test).
import test from 'node:test';
import assert from 'node:assert/strict';
import { csvToRecords, parseCsv, textToRecords } from '../../functions/web/assets/js/csv.js';

test('quotes, escaped quotes, commas and line breaks inside quotes', () => {
  const { rows } = parseCsv('a,b\r\n"x,1","say ""hi""\nagain"\r\n');
  assert.deepEqual(rows, [{ line: 1, cells: ['a', 'b'] }, { line: 2, cells: ['x,1', 'say "hi"\nagain'] }]);
});

test('a row is numbered by the line it starts on, blank lines skipped', () => {
  const { rows } = parseCsv('h\n"one\ntwo"\n\nthree');
  assert.deepEqual(rows.map((r) => r.line), [1, 2, 5]);
});

test('leading BOM is dropped and empty quoted fields kept', () => {
  const { rows } = parseCsv('\uFEFF名称,备注\n甲,""\n');
  assert.deepEqual(rows[0].cells, ['名称', '备注']);
  assert.deepEqual(rows[1].cells, ['甲', '']);
});

test('an unterminated quote is an error naming its line', () => {
  assert.equal(parseCsv('a\n"open,b\nc').line, 2);
});

test('Chinese 双公示 columns map to API fields with defaults', () => {
  const csv = '行政相对人名称,统一社会信用代码,处罚类别,罚款金额(万元),处罚决定日期,程序\n甲公司,91350200776049653A,警告；罚款;没收违法所得,1.50,2025/3/5,简易程序\n';
  const { items, ignored } = csvToRecords(csv, { domain: 'tax', kind: 'penalty' });
  assert.deepEqual(ignored, []);
  assert.deepEqual(items, [{ line: 2, record: { entity_name: '甲公司', uscc: '91350200776049653A',
    penalty_categories: ['警告', '罚款', '没收违法所得'], fine_wan_yuan: '1.50', decided_on: '2025-03-05',
    procedure: 'simplified', domain: 'tax', kind: 'penalty' } }]);
});

test('domain and kind columns override the defaults; unknown columns are reported', () => {
  const { items, ignored } = csvToRecords('领域,类型,文书号,颜色\nmarket,经营异常名录,X1,红\n', { domain: 'tax', kind: 'penalty' });
  assert.deepEqual(items[0].record, { domain: 'market', kind: 'abnormal_list', document_no: 'X1' });
  assert.deepEqual(ignored, ['颜色']);
});

test('penalties without a procedure column take the chosen procedure; lists and explicit ones do not', () => {
  const defaults = { domain: 'tax', kind: 'penalty', procedure: 'general' };
  const { items } = csvToRecords('文书号,类型,处罚程序\nA,,\nB,经营异常名录,\nC,,简易程序\n', defaults);
  assert.deepEqual(items.map((i) => i.record.procedure), ['general', undefined, 'simplified']);
  assert.equal(textToRecords('[{"document_no":"A"}]', defaults).items[0].record.procedure, 'general');
});

test('JSON arrays and NDJSON are recognised', () => {
  assert.equal(textToRecords('[{"document_no":"A"},{"document_no":"B"}]', { kind: 'penalty' }).items[1].record.kind, 'penalty');
  const nd = textToRecords('{"document_no":"A"}\n\n{"document_no":"B"}\n', {});
  assert.deepEqual(nd.items.map((i) => i.line), [1, 3]);
  assert.match(textToRecords('{"a":\n', {}).error, /第 1 行/);
});
