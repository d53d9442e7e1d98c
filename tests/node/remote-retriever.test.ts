/**
 * `RemoteRetriever` against every reply shape the public retrieval servers send (issue 17),
 * copied from their code:
 * - Search-R1 (PeterGriffinJin/Search-R1 `search_r1/search/retrieval_server.py`,
 *   `retrieve_endpoint`): `{"result": [[doc, ..], ..]}`, each doc wrapped as
 *   `{"document": doc, "score": s}` when `return_scores` is true. `doc` is the corpus row
 *   (`load_docs`: `corpus[int(idx)]`, `{id, contents}` in its `example/corpus.jsonl`) for the dense
 *   retriever and for BM25 over an index without stored documents; BM25 over an index with stored
 *   documents (`contain_doc`) sends `{'title': content.split("\n")[0].strip("\""), 'text':
 *   "\n".join(content.split("\n")[1:]), 'contents': content}` with no id; a query with no hit is `[]`.
 * - R1-Searcher (RUCAIBox/R1-Searcher `train/wiki_corpus_load.py`, `/queries`):
 *   `{"queries": [..], "answers": [[line, ..], ..]}`, each answer a whole line of its TSV corpus as
 *   `load_corpus` read it (only "\n" stripped): `id<TAB>Title: .. Text: ..`, CSV-quoted when the text
 *   holds quotes, a byte-order mark on the first line, or KILT's `id<TAB>title   text`
 *   (`wiki_corpus_index_bulid/samples/*.tsv`, `split_kilt_to_100.py`).
 */
import { describe, expect, it } from 'vitest';
import { derivedDocumentId } from '../../src/corpus/import/doc-id.ts';
import { rankScore } from '../../src/search/protocols.ts';
import { RemoteRetriever, RemoteSearchError } from '../../src/search/remote-retriever.ts';

/** A fetch that records the request and answers `reply` as JSON. */
function fakeFetch(reply: unknown) {
  const seen: unknown[] = [];
  const f = (async (_url: string, init: RequestInit) => {
    seen.push(JSON.parse(String(init.body)));
    return new Response(JSON.stringify(reply), { status: 200, headers: { 'content-type': 'application/json' } });
  }) as unknown as typeof fetch;
  return { f, seen };
}

// Search-R1's example corpus rows (example/corpus.jsonl), cut short.
const EVAN = '"Evan Morris"\nEvan Morris Evan L. Morris (January 26, 1977 \u2013 July 9, 2015) was a lobbyist for Genentech.';
const HALE = '"Horatio Hale"\nconsisted of an Algonkin vocabulary, which he gathered from a band of Indians.';
/** What their BM25 server makes of stored `contents`. */
const bm25Doc = (content: string) => ({ title: content.split('\n')[0]!.replace(/^"+|"+$/g, ''), text: content.split('\n').slice(1).join('\n'), contents: content });

describe('RemoteRetriever reads every Search-R1 /retrieve reply', () => {
  const url = 'http://127.0.0.1:8000/retrieve';
  const evan = { title: 'Evan Morris', text: 'Evan Morris Evan L. Morris (January 26, 1977 \u2013 July 9, 2015) was a lobbyist for Genentech.' };
  const hale = { title: 'Horatio Hale', text: 'consisted of an Algonkin vocabulary, which he gathered from a band of Indians.' };

  it('dense retriever, with and without scores: {id, contents} corpus rows', async () => {
    const scored = fakeFetch({ result: [[{ document: { id: '0', contents: EVAN }, score: 0.8731 }, { document: { id: '1', contents: HALE }, score: 0.8512 }], []] });
    const r = new RemoteRetriever({ url, fetch: scored.f });
    const hits = await r.searchMany(['who lobbied for genentech', 'nothing'], 3);
    expect(scored.seen[0]).toEqual({ queries: ['who lobbied for genentech', 'nothing'], topk: 3, return_scores: true });
    expect(hits).toEqual([[{ id: '0', ...evan, score: 0.8731 }, { id: '1', ...hale, score: 0.8512 }], []]);

    const plain = fakeFetch({ result: [[{ id: '0', contents: EVAN }, { id: '1', contents: HALE }]] });
    expect(await new RemoteRetriever({ url, fetch: plain.f }).search('q', 3)).toEqual([{ id: '0', ...evan, score: rankScore(0) }, { id: '1', ...hale, score: rankScore(1) }]);
  });

  it('BM25 over an index with stored documents: {title, text, contents} with no id, scored or not', async () => {
    const scored = fakeFetch({ result: [[{ document: bm25Doc(EVAN), score: 12.25 }, { document: bm25Doc(HALE), score: 9.5 }]] });
    const hits = await new RemoteRetriever({ url, fetch: scored.f }).search('genentech', 3);
    expect(hits).toEqual([
      { id: derivedDocumentId(evan.title, evan.text), ...evan, score: 12.25 },
      { id: derivedDocumentId(hale.title, hale.text), ...hale, score: 9.5 },
    ]);
    const plain = fakeFetch({ result: [[bm25Doc(EVAN)]] });
    expect(await new RemoteRetriever({ url, fetch: plain.f }).search('genentech', 3)).toEqual([{ id: derivedDocumentId(evan.title, evan.text), ...evan, score: 1 }]);
    // title and text without contents (a corpus of {id, title, text} rows behind the dense server)
    const split = fakeFetch({ result: [[{ id: 7, title: 'Evan Morris', text: evan.text }]] });
    expect(await new RemoteRetriever({ url, fetch: split.f }).search('x', 3)).toEqual([{ id: '7', ...evan, score: 1 }]);
  });

  it('a reply with neither contents nor text names the position', async () => {
    const bad = fakeFetch({ result: [[{ document: { id: '0', body: 'x' }, score: 1 }]] });
    await expect(new RemoteRetriever({ url, fetch: bad.f }).search('x', 3)).rejects.toThrow(RemoteSearchError);
    await expect(new RemoteRetriever({ url, fetch: bad.f }).search('x', 3)).rejects.toThrow(/"result"\[0\]\[0\] has neither "contents" nor "text" \(fields: id, body\)/);
  });
});

describe('RemoteRetriever reads R1-Searcher /queries replies of whole TSV lines', () => {
  const url = 'http://127.0.0.1:5003/queries';
  // Lines 0 and 1 of wiki_corpus_index_bulid/samples/train_np_title_abs_sample_100.tsv (line 0 with its BOM), cut short.
  const UKRAINE = '\ufeff0\t"Title: Professional Football League of Ukraine Text:  Professional Football League of Ukraine (Ukrainian: ""\u041f\u0440\u043e\u0444\u0435\u0441\u0456\u043e\u043d\u0430\u043b\u044c\u043d\u0430"" , Profesionalna futbolna liha Ukrayiny; also known as PFL) is a sport organization."';
  const MAIR = '1\tTitle: Lucy Mair Text:  Lucy Philip Mair (28 January 1901 \u2013 1 April 1986) was a British anthropologist.';
  // Lines of train_kilt_full_page_sample_100.tsv (split_kilt_to_100.py: f"{idx}\t{title}   {paragraph}").
  const KILT = '1\tA   also found in italic type. In the English grammar, "a", and its variant "an", is an indefinite article.';

  it('BOM, CSV quoting, the Title/Text frame, KILT passages and a line with no frame', async () => {
    const { f, seen } = fakeFetch({ queries: ['ukraine football', 'anthropologist'], answers: [[UKRAINE, MAIR], [KILT, '17\tjust some text']] });
    const hits = await new RemoteRetriever({ url, fetch: f }).searchMany(['ukraine football', 'anthropologist'], 3);
    expect(seen[0]).toEqual({ queries: ['ukraine football', 'anthropologist'], k: 3 });
    expect(hits[0]).toEqual([
      { id: '0', title: 'Professional Football League of Ukraine', text: 'Professional Football League of Ukraine (Ukrainian: "\u041f\u0440\u043e\u0444\u0435\u0441\u0456\u043e\u043d\u0430\u043b\u044c\u043d\u0430" , Profesionalna futbolna liha Ukrayiny; also known as PFL) is a sport organization.', score: 1 },
      { id: '1', title: 'Lucy Mair', text: 'Lucy Philip Mair (28 January 1901 \u2013 1 April 1986) was a British anthropologist.', score: 0.5 },
    ]);
    expect(hits[1]).toEqual([
      { id: '1', title: 'A', text: 'also found in italic type. In the English grammar, "a", and its variant "an", is an indefinite article.', score: 1 },
      { id: '17', title: '', text: 'just some text', score: 0.5 },
    ]);
  });

  it('answers without a row number (our serve-search) keep the derived ids of a sample-corpus pack', async () => {
    const { f } = fakeFetch({ queries: ['q'], answers: [['Title: Kovar Text: Kovar is a city on the river Lomi']] });
    expect(await new RemoteRetriever({ url, fetch: f }).search('q', 3)).toEqual([
      { id: derivedDocumentId('Kovar', 'Kovar is a city on the river Lomi'), title: 'Kovar', text: 'Kovar is a city on the river Lomi', score: 1 },
    ]);
  });
});
