// What the node-soap stand-ins share: fault counters, request bodies, JSON answers.
'use strict';

// Whether the named fault mode has calls left; spends one.
function take(mode, name) {
  if (mode[name] > 0) { mode[name] -= 1; return true; }
  return false;
}

function readBody(req) {
  return new Promise((resolve) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

function json(res, status, value) {
  const data = JSON.stringify(value);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) });
  res.end(data);
}

module.exports = { take, readBody, json };
