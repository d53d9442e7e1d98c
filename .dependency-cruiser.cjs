/**
 * The layer rule of DESIGN.md, checked by dependency-cruiser (`npm run lint:layers`, and
 * tests/node/layers.test.ts in `npm test`). Folders of src/ from the lowest to the highest: a
 * folder imports only from folders before it in LAYERS. `ui` and `cli` are both on top and do
 * not import each other. No file may take part in an import cycle.
 */
const LAYERS = [
  'util', 'protocol', 'corpus', 'tokenizer', 'search', 'world', 'backend', 'model', 'io', 'onnx',
  'stage0', 'rl', 'eval', 'session', 'bench', ['ui', 'cli'],
];

const rooms = (layer) => (Array.isArray(layer) ? layer : [layer]);
const upward = LAYERS.flatMap((layer, i) => {
  const higher = LAYERS.slice(i + 1).flatMap(rooms);
  const beside = rooms(layer);
  return beside.map((room) => ({
    name: `layer-${room}`,
    comment: `src/${room} imports only from lower layers (DESIGN.md, "Layers")`,
    severity: 'error',
    from: { path: `^src/${room}/` },
    to: { path: `^src/(${[...higher, ...beside.filter((r) => r !== room)].join('|')})/` },
  })).filter((rule) => !rule.to.path.endsWith('()/'));
});

module.exports = {
  forbidden: [
    ...upward,
    {
      name: 'no-circular',
      comment: 'no import cycle between files, type-only imports included',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'src-not-into-workers-or-tests',
      comment: 'src/ never imports the worker entry points or the tests above it',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(workers|tests)/' },
    },
  ],
  options: {
    // TypeScript 7 has no JavaScript API; swc parses the sources instead.
    parser: 'swc',
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
  },
};
