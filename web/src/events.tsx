// The simulator's live events (`GET /sim/api/events`, server-sent): one EventSource for the
// whole console; pages subscribe to `phone` and `templates` and refetch what they show.

import { createContext, useContext, useEffect, useRef, useState, type ReactNode } from 'react';

export type SimEventName = 'phone' | 'templates';
type Listener = (data: Record<string, unknown>) => void;

interface EventsValue {
  subscribe: (name: SimEventName, listener: Listener) => () => void;
  connected: boolean;
}

const EventsContext = createContext<EventsValue>({ subscribe: () => () => undefined, connected: false });

export function SimEventsProvider({ enabled, children }: { enabled: boolean; children: ReactNode }) {
  const listeners = useRef(new Map<SimEventName, Set<Listener>>());
  const [connected, setConnected] = useState(false);
  const [value] = useState<Omit<EventsValue, 'connected'>>(() => ({
    subscribe: (name, listener) => {
      let set = listeners.current.get(name);
      if (!set) {
        set = new Set();
        listeners.current.set(name, set);
      }
      set.add(listener);
      return () => set.delete(listener);
    },
  }));

  useEffect(() => {
    if (!enabled || typeof EventSource === 'undefined') return;
    const source = new EventSource('/sim/api/events', { withCredentials: true });
    const dispatch = (name: SimEventName) => (e: MessageEvent<string>) => {
      let data: Record<string, unknown> = {};
      try {
        data = JSON.parse(e.data) as Record<string, unknown>;
      } catch {
        // An event without a JSON body still means "refetch".
      }
      listeners.current.get(name)?.forEach((l) => l(data));
    };
    const onPhone = dispatch('phone');
    const onTemplates = dispatch('templates');
    source.addEventListener('phone', onPhone);
    source.addEventListener('templates', onTemplates);
    source.onopen = () => setConnected(true);
    source.onerror = () => setConnected(source.readyState === EventSource.OPEN);
    return () => {
      source.close();
      setConnected(false);
    };
  }, [enabled]);

  return <EventsContext.Provider value={{ ...value, connected }}>{children}</EventsContext.Provider>;
}

/** Calls `listener` on every `name` event while the component is mounted. */
export function useSimEvent(name: SimEventName, listener: Listener): void {
  const { subscribe } = useContext(EventsContext);
  const latest = useRef(listener);
  useEffect(() => {
    latest.current = listener;
  });
  useEffect(() => subscribe(name, (d) => latest.current(d)), [subscribe, name]);
}

export function useSimConnected(): boolean {
  return useContext(EventsContext).connected;
}
