// Create a template: the form checks as the person types, and the preview beside it is the
// phone's own bubble, so what is approved is what users will see.

import { useMemo, useState, type FormEvent, type ReactNode } from 'react';
import { Link, useNavigate } from 'react-router';
import { filesApi, templatesApi } from '../api/endpoints';
import { Bubble } from '../chat/Bubble';
import { templateToRich } from '../chat/model';
import {
  EMPTY_FORM,
  LIMITS,
  components,
  createBody,
  placeholders,
  validate,
  type ButtonForm,
  type ButtonType,
  type HeaderFormat,
  type TemplateForm,
} from '../chat/templateForm';
import { ErrorBanner, PageHeader } from '../components/ui';
import { useAction } from '../hooks';
import { useWorkspace } from '../workspace';

const LANGUAGES = ['en_US', 'en_GB', 'en', 'es', 'es_MX', 'pt_BR', 'fr', 'de', 'it', 'nl', 'id', 'ms', 'th', 'vi', 'zh_CN', 'ja', 'ko', 'hi', 'ar'];

function Field({
  id,
  label,
  error,
  hint,
  children,
}: {
  id: string;
  label: string;
  error?: string;
  hint?: ReactNode;
  children: (props: { id: string; 'aria-invalid': boolean; 'aria-describedby'?: string }) => ReactNode;
}) {
  const describedBy = [error ? `${id}-error` : '', hint ? `${id}-hint` : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children({ id, 'aria-invalid': !!error, 'aria-describedby': describedBy })}
      {hint ? (
        <span className="hint" id={`${id}-hint`}>
          {hint}
        </span>
      ) : null}
      {error ? (
        <span className="field-error" id={`${id}-error`} role="alert">
          {error}
        </span>
      ) : null}
    </div>
  );
}

const count = (s: string, max: number) => `${Array.from(s).length}/${max}`;

export default function TemplateNew() {
  const ws = useWorkspace();
  const navigate = useNavigate();
  const [form, setForm] = useState<TemplateForm>(EMPTY_FORM);
  const [touched, setTouched] = useState<Record<string, boolean>>({});
  const [submitted, setSubmitted] = useState(false);
  const action = useAction();
  const upload = useAction();
  const errors = useMemo(() => validate(form), [form]);
  const valid = Object.keys(errors).length === 0;
  const show = (key: string) => (submitted || touched[key] ? errors[key] : undefined);
  const touch = (key: string) => () => setTouched((t) => ({ ...t, [key]: true }));
  const set = <K extends keyof TemplateForm>(key: K, value: TemplateForm[K]) => setForm((f) => ({ ...f, [key]: value }));
  const bodyVars = placeholders(form.body).count;
  const headerVars = form.headerFormat === 'TEXT' ? placeholders(form.headerText).count : 0;
  const preview = useMemo(() => templateToRich(components(form)), [form]);

  const setButton = (i: number, change: Partial<ButtonForm>) =>
    setForm((f) => ({ ...f, buttons: f.buttons.map((b, j) => (j === i ? { ...b, ...change } : b)) }));
  const addButton = (type: ButtonType) =>
    setForm((f) => ({ ...f, buttons: [...f.buttons, { type, text: '', url: 'https://', example: '', phoneNumber: '' }] }));
  const removeButton = (i: number) => setForm((f) => ({ ...f, buttons: f.buttons.filter((_, j) => j !== i) }));
  const moveButton = (i: number, by: number) =>
    setForm((f) => {
      const buttons = [...f.buttons];
      const [b] = buttons.splice(i, 1);
      if (b) buttons.splice(i + by, 0, b);
      return { ...f, buttons };
    });

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setSubmitted(true);
    if (!valid) return;
    const done = await action.run(() => templatesApi.create(ws.accountId, ws.channelId, createBody(form)));
    if (done !== undefined) void navigate('/templates', { state: { created: form.name.trim() } });
  };

  const uploadSample = async (file: File) => {
    const url = await upload.run(() => filesApi.upload(ws.subAccountId, file));
    if (url) set('headerMediaUrl', url);
  };

  return (
    <section className="page">
      <PageHeader title="New template">
        <Link to="/templates">Back to templates</Link>
      </PageHeader>
      <div className="editor">
        <form className="editor-form" onSubmit={(e) => void submit(e)} noValidate aria-label="Template">
          <ErrorBanner error={action.error} onDismiss={action.clear} />
          <fieldset>
            <legend>Template</legend>
            <Field id="t-name" label="Name" error={show('name')} hint="Lowercase letters, digits and underscores.">
              {(p) => (
                <input {...p} value={form.name} onChange={(e) => set('name', e.target.value)} onInput={touch('name')} autoComplete="off" />
              )}
            </Field>
            <div className="field-row">
              <Field id="t-language" label="Language" error={show('language')}>
                {(p) => (
                  <>
                    <input {...p} list="languages" value={form.language} onChange={(e) => set('language', e.target.value)} onInput={touch('language')} />
                    <datalist id="languages">
                      {LANGUAGES.map((l) => (
                        <option key={l} value={l} />
                      ))}
                    </datalist>
                  </>
                )}
              </Field>
              <Field id="t-category" label="Category">
                {(p) => (
                  <select {...p} value={form.category} onChange={(e) => set('category', e.target.value as TemplateForm['category'])}>
                    <option value="UTILITY">Utility</option>
                    <option value="MARKETING">Marketing</option>
                    <option value="AUTHENTICATION">Authentication</option>
                  </select>
                )}
              </Field>
            </div>
            <label className="checkbox">
              <input type="checkbox" checked={form.allowCategoryChange} onChange={(e) => set('allowCategoryChange', e.target.checked)} /> Let WhatsApp
              change the category
            </label>
          </fieldset>

          <fieldset>
            <legend>Header</legend>
            <Field id="t-header-format" label="Header type" error={show('headerFormat') ?? errors.headerFormat}>
              {(p) => (
                <select {...p} value={form.headerFormat} onChange={(e) => set('headerFormat', e.target.value as HeaderFormat)}>
                  <option value="NONE">None</option>
                  <option value="TEXT">Text</option>
                  <option value="IMAGE">Image</option>
                  <option value="VIDEO">Video</option>
                  <option value="DOCUMENT">Document</option>
                  <option value="LOCATION">Location</option>
                </select>
              )}
            </Field>
            {form.headerFormat === 'TEXT' ? (
              <>
                <Field id="t-header-text" label="Header text" error={show('headerText')} hint={count(form.headerText, LIMITS.header)}>
                  {(p) => <input {...p} value={form.headerText} onChange={(e) => set('headerText', e.target.value)} onInput={touch('headerText')} />}
                </Field>
                {headerVars === 1 ? (
                  <Field id="t-header-example" label="Sample for {{1}} in the header" error={show('headerExample')}>
                    {(p) => <input {...p} value={form.headerExample} onChange={(e) => set('headerExample', e.target.value)} onInput={touch('headerExample')} />}
                  </Field>
                ) : null}
              </>
            ) : null}
            {form.headerFormat === 'IMAGE' || form.headerFormat === 'VIDEO' || form.headerFormat === 'DOCUMENT' ? (
              <>
                <Field id="t-header-url" label={`Sample ${form.headerFormat.toLowerCase()} URL`} error={show('headerMediaUrl')}>
                  {(p) => (
                    <input {...p} type="url" value={form.headerMediaUrl} onChange={(e) => set('headerMediaUrl', e.target.value)} onInput={touch('headerMediaUrl')} />
                  )}
                </Field>
                <label className="field">
                  <span>…or upload a sample</span>
                  <input
                    type="file"
                    accept={form.headerFormat === 'IMAGE' ? 'image/jpeg,image/png' : form.headerFormat === 'VIDEO' ? 'video/mp4,video/3gpp' : undefined}
                    onChange={(e) => {
                      const f = e.target.files?.[0];
                      if (f) void uploadSample(f);
                    }}
                    disabled={upload.busy}
                  />
                </label>
                <ErrorBanner error={upload.error} onDismiss={upload.clear} />
              </>
            ) : null}
          </fieldset>

          <fieldset>
            <legend>Body</legend>
            <Field
              id="t-body"
              label="Body text"
              error={show('body')}
              hint={
                <>
                  {count(form.body, LIMITS.body)} · variables {'{{1}}'}, {'{{2}}'}… · *bold* _italic_ ~strike~ ```mono```
                </>
              }
            >
              {(p) => <textarea {...p} rows={5} value={form.body} onChange={(e) => set('body', e.target.value)} onInput={touch('body')} />}
            </Field>
            {Array.from({ length: bodyVars }, (_, i) => (
              <Field key={i} id={`t-body-example-${i}`} label={`Sample for {{${i + 1}}}`} error={show(`bodyExample${i}`)}>
                {(p) => (
                  <input
                    {...p}
                    value={form.bodyExamples[i] ?? ''}
                    onInput={touch(`bodyExample${i}`)}
                    onChange={(e) =>
                      setForm((f) => {
                        const examples = [...f.bodyExamples];
                        while (examples.length <= i) examples.push('');
                        examples[i] = e.target.value;
                        return { ...f, bodyExamples: examples };
                      })
                    }
                  />
                )}
              </Field>
            ))}
            <Field id="t-footer" label="Footer (optional)" error={show('footer')} hint={count(form.footer, LIMITS.footer)}>
              {(p) => <input {...p} value={form.footer} onChange={(e) => set('footer', e.target.value)} onInput={touch('footer')} />}
            </Field>
          </fieldset>

          <fieldset>
            <legend>Buttons</legend>
            {errors.buttons ? (
              <p className="field-error" role="alert">
                {errors.buttons}
              </p>
            ) : null}
            <ol className="button-editor">
              {form.buttons.map((b, i) => (
                <li key={i} className="button-edit">
                  <div className="button-edit-head">
                    <strong>
                      {i + 1}. {b.type === 'QUICK_REPLY' ? 'Quick reply' : b.type === 'URL' ? 'Visit website' : 'Call phone number'}
                    </strong>
                    <span className="spacer" />
                    <button type="button" onClick={() => moveButton(i, -1)} disabled={i === 0} aria-label={`Move button ${i + 1} up`}>
                      ↑
                    </button>
                    <button type="button" onClick={() => moveButton(i, 1)} disabled={i === form.buttons.length - 1} aria-label={`Move button ${i + 1} down`}>
                      ↓
                    </button>
                    <button type="button" onClick={() => removeButton(i)} aria-label={`Remove button ${i + 1}`}>
                      Remove
                    </button>
                  </div>
                  <Field id={`t-button-${i}-text`} label={`Button ${i + 1} label`} error={show(`button${i}.text`)} hint={count(b.text, LIMITS.buttonLabel)}>
                    {(p) => <input {...p} value={b.text} onChange={(e) => setButton(i, { text: e.target.value })} onInput={touch(`button${i}.text`)} />}
                  </Field>
                  {b.type === 'URL' ? (
                    <>
                      <Field id={`t-button-${i}-url`} label={`Button ${i + 1} URL`} error={show(`button${i}.url`)} hint="May end with {{1}}.">
                        {(p) => <input {...p} type="url" value={b.url} onChange={(e) => setButton(i, { url: e.target.value })} onInput={touch(`button${i}.url`)} />}
                      </Field>
                      {b.url.includes('{{1}}') ? (
                        <Field id={`t-button-${i}-example`} label={`Sample for {{1}} in button ${i + 1}`} error={show(`button${i}.example`)}>
                          {(p) => (
                            <input {...p} value={b.example} onChange={(e) => setButton(i, { example: e.target.value })} onInput={touch(`button${i}.example`)} />
                          )}
                        </Field>
                      ) : null}
                    </>
                  ) : null}
                  {b.type === 'PHONE_NUMBER' ? (
                    <Field id={`t-button-${i}-phone`} label={`Button ${i + 1} phone number`} error={show(`button${i}.phoneNumber`)}>
                      {(p) => (
                        <input
                          {...p}
                          type="tel"
                          value={b.phoneNumber}
                          onChange={(e) => setButton(i, { phoneNumber: e.target.value })}
                          onInput={touch(`button${i}.phoneNumber`)}
                        />
                      )}
                    </Field>
                  ) : null}
                </li>
              ))}
            </ol>
            <div className="button-row">
              <button type="button" onClick={() => addButton('QUICK_REPLY')} disabled={form.buttons.length >= LIMITS.buttons}>
                Add quick reply
              </button>
              <button type="button" onClick={() => addButton('URL')} disabled={form.buttons.length >= LIMITS.buttons}>
                Add website button
              </button>
              <button type="button" onClick={() => addButton('PHONE_NUMBER')} disabled={form.buttons.length >= LIMITS.buttons}>
                Add call button
              </button>
            </div>
          </fieldset>

          <div className="form-actions">
            <button type="submit" className="button-primary" disabled={action.busy || (submitted && !valid)}>
              {action.busy ? 'Submitting…' : 'Submit for review'}
            </button>
            {submitted && !valid ? <span className="field-error">Fix the fields marked above.</span> : null}
          </div>
        </form>
        <aside className="editor-preview" aria-label="Preview">
          <h2 className="section-title">Preview</h2>
          <div className="wa-chat wa-chat-inline" data-testid="template-preview">
            <Bubble model={{ type: 'rich', rich: preview }} side="in" time="12:00" interactive={false} />
          </div>
        </aside>
      </div>
    </section>
  );
}
