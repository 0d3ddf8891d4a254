// node-soap as UGPP's caller of Paso 1 (issue 12): builds itself from the bridge's live ?wsdl,
// signs with a WS-Security UsernameToken (text or digest) and calls RecibirSolicitud.
//
//   node paso1_client.js < call.json
//   call.json: {"wsdl": ".../soap/solicitudes?wsdl", "username": "...", "password": "...",
//               "passwordType": "PasswordDigest" | "PasswordText", "solicitud": {...}}
//
// Prints one JSON line: {"ok": true, "result": {...}} or {"ok": false, "fault": {...}}, with
// the exact XML that went and came back ("request", "response") for the caller to validate.
'use strict';
const soap = require('soap');

async function main() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const call = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  const client = await soap.createClientAsync(call.wsdl, { disableCache: true });
  client.setSecurity(new soap.WSSecurity(call.username, call.password, {
    passwordType: call.passwordType || 'PasswordDigest',
    hasNonce: true,
    hasTimeStamp: true,
    mustUnderstand: true,
  }));
  const answer = { request: null, response: null };
  try {
    const [result] = await client.RecibirSolicitudAsync(call.solicitud);
    answer.ok = true;
    answer.result = result;
  } catch (error) {
    answer.ok = false;
    const fault = error.root && error.root.Envelope && error.root.Envelope.Body
      ? error.root.Envelope.Body.Fault : null;
    answer.fault = fault || { faultstring: String(error.message || error) };
  }
  answer.request = client.lastRequest || null;
  answer.response = client.lastResponse || null;
  process.stdout.write(JSON.stringify(answer) + '\n');
}

main().catch((error) => {
  process.stdout.write(JSON.stringify({ ok: false, crash: String(error.stack || error) }) + '\n');
  process.exit(2);
});
