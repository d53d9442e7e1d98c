/**
 * <r1s-runs>: the runs saved in this browser (IndexedDB, src/io/run-store.ts): reopen one
 * (it resumes bit for bit), rename, delete; with the storage used and available. A save that
 * does not fit is reported here, never dropped silently.
 *
 * Property: `pg` (the Playground).
 */
import { css, html, nothing } from 'lit';
import { PlaygroundElement, sharedStyles } from './playground-element.ts';

const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;

export class R1sRuns extends PlaygroundElement {
  static override properties = { ...PlaygroundElement.properties, editing: { state: true }, confirming: { state: true } };
  declare editing: string | null;
  declare confirming: string | null;

  static override styles = [sharedStyles, css`
    td.name { text-align: left; max-width: 22rem; overflow-wrap: anywhere; }
    tr.current { background: var(--r1s-accent-pale); }
    input.rename { width: 16rem; max-width: 100%; }
  `];

  constructor() {
    super();
    this.editing = null;
    this.confirming = null;
  }

  override render() {
    const pg = this.pg;
    if (!pg) return nothing;
    const busy = pg.busy.has('runs') || pg.running;
    return html`
      ${pg.quota ? html`<p class="note">Browser storage: ${mb(pg.quota.usage)} used of ${mb(pg.quota.quota)} available to this page.</p>` : nothing}
      ${pg.lastSaved ? html`<p class="note" role="status">Current run saved at Stage ${pg.lastSaved.stage}, step ${pg.lastSaved.step} (${new Date(pg.lastSaved.at).toLocaleTimeString()}).</p>` : nothing}
      ${pg.errors.save ? html`<div class="alert" role="alert">Saving failed: ${pg.errors.save}. Training goes on unsaved.</div>` : nothing}
      ${pg.errors.runs ? html`<div class="alert" role="alert">${pg.errors.runs}</div>` : nothing}
      ${pg.runs.length === 0
        ? html`<p class="note">No saved runs yet. A run is saved every ${pg.config.saveEvery} steps and at the end of each stage.</p>`
        : html`<div class="scroll"><table aria-label="Saved runs">
            <thead><tr><th class="left">name</th><th>stage</th><th>step</th><th>size</th><th>saved</th><th><span class="sr-only">actions</span></th></tr></thead>
            <tbody>${pg.runs.map((r) => html`<tr class=${r.id === pg.runId ? 'current' : ''}>
              <td class="name">${this.editing === r.id
                ? html`<input class="rename" aria-label=${`New name for ${r.name}`} .value=${r.name}
                    @keydown=${(e: KeyboardEvent) => { if (e.key === 'Enter') this.rename(r.id, (e.target as HTMLInputElement).value); if (e.key === 'Escape') this.editing = null; }} />
                  <button @click=${(e: Event) => this.rename(r.id, ((e.target as HTMLElement).previousElementSibling as HTMLInputElement).value)}>Save name</button>`
                : html`${r.name}${r.id === pg.runId ? html` <span class="note">(open)</span>` : nothing}`}</td>
              <td>${r.stage}</td><td>${r.step}</td><td>${mb(r.bytes)}</td><td>${new Date(r.updatedAt).toLocaleString()}</td>
              <td><div class="row">
                <button class="secondary" aria-label=${`Reopen ${r.name}`} @click=${() => pg.resume(r.id)} ?disabled=${busy}>Reopen</button>
                <button class="secondary" aria-label=${`Rename ${r.name}`} @click=${() => (this.editing = r.id)} ?disabled=${busy}>Rename</button>
                ${this.confirming === r.id
                  ? html`<button class="danger" aria-label=${`Really delete ${r.name}`} @click=${() => { this.confirming = null; void pg.deleteRun(r.id); }}>Really delete</button>
                      <button class="secondary" @click=${() => (this.confirming = null)}>Keep</button>`
                  : html`<button class="danger" aria-label=${`Delete ${r.name}`} @click=${() => (this.confirming = r.id)} ?disabled=${busy}>Delete</button>`}
              </div></td></tr>`)}</tbody></table></div>`}`;
  }

  private rename(id: string, name: string): void {
    this.editing = null;
    void this.pg!.renameRun(id, name);
  }
}

customElements.define('r1s-runs', R1sRuns);

declare global {
  interface HTMLElementTagNameMap {
    'r1s-runs': R1sRuns;
  }
}
