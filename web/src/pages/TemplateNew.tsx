// Create a template: the form checks as the person types, and the preview beside it is the
// phone's own bubble, so what is approved is what users will see.

import { useMemo, useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router';
import { filesApi, templatesApi } from '../api/endpoints';
import { Bubble } from '../chat/Bubble';
import { templateToRich } from '../chat/model';
import { EMPTY_FORM, LIMITS, components, createBody, placeholders, validate, type HeaderFormat, type TemplateForm, type TemplateKind } from '../chat/templateForm';
import { AuthenticationFields, BASIC_BUTTONS, ButtonsEditor, CardsEditor, SampleFields, count, type Checks } from '../components/TemplateFields';
import { ErrorBanner, Field, PageHeader } from '../components/ui';
import { useAction } from '../hooks';
import { useWorkspace } from '../workspace';

const LANGUAGES = ['en_US', 'en_GB', 'en', 'es', 'es_MX', 'pt_BR', 'fr', 'de', 'it', 'nl', 'id', 'ms', 'th', 'vi', 'zh_CN', 'ja', 'ko', 'hi', 'ar'];

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
  const checks: Checks = { show, touch };
  const headerVars = form.headerFormat === 'TEXT' ? placeholders(form.headerText).count : 0;
  const preview = useMemo(() => templateToRich(components(form)), [form]);
  // An authentication template has one fixed shape: no layout, header or buttons to pick.
  const authentication = form.category === 'AUTHENTICATION';
  const carousel = !authentication && form.kind === 'CAROUSEL';
  const standard = !authentication && !carousel;
  // A carousel is a marketing template: choosing one sets the category.
  const setKind = (kind: TemplateKind) => setForm((f) => ({ ...f, kind, category: kind === 'CAROUSEL' ? 'MARKETING' : f.category }));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setSubmitted(true);
    if (!valid) return;
    const done = await action.run(() => templatesApi.create(ws.accountId, ws.channelId, createBody(form)));
    if (done !== undefined) void navigate('/templates', { state: { created: form.name.trim() } });
  };

  const hostSample = (file: File) => upload.run(() => filesApi.upload(ws.subAccountId, file));
  const uploadSample = async (file: File) => {
    const url = await hostSample(file);
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
              <Field id="t-category" label="Category" error={errors.category}>
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
            {authentication ? null : (
              <fieldset className="choice">
                <legend>Layout</legend>
                <label className="checkbox">
                  <input type="radio" name="kind" checked={!carousel} onChange={() => setKind('STANDARD')} /> One message: header, text, footer, buttons
                </label>
                <label className="checkbox">
                  <input type="radio" name="kind" checked={carousel} onChange={() => setKind('CAROUSEL')} /> Carousel: a text, then cards to swipe
                </label>
              </fieldset>
            )}
          </fieldset>

          {standard ? (
            <fieldset>
              <legend>Header</legend>
              <Field id="t-header-format" label="Header type">
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
          ) : null}

          {authentication ? (
            <fieldset>
              <legend>Verification code</legend>
              <AuthenticationFields value={form.authentication} onChange={(a) => set('authentication', a)} checks={checks} />
            </fieldset>
          ) : (
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
              <SampleFields
                text={form.body}
                examples={form.bodyExamples}
                onChange={(bodyExamples) => set('bodyExamples', bodyExamples)}
                checks={checks}
                errorKey="body"
                idPrefix="t-body"
              />
              {carousel ? null : (
                <Field id="t-footer" label="Footer (optional)" error={show('footer')} hint={count(form.footer, LIMITS.footer)}>
                  {(p) => <input {...p} value={form.footer} onChange={(e) => set('footer', e.target.value)} onInput={touch('footer')} />}
                </Field>
              )}
            </fieldset>
          )}

          {carousel ? (
            <fieldset>
              <legend>Cards</legend>
              <CardsEditor
                cards={form.cards}
                headerFormat={form.cardHeaderFormat}
                onChange={(cards) => set('cards', cards)}
                onHeaderFormat={(format) => set('cardHeaderFormat', format)}
                checks={checks}
                cardsError={errors.cards}
                upload={{ run: hostSample, busy: upload.busy, error: upload.error, clear: upload.clear }}
              />
            </fieldset>
          ) : null}
          {standard ? (
            <fieldset>
              <legend>Buttons</legend>
              {errors.buttons ? (
                <p className="field-error" role="alert">
                  {errors.buttons}
                </p>
              ) : null}
              <ButtonsEditor
                buttons={form.buttons}
                onChange={(buttons) => set('buttons', buttons)}
                max={LIMITS.buttons}
                checks={checks}
                keyPrefix=""
                idPrefix="t"
                labelPrefix="Button"
                types={form.category === 'MARKETING' ? [...BASIC_BUTTONS, 'COPY_CODE'] : BASIC_BUTTONS}
              />
            </fieldset>
          ) : null}

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
