import { GuideSection } from './guide-section.tsx'

/** The guide's opening: what RunSurge is, and the three kinds of job. */
export function GuideOverview () {
  return (
    <>
      <GuideSection id='about'>
        <p>
          RunSurge runs plain Python on other people's idle machines. <strong>Submitters</strong> upload a program and
          its data; <strong>contributors</strong> lend machines by running a node. A slim coordinator checks each
          program, plans how to split it, sends tasks to nodes and keeps the accounts; the data itself moves
          between nodes directly. Research labs run the same software as a private mesh on their own machines.
        </p>
        <p>
          From submission to result: the scanner and template checks read your file → the analyzer builds a
          dependency graph of <code>main</code> and estimates its memory → the planner decides how many tasks to
          run and where → nodes fetch their input chunks from each other and run their tasks in a sandbox →
          the result is assembled, you download it and pay for what was used.
        </p>
      </GuideSection>

      <GuideSection id='job-types'>
        <dl class='definitions'>
          <dt>Automatic</dt>
          <dd>
            One Python file defining <code>main(data)</code>. RunSurge splits it only where it can prove the result
            is the same as running <code>main(data)</code> once, and runs the rest sequentially. Results match a
            sequential run exactly (floats within 10<sup>-9</sup> relative).
          </dd>
          <dt>Manual</dt>
          <dd>
            You choose the number of tasks and the memory of each. <code>process(input_data)</code> is called once per
            chunk of the input (cut on line boundaries) and returns a dict; an optional <code>aggregate(results)</code>
            combines them, otherwise the result is the list of dicts.
          </dd>
          <dt>Grouped</dt>
          <dd>
            Several input files with one shared script (<code>process</code> once per file), then an aggregation
            script defining <code>aggregate(results)</code>, run once every task has succeeded.
          </dd>
        </dl>
      </GuideSection>
    </>
  )
}
