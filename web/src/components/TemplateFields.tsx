// The template editor's parts: the buttons editor (a template's buttons, or one card's),
// sample values for variables, a carousel's cards, and an authentication template's options.

import {
  LIMITS,
  EMPTY_BUTTON,
  nextCard,
  placeholders,
  type AuthenticationForm,
  type ButtonForm,
  type ButtonType,
  type CardForm,
  type CardHeaderFormat,
} from '../chat/templateForm';
import { ErrorBanner, Field } from './ui';

export const count = (s: string, max: number) => `${Array.from(s).length}/${max}`;

/** What the editor needs to show an error: `show(key)` once the field was touched or the form submitted. */
export interface Checks {
  show: (key: string) => string | undefined;
  touch: (key: string) => () => void;
}

const BUTTON_NAMES: Record<ButtonType, string> = {
  QUICK_REPLY: 'Quick reply',
  URL: 'Visit website',
  PHONE_NUMBER: 'Call phone number',
  COPY_CODE: 'Copy offer code',
};

const ADD_BUTTON: Record<ButtonType, string> = {
  QUICK_REPLY: 'Add quick reply',
  URL: 'Add website button',
  PHONE_NUMBER: 'Add call button',
  COPY_CODE: 'Add copy-code button',
};

/** What every template and card may hold; a marketing template may add COPY_CODE. */
export const BASIC_BUTTONS: ButtonType[] = ['QUICK_REPLY', 'URL', 'PHONE_NUMBER'];

/**
 * A list of buttons to edit. `keyPrefix` is the errors' (`''`, `card0.`), `idPrefix` the
 * inputs' ids, `labelPrefix` starts each label (`Button 1 label`, `Card 2 button 1 label`),
 * `types` the kinds of button that can be added.
 */
export function ButtonsEditor({
  buttons,
  onChange,
  max,
  checks,
  keyPrefix,
  idPrefix,
  labelPrefix,
  types = BASIC_BUTTONS,
}: {
  buttons: ButtonForm[];
  onChange: (buttons: ButtonForm[]) => void;
  max: number;
  checks: Checks;
  keyPrefix: string;
  idPrefix: string;
  labelPrefix: string;
  types?: ButtonType[];
}) {
  const { show, touch } = checks;
  const setButton = (i: number, change: Partial<ButtonForm>) => onChange(buttons.map((b, j) => (j === i ? { ...b, ...change } : b)));
  const move = (i: number, by: number) => {
    const next = [...buttons];
    const [b] = next.splice(i, 1);
    if (b) next.splice(i + by, 0, b);
    onChange(next);
  };
  const name = (i: number) => `${labelPrefix} ${i + 1}`;
  const lower = (i: number) => name(i).charAt(0).toLowerCase() + name(i).slice(1);
  return (
    <>
      <ol className="button-editor">
        {buttons.map((b, i) => {
          const key = `${keyPrefix}button${i}`;
          const id = `${idPrefix}-button-${i}`;
          return (
            <li key={i} className="button-edit">
              <div className="button-edit-head">
                <strong>
                  {i + 1}. {BUTTON_NAMES[b.type]}
                </strong>
                <span className="spacer" />
                <button type="button" onClick={() => move(i, -1)} disabled={i === 0} aria-label={`Move ${lower(i)} up`}>
                  ↑
                </button>
                <button type="button" onClick={() => move(i, 1)} disabled={i === buttons.length - 1} aria-label={`Move ${lower(i)} down`}>
                  ↓
                </button>
                <button type="button" onClick={() => onChange(buttons.filter((_, j) => j !== i))} aria-label={`Remove ${lower(i)}`}>
                  Remove
                </button>
              </div>
              {b.type === 'COPY_CODE' ? (
                <Field
                  id={`${id}-code`}
                  label={`${name(i)} sample offer code`}
                  error={show(`${key}.example`)}
                  hint={`${count(b.example, LIMITS.copyCode)} · WhatsApp labels it “Copy offer code”; each send gives the real code.`}
                >
                  {(p) => <input {...p} value={b.example} onChange={(e) => setButton(i, { example: e.target.value })} onInput={touch(`${key}.example`)} />}
                </Field>
              ) : (
                <Field id={`${id}-text`} label={`${name(i)} label`} error={show(`${key}.text`)} hint={count(b.text, LIMITS.buttonLabel)}>
                  {(p) => <input {...p} value={b.text} onChange={(e) => setButton(i, { text: e.target.value })} onInput={touch(`${key}.text`)} />}
                </Field>
              )}
              {b.type === 'URL' ? (
                <>
                  <Field id={`${id}-url`} label={`${name(i)} URL`} error={show(`${key}.url`)} hint="May end with {{1}}.">
                    {(p) => <input {...p} type="url" value={b.url} onChange={(e) => setButton(i, { url: e.target.value })} onInput={touch(`${key}.url`)} />}
                  </Field>
                  {b.url.includes('{{1}}') ? (
                    <Field id={`${id}-example`} label={`Sample for {{1}} in ${lower(i)}`} error={show(`${key}.example`)}>
                      {(p) => <input {...p} value={b.example} onChange={(e) => setButton(i, { example: e.target.value })} onInput={touch(`${key}.example`)} />}
                    </Field>
                  ) : null}
                </>
              ) : null}
              {b.type === 'PHONE_NUMBER' ? (
                <Field id={`${id}-phone`} label={`${name(i)} phone number`} error={show(`${key}.phoneNumber`)}>
                  {(p) => (
                    <input
                      {...p}
                      type="tel"
                      value={b.phoneNumber}
                      onChange={(e) => setButton(i, { phoneNumber: e.target.value })}
                      onInput={touch(`${key}.phoneNumber`)}
                    />
                  )}
                </Field>
              ) : null}
            </li>
          );
        })}
      </ol>
      <div className="button-row">
        {types.map((type) => (
          <button key={type} type="button" onClick={() => onChange([...buttons, EMPTY_BUTTON(type)])} disabled={buttons.length >= max}>
            {ADD_BUTTON[type]}
            {labelPrefix === 'Button' ? null : <span className="visually-hidden"> to {labelPrefix.replace(/ button$/, '').toLowerCase()}</span>}
          </button>
        ))}
      </div>
    </>
  );
}

/** Sample values for a text's `{{1}}`, `{{2}}`…; `idPrefix` and `keyPrefix` as the buttons'. */
export function SampleFields({
  text,
  examples,
  onChange,
  checks,
  errorKey,
  idPrefix,
  where,
}: {
  text: string;
  examples: string[];
  onChange: (examples: string[]) => void;
  checks: Checks;
  /** The samples' error keys are `${errorKey}Example${i}`. */
  errorKey: string;
  idPrefix: string;
  /** Added to the label (`Sample for {{1}} in card 2`); none for the template's body. */
  where?: string;
}) {
  const vars = placeholders(text).count;
  return (
    <>
      {Array.from({ length: vars }, (_, i) => (
        <Field key={i} id={`${idPrefix}-example-${i}`} label={`Sample for {{${i + 1}}}${where ? ` in ${where}` : ''}`} error={checks.show(`${errorKey}Example${i}`)}>
          {(p) => (
            <input
              {...p}
              value={examples[i] ?? ''}
              onInput={checks.touch(`${errorKey}Example${i}`)}
              onChange={(e) => {
                const next = [...examples];
                while (next.length <= i) next.push('');
                next[i] = e.target.value;
                onChange(next);
              }}
            />
          )}
        </Field>
      ))}
    </>
  );
}

/** A carousel's cards: each one's picture (or video), text and buttons. */
export function CardsEditor({
  cards,
  headerFormat,
  onChange,
  onHeaderFormat,
  checks,
  cardsError,
  upload,
}: {
  cards: CardForm[];
  headerFormat: CardHeaderFormat;
  onChange: (cards: CardForm[]) => void;
  onHeaderFormat: (format: CardHeaderFormat) => void;
  checks: Checks;
  cardsError?: string;
  /** Hosts a sample file with Parley; its URL, or undefined when that failed. */
  upload: { run: (file: File) => Promise<string | undefined>; busy: boolean; error?: string; clear: () => void };
}) {
  const { show, touch } = checks;
  const setCard = (i: number, change: Partial<CardForm>) => onChange(cards.map((c, j) => (j === i ? { ...c, ...change } : c)));
  const move = (i: number, by: number) => {
    const next = [...cards];
    const [c] = next.splice(i, 1);
    if (c) next.splice(i + by, 0, c);
    onChange(next);
  };
  const media = headerFormat.toLowerCase();
  return (
    <>
      <Field id="t-card-header-format" label="Every card starts with">
        {(p) => (
          <select {...p} value={headerFormat} onChange={(e) => onHeaderFormat(e.target.value as CardHeaderFormat)}>
            <option value="IMAGE">An image</option>
            <option value="VIDEO">A video</option>
          </select>
        )}
      </Field>
      {cardsError ? (
        <p className="field-error" role="alert">
          {cardsError}
        </p>
      ) : null}
      <ErrorBanner error={upload.error} onDismiss={upload.clear} />
      <ol className="card-editor">
        {cards.map((c, i) => {
          const key = `card${i}.`;
          const id = `t-card-${i}`;
          const n = i + 1;
          return (
            <li key={i} className="card-edit" aria-label={`Card ${n}`}>
              <div className="button-edit-head">
                <strong>Card {n}</strong>
                <span className="spacer" />
                <button type="button" onClick={() => move(i, -1)} disabled={i === 0} aria-label={`Move card ${n} up`}>
                  ↑
                </button>
                <button type="button" onClick={() => move(i, 1)} disabled={i === cards.length - 1} aria-label={`Move card ${n} down`}>
                  ↓
                </button>
                <button type="button" onClick={() => onChange(cards.filter((_, j) => j !== i))} disabled={cards.length <= 1} aria-label={`Remove card ${n}`}>
                  Remove
                </button>
              </div>
              <Field id={`${id}-url`} label={`Card ${n} sample ${media} URL`} error={show(`${key}mediaUrl`)}>
                {(p) => <input {...p} type="url" value={c.mediaUrl} onChange={(e) => setCard(i, { mediaUrl: e.target.value })} onInput={touch(`${key}mediaUrl`)} />}
              </Field>
              <label className="field">
                <span>…or upload card {n}'s sample</span>
                <input
                  type="file"
                  accept={headerFormat === 'IMAGE' ? 'image/jpeg,image/png' : 'video/mp4,video/3gpp'}
                  disabled={upload.busy}
                  onChange={(e) => {
                    const f = e.target.files?.[0];
                    if (f) void upload.run(f).then((url) => url && setCard(i, { mediaUrl: url }));
                  }}
                />
              </label>
              <Field id={`${id}-body`} label={`Card ${n} text`} error={show(`${key}body`)} hint={count(c.body, LIMITS.cardBody)}>
                {(p) => <textarea {...p} rows={2} value={c.body} onChange={(e) => setCard(i, { body: e.target.value })} onInput={touch(`${key}body`)} />}
              </Field>
              <SampleFields
                text={c.body}
                examples={c.bodyExamples}
                onChange={(bodyExamples) => setCard(i, { bodyExamples })}
                checks={checks}
                errorKey={`${key}body`}
                idPrefix={`${id}-body`}
                where={`card ${n}`}
              />
              {show(`${key}buttons`) ? (
                <p className="field-error" role="alert">
                  {show(`${key}buttons`)}
                </p>
              ) : null}
              <ButtonsEditor
                buttons={c.buttons}
                onChange={(buttons) => setCard(i, { buttons })}
                max={LIMITS.cardButtons}
                checks={checks}
                keyPrefix={key}
                idPrefix={id}
                labelPrefix={`Card ${n} button`}
              />
            </li>
          );
        })}
      </ol>
      <div className="button-row">
        <button type="button" onClick={() => onChange([...cards, nextCard(cards[cards.length - 1])])} disabled={cards.length >= LIMITS.cards}>
          Add card
        </button>
      </div>
    </>
  );
}

/** An authentication template's options: WhatsApp writes its texts, the business picks these. */
export function AuthenticationFields({
  value,
  onChange,
  checks,
}: {
  value: AuthenticationForm;
  onChange: (value: AuthenticationForm) => void;
  checks: Checks;
}) {
  const { show, touch } = checks;
  const set = (change: Partial<AuthenticationForm>) => onChange({ ...value, ...change });
  const { min, max } = LIMITS.codeExpirationMinutes;
  return (
    <>
      <p className="hint">
        WhatsApp writes the message: “<em>code</em> is your verification code.” Each send gives the code, for the text and for the button.
      </p>
      <label className="checkbox">
        <input type="checkbox" checked={value.securityRecommendation} onChange={(e) => set({ securityRecommendation: e.target.checked })} /> Add the
        security recommendation: “For your security, do not share this code.”
      </label>
      <label className="checkbox">
        <input type="checkbox" checked={value.expires} onChange={(e) => set({ expires: e.target.checked })} /> Say when the code expires
      </label>
      {value.expires ? (
        <Field id="t-expiry" label="Code expires after (minutes)" error={show('expiryMinutes')} hint={`${min} to ${max} minutes.`}>
          {(p) => (
            <input
              {...p}
              type="number"
              min={min}
              max={max}
              inputMode="numeric"
              value={value.expiryMinutes}
              onChange={(e) => set({ expiryMinutes: e.target.value })}
              onInput={touch('expiryMinutes')}
            />
          )}
        </Field>
      ) : null}
      <Field id="t-otp-label" label="Copy code button label" error={show('otpButtonText')} hint={count(value.buttonText, LIMITS.buttonLabel)}>
        {(p) => <input {...p} value={value.buttonText} onChange={(e) => set({ buttonText: e.target.value })} onInput={touch('otpButtonText')} />}
      </Field>
    </>
  );
}
