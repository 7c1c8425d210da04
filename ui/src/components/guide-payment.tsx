import { DEFAULT_UNIT_RATE, workedExample } from '../lib/billing.ts'
import { formatMoney, formatNumber } from '../lib/format.ts'
import { GuideSection } from './guide-section.tsx'
import { ScrollTable } from './scroll-table.tsx'

const COLUMNS = ['Task', 'Node', { numeric: 'Seconds' }, { numeric: 'Factor' }, { numeric: 'Avg. memory' }, { numeric: 'Earning' }]

/** The payment model, and a worked example computed by the same formula the coordinator bills with. */
export function GuidePayment () {
  const example = workedExample()
  return (
    <GuideSection id='payment'>
      <p>
        A contributor earns for each task their node completed:{' '}
        <strong>unit rate × seconds × machine factor × average memory in GB</strong>. The machine factor is
        measured by each node's benchmark (1.0 is the reference machine; a faster machine earns more per second).
        The submitter pays <strong>1.2 ×</strong> the contributors' sum; the platform keeps the difference.
        Amounts are kept in micro-units of the currency, and stay <em>pending</em> until the submitter pays the completed job.
      </p>
      <h3>A worked example</h3>
      <p>A manual job of three tasks at the default unit rate of {formatNumber(DEFAULT_UNIT_RATE)} micro-units per second per GB:</p>
      <ScrollTable label='Worked example' columns={COLUMNS} rows={example.tasks}>
        {(task, i) => (
          <tr>
            <th scope='row'>{i() + 1}</th><td>{task.node}</td><td class='num'>{task.seconds}</td><td class='num'>{task.factor}</td>
            <td class='num'>{task.memoryGb} GB</td>
            <td class='num'>{formatNumber(DEFAULT_UNIT_RATE)} × {task.seconds} × {task.factor} × {task.memoryGb} = {formatNumber(task.earning)} µ</td>
          </tr>
        )}
      </ScrollTable>
      <p>
        Contributors earn {formatNumber(example.contributors)} micro-units ({formatMoney(example.contributors)}); the
        submitter pays 1.2 × that, {formatNumber(example.price)} ({formatMoney(example.price)}); the platform keeps
        {' '}{formatNumber(example.platform)} ({formatMoney(example.platform)}).
      </p>
    </GuideSection>
  )
}
