/** A job's, task's or node's status as a coloured label; the colour only repeats what the words say. */
export function StatusBadge (props: { status: string, label?: string }) {
  const text = (): string => props.label ?? props.status.replaceAll('_', ' ')
  return <span class={`badge badge--${props.status}`} data-status={props.status}>{text()}</span>
}
