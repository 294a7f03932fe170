#!/usr/bin/env node
// Runs ONNX models in ONNX Runtime (onnxruntime-node, pinned in
// tools/package.json and installed by scripts/install-deps) and prints their
// outputs as JSON: the judge of bnmlp's ONNX exports.
//
//   node tests/interchange/run_onnx.js INPUTS.json MODEL.onnx [MODEL.onnx ...]
//
// INPUTS.json: {"x": [[f, f, ...], ...]}, one row per sample. Each model
// gets the rows as its one float32 input [N, features]. Prints
// {"MODEL.onnx": [[...], ...], ...}: each model's one output, row by row.
// Exits 1 with a message on stderr if anything fails (no package, a model
// ONNX Runtime refuses, inputs of the wrong width).
'use strict';
const fs = require('fs');
const path = require('path');

const ortPath = path.join(__dirname, '..', '..', 'tools', 'node_modules',
                          'onnxruntime-node');

function fail(message) {
  process.stderr.write(`run_onnx.js: ${message}\n`);
  process.exit(1);
}

function loadOrt() {
  try {
    return require(ortPath);
  } catch (e) {
    fail(`cannot load onnxruntime-node from ${ortPath} (${e.message}); ` +
         'run scripts/install-deps, which installs the pinned npm tools');
  }
}

function readRows(file) {
  const rows = JSON.parse(fs.readFileSync(file, 'utf8')).x;
  if (!Array.isArray(rows) || rows.length === 0 || !Array.isArray(rows[0])) {
    fail(`${file}: expected {"x": [[...], ...]} with at least one row`);
  }
  const width = rows[0].length;
  const values = new Float32Array(rows.length * width);
  rows.forEach((row, i) => {
    if (row.length !== width) fail(`${file}: row ${i} has ${row.length} values, row 0 has ${width}`);
    values.set(row, i * width);
  });
  return {values, dims: [rows.length, width]};
}

async function run(ort, modelFile, inputs) {
  const session = await ort.InferenceSession.create(modelFile);
  if (session.inputNames.length !== 1 || session.outputNames.length !== 1) {
    fail(`${modelFile}: expected one input and one output, got ` +
         `${session.inputNames.length} and ${session.outputNames.length}`);
  }
  const feeds = {};
  feeds[session.inputNames[0]] =
      new ort.Tensor('float32', inputs.values, inputs.dims);
  const result = await session.run(feeds);
  const output = result[session.outputNames[0]];
  const [n, width] = output.dims;
  const rows = [];
  for (let i = 0; i < n; ++i) {
    rows.push(Array.from(output.data.subarray(i * width, (i + 1) * width)));
  }
  return rows;
}

async function main() {
  const args = process.argv.slice(2);
  if (args.length < 2) fail('usage: run_onnx.js INPUTS.json MODEL.onnx [MODEL.onnx ...]');
  const ort = loadOrt();
  const inputs = readRows(args[0]);
  const outputs = {};
  for (const modelFile of args.slice(1)) {
    try {
      outputs[modelFile] = await run(ort, modelFile, inputs);
    } catch (e) {
      fail(`${modelFile}: ${e.message}`);
    }
  }
  process.stdout.write(JSON.stringify(outputs) + '\n');
}

main();
