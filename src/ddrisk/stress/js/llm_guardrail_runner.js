// ddrisk JSONL bridge to the npm package llm_guardrail (TF-IDF + logistic regression models).
//
// Usage: node llm_guardrail_runner.js PACKAGE_DIR [MODELS]
//   PACKAGE_DIR  folder of the installed llm_guardrail package (holds index.js)
//   MODELS       comma-separated subset of injection,jailbreak,malicious (default: all three)
//
// Reads one JSON object per line on stdin ({"id": ..., "text": ...}) and writes, in the
// same order, one JSON object per line on stdout:
//   {"id": ..., "blocked": true|false, "score": max threat probability, "detail": {...}}
// or {"id": ..., "error": "..."} when an item cannot be scored. A line that is not JSON
// gets {"id": null, "error": ...}. Nothing else is written to stdout.
import path from 'node:path';
import readline from 'node:readline';
import { pathToFileURL } from 'node:url';

const [packageDir, modelList] = process.argv.slice(2);
if (!packageDir) {
  process.stderr.write('usage: node llm_guardrail_runner.js PACKAGE_DIR [MODELS]\n');
  process.exit(2);
}
const checks = {
  injection: 'checkInjection',
  jailbreak: 'checkJailbreak',
  malicious: 'checkMalicious',
};
const models = (modelList || 'injection,jailbreak,malicious').split(',').filter(Boolean);
for (const model of models) {
  if (!(model in checks)) {
    process.stderr.write(`unknown model '${model}'; use injection, jailbreak or malicious\n`);
    process.exit(2);
  }
}

const guard = await import(pathToFileURL(path.join(packageDir, 'index.js')).href);

async function score(text) {
  const results = await Promise.all(models.map((model) => guard[checks[model]](text)));
  const detail = {};
  let blocked = false;
  let top = 0;
  results.forEach((result, index) => {
    detail[models[index]] = Number(result.confidence.toFixed(6));
    blocked = blocked || result.detected;
    top = Math.max(top, result.confidence);
  });
  return { blocked, score: top, detail };
}

const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  if (!line.trim()) continue;
  let request;
  try {
    request = JSON.parse(line);
  } catch (error) {
    process.stdout.write(JSON.stringify({ id: null, error: `not JSON: ${error.message}` }) + '\n');
    continue;
  }
  try {
    if (typeof request.text !== 'string') throw new Error('"text" must be a string');
    const verdict = await score(request.text);
    process.stdout.write(JSON.stringify({ id: request.id, ...verdict }) + '\n');
  } catch (error) {
    process.stdout.write(JSON.stringify({ id: request.id ?? null, error: String(error.message || error) }) + '\n');
  }
}
