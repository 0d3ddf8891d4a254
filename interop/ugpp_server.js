// node-soap as UGPP's Paso 2 service (issue 12): built from the packaged WSDL with its schema
// inline (ugpp_bridge/profiles/v1/ugpp-reporte-v1-inline.wsdl), with a token endpoint that issues
// short-lived tokens, and the fault modes a real UGPP could show us.
//
//   node ugpp_server.js WSDL_FILE [TOKEN_TTL_SECONDS]
//
// Listens on 127.0.0.1 (a free port) and prints {"port": N} as its first line. Endpoints:
//   POST /ugpp/reporte   the SOAP service (Authorization: Bearer <token> required)
//   POST /ugpp/token     username, password, grant_type=password, client_id -> access_token
//   POST /admin/mode     JSON: {"extraElement": n, "dottedFault": n, "refuseTokens": n,
//                               "http500": n, "hold": n, "holdSeconds": s, "tokenTtl": s}
//   GET  /admin/stats    JSON: posts received, tokens issued, acknowledged idEnvio, raw bodies
'use strict';
const fs = require('fs');
const http = require('http');
const crypto = require('crypto');
const soap = require('soap');
const { take, readBody, json } = require('./http_helpers');

const wsdl = fs.readFileSync(process.argv[2], 'utf8');
const mode = { extraElement: 0, dottedFault: 0, refuseTokens: 0, http500: 0, hold: 0,
               holdSeconds: 30, tokenTtl: Number(process.argv[3] || 5) };
const stats = { posts: 0, tokens: 0, acknowledged: {}, bodies: [] };
const tokens = new Map();  // token -> expiry (ms)




const service = {
  ReporteInformacionFinancieraService: {
    ReporteInformacionFinancieraPort: {
      ReportarInformacionFinanciera(args, callback, headers, req) {
        const auth = (req.headers.authorization || '').replace(/^Bearer /, '');
        const expiry = tokens.get(auth);
        if (!expiry || expiry < Date.now()) {
          throw { Fault: { faultcode: 'soap:Client.NoAutorizado',
                           faultstring: 'NoAutorizado: token ausente o vencido.', statusCode: 401 } };
        }
        const header = args.encabezado;
        if (take(mode, 'dottedFault')) {
          throw { Fault: { faultcode: 'soap:Client.DatosInvalidos',
                           faultstring: 'DatosInvalidos: el lote no cumple las validaciones.' } };
        }
        const id = header.idEnvio;
        if (!stats.acknowledged[id]) {
          stats.acknowledged[id] = 'UGPP-N-' + String(Object.keys(stats.acknowledged).length + 1).padStart(6, '0');
        }
        const acuse = {
          idSolicitud: header.idSolicitud,
          idEnvio: id,
          numeroLote: header.numeroLote,
          radicadoUGPP: stats.acknowledged[id],
          fechaRecepcion: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
          registrosRecibidos: header.totalRegistros,
        };
        if (take(mode, 'extraElement')) acuse.observaciones = 'Recibido con observaciones.';
        return acuse;
      },
    },
  },
};

// node-soap answers on an inner server that never listens; the outer one decides what reaches it.
const inner = http.createServer();
const soapServer = soap.listen(inner, '/ugpp/reporte', service, wsdl);
soapServer.log = (type, data) => { if (type === 'received') stats.bodies.push(data); };

const server = http.createServer(async (req, res) => {
  const url = req.url.split('?')[0];
  if (url === '/ugpp/token' && req.method === 'POST') {
    const form = new URLSearchParams(await readBody(req));
    const valid = form.get('grant_type') === 'password' && form.get('username') === 'bridge'
      && form.get('password') === 'bridge-secret' && form.get('client_id') === 'ugpp-bridge';
    if (take(mode, 'refuseTokens') || !valid) return json(res, 400, { error: 'invalid_grant' });
    const token = crypto.randomBytes(18).toString('base64url');
    tokens.set(token, Date.now() + mode.tokenTtl * 1000);
    stats.tokens += 1;
    return json(res, 200, { access_token: token, token_type: 'bearer', expires_in: mode.tokenTtl });
  }
  if (url === '/admin/mode' && req.method === 'POST') {
    Object.assign(mode, JSON.parse(await readBody(req)));
    return json(res, 200, mode);
  }
  if (url === '/admin/stats') return json(res, 200, stats);
  if (url === '/ugpp/reporte') {
    if (req.method === 'POST') {
      stats.posts += 1;  // every POST that arrives, whatever is answered
      if (take(mode, 'http500')) {
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        return res.end('Internal Server Error\n');
      }
      if (take(mode, 'hold')) {  // received, and never answered: the connection dies later
        setTimeout(() => res.destroy(), mode.holdSeconds * 1000);
        return undefined;
      }
    }
    inner.emit('request', req, res);
    return undefined;
  }
  res.writeHead(404);
  return res.end('not found\n');
});

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n');
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
