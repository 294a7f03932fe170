#!/usr/bin/env node
// ONNX Runtime in process, the inference anchor of
// bench/compare_onnxruntime.sh: runs MODEL.onnx on random float32 batches,
// one call at a time (as bnmlp_predict_load --in_flight=1 does over
// loopback), and prints one line per batch size:
//   ort batch=B threads=T calls/s=C samples/s=S p50_us=P
//
//   node bench/ort_predict.js MODEL.onnx SECONDS THREADS BATCH [BATCH ...]
'use strict';
const path = require('path');
const ort = require(path.join(__dirname, '..', 'tools', 'node_modules',
                              'onnxruntime-node'));

async function measure(session, features, batch, seconds) {
  const values = new Float32Array(batch * features);
  for (let i = 0; i < values.length; ++i) values[i] = Math.random();
  const feeds = {[session.inputNames[0]]:
                     new ort.Tensor('float32', values, [batch, features])};
  const warmupEnd = Date.now() + 500;
  while (Date.now() < warmupEnd) await session.run(feeds);
  const latencies = [];
  const start = process.hrtime.bigint();
  const end = start + BigInt(Math.round(seconds * 1e9));
  let now = start;
  while (now < end) {
    await session.run(feeds);
    const after = process.hrtime.bigint();
    latencies.push(Number(after - now) / 1e3);
    now = after;
  }
  const wall = Number(now - start) / 1e9;
  latencies.sort((a, b) => a - b);
  return {calls: latencies.length / wall,
          p50: latencies[Math.floor(latencies.length / 2)]};
}

async function main() {
  const [model, seconds, threads, ...batches] = process.argv.slice(2);
  if (!model || batches.length === 0) {
    process.stderr.write(
        'usage: ort_predict.js MODEL.onnx SECONDS THREADS BATCH [BATCH ...]\n');
    process.exit(2);
  }
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: Number(threads),
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  const features = 784;
  for (const batch of batches.map(Number)) {
    const {calls, p50} = await measure(session, features, batch, Number(seconds));
    console.log(`ort batch=${batch} threads=${threads} calls/s=${
        calls.toFixed(0)} samples/s=${(calls * batch).toFixed(0)} p50_us=${
        p50.toFixed(0)}`);
  }
}

main().catch((e) => {
  process.stderr.write(`ort_predict.js: ${e.message}\n`);
  process.exit(1);
});
