// What the composables need from the browser, passed in so they run under jest in plain node.

export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export interface BrowserEnv {
  /** location.href */
  href(): string;
  /** history.replaceState to another same-document URL */
  replaceUrl(url: string): void;
  /** location.assign: leaves the page */
  redirect(url: string): void;
  /** sessionStorage */
  storage: KeyValueStorage;
  /** An unguessable OAuth state (crypto.getRandomValues in the browser). */
  randomState(): string;
  now(): number;
  copyText(text: string): Promise<void>;
}

export function stripHash(url: string): string {
  const i = url.indexOf('#');
  return i < 0 ? url : url.slice(0, i);
}
