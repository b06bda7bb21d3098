import { reactive } from 'vue';

export type ToastKind = 'success' | 'error' | 'info';
export interface ToastItem {
  id: number;
  kind: ToastKind;
  text: string;
}

export interface Toaster {
  readonly items: ToastItem[];
  show(kind: ToastKind, text: string): void;
  dismiss(id: number): void;
}

export function useToast(
  opts: { durationMs?: number; setTimer?: (fn: () => void, ms: number) => unknown } = {},
): Toaster {
  const items = reactive<ToastItem[]>([]);
  const duration = opts.durationMs ?? 3000;
  const setTimer = opts.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
  let seq = 0;

  function dismiss(id: number): void {
    const i = items.findIndex((t) => t.id === id);
    if (i >= 0) items.splice(i, 1);
  }

  return {
    items,
    dismiss,
    show(kind, text) {
      const id = ++seq;
      items.push({ id, kind, text });
      // Keep at most three on a narrow sidebar.
      while (items.length > 3) items.shift();
      setTimer(() => dismiss(id), duration);
    },
  };
}
