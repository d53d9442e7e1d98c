/**
 * <r1s-hf-import>: "Bring your own model" in the Base model step. The learner drops or picks a
 * Hugging Face model folder (config.json, tokenizer.json, model.safetensors or shards, as
 * downloaded from the Hub); before anything is loaded, config.json alone gives the parameter
 * count and the memory training will need at the settings in force (src/model/memory.ts),
 * with a warning where the wasm backend's 4 GiB cannot hold it. "Load as the base model" then
 * imports it in the trainer worker (validated by src/io/import.ts, tags added by
 * src/io/hf-model.ts), and Stage 1 and Stage 2 start from it as from our own bases.
 *
 * Property: `pg` (the Playground).
 */
import { css, html, nothing } from 'lit';
import { preflightModelFolder } from '../io/hf-model.ts';
import { defaultRlSettings } from '../rl/settings.ts';
import { trainingShapeOf } from '../rl/training-shape.ts';
import { readDropped, readPicked, type PickedFiles } from './files.ts';
import { message } from './playground.ts';
import { PlaygroundElement, sharedStyles } from './playground-element.ts';

export class R1sHfImport extends PlaygroundElement {
  static override properties = {
    ...PlaygroundElement.properties, picked: { state: true }, check: { state: true }, error: { state: true }, dragging: { state: true },
  };
  declare picked: PickedFiles | null;
  declare check: { summary: string; warning: string } | null;
  declare error: string;
  declare dragging: boolean;

  static override styles = [sharedStyles, css`
    .drop { border: 2px dashed var(--r1s-line-drop); border-radius: 8px; padding: 1rem; text-align: center; color: var(--r1s-ink-dim); background: var(--r1s-surface-drop); }
    .drop.over { border-color: var(--r1s-accent); background: var(--r1s-accent-pale); }
  `];

  constructor() {
    super();
    this.picked = null;
    this.check = null;
    this.error = '';
    this.dragging = false;
  }

  private async take(read: () => Promise<PickedFiles>): Promise<void> {
    this.error = '';
    this.check = null;
    this.picked = null;
    try {
      const picked = await read();
      if (picked.kind !== 'folder') throw new Error('choose the model folder itself (a zip goes through Export > Import)');
      this.check = preflightModelFolder(picked.files, trainingShapeOf(this.pg?.settingsInForce[1] ?? defaultRlSettings(1)));
      this.picked = picked;
    } catch (e) {
      this.error = message(e);
    }
  }

  override render() {
    const pg = this.pg;
    if (!pg) return nothing;
    const ready = pg.phase === 'ready' && !pg.busy.has('import');
    const pick = (e: Event) => { const el = e.target as HTMLInputElement; void this.take(() => readPicked(el.files ?? [])).then(() => (el.value = '')); };
    return html`
      <section aria-labelledby="byo-h">
        <h3 id="byo-h">Bring your own model</h3>
        <p class="note">A Hugging Face folder as downloaded from the Hub: a Llama or Qwen2 model (grouped-query attention, Llama 3 RoPE scaling and
          q/k/v biases are supported) with config.json, a byte-level BPE tokenizer.json and model.safetensors (or shards; 16-bit weights are widened).
          The search tags are added to its vocabulary. For an instruct model, choose the prompt preset <code>instruct-chatml</code> in the settings.</p>
        <div class="drop ${this.dragging ? 'over' : ''}" role="region" aria-label="Drop a Hugging Face model folder here"
          @dragover=${(e: DragEvent) => { e.preventDefault(); this.dragging = true; }} @dragleave=${() => (this.dragging = false)}
          @drop=${(e: DragEvent) => { e.preventDefault(); this.dragging = false; if (e.dataTransfer) void this.take(() => readDropped(e.dataTransfer!)); }}>
          Drop a model folder here, or
          <label>choose one <input type="file" webkitdirectory multiple aria-label="Choose a Hugging Face model folder" ?disabled=${!ready} @change=${pick} /></label>
        </div>
        ${this.error ? html`<div class="alert" role="alert">${this.error}</div>` : nothing}
        ${this.check && this.picked ? html`
          <p class="note" role="status">${this.picked.label}: ${this.check.summary}.</p>
          ${this.check.warning ? html`<div class="alert" role="alert">${this.check.warning}</div>` : nothing}
          <button @click=${() => void pg.importPicked(this.picked!)} ?disabled=${!ready || pg.running}>Load as the base model</button>` : nothing}
        ${pg.busy.has('import') ? html`<p class="note" role="status">Loading the model…</p>` : nothing}
        ${pg.errors.import ? html`<div class="alert" role="alert">${pg.errors.import}</div>` : nothing}
        ${pg.importResult && pg.importResult.kind === 'base' && !pg.errors.import ? html`<div class="ok-box" role="status">Loaded ${pg.importResult.label} as the base model.
          ${pg.importResult.notes.length ? html`<ul>${pg.importResult.notes.map((n) => html`<li>${n}</li>`)}</ul>` : nothing}</div>` : nothing}
      </section>`;
  }
}

customElements.define('r1s-hf-import', R1sHfImport);

declare global {
  interface HTMLElementTagNameMap {
    'r1s-hf-import': R1sHfImport;
  }
}
