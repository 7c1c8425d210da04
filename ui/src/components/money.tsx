import { formatMoney } from '../lib/format.ts'

/** An amount of micro-units, formatted, with the exact figure on hover and for machines. */
export function Money (props: { micro: number }) {
  return <data class='money' value={String(props.micro)} title={`${props.micro} micro-units`}>{formatMoney(props.micro)}</data>
}
