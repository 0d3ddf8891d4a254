// node-soap as UGPP's Paso 2 service under a wire profile (SPEC §10): built from the profile's
// own WSDL file (its schemas resolved from the folder by node-soap), answering on the SOAP 1.2
// port with a UsernameToken (PasswordDigest) checked here, as the annex says.
//
//   node profile_ugpp_server.js WSDL_FILE SERVICE OPERATION PORT...
//
// node-soap routes a call to the first port whose binding has the operation, whatever the port
// the caller used: every PORT given gets the same handler.
//
// Listens on 127.0.0.1 (a free port) and prints {"port": N} as its first line. Endpoints:
//   POST /ugpp/reporte   the SOAP 1.2 service
//   POST /admin/mode     JSON: {"reject": n, "senderFault": n}
//   GET  /admin/stats    JSON: posts, acknowledged envio → constancia, raw bodies and answers
'use strict';
const fs = require('fs');
const http = require('http');
const crypto = require('crypto');
const soap = require('soap');
const { take, readBody, json } = require('./http_helpers');

const [wsdlPath, serviceName, operation, ...portNames] = process.argv.slice(2);
const mode = { reject: 0, senderFault: 0 };
const stats = { posts: 0, acknowledged: {}, bodies: [], answers: [] };
const seenNonces = new Set();




function text(value) {
  if (value === undefined || value === null) return '';
  if (typeof value === 'object') return String(value.$value !== undefined ? value.$value : '');
  return String(value);
}

// WS-Security UsernameToken Profile 1.0: PasswordDigest = Base64(SHA-1(nonce + created + password)).
function authenticated(headers) {
  const token = headers && headers.Security && headers.Security.UsernameToken;
  if (!token || text(token.Username) !== 'bridge') return false;
  const nonce = text(token.Nonce);
  const created = text(token.Created);
  if (!nonce || seenNonces.has(nonce)) return false;
  const digest = crypto.createHash('sha1')
    .update(Buffer.concat([Buffer.from(nonce, 'base64'), Buffer.from(created + 'bridge-secret')]))
    .digest('base64');
  if (text(token.Password) !== digest) return false;
  seenNonces.add(nonce);
  return true;
}

function fault(subcode, reason) {
  return { Fault: { Code: { Value: 'soap:Sender', Subcode: { Value: subcode } },
                    Reason: { Text: reason }, statusCode: 500 } };
}

const handler = {
  [operation](args, callback, headers) {
    if (!authenticated(headers)) {
      throw fault('wsse:FailedAuthentication', 'UsernameToken rechazado.');
    }
    if (take(mode, 'senderFault')) throw fault('e:DatosInvalidos', 'DatosInvalidos: el lote no cumple.');
    const control = (args.Control && args.Control.attributes) || {};
    const envio = control.envio;
    if (!stats.acknowledged[envio]) {
      stats.acknowledged[envio] = 'CR-' + String(Object.keys(stats.acknowledged).length + 1).padStart(6, '0');
    }
    const rejected = take(mode, 'reject');
    return {
      numeroConstancia: stats.acknowledged[envio],
      fechaHora: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      estado: rejected ? 'RECHAZADO' : 'ACEPTADO',
      observacion: rejected ? 'Registros duplicados.' : 'Recibido por node-soap.',
    };
  },
};

const inner = http.createServer();
const soapServer = soap.listen(inner, {
  path: '/ugpp/reporte',
  services: { [serviceName]: Object.fromEntries(portNames.map((port) => [port, handler])) },
  xml: fs.readFileSync(wsdlPath, 'utf8'),
  uri: wsdlPath,
  forceSoap12Headers: true,
});
soapServer.log = (type, data) => {
  if (type === 'received') stats.bodies.push(data);
  if (type === 'replied') stats.answers.push(data);
};

const server = http.createServer(async (req, res) => {
  const url = req.url.split('?')[0];
  if (url === '/admin/mode' && req.method === 'POST') {
    Object.assign(mode, JSON.parse(await readBody(req)));
    return json(res, 200, mode);
  }
  if (url === '/admin/stats') return json(res, 200, stats);
  if (url === '/ugpp/reporte') {
    if (req.method === 'POST') stats.posts += 1;
    inner.emit('request', req, res);
    return undefined;
  }
  res.writeHead(404);
  return res.end('not found\n');
});

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n');
});
