'use strict';
// Runs a job on the native engine (build/native/wasmerge-native): the job on stdin, its
// events as JSON lines on stdout, the same events as the wasm engine's.
const { spawn } = require('child_process');
const readline = require('readline');

// job: { job (the object), json (its text, the one sent) }
function runNativeJob({ json }, onEvent, { binary }) {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, [], { stdio: ['pipe', 'pipe', 'inherit'] });
    const forward = (signal) => child.kill(signal);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    readline.createInterface({ input: child.stdout }).on('line', (line) => onEvent(JSON.parse(line)));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve(code === null ? 128 + (signal === 'SIGINT' ? 2 : 15) : code);
    });
    child.stdin.end(json);
  });
}

module.exports = { runNativeJob };
