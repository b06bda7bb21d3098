// Load generator used when wrk is not installed: a separate process running autocannon.
const fs = require('node:fs');
const autocannon = require('autocannon');

const [port, connections, duration, file, contentType] = process.argv.slice(2);
const reqs = fs
  .readFileSync(file, 'utf8')
  .split('\n')
  .map((l) => {
    const t = l.indexOf('\t');
    return { path: l.slice(0, t), body: l.slice(t + 1) };
  });
let i = 0;
autocannon(
  {
    url: `http://127.0.0.1:${port}`,
    connections: Number(connections),
    duration: Number(duration),
    method: 'POST',
    headers: { 'content-type': contentType },
    requests: [
      {
        setupRequest: (req) => {
          const r = reqs[i++ % reqs.length];
          return { ...req, path: r.path, body: r.body };
        },
      },
    ],
  },
  (err, res) => {
    if (err) throw err;
    process.stdout.write(
      JSON.stringify({
        rps: res.requests.average,
        p50ms: res.latency.p50,
        p99ms: res.latency.p99,
        non2xx: res.non2xx,
        requests: res.requests.total,
      }),
    );
  },
);
