import { A } from '@solidjs/router'
import { AUTO_SAMPLE, GROUPED_SAMPLE, MANUAL_SAMPLE } from '../lib/guide-samples.ts'
import { CodeSample } from './code-sample.tsx'
import { GuideSection } from './guide-section.tsx'

/** The code template, with a sample job of each kind. */
export function GuideTemplate () {
  return (
    <GuideSection id='template'>
      <div class='notice notice--info' role='note'>
        <strong>Keep module level simple.</strong> Only imports, function definitions and constants belong outside
        functions. How the input is loaded depends on its extension: <code>.json</code> → the parsed array,
        <code>.jsonl</code> → a list of parsed lines, <code>.csv</code> → a list of dicts (header row), anything else
        → a list of text lines. <code>main</code> returns a JSON-serializable value.
      </div>
      <CodeSample name='word_stats.py' code={AUTO_SAMPLE} />
      <p>
        A manual job states how to cut the work. Give the memory each task needs: a task that exceeds it is stopped,
        and a realistic figure lets the scheduler place it.
      </p>
      <CodeSample name='line_lengths.py' code={MANUAL_SAMPLE} />
      <CodeSample name='sales_total.py' code={GROUPED_SAMPLE} />
      <p>
        Follow the template and you get exact results; stray from it (module-level work, reading files, the
        network, salted hashes that differ between machines) and the scanner refuses the job before it runs, with each finding
        shown against its line on the <A href='/submit'>submit page</A>. The repository's <code>examples/</code>
        folder holds ready-made jobs and inputs of each kind.
      </p>
    </GuideSection>
  )
}
