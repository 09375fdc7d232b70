// A menu button (WAI-ARIA's menu button pattern): the button opens a list of actions, the
// arrow keys, Home and End move between them, Escape closes the list and gives the focus
// back to the button, and leaving the menu (Tab, a click elsewhere) closes it.

import { useEffect, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';

export interface MenuAction {
  label: string;
  onSelect: () => void;
}

/** Which item gets the focus when the list opens. */
type Opening = 'first' | 'last';

function menuItems(list: HTMLElement | null): HTMLElement[] {
  return Array.from(list?.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? []);
}

/** The item a key moves to from item `at` (-1: none focused) of `count`; undefined for other keys. */
function itemAfterKey(key: string, at: number, count: number): number | undefined {
  switch (key) {
    case 'ArrowDown':
      return (at + 1) % count;
    case 'ArrowUp':
      return at <= 0 ? count - 1 : at - 1;
    case 'Home':
      return 0;
    case 'End':
      return count - 1;
    default:
      return undefined;
  }
}

export function Menu({
  label,
  icon,
  actions,
  className,
  buttonClassName,
  listClassName,
}: {
  /** The button's accessible name, such as "Chat options". */
  label: string;
  icon: ReactNode;
  actions: MenuAction[];
  className?: string;
  buttonClassName?: string;
  listClassName?: string;
}) {
  const [open, setOpen] = useState(false);
  const opening = useRef<Opening>('first');
  const button = useRef<HTMLButtonElement>(null);
  const list = useRef<HTMLUListElement>(null);

  const focusItem = (which: Opening) => {
    const items = menuItems(list.current);
    (which === 'first' ? items[0] : items[items.length - 1])?.focus();
  };

  // The list exists only once open: its item is focused after it is drawn.
  useEffect(() => {
    if (open) focusItem(opening.current);
  }, [open]);

  const openAt = (which: Opening) => {
    opening.current = which;
    if (open) focusItem(which);
    else setOpen(true);
  };

  const close = () => {
    setOpen(false);
    button.current?.focus();
  };

  const onButtonKey = (e: KeyboardEvent) => {
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
    e.preventDefault();
    openAt(e.key === 'ArrowDown' ? 'first' : 'last');
  };

  const onListKey = (e: KeyboardEvent) => {
    if (e.key === 'Escape') {
      e.preventDefault();
      close();
      return;
    }
    const items = menuItems(list.current);
    const next = itemAfterKey(e.key, items.indexOf(document.activeElement as HTMLElement), items.length);
    if (next === undefined) return;
    e.preventDefault();
    items[next]?.focus();
  };

  return (
    <div
      className={className}
      onBlur={(e) => {
        if (!e.currentTarget.contains(e.relatedTarget)) setOpen(false);
      }}
    >
      <button
        ref={button}
        type="button"
        className={buttonClassName}
        aria-haspopup="menu"
        aria-expanded={open}
        aria-label={label}
        onClick={() => (open ? setOpen(false) : openAt('first'))}
        onKeyDown={onButtonKey}
      >
        {icon}
      </button>
      {open ? (
        <ul ref={list} className={listClassName} role="menu" aria-label={label} onKeyDown={onListKey}>
          {actions.map((a) => (
            <li key={a.label} role="none">
              {/* Not in the Tab order: the arrow keys move between the items. */}
              <button
                type="button"
                role="menuitem"
                tabIndex={-1}
                onClick={() => {
                  close();
                  a.onSelect();
                }}
              >
                {a.label}
              </button>
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
