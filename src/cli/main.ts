/**
 * Command-line entry point: `npm run cli -- <command> [flags]`.
 *
 * Each command lives in `src/cli/commands/<command>.ts` and exports `run(argv: string[])`;
 * this file only dispatches, so adding a command never touches it.
 * Commands print JSON on stdout with `--json`; errors go to stderr with exit code 1.
 */
const COMMANDS = [
  'world', 'search', 'reward', 'pretrain', 'reading', 'train', 'eval', 'experiment', 'curves', 'export', 'export-pack', 'logits', 'bench', 'import', 'serve-search', 'page-train', 'shipped-run',
  'make-hf-model',
] as const;

/**
 * A reader that stops early (`... | head -c 100`) closes our standard output; writing then fails
 * with EPIPE. That is the reader's choice, not an error: the command ends quietly (exit 0).
 */
function endQuietlyOnClosedOutput(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(0);
      process.exitCode = 1;
    });
  }
}

async function main(): Promise<void> {
  endQuietlyOnClosedOutput();
  const [name, ...rest] = process.argv.slice(2);
  if (!name || name === '--help' || name === '-h') {
    process.stdout.write(`usage: npm run cli -- <command> [flags]\ncommands: ${COMMANDS.join(', ')}\n`);
    return;
  }
  if (!/^[a-z][a-z0-9-]*$/.test(name)) throw new Error(`unknown command "${name}"`);
  let mod: { run: (argv: string[]) => Promise<void> };
  try {
    mod = await import(`./commands/${name}.ts`);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && String(e).includes(`commands/${name}.ts`)) {
      throw new Error(`unknown command "${name}" (commands: ${COMMANDS.join(', ')})`);
    }
    throw e;
  }
  await mod.run(rest);
}

main().catch((e: unknown) => {
  process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
  if (process.env.R1S_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
  process.exit(1);
});
