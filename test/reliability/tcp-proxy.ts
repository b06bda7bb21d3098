import net from 'node:net';

/**
 * A loopback TCP forwarder the app reaches MariaDB through, so a test can make the database go
 * away for the app alone (the shared MariaDB other tests use keeps running). `cut()` resets every
 * open connection and refuses new ones (reset on accept) until `restore()`, which is what clients
 * see when mariadbd is stopped.
 */
export class TcpProxy {
  private readonly server = net.createServer((client) => this.accept(client));
  private readonly open = new Set<net.Socket>();
  private down = false;
  port = 0;
  /** Connections accepted while up (and forwarded). */
  accepted = 0;
  /** Connections refused while down. */
  refused = 0;

  constructor(
    private readonly upstreamPort: number,
    private readonly upstreamHost = '127.0.0.1',
  ) {}

  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    const addr = this.server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : 0;
    return this.port;
  }

  private accept(client: net.Socket) {
    client.on('error', () => {});
    if (this.down) {
      this.refused++;
      client.resetAndDestroy();
      return;
    }
    this.accepted++;
    const upstream = net.connect(this.upstreamPort, this.upstreamHost);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    this.open.add(client).add(upstream);
    client.once('close', () => this.open.delete(client));
    upstream.once('close', () => this.open.delete(upstream));
    client.pipe(upstream);
    upstream.pipe(client);
  }

  /** The database "stops": every open connection is reset, new ones are refused. */
  cut(): void {
    this.down = true;
    for (const s of this.open) s.resetAndDestroy();
    this.open.clear();
  }

  restore(): void {
    this.down = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
