import type { ParentProps } from 'solid-js'

/** The guide's sections, in order: their anchors and titles, for the contents and the headings alike. */
export const GUIDE_SECTIONS = [
  ['about', 'About RunSurge'],
  ['job-types', 'Job types'],
  ['template', 'The code template'],
  ['security', 'Security and isolation'],
  ['memory', 'Memory estimation'],
  ['communication', 'Communication layer'],
  ['monitoring', 'Monitoring'],
  ['payment', 'Payment model']
] as const

export type GuideSectionId = typeof GUIDE_SECTIONS[number][0]

/** One section of the guide, an anchor the contents link to, under the title the contents give it. */
export function GuideSection (props: ParentProps<{ id: GuideSectionId }>) {
  const title = (): string => GUIDE_SECTIONS.find(([id]) => id === props.id)?.[1] ?? ''
  return (
    <section id={props.id} aria-labelledby={`${props.id}-title`}>
      <h2 id={`${props.id}-title`}>{title()}</h2>
      {props.children}
    </section>
  )
}
