import { createEffect } from 'solid-js'

/** Sets the document's title while a page is shown. Renders nothing. */
export function PageTitle (props: { title: string }) {
  createEffect(() => { document.title = props.title === '' ? 'RunSurge' : `${props.title} · RunSurge` })
  return null
}
