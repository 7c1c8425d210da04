import { A } from '@solidjs/router'
import { For } from 'solid-js'
import { GUIDE_SECTIONS } from './guide-section.tsx'

/** The guide's table of contents, and the pages a reader of the guide goes to next. */
export function GuideContents () {
  return (
    <nav class='guide__toc' aria-label='Contents'>
      <h2>Contents</h2>
      <ol>
        <For each={GUIDE_SECTIONS}>{([id, title]) => <li><a href={`#${id}`}>{title}</a></li>}</For>
      </ol>
      <h2>Quick links</h2>
      <ul>
        <li><A href='/'>Home</A></li>
        <li><A href='/submit'>Submit a job</A></li>
        <li><a href='/docs'>API reference (OpenAPI)</a></li>
      </ul>
    </nav>
  )
}
