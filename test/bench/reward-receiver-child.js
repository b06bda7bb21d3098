// The bank's reward endpoint for the reward-outbox bench, in its own process (sender and receiver
// never share an event loop). Verifies hex HMAC-SHA256(secret, `${ts}.${rawBody}`), accepts each
// idempotency key once, and answers 503 to a FAIL_RATE share of requests (seeded, reproducible).
// GET /stats → { total, failed, accepted, duplicates, badSignatures, distinct }; POST /reset clears
// them; POST /fail-rate/<share> sets the failing share.
const http = require('node:http');
const { createHmac, timingSafeEqual } = require('node:crypto');

const secret = process.env.REWARD_SECRET;
let failRate = Number(process.env.FAIL_RATE ?? 0);
let seed = 42;
const random = () => {
  // mulberry32
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
let stats;
let accepted;
const reset = () => {
  stats = { total: 0, failed: 0, accepted: 0, duplicates: 0, badSignatures: 0 };
  accepted = new Set();
};
reset();

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    if (req.method === 'GET') return res.end(JSON.stringify({ ...stats, distinct: accepted.size }));
    if (req.url === '/reset') {
      reset();
      return res.end('{}');
    }
    if (req.url.startsWith('/fail-rate/')) {
      failRate = Number(req.url.slice('/fail-rate/'.length));
      return res.end('{}');
    }
    stats.total++;
    const raw = Buffer.concat(chunks).toString('utf8');
    const ts = req.headers['x-reward-timestamp'];
    const sig = String(req.headers['x-reward-signature'] ?? '');
    const want = createHmac('sha256', secret).update(`${ts}.${raw}`).digest();
    if (!/^[0-9a-f]{64}$/.test(sig) || !timingSafeEqual(want, Buffer.from(sig, 'hex'))) {
      stats.badSignatures++;
      res.writeHead(401);
      return res.end();
    }
    if (random() < failRate) {
      stats.failed++;
      res.writeHead(503);
      return res.end();
    }
    const key = JSON.parse(raw).idempotencyKey;
    if (accepted.has(key)) stats.duplicates++;
    else {
      accepted.add(key);
      stats.accepted++;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"ok":true}');
  });
});
server.keepAliveTimeout = 30_000;
server.listen(Number(process.env.PORT), '127.0.0.1', () => process.stdout.write('ready\n'));
