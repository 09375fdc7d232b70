// Acting as Meta and as time itself: the template review queue, the clock, fault injection
// and each business number's limits, all through the simulator's control API.

import { useCallback, useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import { simApi } from '../api/endpoints';
import type { Business, Faults, SimTemplate, TemplateComponent } from '../api/types';
import { Bubble } from '../chat/Bubble';
import { templateToRich } from '../chat/model';
import { ErrorBanner, Notice, PageHeader, Pill } from '../components/ui';
import { useSimEvent } from '../events';
import { formatDateTime, useAction, useLoad } from '../hooks';

const REJECT_REASONS = ['INVALID_FORMAT', 'INCORRECT_CATEGORY', 'PROMOTIONAL', 'ABUSIVE_CONTENT', 'SCAM', 'TAG_CONTENT_MISMATCH', 'NONE'];
const QUALITIES = ['GREEN', 'YELLOW', 'RED', 'UNKNOWN'];
const CATEGORIES = ['MARKETING', 'UTILITY', 'AUTHENTICATION'];

/** Meta error codes a failing send can be given (reference/chatapps-api.md §7). */
export const META_FAULT_CODES: [number, string][] = [
  [131000, 'Something went wrong'],
  [131026, 'Message undeliverable'],
  [131047, 'Re-engagement message (24 h window)'],
  [131048, 'Spam rate limit hit'],
  [131049, 'Meta chose not to deliver'],
  [131053, 'Media upload error'],
  [131056, 'Pair rate limit hit'],
  [130429, 'Throughput limit reached'],
  [131016, 'Service unavailable'],
  [131057, 'Business account in maintenance'],
  [133004, 'Server temporarily unavailable'],
  [132015, 'Template is paused'],
  [132016, 'Template is disabled'],
  [368, 'Temporarily blocked for policy violations'],
];

function TemplateRow({ t, onChanged }: { t: SimTemplate; onChanged: () => void }) {
  const action = useAction();
  const [reason, setReason] = useState('INVALID_FORMAT');
  const [quality, setQuality] = useState(t.quality_score === 'UNKNOWN' ? 'GREEN' : t.quality_score);
  const [category, setCategory] = useState(t.category);
  const act = async (body: Record<string, string>) => {
    const done = await action.run(() => simApi.act(t.id, body));
    if (done) onChanged();
  };
  const rich = useMemo(() => templateToRich(t.components as TemplateComponent[]), [t.components]);
  const id = `tpl-${t.id}`;
  return (
    <li className="review-item" aria-labelledby={id} data-testid="review-item" data-name={t.name}>
      <div className="review-head">
        <h3 id={id}>
          {t.name} <span className="muted">· {t.language}</span>
        </h3>
        <Pill value={t.status} />
        <span className="muted">{t.category}</span>
        <span className="muted">quality {t.quality_score}</span>
        {t.rejected_reason && t.status === 'REJECTED' ? <span className="muted">reason {t.rejected_reason}</span> : null}
      </div>
      <div className="review-body">
        <div className="review-preview" aria-label={`Preview of ${t.name}`}>
          <Bubble model={{ type: 'rich', rich }} side="in" interactive={false} />
        </div>
        <div className="review-actions">
          <ErrorBanner error={action.error} onDismiss={action.clear} />
          <div className="button-row">
            <button type="button" className="button-primary" disabled={action.busy} onClick={() => void act({ action: 'approve' })} aria-label={`Approve ${t.name}`}>
              Approve
            </button>
            <button type="button" disabled={action.busy} onClick={() => void act({ action: 'pause' })} aria-label={`Pause ${t.name}`}>
              Pause
            </button>
            <button type="button" disabled={action.busy} onClick={() => void act({ action: 'unpause' })} aria-label={`Unpause ${t.name}`}>
              Unpause
            </button>
            <button type="button" className="button-danger" disabled={action.busy} onClick={() => void act({ action: 'disable' })} aria-label={`Disable ${t.name}`}>
              Disable
            </button>
          </div>
          <div className="inline-form">
            <label>
              <span>Rejection reason</span>
              <select value={reason} onChange={(e) => setReason(e.target.value)}>
                {REJECT_REASONS.map((r) => (
                  <option key={r}>{r}</option>
                ))}
              </select>
            </label>
            <button type="button" className="button-danger" disabled={action.busy} onClick={() => void act({ action: 'reject', reason })} aria-label={`Reject ${t.name}`}>
              Reject
            </button>
          </div>
          <div className="inline-form">
            <label>
              <span>Quality</span>
              <select value={quality} onChange={(e) => setQuality(e.target.value)}>
                {QUALITIES.map((q) => (
                  <option key={q}>{q}</option>
                ))}
              </select>
            </label>
            <button type="button" disabled={action.busy} onClick={() => void act({ action: 'quality', score: quality })} aria-label={`Set quality of ${t.name}`}>
              Set quality
            </button>
          </div>
          <div className="inline-form">
            <label>
              <span>Category</span>
              <select value={category} onChange={(e) => setCategory(e.target.value)}>
                {CATEGORIES.map((c) => (
                  <option key={c}>{c}</option>
                ))}
              </select>
            </label>
            <button type="button" disabled={action.busy} onClick={() => void act({ action: 'category', category })} aria-label={`Set category of ${t.name}`}>
              Set category
            </button>
          </div>
        </div>
      </div>
    </li>
  );
}

function ReviewQueue() {
  const load = useCallback(() => simApi.templates(), []);
  const templates = useLoad(load);
  useSimEvent('templates', templates.reload);
  const [pendingOnly, setPendingOnly] = useState(false);
  const [query, setQuery] = useState('');
  const list = useMemo(() => {
    const all = templates.data?.templates ?? [];
    const order = (t: SimTemplate) => (t.status === 'PENDING' ? 0 : 1);
    return all
      .filter((t) => !pendingOnly || t.status === 'PENDING')
      .filter((t) => !query || t.name.includes(query.toLowerCase()))
      .sort((a, b) => order(a) - order(b) || b.created_at.localeCompare(a.created_at));
  }, [templates.data, pendingOnly, query]);
  const pending = templates.data?.templates.filter((t) => t.status === 'PENDING').length ?? 0;
  return (
    <section className="panel" aria-labelledby="review-title">
      <div className="panel-head">
        <h2 id="review-title">Template review</h2>
        <span className="muted">{pending} waiting for review</span>
      </div>
      <div className="filters">
        <label className="field field-inline">
          <span>Name</span>
          <input type="search" value={query} onChange={(e) => setQuery(e.target.value)} />
        </label>
        <label className="checkbox">
          <input type="checkbox" checked={pendingOnly} onChange={(e) => setPendingOnly(e.target.checked)} /> Pending only
        </label>
      </div>
      <ErrorBanner error={templates.error} />
      {list.length === 0 && !templates.loading ? <p className="empty">No templates to review.</p> : null}
      <ul className="review-list">
        {list.map((t) => (
          <TemplateRow key={t.id} t={t} onChanged={templates.reload} />
        ))}
      </ul>
    </section>
  );
}

const UNITS: [string, number][] = [
  ['seconds', 1],
  ['minutes', 60],
  ['hours', 3600],
  ['days', 86400],
];

function ClockPanel() {
  const load = useCallback(() => simApi.clock(), []);
  const clock = useLoad(load);
  const action = useAction();
  const [amount, setAmount] = useState('1');
  const [unit, setUnit] = useState('hours');
  const seconds = Number(amount) * (UNITS.find(([u]) => u === unit)?.[1] ?? 1);
  const valid = amount !== '' && Number.isFinite(seconds) && seconds > 0;
  const advance = async (by: number) => {
    if (await action.run(() => simApi.advance(by))) clock.reload();
  };
  return (
    <section className="panel" aria-labelledby="clock-title">
      <div className="panel-head">
        <h2 id="clock-title">Clock</h2>
      </div>
      <ErrorBanner error={clock.error ?? action.error} />
      {clock.data ? (
        <p>
          Parley's time is <strong data-testid="clock-now">{formatDateTime(clock.data.now)}</strong>
          {clock.data.offsetSeconds ? ` (${formatOffset(clock.data.offsetSeconds)} ahead of the real clock)` : ' (the real clock)'}
        </p>
      ) : null}
      <form
        className="inline-form"
        onSubmit={(e: FormEvent) => {
          e.preventDefault();
          if (valid) void advance(seconds);
        }}
      >
        <label>
          <span>Advance by</span>
          <input type="number" min="0" step="any" value={amount} onChange={(e) => setAmount(e.target.value)} required aria-invalid={!valid} />
        </label>
        <label>
          <span className="visually-hidden">Unit</span>
          <select value={unit} onChange={(e) => setUnit(e.target.value)} aria-label="Unit">
            {UNITS.map(([u]) => (
              <option key={u}>{u}</option>
            ))}
          </select>
        </label>
        <button type="submit" className="button-primary" disabled={!valid || action.busy}>
          Advance
        </button>
      </form>
      <div className="button-row">
        <button type="button" disabled={action.busy} onClick={() => void advance(24 * 3600 + 60)}>
          Close the 24-hour window (+24 h 1 min)
        </button>
        <button type="button" disabled={action.busy} onClick={() => void advance(3 * 3600)}>
          End a first pause (+3 h)
        </button>
      </div>
    </section>
  );
}

function formatOffset(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return [d ? `${d} d` : '', h ? `${h} h` : '', m ? `${m} min` : '', !d && !h && !m ? `${seconds} s` : '']
    .filter(Boolean)
    .join(' ');
}

/** The form keeps what is typed; the server takes whole numbers (and says so with a 400). */
interface FaultsForm {
  failurePercent: string;
  errorCode: number;
  extraLatencyMs: string;
}

const toForm = (f: Faults): FaultsForm => ({
  failurePercent: String(f.failurePercent),
  errorCode: f.errorCode,
  extraLatencyMs: String(f.extraLatencyMs),
});

function wholeIn(raw: string, max: number): boolean {
  const n = Number(raw);
  return raw.trim() !== '' && Number.isInteger(n) && n >= 0 && n <= max;
}

function FaultsPanel() {
  const load = useCallback(() => simApi.faults(), []);
  const faults = useLoad(load);
  const action = useAction();
  const [form, setForm] = useState<FaultsForm>({ failurePercent: '0', errorCode: 131000, extraLatencyMs: '0' });
  const [saved, setSaved] = useState(false);
  // What the server has fills the form until the person edits it: a load answering after
  // they started typing must not undo what they typed.
  const edited = useRef(false);
  useEffect(() => {
    if (faults.data && !edited.current) setForm(toForm(faults.data));
  }, [faults.data]);
  const percentOk = wholeIn(form.failurePercent, 100);
  const latencyOk = wholeIn(form.extraLatencyMs, 60000);
  const edit = (change: Partial<FaultsForm>) => {
    edited.current = true;
    setSaved(false);
    setForm((f) => ({ ...f, ...change }));
  };
  const save = async (e: FormEvent) => {
    e.preventDefault();
    setSaved(false);
    const done = await action.run(() =>
      simApi.setFaults({
        failurePercent: Number(form.failurePercent),
        errorCode: form.errorCode,
        extraLatencyMs: Number(form.extraLatencyMs),
      }),
    );
    if (done) {
      edited.current = false;
      setForm(toForm(done));
      setSaved(true);
      faults.reload();
    }
  };
  const codes = META_FAULT_CODES.some(([c]) => c === form.errorCode) ? META_FAULT_CODES : [...META_FAULT_CODES, [form.errorCode, 'Other'] as [number, string]];
  const active = faults.data && (faults.data.failurePercent > 0 || faults.data.extraLatencyMs > 0);
  return (
    <section className="panel" aria-labelledby="faults-title">
      <div className="panel-head">
        <h2 id="faults-title">Fault injection</h2>
        {active ? <span className="pill pill-warn">Injecting</span> : null}
      </div>
      <p className="muted">Make WhatsApp fail a share of the business's messages with a Meta error, or answer slowly.</p>
      <ErrorBanner error={faults.error ?? action.error} onDismiss={action.error ? action.clear : undefined} />
      {saved ? <Notice>Faults saved.</Notice> : null}
      <form className="form-grid" onSubmit={(e) => void save(e)} aria-label="Faults">
        <label className="field">
          <span>Messages failing (%)</span>
          <input
            type="number"
            min="0"
            max="100"
            step="1"
            value={form.failurePercent}
            onChange={(e) => edit({ failurePercent: e.target.value })}
            aria-invalid={!percentOk}
          />
          {!percentOk ? <span className="field-error">A whole number from 0 to 100</span> : null}
        </label>
        <label className="field">
          <span>With Meta error</span>
          <select value={form.errorCode} onChange={(e) => edit({ errorCode: Number(e.target.value) })}>
            {codes.map(([code, label]) => (
              <option key={code} value={code}>
                {code} · {label}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>Extra latency (ms)</span>
          <input
            type="number"
            min="0"
            max="60000"
            step="100"
            value={form.extraLatencyMs}
            onChange={(e) => edit({ extraLatencyMs: e.target.value })}
            aria-invalid={!latencyOk}
          />
          {!latencyOk ? <span className="field-error">A whole number from 0 to 60000</span> : null}
        </label>
        <div className="form-actions">
          <button type="submit" className="button-primary" disabled={!percentOk || !latencyOk || action.busy}>
            Save faults
          </button>
          <button type="button" disabled={action.busy} onClick={() => edit({ failurePercent: '0', extraLatencyMs: '0' })}>
            Clear
          </button>
        </div>
      </form>
    </section>
  );
}

const TIERS = ['TIER_250', 'TIER_2K', 'TIER_10K', 'TIER_100K', 'TIER_UNLIMITED'];

function BusinessLimits({ business }: { business: Business }) {
  const key = business.phoneNumberId;
  const load = useCallback(() => simApi.limits(key), [key]);
  const limits = useLoad(load);
  const action = useAction();
  const [tier, setTier] = useState('');
  const [throughput, setThroughput] = useState('');
  const save = async (e: FormEvent) => {
    e.preventDefault();
    const body: Record<string, unknown> = {};
    if (tier) body.messagingLimit = tier;
    if (throughput) body.throughput = Number(throughput);
    if (await action.run(() => simApi.setLimits(key, body))) {
      setTier('');
      setThroughput('');
      limits.reload();
    }
  };
  const l = limits.data;
  return (
    <li className="business">
      <h3>{business.displayNumber}</h3>
      <ErrorBanner error={limits.error ?? action.error} />
      {l ? (
        <dl className="facts">
          <dt>Quality</dt>
          <dd>
            <Pill value={l.quality} />
          </dd>
          <dt>Messaging limit</dt>
          <dd>{l.messagingLimit}</dd>
          <dt>Reached (24 h / 7 d / 30 d)</dt>
          <dd>
            {l.reach.last24h} / {l.reach.last7d} / {l.reach.last30d}
          </dd>
          <dt>Throughput</dt>
          <dd>{l.throughput} msg/s</dd>
          <dt>Pair rate</dt>
          <dd>
            {l.pairRate.burst} per {l.pairRate.intervalSeconds} s
          </dd>
        </dl>
      ) : null}
      <form className="inline-form" onSubmit={(e) => void save(e)}>
        <label>
          <span>Messaging limit</span>
          <select value={tier} onChange={(e) => setTier(e.target.value)}>
            <option value="">(unchanged)</option>
            {TIERS.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </label>
        <label>
          <span>Throughput (1–1000/s)</span>
          <input type="number" min="1" max="1000" value={throughput} onChange={(e) => setThroughput(e.target.value)} />
        </label>
        <button type="submit" disabled={action.busy || (!tier && !throughput)}>
          Set limits
        </button>
      </form>
    </li>
  );
}

function LimitsPanel() {
  const load = useCallback(() => simApi.businesses(), []);
  const businesses = useLoad(load);
  return (
    <section className="panel" aria-labelledby="limits-title">
      <div className="panel-head">
        <h2 id="limits-title">Business numbers</h2>
      </div>
      <ErrorBanner error={businesses.error} />
      <ul className="business-list">
        {(businesses.data?.businesses ?? []).map((b) => (
          <BusinessLimits key={b.phoneNumberId} business={b} />
        ))}
      </ul>
    </section>
  );
}

export default function Simulator() {
  return (
    <section className="page">
      <PageHeader title="Simulator" />
      <div className="sim-grid">
        <ReviewQueue />
        <div className="sim-side">
          <ClockPanel />
          <FaultsPanel />
          <LimitsPanel />
        </div>
      </div>
    </section>
  );
}
