// Which subaccount and WhatsApp channel the pages work on: the session lists them; the
// choice is remembered in the browser.

import { createContext, useContext, useMemo, useState, type ReactNode } from 'react';
import { useSession } from './session';

export interface Workspace {
  accountId: string;
  subAccountId: string;
  channelId: string;
  businessNumber: string;
  choices: { subAccountId: string; channelId: string; businessNumber: string }[];
  choose: (channelId: string) => void;
}

const WorkspaceContext = createContext<Workspace | null>(null);
const KEY = 'parley.channel';

function remembered(): string | null {
  try {
    return localStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function WorkspaceProvider({ children }: { children: ReactNode }) {
  const session = useSession();
  const [chosen, setChosen] = useState<string | null>(remembered);
  const value = useMemo<Workspace>(() => {
    const choices = session.subAccounts.flatMap((s) =>
      s.channels.map((c) => ({ subAccountId: s.id, channelId: c.id, businessNumber: c.businessNumber })),
    );
    const current = choices.find((c) => c.channelId === chosen) ?? choices[0];
    return {
      accountId: session.accountId,
      subAccountId: current?.subAccountId ?? session.subAccounts[0]?.id ?? '',
      channelId: current?.channelId ?? '',
      businessNumber: current?.businessNumber ?? '',
      choices,
      choose: (channelId: string) => {
        setChosen(channelId);
        try {
          localStorage.setItem(KEY, channelId);
        } catch {
          // Private browsing: the choice lasts for this page only.
        }
      },
    };
  }, [session, chosen]);
  return <WorkspaceContext.Provider value={value}>{children}</WorkspaceContext.Provider>;
}

export function useWorkspace(): Workspace {
  const ctx = useContext(WorkspaceContext);
  if (!ctx) throw new Error('useWorkspace outside WorkspaceProvider');
  return ctx;
}
