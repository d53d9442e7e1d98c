/**
 * <r1s-step-export>: step 6 of the guided path. Download a policy as a Hugging Face folder or
 * an ONNX model (zips made in the trainer worker, src/onnx/export-folder.ts), run the ONNX export
 * in onnxruntime-web as a check that it is the trained policy, import a checkpoint folder or zip
 * (validated by src/io/import.ts, errors shown), and manage the runs saved in this browser.
 *
 * Property: `pg` (the Playground).
 */
import { css, html, nothing } from 'lit';
import type { ExportFormat } from '../onnx/export-folder.ts';
import type { PolicyName } from '../session/types.ts';
import { readDropped, readPicked } from './files.ts';
import { message, type QuestionChoice } from './playground.ts';
import { PlaygroundElement, sharedStyles } from './playground-element.ts';
import './r1s-completion.ts';
import './r1s-question-picker.ts';
import './r1s-runs.ts';

const POLICY_LABEL: Record<PolicyName, string> = { base: 'base model', stage1: 'Stage-1 policy', stage2: 'Stage-2 policy' };
const FORMAT_LABEL: Record<ExportFormat, string> = { hf: 'Hugging Face folder', onnx: 'ONNX model' };

export class R1sStepExport extends PlaygroundElement {
  static override properties = { ...PlaygroundElement.properties, policy: { state: true }, choice: { state: true }, dragging: { state: true }, readError: { state: true } };
  declare policy: PolicyName | '';
  declare choice: QuestionChoice | null;
  declare dragging: boolean;
  declare readError: string;

  static override styles = [sharedStyles, css`
    .drop { border: 2px dashed var(--r1s-line-drop); border-radius: 8px; padding: 1rem; text-align: center; color: var(--r1s-ink-dim); background: var(--r1s-surface-drop); }
    .drop.over { border-color: var(--r1s-accent); background: var(--r1s-accent-pale); }
    .files { font-size: 0.82rem; color: var(--r1s-ink-dim); }
    dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 0.8rem; font-size: 0.88rem; }
    dt { color: var(--r1s-muted); }
    dd { margin: 0; overflow-wrap: anywhere; }
    input[type=file] { font-size: 0.85rem; max-width: 100%; }
  `];

  constructor() {
    super();
    this.policy = '';
    this.choice = null;
    this.dragging = false;
    this.readError = '';
  }

  private async importFrom(read: () => Promise<Awaited<ReturnType<typeof readPicked>>>): Promise<void> {
    this.readError = '';
    try {
      await this.pg!.importPicked(await read());
    } catch (e) {
      this.readError = message(e);
    }
  }

  override render() {
    const pg = this.pg;
    if (!pg) return nothing;
    const policy = this.policy && pg.policies.includes(this.policy) ? this.policy : pg.latestPolicy;
    const ready = pg.phase === 'ready';
    const exporting = pg.busy.has('export');
    const check = pg.onnxCheck;
    return html`
      <p class="explain">Take the trained policy elsewhere: as a Hugging Face folder (<code>LlamaForCausalLM</code> with safetensors weights and a WordLevel
        <code>tokenizer.json</code>) or as an ONNX model (<code>input_ids</code>, <code>attention_mask</code> → <code>logits</code>, opset 17; with the KV cache,
        also <code>past_key_values</code> in and <code>present</code> out, the names transformers.js uses).
        "Run the export" loads the ONNX file in onnxruntime-web and answers a question with it, to check that the file is the policy you trained.</p>
      <section aria-labelledby="dl-h">
        <h3 id="dl-h">Download</h3>
        <div class="row">
          <label>Policy <select aria-label="Policy to export" @change=${(e: Event) => (this.policy = (e.target as HTMLSelectElement).value as PolicyName)}>
            ${pg.policies.map((p) => html`<option value=${p} ?selected=${p === policy}>${POLICY_LABEL[p]}</option>`)}</select></label>
          <button @click=${() => pg.exportModel('hf', policy)} ?disabled=${!ready || exporting}>Download Hugging Face folder (zip)</button>
          <button @click=${() => pg.exportModel('onnx', policy)} ?disabled=${!ready || exporting}>Download ONNX model (zip)</button>
          <label title="The ONNX graph also takes past_key_values.{layer}.key/value and returns present.{layer}.key/value, so a runtime feeds one new token per call (as transformers.js does)">
            <input type="checkbox" .checked=${pg.onnxKvCache} ?disabled=${exporting} @change=${(e: Event) => { pg.onnxKvCache = (e.target as HTMLInputElement).checked; this.requestUpdate(); }}>
            ONNX with KV cache</label>
          ${exporting ? html`<span class="note" role="status">Building the export…</span>` : nothing}
        </div>
        ${pg.errors.export ? html`<div class="alert" role="alert">${pg.errors.export}</div>` : nothing}
        ${(['hf', 'onnx'] as const).map((f) => {
          const ex = pg.exports[f];
          return ex ? html`<p class="files" role="status">${FORMAT_LABEL[f]}${ex.kvCache ? ' (with KV cache)' : ''} of the ${POLICY_LABEL[ex.policy]}: <b>${ex.name}-${f}.zip</b>, ${(ex.zip.byteLength / 1e6).toFixed(2)} MB
            (${ex.files.join(', ')}).</p>` : nothing;
        })}
      </section>
      <section aria-labelledby="run-h">
        <h3 id="run-h">Run the export</h3>
        <r1s-question-picker .questions=${pg.questions} label="Question for the exported model" split="test"
          @question-change=${(e: CustomEvent<QuestionChoice>) => (this.choice = e.detail)}></r1s-question-picker>
        <div class="row">
          <button @click=${() => pg.runExport(policy, this.choice!)} ?disabled=${!ready || !this.choice || pg.busy.has('onnx') || exporting}>Run the export</button>
          <span class="note">${pg.busy.has('onnx') ? 'Loading onnxruntime-web and decoding…' : `Greedy decoding of the ${POLICY_LABEL[policy]}'s ONNX export${pg.onnxKvCache ? ' (KV cache: one new token per call)' : ''}, with search.`}</span>
        </div>
        ${pg.errors.onnx ? html`<div class="alert" role="alert">${pg.errors.onnx}</div>` : nothing}
        ${check ? html`
          <div class=${check.tokensMatch ? 'ok-box' : 'alert'} role="status">
            ${check.tokensMatch ? 'The ONNX model wrote exactly the tokens the trainer\'s policy writes.' : 'The ONNX model\'s tokens differ from the trainer\'s policy.'}
            Largest logit difference after the prompt: ${check.maxLogitDiff.toExponential(2)}.</div>
          <dl>
            <dt>execution provider</dt><dd>${check.provider}${check.note ? html` <span class="note">(${check.note})</span>` : nothing}</dd>
            <dt>KV cache</dt><dd>${check.kvCache ? 'yes: the prompt once, then only the new tokens per call' : 'no: the whole sequence per call'}</dd>
            <dt>question</dt><dd>${check.question}</dd>
            <dt>time</dt><dd>${check.seconds.toFixed(2)} s</dd>
            <dt>searches</dt><dd>${check.searches.length ? check.searches.map((s) => s.query).join(' | ') : 'none'}</dd>
          </dl>
          <h4>ONNX model (onnxruntime-web)</h4><r1s-completion .text=${check.completion}></r1s-completion>
          <h4>The trainer's policy</h4><r1s-completion .text=${check.trainerCompletion}></r1s-completion>` : nothing}
      </section>
      <section aria-labelledby="imp-h">
        <h3 id="imp-h">Import a checkpoint</h3>
        <p class="note">A folder or zip with config.json, model.safetensors and tokenizer.json: ours, or any Llama-architecture model with a WordLevel tokenizer.
          Every tensor and field is checked; a bad file is refused with the reason and nothing changes. A plain model becomes the base; a checkpoint with
          trainer state (optimizer.safetensors, trainer_state.json) resumes its stage.</p>
        <div class="drop ${this.dragging ? 'over' : ''}" role="region" aria-label="Drop a checkpoint folder or zip here"
          @dragover=${(e: DragEvent) => { e.preventDefault(); this.dragging = true; }} @dragleave=${() => (this.dragging = false)}
          @drop=${(e: DragEvent) => { e.preventDefault(); this.dragging = false; if (e.dataTransfer) void this.importFrom(() => readDropped(e.dataTransfer!)); }}>
          Drop a checkpoint folder or zip here, or choose one:
          <div class="row" style="justify-content:center;margin-top:0.5rem">
            <label>Zip file <input type="file" accept=".zip,application/zip" aria-label="Choose a checkpoint zip" ?disabled=${!ready || pg.busy.has('import')}
              @change=${(e: Event) => { const el = e.target as HTMLInputElement; void this.importFrom(() => readPicked(el.files ?? [])).then(() => (el.value = '')); }} /></label>
            <label>Folder <input type="file" webkitdirectory multiple aria-label="Choose a checkpoint folder" ?disabled=${!ready || pg.busy.has('import')}
              @change=${(e: Event) => { const el = e.target as HTMLInputElement; void this.importFrom(() => readPicked(el.files ?? [])).then(() => (el.value = '')); }} /></label>
          </div>
        </div>
        ${pg.busy.has('import') ? html`<p class="note" role="status">Checking the checkpoint…</p>` : nothing}
        ${this.readError || pg.errors.import ? html`<div class="alert" role="alert">${this.readError || pg.errors.import}</div>` : nothing}
        ${pg.importResult && !pg.errors.import ? html`<div class="ok-box" role="status">Imported ${pg.importResult.label}:
          ${pg.importResult.kind === 'run' ? 'its stage resumes where it was saved.' : 'it is now the base model (Stage 1 and 2 start from it).'}
          ${pg.importResult.notes.length ? html`<ul>${pg.importResult.notes.map((n) => html`<li>${n}</li>`)}</ul>` : nothing}</div>` : nothing}
      </section>
      <section aria-labelledby="runs-h">
        <h3 id="runs-h">Saved runs</h3>
        <r1s-runs .pg=${pg}></r1s-runs>
      </section>`;
  }
}

customElements.define('r1s-step-export', R1sStepExport);

declare global {
  interface HTMLElementTagNameMap {
    'r1s-step-export': R1sStepExport;
  }
}
