// Unit tests of the desk's batch formats: the CSV reading that shows rows beside the service's answers,
// the column lookup by the served table, JSON and NDJSON (node --test).
import test from 'node:test';
import assert from 'node:assert/strict';
import { columnIndex, csvRowsByLine, jsonToRecords, parseCsv, textFormat } from '../../functions/web/assets/js/csv.js';

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

// As the catalog serves it (record_fields), trimmed to what these tests need.
const RECORD_FIELDS = [{ kind: 'penalty', fields: [
  { name: 'entity_name', column: '行政相对人名称', aliases: ['名称'] },
  { name: 'document_no', column: '行政处罚决定书文号', aliases: ['文书号'] },
  { name: 'fine_wan_yuan', column: '罚款金额（万元）', aliases: [] },
] }];

test('columns are found by the service\'s column table: name, alias or field, brackets and spaces as the service compares', () => {
  assert.deepEqual(columnIndex(['名称', ' 罚款金额(万元) ', 'document_no', '颜色'], RECORD_FIELDS),
    { entity_name: 0, fine_wan_yuan: 1, document_no: 2 });
});

test('CSV rows are shown by the line they start on', () => {
  const rows = csvRowsByLine('文书号,名称\r\nA,"甲\n分部"\r\n\r\nB,乙\r\n', RECORD_FIELDS);
  assert.deepEqual([...rows.entries()], [[2, { document_no: 'A', entity_name: '甲\n分部' }], [5, { document_no: 'B', entity_name: '乙' }]]);
});

test('the format is told by the first character', () => {
  assert.deepEqual(['[{}]', '\uFEFF{"a":1}', '名称,文书号'].map(textFormat), ['json', 'ndjson', 'csv']);
});

test('JSON penalties without a procedure take the chosen procedure; lists and explicit ones do not', () => {
  const defaults = { domain: 'tax', kind: 'penalty', procedure: 'general' };
  const { items } = jsonToRecords('[{"document_no":"A"},{"kind":"abnormal_list"},{"procedure":"simplified"}]', defaults);
  assert.deepEqual(items.map((i) => i.record.procedure), ['general', undefined, 'simplified']);
});

test('JSON arrays and NDJSON are recognised', () => {
  assert.equal(jsonToRecords('[{"document_no":"A"},{"document_no":"B"}]', { kind: 'penalty' }).items[1].record.kind, 'penalty');
  const nd = jsonToRecords('{"document_no":"A"}\n\n{"document_no":"B"}\n', {});
  assert.deepEqual(nd.items.map((i) => i.line), [1, 3]);
  assert.match(jsonToRecords('{"a":\n', {}).error, /第 1 行/);
});

test('a large CSV goes out in batches, each with the header, answers mapped back to the file lines', async () => {
  const { csvBatches } = await import('../../functions/web/assets/js/csv.js');
  const text = '\uFEFF名称,备注\r\n甲,1\r\n\r\n"乙","two\nlines"\r\n丙,3\r\n丁,4';
  const { batches, rowCount } = csvBatches(text, { maxRows: 2, maxBytes: 1 << 20 });
  assert.equal(rowCount, 4);
  assert.deepEqual(batches.map((b) => b.body), ['名称,备注\n甲,1\n"乙","two\nlines"\n', '名称,备注\n丙,3\n丁,4\n']);
  assert.deepEqual([...batches[0].lines], [[2, 2], [3, 4]]);
  assert.deepEqual([...batches[1].lines], [[2, 6], [3, 7]]);
  // Each batch reads, by itself, as the rows it carries.
  assert.deepEqual(parseCsv(batches[0].body).rows.map((r) => r.line), [1, 2, 3]);
  assert.equal(csvBatches('a\n"open', { maxRows: 10, maxBytes: 100 }).line, 2);
  const bySize = csvBatches(`h\n${'x'.repeat(60)}\n${'y'.repeat(60)}\n`, { maxRows: 1000, maxBytes: 100 });
  assert.equal(bySize.batches.length, 2);
});
