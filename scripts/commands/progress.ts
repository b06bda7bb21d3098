import { Bar, Presets } from 'cli-progress';

/**
 * Progress for long work. The bar appears only once the work has run for a second (short
 * commands stay quiet), shows the rate and ETA, and goes to stderr so stdout stays clean for
 * tables and --json.
 */
export interface Progress {
  /** `value` out of the total given at start; `unit` counters (e.g. rows) shown next to the bar. */
  update(value: number, payload?: { rows?: number }): void;
  stop(): void;
}

export type ProgressFactory = (label: string, total: number, unit?: string) => Progress;

export const silentProgress: ProgressFactory = () => ({ update() {}, stop() {} });

const DELAY_MS = 1000;

/** A terminal bar on a TTY; on a pipe, a plain line at every 10% so logs stay readable. */
export function terminalProgress(stream: NodeJS.WriteStream = process.stderr, clock = Date.now): ProgressFactory {
  return (label, total, unit = 'rows') => {
    const started = clock();
    let bar: Bar | null = null;
    let lastDecile = -1;
    let rows = 0;
    const rate = () => {
      const secs = Math.max((clock() - started) / 1000, 0.001);
      return Math.round(rows / secs);
    };
    return {
      update(value, payload) {
        rows = payload?.rows ?? value;
        if (clock() - started < DELAY_MS) return;
        if (stream.isTTY) {
          if (!bar) {
            bar = new Bar(
              {
                stream,
                format: `${label} [{bar}] {percentage}% | {rows} ${unit} | {rate} ${unit}/s | ETA {eta_formatted}`,
                hideCursor: true,
                etaBuffer: 50,
                fps: 5,
              },
              Presets.shades_classic,
            );
            bar.start(total, 0, { rows: 0, rate: 0 });
          }
          bar.update(Math.min(value, total), { rows, rate: rate() });
          return;
        }
        const decile = total > 0 ? Math.floor((value / total) * 10) : 10;
        if (decile > lastDecile) {
          lastDecile = decile;
          const secs = (clock() - started) / 1000;
          const eta = value > 0 && total > value ? Math.round((secs * (total - value)) / value) : 0;
          stream.write(`${label}: ${decile * 10}% ${rows} ${unit}, ${rate()} ${unit}/s, ETA ${eta}s\n`);
        }
      },
      stop() {
        bar?.stop();
      },
    };
  };
}

/** Records every update; tests assert the progress path ran without a terminal. */
export function recordingProgress(): ProgressFactory & {
  events: { label: string; total: number; value: number; rows: number }[];
} {
  const events: { label: string; total: number; value: number; rows: number }[] = [];
  const f = ((label: string, total: number) => ({
    update(value: number, payload?: { rows?: number }) {
      events.push({ label, total, value, rows: payload?.rows ?? value });
    },
    stop() {},
  })) as ProgressFactory & { events: typeof events };
  f.events = events;
  return f;
}
